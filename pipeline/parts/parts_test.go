package parts_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"

	"github.com/recal-project/recal/pipeline/parts"
	"github.com/recal-project/recal/pipeline/sink"
	"github.com/recal-project/recal/pipeline/storage/local"
)

var schema = arrow.NewSchema([]arrow.Field{
	{Name: "id", Type: arrow.PrimitiveTypes.Int64},
	{Name: "name", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "day", Type: arrow.FixedWidthTypes.Date32},
	{Name: "score", Type: arrow.PrimitiveTypes.Float64},
	{Name: "tier", Type: arrow.PrimitiveTypes.Int32},
}, nil)

// write writes ids as a dataset under dir, in parts of 70 rows.
func write(t *testing.T, st *local.Store, dir string, ids []int64) []string {
	t.Helper()
	objs, err := sink.WriteParts(context.Background(), st, dir, 0, schema, len(ids), func(b *array.RecordBuilder, from, to int) {
		for _, id := range ids[from:to] {
			b.Field(0).(*array.Int64Builder).Append(id)
			if id%3 == 0 {
				b.Field(1).AppendNull()
			} else {
				b.Field(1).(*array.StringBuilder).Append(fmt.Sprint("n", id))
			}
			b.Field(2).(*array.Date32Builder).Append(arrow.Date32(id))
			b.Field(3).(*array.Float64Builder).Append(float64(id) / 2)
			b.Field(4).(*array.Int32Builder).Append(int32(id % 7))
		}
	}, sink.Options{TempDir: t.TempDir(), MaxRowsPerFile: 70, RowGroup: 32})
	if err != nil {
		t.Fatal(err)
	}
	keys := make([]string, len(objs))
	for i, o := range objs {
		keys[i] = o.Key
	}
	return keys
}

// TestMergeInOrder merges three sorted datasets of several parts each,
// and requires every row once, in key order, with its values, and no
// memory left allocated.
func TestMergeInOrder(t *testing.T) {
	st := local.New(t.TempDir())
	var streams []*parts.Stream
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	total := 0
	for s := range 3 {
		var ids []int64
		for id := int64(s); id < 600; id += 3 + int64(s) {
			ids = append(ids, id)
		}
		total += len(ids)
		keys := write(t, st, fmt.Sprintf("d%d", s), ids)
		if len(keys) < 2 {
			t.Fatalf("dataset %d in %d parts; the test wants several", s, len(keys))
		}
		streams = append(streams, parts.Open(context.Background(), st, keys, schema, mem))
	}
	m := parts.NewMerger(streams, func(r arrow.Record, i int) [2]int64 {
		return [2]int64{r.Column(0).(*array.Int64).Value(i), 0}
	})
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	m.Fill(b, 0, total)
	if n, err := m.Done(); err != nil || n != int64(total) {
		t.Fatalf("Done: %d, %v; want %d rows", n, err, total)
	}
	m.Close()
	rec := b.NewRecord()
	defer rec.Release()
	ids := rec.Column(0).(*array.Int64)
	names := rec.Column(1).(*array.String)
	for i := 1; i < ids.Len(); i++ {
		if ids.Value(i) < ids.Value(i-1) {
			t.Fatalf("row %d: id %d after %d", i, ids.Value(i), ids.Value(i-1))
		}
	}
	for i := range ids.Len() {
		id := ids.Value(i)
		if (id%3 == 0) != names.IsNull(i) || (!names.IsNull(i) && names.Value(i) != fmt.Sprint("n", id)) ||
			rec.Column(3).(*array.Float64).Value(i) != float64(id)/2 || rec.Column(4).(*array.Int32).Value(i) != int32(id%7) ||
			rec.Column(2).(*array.Date32).Value(i) != arrow.Date32(id) {
			t.Fatalf("row %d (id %d) has other values", i, id)
		}
	}
}

// TestMergeChecks checks that the merger refuses parts of another schema
// (naming the object), and reports rows beyond or short of the count.
func TestMergeChecks(t *testing.T) {
	st := local.New(t.TempDir())
	keys := write(t, st, "d", []int64{1, 2, 3, 4, 5})
	key := func(r arrow.Record, i int) [2]int64 { return [2]int64{r.Column(0).(*array.Int64).Value(i), 0} }
	fill := func(sc *arrow.Schema, n int) (int64, error) {
		m := parts.NewMerger([]*parts.Stream{parts.Open(context.Background(), st, keys, sc, nil)}, key)
		defer m.Close()
		b := array.NewRecordBuilder(memory.DefaultAllocator, sc)
		defer b.Release()
		m.Fill(b, 0, n)
		return m.Done()
	}
	other := arrow.NewSchema([]arrow.Field{{Name: "id", Type: arrow.PrimitiveTypes.Int32}}, nil)
	if _, err := fill(other, 1); err == nil || !strings.Contains(err.Error(), keys[0]) {
		t.Fatalf("another schema: %v", err)
	}
	if _, err := fill(schema, 4); err == nil || !strings.Contains(err.Error(), "more rows") {
		t.Fatalf("rows left over: %v", err)
	}
	if _, err := fill(schema, 6); err == nil || !strings.Contains(err.Error(), "fewer") {
		t.Fatalf("rows short: %v", err)
	}
	if n, err := fill(schema, 5); err != nil || n != 5 {
		t.Fatalf("exact: %d, %v", n, err)
	}
	// A missing object is named.
	m := parts.NewMerger([]*parts.Stream{parts.Open(context.Background(), st, []string{"d/none.parquet"}, schema, nil)}, key)
	if _, err := m.Done(); err == nil || !strings.Contains(err.Error(), "d/none.parquet") {
		t.Fatalf("missing object: %v", err)
	}
}
