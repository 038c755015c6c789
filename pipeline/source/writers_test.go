package source

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/recal-project/recal/pipeline/bufpool/bufpooltest"
	"github.com/recal-project/recal/pipeline/storage/local"
	"github.com/recal-project/recal/transforms/civil"
	"github.com/recal-project/recal/transforms/export"
)

// writerFiles is the writer-diversity suite: exports written by nodejs-polars,
// parquet-wasm (arrow-rs) and hyparquet-writer (testdata/writers/gen.mjs,
// pinned in its package-lock.json; make writer-files regenerates them).
const writerFiles = "../../testdata/writers/files"

// writerCase is one file of the suite with the DuckDB expressions that
// read its columns as dates where DuckDB itself sees only integers
// (arrow-rs writes Timestamp(Second) and Date64 as bare INT64, typed only
// in the stored arrow schema, which DuckDB does not consult).
type writerCase struct {
	file   string
	layout string
	dates  map[string]string
}

var writerCases = []writerCase{
	{"polars-default.parquet", "nodejs-polars DataFrame.writeParquet: zstd, strings, Date, Datetime(ms), list, Null-typed all-null columns", nil},
	{"polars-categorical.parquet", "nodejs-polars sinkParquet: Categorical strings (dictionary in ARROW:schema), 512-row row groups", nil},
	{"arrowrs-default.parquet", "parquet-wasm defaults: Utf8, Date32, Timestamp(ms), list", nil},
	{"arrowrs-dictionary.parquet", "parquet-wasm: Dictionary<Int32,Utf8>, 700-row row groups, zstd, Timestamp(Second) and Date64 as bare INT64, Null columns",
		map[string]string{
			"comp_date":  "date '1970-01-01' + CAST(floor(comp_date / 86400) AS INTEGER)",
			"input_date": "date '1970-01-01' + CAST(floor(input_date / 86400000) AS INTEGER)",
		}},
	{"hyparquet-default.parquet", "hyparquet-writer defaults: snappy, row groups of 1000 then 100,000, TIMESTAMP_MILLIS dates", nil},
}

// TestWriterFiles reads every file of the suite with recal's reader, in
// batches that cross row groups, and compares every cell of every row with
// DuckDB's reading of the same file.
func TestWriterFiles(t *testing.T) {
	for _, wc := range writerCases {
		t.Run(strings.TrimSuffix(wc.file, ".parquet"), func(t *testing.T) {
			path, err := filepath.Abs(filepath.Join(writerFiles, wc.file))
			if err != nil {
				t.Fatal(err)
			}
			got := readCanonical(t, path, "arrow", Options{})
			want := duckdbCanonical(t, path, wc.dates)
			if len(got) != len(want) || len(got) != 3000 {
				t.Fatalf("recal read %d rows, DuckDB %d (want 3000)", len(got), len(want))
			}
			for i := range want {
				if got[i] != want[i] {
					t.Fatalf("row %d:\n recal  %s\n duckdb %s", i, got[i], want[i])
				}
			}
		})
	}
}

// TestWriterFilesThroughDuckDBOptions rewrites a suite file with DuckDB
// under the options its users reach for (format version 2 with its delta
// encodings, tiny row groups, each codec DuckDB writes) and compares every
// cell again. (The Null-typed columns are left out: DuckDB types them
// INTEGER, a bare INT32 that is ambiguous for a date and refused.)
func TestWriterFilesThroughDuckDBOptions(t *testing.T) {
	src, err := filepath.Abs(filepath.Join(writerFiles, "polars-default.parquet"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, c := range []struct{ name, options, decoder string }{
		{"v2-zstd", "PARQUET_VERSION V2, ROW_GROUP_SIZE 256, COMPRESSION zstd", "parquet-go"},
		{"gzip-rg100", "ROW_GROUP_SIZE 100, COMPRESSION gzip", "arrow"},
		{"brotli", "COMPRESSION brotli", "arrow"},
		{"uncompressed-v2", "PARQUET_VERSION V2, COMPRESSION uncompressed", "parquet-go"},
		{"lz4", "COMPRESSION lz4, ROW_GROUP_SIZE 1000", "parquet-go"},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(dir, c.name+".parquet")
			duckdb(t, fmt.Sprintf("COPY (SELECT * EXCLUDE (recal_motion_date, recal_motion_dec) FROM read_parquet('%s')) TO '%s' (FORMAT parquet, %s)", src, path, c.options))
			got := readCanonical(t, path, c.decoder, Options{})
			want := duckdbCanonical(t, path, nil)
			if len(got) != len(want) || len(got) != 3000 {
				t.Fatalf("recal read %d rows, DuckDB %d (want 3000)", len(got), len(want))
			}
			for i := range want {
				if got[i] != want[i] {
					t.Fatalf("row %d:\n recal  %s\n duckdb %s", i, got[i], want[i])
				}
			}
		})
	}
}

