package source

import (
	"context"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/thrift/lib/go/thrift"
	pqgo "github.com/xitongsys/parquet-go/parquet"

	"github.com/recal-project/recal/pipeline/storage"
	"github.com/recal-project/recal/pipeline/storage/local"
	"github.com/recal-project/recal/transforms/export"
)

// TestAbsurdFooterRowCount rewrites a real export object's footer (with
// parquet-go's Thrift types, independent of arrow) so that it declares 2^40
// rows, in the file and in its first row group: the footer pass that
// sizes a run's memory must refuse it as corrupt, naming the object,
// before anything is allocated from it; so must the reader.
func TestAbsurdFooterRowCount(t *testing.T) {
	ctx := context.Background()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "sample", "export", "part-00000.parquet"))
	if err != nil {
		t.Fatal(err)
	}
	n := int(binary.LittleEndian.Uint32(b[len(b)-8:]))
	footer := b[len(b)-8-n : len(b)-8]
	md := pqgo.NewFileMetaData()
	de := thrift.NewTDeserializer()
	de.Protocol = thrift.NewTCompactProtocolFactoryConf(nil).GetProtocol(de.Transport)
	if err := de.Read(ctx, md, footer); err != nil {
		t.Fatal(err)
	}
	const absurd = int64(1) << 40
	md.RowGroups[0].NumRows += absurd - md.NumRows
	md.NumRows = absurd
	se := thrift.NewTSerializer()
	se.Protocol = thrift.NewTCompactProtocolFactoryConf(nil).GetProtocol(se.Transport)
	nf, err := se.Write(ctx, md)
	if err != nil {
		t.Fatal(err)
	}
	out := append(append([]byte{}, b[:len(b)-8-n]...), nf...)
	out = binary.LittleEndian.AppendUint32(out, uint32(len(nf)))
	out = append(out, "PAR1"...)
	dir := t.TempDir()
	const key = "absurd.parquet"
	if err := os.WriteFile(filepath.Join(dir, key), out, 0o644); err != nil {
		t.Fatal(err)
	}
	st := local.New(dir)
	obj := storage.ObjectInfo{Key: key, Size: int64(len(out))}
	check := func(what string, err error) {
		t.Helper()
		var oe *ObjectError
		if !errors.Is(err, ErrCorrupt) || !errors.As(err, &oe) || oe.Key != key || !strings.Contains(err.Error(), "1099511627776 rows") {
			t.Fatalf("%s: %v; want a corrupt-object error naming %s and the row count", what, err, key)
		}
	}
	_, err = FooterRows(ctx, st, obj)
	check("footer pass", err)
	_, err = ReadObject(ctx, st, 0, obj, Options{}, func(context.Context, *export.Batch) error { return nil })
	check("read", err)
}
