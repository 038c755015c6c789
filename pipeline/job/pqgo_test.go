package job

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/xitongsys/parquet-go/reader"
	pqsource "github.com/xitongsys/parquet-go/source"
)

// osFile adapts *os.File to parquet-go's ParquetFile (its reader reopens
// the same file for each column).
type osFile struct {
	*os.File
	name string
}

func (f *osFile) Open(name string) (pqsource.ParquetFile, error) {
	if name == "" {
		name = f.name
	}
	g, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	return &osFile{File: g, name: name}, nil
}

func (f *osFile) Create(string) (pqsource.ParquetFile, error) {
	return nil, fmt.Errorf("read-only")
}

// readTable reads every column of a Parquet file with xitongsys/parquet-go
// — a reader independent of the arrow writer that produced it — into
// columns by lower-case name. Nulls are nil.
func readTable(t *testing.T, path string) (map[string][]any, int) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	pf := &osFile{File: f, name: path}
	defer pf.Close()
	pr, err := reader.NewParquetColumnReader(pf, 1)
	if err != nil {
		t.Fatalf("parquet-go cannot open %s: %v", path, err)
	}
	defer pr.ReadStop()
	n := pr.GetNumRows()
	cols := map[string][]any{}
	for i, p := range pr.SchemaHandler.ValueColumns {
		vals, _, _, err := pr.ReadColumnByIndex(int64(i), n)
		if err != nil {
			t.Fatalf("%s column %s: %v", path, p, err)
		}
		if int64(len(vals)) != n {
			t.Fatalf("%s column %s: %d values, %d rows", path, p, len(vals), n)
		}
		parts := strings.Split(p, "\x01")
		cols[strings.ToLower(parts[len(parts)-1])] = vals
	}
	return cols, int(n)
}