// TestReadFreedBuffersUnused reads the writer suite and the bundled sample
// with an allocator that poisons every buffer it is given back: a decoder
// that read a buffer after freeing it would see different values than
// with arrow's Go allocator, whose Free does nothing. The run hands the
// decoder a reusing allocator (bufpool.Pool), so this is what keeps arrow
// v15's page reader, which releases pages before they are decoded, away
// from it (see decode).
func TestReadFreedBuffersUnused(t *testing.T) {
	files := []string{filepath.Join("..", "..", "testdata", "sample", "export", "part-00000.parquet")}
	for _, wc := range writerCases {
		files = append(files, filepath.Join(writerFiles, wc.file))
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			path, err := filepath.Abs(f)
			if err != nil {
				t.Fatal(err)
			}
			var poison bufpooltest.Poison
			want := readCanonical(t, path, "arrow", Options{})
			got := readCanonical(t, path, "arrow", Options{Mem: &poison})
			if poison.Frees() == 0 {
				t.Fatal("the decoder freed no buffer: the test proves nothing")
			}
			if len(got) != len(want) {
				t.Fatalf("%d rows with freed buffers poisoned, %d without", len(got), len(want))
			}
			for i := range want {
				if got[i] != want[i] {
					t.Fatalf("row %d differs once freed buffers are poisoned:\n poisoned %s\n go       %s", i, got[i], want[i])
				}
			}
		})
	}
}

// TestUnreadStringColumns reads the writer suite telling the reader that
// no column is looked at: the string and list columns read as null, and
// every other column as when all are read.
func TestUnreadStringColumns(t *testing.T) {
	for _, wc := range writerCases {
		t.Run(strings.TrimSuffix(wc.file, ".parquet"), func(t *testing.T) {
			path, err := filepath.Abs(filepath.Join(writerFiles, wc.file))
			if err != nil {
				t.Fatal(err)
			}
			all := readCanonical(t, path, "arrow", Options{})
			got := readCanonical(t, path, "arrow", Options{Unread: func(int) bool { return true }})
			// The rows sort by idncase, which is read either way.
			left := 0
			for i := range all {
				want := strings.Split(all[i], "|")
				for k, cell := range strings.Split(got[i], "|") {
					name, _, _ := strings.Cut(want[k], "=")
					kind := export.Columns[columnByName[name]].Kind
					switch {
					case kind == export.KindString || kind == export.KindStringList:
						if cell != name+"=∅" {
							t.Fatalf("row %d: %s read although unread", i, cell)
						}
						if cell != want[k] {
							left++
						}
					case cell != want[k]:
						t.Fatalf("row %d: %s, want %s", i, cell, want[k])
					}
				}
			}
			if left == 0 {
				t.Fatal("no value was left out: the test proves nothing")
			}
		})
	}
}

// canonicalColumns are the columns compared, in order.
var canonicalColumns = []string{"idncase", "idnproceeding", "base_city_code", "hearing_loc_code", "ij_code", "case_type", "custody", "nat", "lang",
	"osc_date", "input_date", "comp_date", "other_comp", "crim_ind", "absentia", "c_birthdate", "e_28_date", "latest_hearing",
	"recal_motion_date", "recal_motion_dec", "pending_applications", "application_outcome"}

