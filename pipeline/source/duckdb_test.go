package source

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/recal-project/recal/pipeline/storage/local"
	"github.com/recal-project/recal/transforms/civil"
	"github.com/recal-project/recal/transforms/export"
)

// duckdb runs statements with the DuckDB tool of testdata/duckdb (built by
// `make test` and named by RECAL_DUCKDB). Without it the test is skipped.
func duckdb(t *testing.T, stmts ...string) string {
	t.Helper()
	bin := os.Getenv("RECAL_DUCKDB")
	if bin == "" {
		t.Skip("RECAL_DUCKDB is not set; `make test` builds the DuckDB tool and sets it")
	}
	var args []string
	for _, s := range stmts {
		args = append(args, "-sql", s)
	}
	out, err := exec.Command(bin, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("duckdb: %v\n%s", err, out)
	}
	return string(out)
}

// TestReadDuckDBExports reads exports that DuckDB wrote with its own types
// and checks every cell against the values the SQL defined.
func TestReadDuckDBExports(t *testing.T) {
	dir := t.TempDir()
	const n = 5000
	// Row i: deterministic values recomputed below.
	selectRows := fmt.Sprintf(`SELECT
		i::BIGINT AS idncase,
		(1000000 + i)::INTEGER AS idnproceeding,
		'A' || lpad(i::VARCHAR, 9, '0') AS alien_nbr,
		['NYC','LOS','ATL'][i %% 3 + 1] AS base_city_code,
		CASE WHEN i %% 5 = 0 THEN NULL ELSE 'IJ' || (i %% 7)::VARCHAR END AS ij_code,
		['D','R','N'][i %% 3 + 1] AS custody,
		DATE '2010-01-01' + (i %% 3000)::INTEGER AS osc_date,
		TIMESTAMP '2015-06-01 00:00:00' + to_days((i %% 2000)::INTEGER) AS comp_date,
		TIMESTAMPTZ '2010-01-05 12:00:00+00' + to_days((i %% 3000)::INTEGER) AS input_date,
		['A','Y','K','M','B'][i %% 5 + 1] AS other_comp,
		(i %% 4 = 0) AS crim_ind,
		CASE WHEN i %% 3 = 0 THEN 'Y' ELSE 'N' END AS absentia,
		CASE WHEN i %% 6 = 0 THEN NULL WHEN i %% 6 = 1 THEN []::VARCHAR[] ELSE ['I-130', 'TPS'][1:(i %% 2) + 1] END AS pending_applications,
		CASE WHEN i %% 4 = 1 THEN 'PENDING' END AS application_outcome
	FROM range(1, %d + 1) r(i)`, n)
	a := filepath.Join(dir, "a.parquet")
	b := filepath.Join(dir, "b.parquet")
	duckdb(t,
		fmt.Sprintf("COPY (%s) TO '%s' (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 1024)", selectRows, a),
		// The same rows with upper-case names, reordered, snappy, as an
		// analyst's re-export would have them.
		fmt.Sprintf(`COPY (SELECT pending_applications AS PENDING_APPLICATIONS, comp_date AS COMP_DATE, IDNPROCEEDING, idncase AS IdnCase,
			base_city_code AS BASE_CITY_CODE, osc_date AS OSC_DATE, other_comp AS OTHER_COMP, ij_code AS IJ_CODE, custody AS CUSTODY,
			input_date AS INPUT_DATE, crim_ind AS CRIM_IND, absentia AS ABSENTIA, application_outcome AS APPLICATION_OUTCOME
			FROM (%s)) TO '%s' (FORMAT parquet, COMPRESSION snappy)`, selectRows, b),
	)
	st := local.New(dir)
	objs, err := st.List(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	seen := map[string]int{}
	stats, err := Read(context.Background(), st, objs, Options{BatchSize: 777}, func(_ context.Context, bt *export.Batch) error {
		mu.Lock()
		defer mu.Unlock()
		for r := 0; r < bt.N; r++ {
			i := int(bt.IDNCase.V[r])
			if got, want := row(bt, r), expectRow(i); got != want {
				return fmt.Errorf("%s row %d:\n got %s\nwant %s", bt.Key, bt.Row0+int64(r), got, want)
			}
			seen[bt.Key]++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range stats {
		if s.Rows != n || s.FooterRows != n || s.Decoder != "arrow" {
			t.Errorf("%+v", s)
		}
	}
	if seen["a.parquet"] != n || seen["b.parquet"] != n {
		t.Fatalf("rows seen %v", seen)
	}
}

func row(b *export.Batch, r int) string {
	str := func(s *export.Strings) string {
		if s.S[r] != export.Valid {
			return "∅"
		}
		return s.V[r]
	}
	date := func(d *export.Dates) string {
		if d.S[r] != export.Valid {
			return "∅"
		}
		return civil.FormatDate(d.V[r])
	}
	list := "∅"
	if b.PendingApplications.S[r] == export.Valid {
		list = fmt.Sprint(b.PendingApplications.Row(r))
	}
	return fmt.Sprintf("%d %d %s %s %s %s %s %s %s %v %v %s %s", b.IDNCase.V[r], b.IDNProceeding.V[r], str(&b.BaseCityCode), str(&b.IJCode),
		str(&b.Custody), date(&b.OSCDate), date(&b.CompDate), date(&b.InputDate), str(&b.OtherComp), b.CrimInd.V[r], b.Absentia.V[r],
		list, str(&b.ApplicationOutcome))
}

func expectRow(i int) string {
	d := func(y, m, dd, plus int) string { return civil.FormatDate(civil.DaysFromCivil(y, m, dd) + int32(plus)) }
	ij := "∅"
	if i%5 != 0 {
		ij = fmt.Sprintf("IJ%d", i%7)
	}
	list := "∅"
	switch {
	case i%6 == 0:
	case i%6 == 1:
		list = "[]"
	default:
		list = fmt.Sprint([]string{"I-130", "TPS"}[:i%2+1])
	}
	outcome := "∅"
	if i%4 == 1 {
		outcome = "PENDING"
	}
	return fmt.Sprintf("%d %d %s %s %s %s %s %s %s %v %v %s %s", i, 1000000+i, []string{"NYC", "LOS", "ATL"}[i%3], ij,
		[]string{"D", "R", "N"}[i%3], d(2010, 1, 1, i%3000), d(2015, 6, 1, i%2000), d(2010, 1, 5, i%3000),
		[]string{"A", "Y", "K", "M", "B"}[i%5], i%4 == 0, i%3 == 0, list, outcome)
}
