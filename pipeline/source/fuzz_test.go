package source_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow/go/v15/arrow/memory"

	"github.com/recal-project/recal/pipeline/gen"
	"github.com/recal-project/recal/pipeline/refdata"
	"github.com/recal-project/recal/pipeline/source"
	"github.com/recal-project/recal/pipeline/storage"
	"github.com/recal-project/recal/pipeline/storage/local"
	"github.com/recal-project/recal/transforms/export"
)

// FuzzReadObject feeds arbitrary bytes to the export decoder as one object:
// it must never panic or hang, every failure must be an ObjectError that
// names the object and is classified (unsupported, corrupt, schema or row
// count), and an object that decodes must deliver exactly its footer's
// row count. Seeds: small exports of every writer layout recal gen knows,
// and the parquet-testing files under 16 KB.
func FuzzReadObject(f *testing.F) {
	ctx := context.Background()
	ref, err := refdata.Load(refdata.Paths{})
	if err != nil {
		f.Fatal(err)
	}
	for _, layout := range []string{"reference", "legacy-db", "spark", "pandas"} {
		dir := f.TempDir()
		st := local.New(dir)
		if _, err := gen.Generate(ctx, st, ref, gen.Options{Rows: 40, Seed: 5, Objects: 1, Layout: layout, TempDir: f.TempDir()}); err != nil {
			f.Fatal(err)
		}
		objs, err := st.List(ctx, "")
		if err != nil {
			f.Fatal(err)
		}
		for _, o := range objs {
			if strings.HasSuffix(o.Key, ".parquet") {
				b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(o.Key)))
				if err != nil {
					f.Fatal(err)
				}
				f.Add(b)
			}
		}
	}
	corpus := filepath.Join("..", "..", "testdata", "parquet-testing")
	filepath.WalkDir(corpus, func(path string, d os.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(path, ".parquet") {
			if info, err := d.Info(); err == nil && info.Size() < 16<<10 {
				if b, err := os.ReadFile(path); err == nil {
					f.Add(b)
				}
			}
		}
		return nil
	})
	f.Fuzz(func(t *testing.T, data []byte) {
		const key = "export/part-00000.parquet"
		st := oneObject{key: key, data: data}
		obj := storage.ObjectInfo{Key: key, Size: int64(len(data))}
		check := func(what string, err error) bool {
			t.Helper()
			if err == nil {
				return true
			}
			var oe *source.ObjectError
			if !errors.As(err, &oe) || oe.Key != key {
				t.Fatalf("%s: error does not name the object: %v", what, err)
			}
			if !source.IsDataError(err) {
				t.Fatalf("%s: unclassified error: %v", what, err)
			}
			return false
		}
		// The row count comes first, as a run's pre-pass does.
		footer, err := source.FooterRows(ctx, st, obj)
		if !check("footer", err) {
			return
		}
		mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		var rows int64
		stats, err := source.ReadObject(ctx, st, 0, obj, source.Options{Mem: mem, BatchSize: 64}, func(_ context.Context, b *export.Batch) error {
			rows += int64(b.N)
			return nil
		})
		if !check("read", err) {
			return
		}
		if rows != footer || stats.Rows != footer {
			t.Fatalf("decoded %d rows (stats %d), footer says %d", rows, stats.Rows, footer)
		}
	})
}

// oneObject is a store holding one object in memory: fuzzing through the
// disk spent most of each execution in file system calls.
type oneObject struct {
	key  string
	data []byte
}

type bytesAt struct{ *bytes.Reader }

func (b bytesAt) Close() error { return nil }

func (s oneObject) Open(_ context.Context, key string) (storage.ReaderAt, error) {
	if key != s.key {
		return nil, fmt.Errorf("open %s: %w", key, storage.ErrNotExist)
	}
	return bytesAt{bytes.NewReader(s.data)}, nil
}

func (s oneObject) List(context.Context, string) ([]storage.ObjectInfo, error) {
	return []storage.ObjectInfo{{Key: s.key, Size: int64(len(s.data))}}, nil
}

func (s oneObject) Stat(_ context.Context, key string) (storage.ObjectInfo, error) {
	if key != s.key {
		return storage.ObjectInfo{}, fmt.Errorf("stat %s: %w", key, storage.ErrNotExist)
	}
	return storage.ObjectInfo{Key: s.key, Size: int64(len(s.data))}, nil
}

func (s oneObject) Create(context.Context, string) (io.WriteCloser, error) {
	return nil, errors.New("read-only")
}
func (s oneObject) CreateExclusive(context.Context, string, []byte) error {
	return errors.New("read-only")
}
func (s oneObject) Delete(context.Context, string) error { return errors.New("read-only") }
func (s oneObject) String() string                       { return "mem://" }
