package job

import (
	"context"
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writerExpected is testdata/writers/files/expected.json: what the
// generator planted in every file of the writer-diversity suite.
type writerExpected struct {
	AsOf     string           `json:"as_of"`
	Rows     int64            `json:"rows"`
	Accepted int64            `json:"accepted"`
	Rejects  map[string]int64 `json:"rejects"`
	Quality  map[string]int64 `json:"quality"`
}

// TestRunWriterFiles runs recal on each export of the writer-diversity
// suite (nodejs-polars, parquet-wasm/arrow-rs, hyparquet-writer; the
// cell-by-cell comparison with DuckDB is source.TestWriterFiles) and checks
// the run's outcome against what the generator planted: rows, rejects by
// reason, data-quality counts; runcheck verifies the committed output.
func TestRunWriterFiles(t *testing.T) {
	if testing.Short() {
		t.Skip("full pass only")
	}
	const dir = "../../testdata/writers/files"
	b, err := os.ReadFile(filepath.Join(dir, "expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	var want writerExpected
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.parquet"))
	if err != nil || len(files) < 5 {
		t.Fatalf("writer files: %v %v", files, err)
	}
	calendar := t.TempDir()
	genData(t, calendar, 10) // a calendar and closures for every court
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".parquet"), func(t *testing.T) {
			in := t.TempDir()
			if err := os.CopyFS(in, os.DirFS(calendar)); err != nil {
				t.Fatal(err)
			}
			exp := filepath.Join(in, "export")
			if err := os.RemoveAll(exp); err != nil {
				t.Fatal(err)
			}
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.MkdirAll(exp, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(exp, filepath.Base(f)), data, 0o644); err != nil {
				t.Fatal(err)
			}
			out := t.TempDir()
			cfg := baseConfig(in, out)
			cfg.AsOf = want.AsOf
			res, err := Run(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			m := res.Manifest
			if m.Counts.InputRows != want.Rows || m.Counts.Rejected != want.Rows-want.Accepted {
				t.Errorf("counts %+v, want %d rows, %d rejected", m.Counts, want.Rows, want.Rows-want.Accepted)
			}
			if !maps.Equal(m.RejectsByCode, want.Rejects) {
				t.Errorf("rejects by code %v, want %v", m.RejectsByCode, want.Rejects)
			}
			if !maps.Equal(m.DataQuality, want.Quality) {
				t.Errorf("data quality %v, want %v", m.DataQuality, want.Quality)
			}
			if m.Decoders["arrow"] != 1 {
				t.Errorf("decoders %v", m.Decoders)
			}
			checkRun(t, in, out, m)
		})
	}
}
