package job

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/recal-project/recal/pipeline/manifest"
)

// checkWithDuckDB reads a local run's outputs with DuckDB (an engine
// independent of recal's writer) and compares counts and types to the
// manifest. Skipped without RECAL_DUCKDB (set by `make test`).
func checkWithDuckDB(t *testing.T, out string, m *manifest.Manifest) {
	t.Helper()
	bin := os.Getenv("RECAL_DUCKDB")
	if bin == "" {
		t.Log("RECAL_DUCKDB not set: DuckDB check skipped")
		return
	}
	glob := func(d string) string { return filepath.Join(out, d, "**", "*.parquet") }
	q := []string{
		fmt.Sprintf(`SELECT count(*), count(DISTINCT base_city_code), min(typeof(hearing_date)), min(typeof(priority_tier)),
			min(typeof(priority_score)), min(typeof(idnproceeding)), bool_and(base_city_code = base_city_code_part)
			FROM (SELECT *, base_city_code AS base_city_code_part FROM read_parquet('%s', hive_partitioning = false)) a
			JOIN (SELECT base_city_code AS p, count(*) FROM read_parquet('%s', hive_partitioning = true) GROUP BY 1) h ON h.p = a.base_city_code`,
			glob("assignments"), glob("assignments")),
		fmt.Sprintf("SELECT count(*) FROM read_parquet('%s', hive_partitioning = true)", glob("assignments")),
		fmt.Sprintf(`SELECT (SELECT count(*) FROM read_parquet('%[1]s')),
			(SELECT column_type FROM (DESCRIBE SELECT * FROM read_parquet('%[1]s')) WHERE column_name = 'projected_hearing_date')`, glob("overflow")),
		fmt.Sprintf("SELECT count(*) FROM read_parquet('%s')", glob("remain_closed")),
		fmt.Sprintf("SELECT count(*), count(idnproceeding), min(typeof(row)) FROM read_parquet('%s')", glob("rejects")),
		// A few values, compared below with what xitongsys/parquet-go reads.
		fmt.Sprintf(`SELECT idnproceeding, strftime(hearing_date, '%%Y-%%m-%%d'), hearing_time, base_city_code, rule_id, priority_tier
			FROM read_parquet('%s', hive_partitioning = true) ORDER BY idnproceeding LIMIT 1`, glob("assignments")),
	}
	var args []string
	for _, s := range q {
		args = append(args, "-sql", s)
	}
	b, err := exec.Command(bin, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("duckdb: %v\n%s", err, b)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) != 6 {
		t.Fatalf("duckdb printed %q", b)
	}
	c := m.Counts
	courts := map[string]bool{}
	for _, o := range m.Outputs {
		if strings.HasPrefix(o.Key, "assignments/") {
			courts[strings.Split(o.Key, "/")[1]] = true
		}
	}
	want := []string{
		fmt.Sprintf("%d\t%d\tDATE\tINTEGER\tDOUBLE\tBIGINT\ttrue", c.Assigned, len(courts)),
		fmt.Sprint(c.Assigned),
		fmt.Sprintf("%d\tDATE", c.Overflow),
		fmt.Sprint(c.RemainClosed),
	}
	for i, w := range want {
		if lines[i] != w {
			t.Errorf("duckdb query %d: got %q, want %q", i, lines[i], w)
		}
	}
	if !strings.HasPrefix(lines[4], fmt.Sprintf("%d\t", c.Rejected)) || !strings.HasSuffix(lines[4], "\tBIGINT") {
		t.Errorf("duckdb rejects: got %q, want %d rows", lines[4], c.Rejected)
	}
	first := ""
	minID := int64(-1)
	for _, o := range m.Outputs {
		if !strings.HasPrefix(o.Key, "assignments/") {
			continue
		}
		cols, n := readTable(t, filepath.Join(out, o.Key))
		for i := 0; i < n; i++ {
			if id := cols["idnproceeding"][i].(int64); minID < 0 || id < minID {
				minID = id
				day := time.Unix(int64(cols["hearing_date"][i].(int32))*86400, 0).UTC().Format(time.DateOnly)
				first = fmt.Sprintf("%d\t%s\t%s\t%s\t%s\t%d", id, day, cols["hearing_time"][i], cols["base_city_code"][i], cols["rule_id"][i], cols["priority_tier"][i])
			}
		}
	}
	if lines[5] != first {
		t.Errorf("duckdb reads the first assignment as %q; parquet-go reads %q", lines[5], first)
	}
}
