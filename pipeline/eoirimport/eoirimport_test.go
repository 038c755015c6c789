package eoirimport_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/apache/arrow/go/v15/parquet/file"
	"github.com/apache/arrow/go/v15/parquet/pqarrow"

	"github.com/recal-project/recal/pipeline/eoirimport"
	"github.com/recal-project/recal/pipeline/eoirimport/eoirtest"
	"github.com/recal-project/recal/pipeline/source"
)

type exported struct {
	idncase, idnproc   int64
	court, comp, other string
	motionDate         string
	motionDec          string
	nat, custody       string
}

// readExport reads the export back with arrow, row by row.
func readExport(t *testing.T, dir string) map[int64]exported {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "export", "*.parquet"))
	if len(files) == 0 {
		t.Fatal("no export objects")
	}
	out := map[int64]exported{}
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
		rec := array.NewTableReader(tbl, 1<<20)
		for rec.Next() {
			r := rec.Record()
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
				return source.FormatDate(int32(c.Value(i)))
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
		}
		rec.Release()
		tbl.Release()
		pf.Close()
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
	rep, err := eoirimport.Import(context.Background(), eoirimport.Config{Release: rel, Output: out, Crosswalk: cross, TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	got := readExport(t, out)
	want := map[int64]exported{
		1:  {1, 101, "NYC", "2016-03-04", "A", "<null>", "<null>", "MX", "R"},
		5:  {5, 501, "HOU", "2014-02-03", "B", "2016-01-01", "D", "MX", "R"},
		6:  {6, 601, "HOU", "2014-02-03", "Y", "2020-05-06", "<null>", "MX", "R"},
		9:  {9, 901, "NYC", "2014-02-03", "A", "<null>", "<null>", "MX", "R"},
		13: {13, 1302, "NYC", "2019-02-03", "A", "<null>", "<null>", "MX", "R"},
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
	if rep.Exported != 5 || rep.Cases.Reopened["HEARING_SET_AFTER_CLOSURE"] != 1 || rep.Cases.Reopened["RECALENDAR_MOTION_GRANTED"] != 1 {
		b, _ := json.Marshal(rep)
		t.Fatalf("report %s", b)
	}
	for code, n := range map[string]int64{"UNKNOWN_COURT": 1, "FIELD_COUNT": 1, "NONPOSITIVE_ID": 1, "MALFORMED_REQUIRED": 1} {
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
}
