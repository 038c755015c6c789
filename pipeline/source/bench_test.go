package source_test

import (
	"context"
	"testing"

	"github.com/recal-project/recal/pipeline/gen"
	"github.com/recal-project/recal/pipeline/refdata"
	"github.com/recal-project/recal/pipeline/source"
	"github.com/recal-project/recal/pipeline/storage/local"
	"github.com/recal-project/recal/transforms/export"
)

// BenchmarkRead decodes and normalises a 500k-row reference-layout export
// (zstd, int64 ids, date32 dates), two objects at a time: the read stage's
// cost without validation or policy.
func BenchmarkRead(b *testing.B) {
	dir := b.TempDir()
	ref, err := refdata.Load(refdata.Paths{})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	st := local.New(dir)
	const rows = 500_000
	if _, err := gen.Generate(ctx, st, ref, gen.Options{Rows: rows, Seed: 3, Objects: 2, Layout: "reference", TempDir: b.TempDir()}); err != nil {
		b.Fatal(err)
	}
	in := local.New(dir + "/export")
	objs, err := in.List(ctx, "")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := source.Read(ctx, in, objs, source.Options{Workers: 2}, func(context.Context, *export.Batch) error { return nil }); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/rows, "ns/row")
}
