package eoirimport_test

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/apache/arrow/go/v15/parquet/file"
	"github.com/apache/arrow/go/v15/parquet/pqarrow"

	"github.com/recal-project/recal/pipeline/claim"
	"github.com/recal-project/recal/pipeline/eoirimport"
	"github.com/recal-project/recal/pipeline/eoirimport/eoirtest"
	"github.com/recal-project/recal/transforms/civil"
)

type exported struct {
	idncase, idnproc   int64
	court, comp, other string
	motionDate         string
	motionDec          string
	nat, custody       string
}

// eachRecord reads the Parquet objects matching pattern back with arrow
// and gives fn each record batch.
func eachRecord(t *testing.T, pattern string, fn func(r arrow.Record)) int {
	t.Helper()
	files, _ := filepath.Glob(pattern)
	for _, f := range files {
		pf, err := file.OpenParquetFile(f, false)
		if err != nil {
			t.Fatal(err)
		}
		fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{}, memory.DefaultAllocator)
		if err != nil {
			t.Fatal(err)
		}
		tbl, err := fr.ReadTable(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		tr := array.NewTableReader(tbl, 1<<20)
		for tr.Next() {
			fn(tr.Record())
		}
		tr.Release()
		tbl.Release()
		pf.Close()
	}
	return len(files)
}

// readExport reads the export back with arrow, row by row.
func readExport(t *testing.T, dir string) map[int64]exported {
	t.Helper()
	out := map[int64]exported{}
	n := eachRecord(t, filepath.Join(dir, "export", "*.parquet"), func(r arrow.Record) {
		col := func(name string) arrow.Array {
			idx := r.Schema().FieldIndices(name)
			if len(idx) != 1 {
				t.Fatalf("no column %s", name)
			}
			return r.Column(idx[0])
		}
		str := func(name string, i int) string {
			c := col(name).(*array.String)
			if c.IsNull(i) {
				return "<null>"
			}
			return c.Value(i)
		}
		date := func(name string, i int) string {
			c := col(name).(*array.Date32)
			if c.IsNull(i) {
				return "<null>"
			}
			return civil.FormatDate(int32(c.Value(i)))
		}
		for i := range int(r.NumRows()) {
			e := exported{
				idncase: col("idncase").(*array.Int64).Value(i), idnproc: col("idnproceeding").(*array.Int64).Value(i),
				court: str("base_city_code", i), comp: date("comp_date", i), other: str("other_comp", i),
				motionDate: date("recal_motion_date", i), motionDec: str("recal_motion_dec", i),
				nat: str("nat", i), custody: str("custody", i),
			}
			out[e.idncase] = e
		}
	})
	if n == 0 {
		t.Fatal("no export objects")
	}
	return out
}

