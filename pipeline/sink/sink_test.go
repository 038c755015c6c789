package sink_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"
	pqlocal "github.com/xitongsys/parquet-go-source/local"
	"github.com/xitongsys/parquet-go/reader"

	"github.com/recal-project/recal/pipeline/bufpool/bufpooltest"
	"github.com/recal-project/recal/pipeline/sink"
	"github.com/recal-project/recal/pipeline/storage/local"
)

var testSchema = arrow.NewSchema([]arrow.Field{
	{Name: "id", Type: arrow.PrimitiveTypes.Int64},
	{Name: "code", Type: arrow.BinaryTypes.String},
	{Name: "judge", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "day", Type: arrow.FixedWidthTypes.Date32, Nullable: true},
}, nil)

// row i of the test dataset: nulls scattered as in case_ij_code, so that
// definition levels come in short literal runs.
func testRow(i int) (id int64, code string, judge string, hasJudge bool, day int32, hasDay bool) {
	h := uint32(i) * 2654435761
	return int64(1_000_000 + 7*i), fmt.Sprintf("C%02d", i%13), fmt.Sprintf("J%03d", h%97), h%10 != 0, int32(20_000 + i%400), i%3 != 0
}

func fillTest(b *array.RecordBuilder, from, to int) {
	ids, codes := b.Field(0).(*array.Int64Builder), b.Field(1).(*array.StringBuilder)
	judges, days := b.Field(2).(*array.StringBuilder), b.Field(3).(*array.Date32Builder)
	for i := from; i < to; i++ {
		id, code, judge, hasJudge, day, hasDay := testRow(i)
		ids.Append(id)
		codes.Append(code)
		if hasJudge {
			judges.Append(judge)
		} else {
			judges.AppendNull()
		}
		if hasDay {
			days.Append(arrow.Date32(day))
		} else {
			days.AppendNull()
		}
	}
}

// TestWritePartsIndependentReader writes datasets of several shapes and
// reads every part back with xitongsys/parquet-go, a reader that shares no
// code with arrow's writer: every value and every null must come back, the
// object's size and SHA-256 must be those of the stored bytes, and a second
// write must give the same bytes.
func TestWritePartsIndependentReader(t *testing.T) {
	tests := []struct {
		name             string
		rows             int
		rowGroup         int64
		maxRowsPerFile   int
		wantParts        int
		wantRowsFirstObj int64
	}{
		{"empty", 0, 0, 0, 1, 0},
		{"one row", 1, 0, 0, 1, 1},
		{"across builder chunks", 70_000, 0, 0, 1, 70_000},
		{"row groups and parts", 150_001, 10_000, 60_000, 3, 60_000},
	}
	ctx := context.Background()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var runs [2][]sink.Object
			var dirs [2]string
			for k := range runs {
				dirs[k] = t.TempDir()
				objs, err := sink.WriteParts(ctx, local.New(dirs[k]), "out", 3, testSchema, tc.rows, fillTest,
					sink.Options{TempDir: t.TempDir(), RowGroup: tc.rowGroup, MaxRowsPerFile: tc.maxRowsPerFile})
				if err != nil {
					t.Fatal(err)
				}
				runs[k] = objs
			}
			objs := runs[0]
			if len(objs) != tc.wantParts || objs[0].Rows != tc.wantRowsFirstObj {
				t.Fatalf("parts = %+v, want %d parts, first with %d rows", objs, tc.wantParts, tc.wantRowsFirstObj)
			}
			next := 0
			for i, o := range objs {
				if want := fmt.Sprintf("out/part-00003-%05d.parquet", i); o.Key != want {
					t.Errorf("key %q, want %q", o.Key, want)
				}
				path := filepath.Join(dirs[0], filepath.FromSlash(o.Key))
				data, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				again, err := os.ReadFile(filepath.Join(dirs[1], filepath.FromSlash(o.Key)))
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(data, again) || runs[1][i] != o {
					t.Errorf("%s: a second write gave different bytes", o.Key)
				}
				sum := sha256.Sum256(data)
				if o.Bytes != int64(len(data)) || o.SHA256 != hex.EncodeToString(sum[:]) {
					t.Errorf("%s: object says %d bytes sha %s, file has %d bytes sha %x", o.Key, o.Bytes, o.SHA256, len(data), sum)
				}
				checkWithParquetGo(t, path, next, int(o.Rows))
				next += int(o.Rows)
			}
			if next != tc.rows {
				t.Errorf("parts hold %d rows, want %d", next, tc.rows)
			}
		})
	}
}

