package job

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/apache/arrow/go/v15/parquet/pqarrow"

	"github.com/recal-project/recal/pipeline/sysexit"
)

// writeCapacityParquet writes a capacity CSV as Parquet with typed columns:
// slots INT32, effective dates DATE, ij_code null when empty.
func writeCapacityParquet(t *testing.T, csvPath, out string, edit func(row int, f []string)) {
	t.Helper()
	b, err := os.ReadFile(csvPath)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	recs = recs[1:]
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "base_city_code", Type: arrow.BinaryTypes.String}, {Name: "Docket", Type: arrow.BinaryTypes.String},
		{Name: "ij_code", Type: arrow.BinaryTypes.String, Nullable: true}, {Name: "weekday", Type: arrow.BinaryTypes.String},
		{Name: "session_start", Type: arrow.BinaryTypes.String}, {Name: "slots", Type: arrow.PrimitiveTypes.Int32},
		{Name: "effective_from", Type: arrow.FixedWidthTypes.Date32}, {Name: "effective_to", Type: arrow.FixedWidthTypes.Date32, Nullable: true},
	}, nil)
	rb := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer rb.Release()
	date := func(s string) arrow.Date32 {
		d, err := time.Parse(time.DateOnly, s)
		if err != nil {
			t.Fatal(err)
		}
		return arrow.Date32FromTime(d)
	}
	for r, f := range recs {
		if edit != nil {
			edit(r, f)
		}
		for c := 0; c < 5; c++ {
			if c == 2 && f[c] == "" {
				rb.Field(c).AppendNull()
				continue
			}
			rb.Field(c).(*array.StringBuilder).Append(f[c])
		}
		n, _ := strconv.Atoi(f[5])
		rb.Field(5).(*array.Int32Builder).Append(int32(n))
		rb.Field(6).(*array.Date32Builder).Append(date(f[6]))
		if f[7] == "" {
			rb.Field(7).AppendNull()
		} else {
			rb.Field(7).(*array.Date32Builder).Append(date(f[7]))
		}
	}
	rec := rb.NewRecord()
	defer rec.Release()
	tbl := array.NewTableFromRecords(schema, []arrow.Record{rec})
	defer tbl.Release()
	w, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	if err := pqarrow.WriteTable(tbl, w, 1024, nil, pqarrow.DefaultWriterProps()); err != nil {
		t.Fatal(err)
	}
	w.Close()
}

// TestParquetCapacity: the same calendar as Parquet gives the same data
// files as the CSV, and a bad value is named by row and column.
func TestParquetCapacity(t *testing.T) {
	fullPassOnly(t)
	in := t.TempDir()
	genData(t, in, 800)
	csvOut, pqOut := t.TempDir(), t.TempDir()
	csvRes, err := Run(context.Background(), baseConfig(in, csvOut))
	if err != nil {
		t.Fatal(err)
	}
	checkRun(t, in, csvOut, csvRes.Manifest)
	pq := filepath.Join(t.TempDir(), "capacity.parquet")
	writeCapacityParquet(t, filepath.Join(in, "capacity.csv"), pq, nil)
	cfg := baseConfig(in, pqOut)
	cfg.Capacity = pq
	res, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	checkRun(t, in, pqOut, res.Manifest)
	// The calendars' bytes differ, so do the run ids in the names; the data
	// must not.
	masked := func(d map[string]string, run string) string {
		m := map[string]string{}
		for k, v := range d {
			m[strings.Replace(k, run, "RUN", 1)] = v
		}
		return fmt.Sprint(m)
	}
	if masked(outputDigest(t, csvOut), csvRes.Manifest.RunID) != masked(outputDigest(t, pqOut), res.Manifest.RunID) {
		t.Fatal("a Parquet calendar gives different outputs from the same calendar in CSV")
	}

	bad := filepath.Join(t.TempDir(), "bad.parquet")
	writeCapacityParquet(t, filepath.Join(in, "capacity.csv"), bad, func(r int, f []string) {
		if r == 3 {
			f[5] = "-2"
		}
	})
	cfg.Capacity, cfg.Output = bad, t.TempDir()
	_, err = Run(context.Background(), cfg)
	if sysexit.Code(err) != sysexit.DataErr || !strings.Contains(err.Error(), "bad.parquet row 3 column slots") {
		t.Fatalf("got %v (exit %d), want exit 65 naming row 3, column slots", err, sysexit.Code(err))
	}
	trunc := filepath.Join(t.TempDir(), "trunc.parquet")
	b, _ := os.ReadFile(pq)
	os.WriteFile(trunc, b[:len(b)/2], 0o644)
	cfg.Capacity = trunc
	if _, err = Run(context.Background(), cfg); sysexit.Code(err) != sysexit.DataErr || !strings.Contains(err.Error(), "trunc.parquet: bad value: not a readable Parquet file") {
		t.Fatalf("truncated calendar: %v (exit %d)", err, sysexit.Code(err))
	}
}