// TestImportFixtureRelease imports a small release-shaped set of tables,
// dirty rows included, and checks the export row by row, the rejects and
// the report.
func TestImportFixtureRelease(t *testing.T) {
	rel := eoirtest.WriteRelease(t)
	cross := filepath.Join(t.TempDir(), "crosswalk.csv")
	os.WriteFile(cross, []byte(eoirtest.Crosswalk), 0o644)
	out := t.TempDir()
	// A part of an earlier, larger import into the same output: removed.
	os.MkdirAll(filepath.Join(out, "export"), 0o755)
	os.WriteFile(filepath.Join(out, "export", "part-00000-00009.parquet"), []byte("stale"), 0o644)
	rep, err := eoirimport.Import(context.Background(), eoirimport.Config{Release: rel, Output: out, Crosswalk: cross, TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	got := readExport(t, out)
	want := map[int64]exported{
		1:  {1, 101, "NYC", "2016-03-04", "A", "<null>", "<null>", "MX", "D"}, // custody history: detained again
		5:  {5, 501, "HOU", "2014-02-03", "B", "2016-01-01", "D", "MX", "R"},  // the duplicate 501 at NYC lost
		6:  {6, 601, "HOU", "2014-02-03", "Y", "2020-05-06", "<null>", "MX", "N"},
		9:  {9, 901, "NYC", "2014-02-03", "A", "<null>", "<null>", "MX", "R"}, // stray custody code: the proceeding's
		13: {13, 1302, "NYC", "2019-02-03", "A", "<null>", "<null>", "MX", "D"},
		15: {15, 1501, "NYC", "2014-02-03", "A", "<null>", "<null>", "MX", "R"}, // spaces trimmed
	}
	var ids []int64
	for id := range got {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	if len(got) != len(want) {
		t.Fatalf("exported cases %v, want %d cases", ids, len(want))
	}
	for id, w := range want {
		if got[id] != w {
			t.Errorf("case %d: exported %+v, want %+v", id, got[id], w)
		}
	}
	if rep.Exported != 6 || rep.Cases.Reopened["HEARING_SET_AFTER_CLOSURE"] != 1 || rep.Cases.Reopened["RECALENDAR_MOTION_GRANTED"] != 1 {
		b, _ := json.Marshal(rep)
		t.Fatalf("report %s", b)
	}
	for code, n := range map[string]int64{"UNKNOWN_COURT": 1, "FIELD_COUNT": 1, "NONPOSITIVE_ID": 2, "MALFORMED_REQUIRED": 1, "DUPLICATE_IDNPROCEEDING": 1} {
		if rep.RejectsByCode[code] != n {
			t.Errorf("rejects %s: %d, want %d (all: %v)", code, rep.RejectsByCode[code], n, rep.RejectsByCode)
		}
	}
	if tr := rep.Tables["A_TblCase"]; tr.Delimiter != "pipe" || tr.Recoded != 1 || tr.Rows != 4 {
		t.Errorf("A_TblCase read as %+v, want pipe-delimited, 4 rows, 1 line recoded", tr)
	}
	if tr := rep.Tables["B_TblProceeding"]; tr.Delimiter != "tab" || tr.Rows != eoirtest.ProceedingRows {
		t.Errorf("B_TblProceeding read as %+v", tr)
	}
	if rep.Crosswalked["OLD->NYC"] != 1 {
		t.Errorf("crosswalk use %v", rep.Crosswalked)
	}

	// The rejects, read back row by row: table, line (header = 1), id, reason.
	wantRejects := []string{
		"B_TblProceeding.csv 12 1001 UNKNOWN_COURT",
		"B_TblProceeding.csv 13 <null> FIELD_COUNT",
		"B_TblProceeding.csv 14 1201 NONPOSITIVE_ID",
		"B_TblProceeding.csv 17 1401 MALFORMED_REQUIRED",
		"B_TblProceeding.csv 18 501 DUPLICATE_IDNPROCEEDING",
		"tbl_CustodyHistory.csv 8 <null> NONPOSITIVE_ID",
	}
	if got := readRejects(t, out); strings.Join(got, "\n") != strings.Join(wantRejects, "\n") {
		t.Errorf("rejects:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(wantRejects, "\n"))
	}
	if _, err := os.Stat(filepath.Join(out, "_SUCCESS")); err != nil {
		t.Errorf("no _SUCCESS after the import: %v", err)
	}
	if _, err := os.Stat(filepath.Join(out, "export", "part-00000-00009.parquet")); !os.IsNotExist(err) {
		t.Errorf("a stale export part survived the import (%v)", err)
	}
}

// readRejects reads rejects/ back with arrow: "source row idnproceeding
// error_code" per row.
func readRejects(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	eachRecord(t, filepath.Join(dir, "rejects", "*.parquet"), func(r arrow.Record) {
		src, row, id, code := r.Column(0).(*array.String), r.Column(1).(*array.Int64), r.Column(2).(*array.Int64), r.Column(3).(*array.String)
		for i := range int(r.NumRows()) {
			ids := "<null>"
			if id.IsValid(i) {
				ids = strconv.FormatInt(id.Value(i), 10)
			}
			out = append(out, fmt.Sprintf("%s %d %s %s", filepath.Base(src.Value(i)), row.Value(i), ids, code.Value(i)))
		}
	})
	return out
}

// TestImportFailureLeavesNothing makes the import fail after it wrote its
// export (rejects/ cannot be created): no export object and no _SUCCESS
// may stay behind.
func TestImportFailureLeavesNothing(t *testing.T) {
	rel := eoirtest.WriteRelease(t)
	out := t.TempDir()
	if err := os.WriteFile(filepath.Join(out, "rejects"), []byte("in the way"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := eoirimport.Import(context.Background(), eoirimport.Config{Release: rel, Output: out, TempDir: t.TempDir()})
	if err == nil {
		t.Fatal("import succeeded with rejects/ blocked")
	}
	var left []string
	filepath.WalkDir(out, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && filepath.Base(p) != "rejects" {
			left = append(left, p)
		}
		return nil
	})
	if len(left) > 0 {
		t.Errorf("the failed import left %v (error: %v)", left, err)
	}
}

// TestImportGenerated imports a generated release (the one `make bench`
// measures, smaller) twice: every closed case ends exported, reopened or
// rejected, and the outputs are the same bytes.
func TestImportGenerated(t *testing.T) {
	rel := t.TempDir()
	if err := eoirtest.Generate(rel, eoirtest.GenerateSizes{Proceedings: 20000}, []string{"NYC", "LOS", "HOU", "ZZZ" /* no court */}, 7); err != nil {
		t.Fatal(err)
	}
	var outs []string
	for range 2 {
		out := t.TempDir()
		rep, err := eoirimport.Import(context.Background(), eoirimport.Config{Release: rel, Output: out, ObjectRows: 1000, TempDir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		reopened := int64(0)
		for _, n := range rep.Cases.Reopened {
			reopened += n
		}
		rejectedCases := rep.RejectsByCode["UNKNOWN_COURT"] + rep.RejectsByCode["MALFORMED_REQUIRED"]
		if rep.Cases.Closed != rep.Exported+reopened+rejectedCases || rep.Exported == 0 || reopened == 0 || rep.RejectsByCode["UNKNOWN_COURT"] == 0 {
			t.Fatalf("closed %d != exported %d + reopened %d + rejected %d", rep.Cases.Closed, rep.Exported, reopened, rejectedCases)
		}
		if got := int64(len(readExport(t, out))); got != rep.Exported {
			t.Fatalf("export holds %d cases, the report says %d", got, rep.Exported)
		}
		if len(rep.Objects) < 2 {
			t.Fatalf("%d objects: --object-rows was not applied", len(rep.Objects))
		}
		outs = append(outs, out)
	}
	for _, dir := range []string{"export", "rejects"} {
		files, _ := filepath.Glob(filepath.Join(outs[0], dir, "*"))
		for _, f := range files {
			a, _ := os.ReadFile(f)
			b, err := os.ReadFile(filepath.Join(outs[1], dir, filepath.Base(f)))
			if err != nil || string(a) != string(b) {
				t.Fatalf("%s/%s differs between two imports of the same release (%v)", dir, filepath.Base(f), err)
			}
		}
	}
}

// TestConcurrentImports starts two imports of different settings (so of
// different claims) into one output together, several times: each exits 0
// or 75 (the output claimed by the other), and the output is one import's
// whole commit: _SUCCESS names it, every object its import.json lists is
// there with its sha256, and export/ and rejects/ hold nothing else.
func TestConcurrentImports(t *testing.T) {
	rel := eoirtest.WriteRelease(t)
	for round := range 6 {
		out := t.TempDir()
		errs := make([]error, 2)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				_, errs[i] = eoirimport.Import(context.Background(), eoirimport.Config{Release: rel, Output: out, ObjectRows: 2 + i, TempDir: t.TempDir(),
					Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
			}()
		}
		close(start)
		wg.Wait()
		ok := 0
		for i, err := range errs {
			if err == nil {
				ok++
			} else if !errors.Is(err, claim.ErrClaimed) {
				t.Fatalf("round %d, import %d: %v, want success or the output claimed", round, i, err)
			}
		}
		if ok == 0 {
			t.Fatalf("round %d: no import committed: %v", round, errs)
		}
		t.Logf("round %d: %d of 2 committed", round, ok)
		if _, err := os.Stat(filepath.Join(out, "_SUCCESS")); err != nil {
			t.Fatalf("round %d: no _SUCCESS", round)
		}
		b, err := os.ReadFile(filepath.Join(out, "import.json"))
		if err != nil {
			t.Fatal(err)
		}
		var rep eoirimport.Report
		if err := json.Unmarshal(b, &rep); err != nil {
			t.Fatal(err)
		}
		listed := map[string]bool{}
		for _, o := range rep.Objects {
			listed[o.Key] = true
			d, err := os.ReadFile(filepath.Join(out, o.Key))
			if err != nil {
				t.Fatalf("round %d: import.json lists %s: %v", round, o.Key, err)
			}
			if fmt.Sprintf("%x", sha256.Sum256(d)) != o.SHA256 {
				t.Fatalf("round %d: %s has other bytes than import.json says", round, o.Key)
			}
		}
		for _, dir := range []string{"export", "rejects"} {
			ents, _ := os.ReadDir(filepath.Join(out, dir))
			for _, e := range ents {
				if !listed[dir+"/"+e.Name()] {
					t.Fatalf("round %d: %s/%s is not the committed import's", round, dir, e.Name())
				}
			}
		}
		if ents, _ := os.ReadDir(filepath.Join(out, "_claims")); len(ents) != 0 {
			t.Fatalf("round %d: claims left: %d", round, len(ents))
		}
	}
}
