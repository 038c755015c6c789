package source

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/apache/arrow/go/v15/parquet"
	"github.com/apache/arrow/go/v15/parquet/compress"
	"github.com/apache/arrow/go/v15/parquet/pqarrow"

	"github.com/recal-project/recal/pipeline/storage"
	"github.com/recal-project/recal/pipeline/storage/local"
)

// TestDecoderRefusesHugeBuffers writes a small object whose one data page
// inflates to 8 MB (a mild decompression bomb: 200,000 copies of one
// string, zstd) and decodes it under a 1 MiB allocation limit: it must
// fail as corrupt, naming the object and the limit, and leak nothing. Under
// the default limit the same object decodes, so the limit is the cause.
func TestDecoderRefusesHugeBuffers(t *testing.T) {
	dir := t.TempDir()
	const key = "bomb.parquet"
	const rows = 200_000
	sc := arrow.NewSchema([]arrow.Field{{Name: "s", Type: arrow.BinaryTypes.String}}, nil)
	f, err := os.Create(filepath.Join(dir, key))
	if err != nil {
		t.Fatal(err)
	}
	w, err := pqarrow.NewFileWriter(sc, f, parquet.NewWriterProperties(
		parquet.WithCompression(compress.Codecs.Zstd), parquet.WithDictionaryDefault(false),
		parquet.WithDataPageSize(64<<20), parquet.WithMaxRowGroupLength(rows)), pqarrow.NewArrowWriterProperties())
	if err != nil {
		t.Fatal(err)
	}
	b := array.NewStringBuilder(memory.DefaultAllocator)
	for i := 0; i < rows; i++ {
		b.Append("the same forty-byte value, over and over")
	}
	arr := b.NewArray()
	rec := array.NewRecord(sc, []arrow.Array{arr}, rows)
	if err := w.Write(rec); err != nil {
		t.Fatal(err)
	}
	rec.Release()
	arr.Release()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	info, _ := os.Stat(filepath.Join(dir, key))
	if info.Size() > 256<<10 {
		t.Fatalf("the test object is %d bytes; it should be a small one that inflates", info.Size())
	}
	st := local.New(dir)
	obj := storage.ObjectInfo{Key: key, Size: info.Size()}

	checked := memory.NewCheckedAllocator(memory.NewGoAllocator())
	_, err = CountRows(context.Background(), st, obj, limited(checked, 1<<20))
	var oe *ObjectError
	if !errors.Is(err, ErrCorrupt) || !errors.As(err, &oe) || oe.Key != key || !strings.Contains(err.Error(), "limit") {
		t.Fatalf("under a 1 MiB limit: %v; want a corrupt-object error naming %s and the limit", err, key)
	}
	if n := checked.CurrentAlloc(); n > 64<<10 {
		t.Errorf("%d bytes still allocated after the refusal", n)
	}
	s, err := CountRows(context.Background(), st, obj, nil)
	if err != nil || s.Rows != rows {
		t.Fatalf("under the default limit: %d rows, %v; want %d rows", s.Rows, err, rows)
	}
}