// checkWithParquetGo reads path with xitongsys/parquet-go and compares it
// with rows [from, from+n) of the test dataset.
func checkWithParquetGo(t *testing.T, path string, from, n int) {
	t.Helper()
	f, err := pqlocal.NewLocalFileReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	pr, err := reader.NewParquetColumnReader(f, 1)
	if err != nil {
		t.Fatalf("parquet-go cannot open %s: %v", path, err)
	}
	defer pr.ReadStop()
	if got := pr.GetNumRows(); got != int64(n) {
		t.Fatalf("parquet-go: %d rows, want %d", got, n)
	}
	if n == 0 {
		return
	}
	root := pr.SchemaHandler.GetRootExName()
	col := func(name string) []any {
		vals, _, _, err := pr.ReadColumnByPath(root+"\x01"+name, int64(n))
		if err != nil {
			t.Fatalf("parquet-go: read %s: %v", name, err)
		}
		if len(vals) != n {
			t.Fatalf("parquet-go: %s has %d values, want %d", name, len(vals), n)
		}
		return vals
	}
	ids, codes, judges, days := col("id"), col("code"), col("judge"), col("day")
	for k := 0; k < n; k++ {
		id, code, judge, hasJudge, day, hasDay := testRow(from + k)
		if ids[k] != id || codes[k] != code {
			t.Fatalf("row %d: id %v code %v, want %d %s", from+k, ids[k], codes[k], id, code)
		}
		switch {
		case hasJudge && judges[k] != judge, !hasJudge && judges[k] != nil:
			t.Fatalf("row %d: judge %v, want %q (present %v)", from+k, judges[k], judge, hasJudge)
		case hasDay && days[k] != day, !hasDay && days[k] != nil:
			t.Fatalf("row %d: day %v, want %d (present %v)", from+k, days[k], day, hasDay)
		}
	}
}

// TestWriteFreedBuffersUnused writes the same dataset with an allocator that
// poisons every buffer it is given back and with arrow's Go allocator: the
// bytes must be equal. Options.Mem is a reusing allocator in a run
// (bufpool.Pool), so this keeps the arrays' builders, whose strings arrow
// v15's statistics alias until the footer is written, away from it.
func TestWriteFreedBuffersUnused(t *testing.T) {
	ctx := context.Background()
	const rows = 300_000 // several row groups, and chunks within them
	var sums [2]string
	var poison bufpooltest.Poison
	for k, mem := range []memory.Allocator{nil, &poison} {
		dir := t.TempDir()
		objs, err := sink.WriteParts(ctx, local.New(dir), "out", 0, testSchema, rows, fillTest, sink.Options{TempDir: t.TempDir(), Mem: mem})
		if err != nil {
			t.Fatal(err)
		}
		if len(objs) != 1 {
			t.Fatalf("%d objects", len(objs))
		}
		sums[k] = objs[0].SHA256
	}
	if poison.Frees() == 0 {
		t.Fatal("the writer freed no buffer: the test proves nothing")
	}
	if sums[0] != sums[1] {
		t.Fatalf("bytes differ once freed buffers are poisoned: sha256 %s, with arrow's Go allocator %s", sums[1], sums[0])
	}
}

// TestWriteFileCancelled cancels the context while the filler is at work:
// the write ends with the cancellation, publishes nothing and leaves no
// goroutine behind.
func TestWriteFileCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dir := t.TempDir()
	before := runtime.NumGoroutine()
	chunks := 0
	fill := func(b *array.RecordBuilder, from, to int) {
		fillTest(b, from, to)
		if chunks++; chunks == 2 {
			cancel()
		}
	}
	_, err := sink.WriteFile(ctx, local.New(dir), "out/part.parquet", testSchema, 0, 1_000_000, fill, sink.Options{TempDir: t.TempDir()})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "out", "part.parquet")); !os.IsNotExist(err) {
		t.Fatalf("a cancelled write published its object (stat: %v)", err)
	}
	for i := 0; runtime.NumGoroutine() > before && i < 100; i++ {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Fatalf("%d goroutines after the write, %d before", n, before)
	}
}
