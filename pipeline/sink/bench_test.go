package sink_test

import (
	"context"
	"testing"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"

	"github.com/recal-project/recal/pipeline/sink"
	"github.com/recal-project/recal/pipeline/storage/local"
)

var schema = arrow.NewSchema([]arrow.Field{
	{Name: "idncase", Type: arrow.PrimitiveTypes.Int64},
	{Name: "idnproceeding", Type: arrow.PrimitiveTypes.Int64},
	{Name: "base_city_code", Type: arrow.BinaryTypes.String},
	{Name: "hearing_date", Type: arrow.FixedWidthTypes.Date32},
	{Name: "hearing_time", Type: arrow.BinaryTypes.String},
	{Name: "priority_score", Type: arrow.PrimitiveTypes.Float64},
	// Nullable, with scattered nulls, as case_ij_code: definition levels
	// in short literal runs (the path of docs/libraries.md's hazard).
	{Name: "case_ij_code", Type: arrow.BinaryTypes.String, Nullable: true},
}, nil)

var judges = []string{"AAB", "BCD", "CDE", "DEF", "EFG", "FGH", "GHI"}

// BenchmarkWriteParts writes 1M assignment-like rows as 50 files of 20k
// (the shape of a run: one partition per court) to a local store.
func BenchmarkWriteParts(b *testing.B) {
	const files, per = 50, 20_000
	ctx := context.Background()
	var size int64
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		st := local.New(b.TempDir())
		for f := 0; f < files; f++ {
			objs, err := sink.WriteParts(ctx, st, "assignments/c", f, schema, per, func(rb *array.RecordBuilder, from, to int) {
				for r := from; r < to; r++ {
					rb.Field(0).(*array.Int64Builder).Append(int64(r))
					rb.Field(1).(*array.Int64Builder).Append(int64(f*per + r))
					rb.Field(2).(*array.StringBuilder).Append("NYC")
					rb.Field(3).(*array.Date32Builder).Append(arrow.Date32(20500 + r/100))
					rb.Field(4).(*array.StringBuilder).Append("08:30")
					rb.Field(5).(*array.Float64Builder).Append(float64(r%997) / 7)
					if h := uint32(r) * 2654435761; h%10 == 0 {
						rb.Field(6).AppendNull()
					} else {
						rb.Field(6).(*array.StringBuilder).Append(judges[h%7])
					}
				}
			}, sink.Options{TempDir: b.TempDir()})
			if err != nil {
				b.Fatal(err)
			}
			for _, o := range objs {
				size += o.Bytes
			}
		}
	}
	b.ReportMetric(float64(size)/float64(b.N)/(files*per), "B/row-written")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/(files*per), "ns/row")
}