// readCanonical decodes the file with o (in batches of 333 rows) and
// formats each row as "col=value|…" (∅ for null), sorted by idncase.
func readCanonical(t *testing.T, path, decoder string, o Options) []string {
	t.Helper()
	st := local.New(filepath.Dir(path))
	objs, err := st.List(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	var one []int
	for i, o := range objs {
		if o.Key == filepath.Base(path) {
			one = append(one, i)
		}
	}
	if len(one) != 1 {
		t.Fatalf("%s not listed", path)
	}
	objs = objs[one[0] : one[0]+1]
	o.BatchSize = 333
	var mu sync.Mutex
	var rows []string
	stats, err := Read(context.Background(), st, objs, o, func(_ context.Context, b *export.Batch) error {
		mu.Lock()
		defer mu.Unlock()
		for r := 0; r < b.N; r++ {
			rows = append(rows, canonicalRow(b, r))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if stats[0].Rows != stats[0].FooterRows || stats[0].Decoder != decoder {
		t.Errorf("stats %+v", stats[0])
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i] < rows[j] })
	return rows
}

func canonicalRow(b *export.Batch, r int) string {
	var f []string
	for _, name := range canonicalColumns {
		v := "∅"
		switch x := export.Columns[columnByName[name]].Field(b).(type) {
		case *export.Int64s:
			if x.S[r] == export.Valid {
				v = fmt.Sprint(x.V[r])
			}
		case *export.Strings:
			if x.S[r] == export.Valid {
				v = x.V[r]
			}
		case *export.Dates:
			if x.S[r] == export.Valid {
				v = civil.FormatDate(x.V[r])
			}
		case *export.Bools:
			if x.S[r] == export.Valid {
				v = fmt.Sprint(x.V[r])
			}
		case *export.Lists:
			if x.S[r] == export.Valid {
				v = "[" + strings.Join(x.Row(r), ",") + "]"
			}
		}
		if x, ok := export.Columns[columnByName[name]].Field(b).(*export.Int64s); ok && x.S[r] == export.Valid && name == "idncase" {
			v = fmt.Sprintf("%012d", x.V[r]) // sorts numerically
		}
		f = append(f, name+"="+v)
	}
	return strings.Join(f, "|")
}

// duckdbCanonical has DuckDB format the same canonical rows. Columns the
// file lacks are null; dates go through epoch days, so no time zone
// setting enters.
func duckdbCanonical(t *testing.T, path string, dates map[string]string) []string {
	t.Helper()
	present := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(duckdb(t, fmt.Sprintf("SELECT name FROM parquet_schema('%s')", path))), "\n") {
		present[strings.ToLower(strings.TrimSpace(line))] = true
	}
	var parts []string
	for _, name := range canonicalColumns {
		e := "NULL::VARCHAR"
		if present[name] {
			switch c := export.Columns[columnByName[name]]; {
			case name == "idncase":
				e = fmt.Sprintf("lpad(%s::VARCHAR, 12, '0')", name)
			case c.Kind == export.KindDate:
				d := name
				if x, ok := dates[name]; ok {
					d = x
				}
				e = fmt.Sprintf("strftime(CAST(%s AS DATE), '%%Y-%%m-%%d')", d)
			case c.Kind == export.KindBool:
				e = fmt.Sprintf("CASE WHEN typeof(%[1]s) = 'BOOLEAN' THEN %[1]s::VARCHAR WHEN %[1]s::VARCHAR = 'Y' THEN 'true' WHEN %[1]s::VARCHAR = 'N' THEN 'false' END", name)
			case c.Kind == export.KindStringList:
				e = fmt.Sprintf("'[' || array_to_string(%s, ',') || ']'", name)
			default:
				e = name + "::VARCHAR"
			}
		}
		parts = append(parts, fmt.Sprintf("'%s=' || coalesce(%s, '∅')", name, e))
	}
	q := fmt.Sprintf("SELECT %s AS r FROM read_parquet('%s') ORDER BY r", strings.Join(parts, " || '|' || "), path)
	out := strings.Split(strings.TrimRight(duckdb(t, q), "\n"), "\n")
	return out
}
