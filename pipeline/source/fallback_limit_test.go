package source_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/recal-project/recal/pipeline/gen"
	"github.com/recal-project/recal/pipeline/refdata"
	"github.com/recal-project/recal/pipeline/source"
	"github.com/recal-project/recal/pipeline/storage/local"
	"github.com/recal-project/recal/transforms/export"
)

// TestFallbackDecoderLimit applies the allocation limit to an object only
// xitongsys/parquet-go decodes (LZ4_RAW, written by recal gen's parquet-go
// layout): under a 1 KiB limit its column chunks are refused as corrupt,
// naming the object; under the default it decodes.
func TestFallbackDecoderLimit(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	ref, err := refdata.Load(refdata.Paths{})
	if err != nil {
		t.Fatal(err)
	}
	// One object per layout; the last layout is parquet-go's.
	if _, err := gen.Generate(ctx, local.New(dir), ref, gen.Options{Rows: 500, Seed: 2, TempDir: t.TempDir()}); err != nil {
		t.Fatal(err)
	}
	st := local.New(filepath.Join(dir, "export"))
	objs, err := st.List(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, o := range objs {
		s, err := source.ReadObject(ctx, st, 0, o, source.Options{}, func(context.Context, *export.Batch) error { return nil })
		if err != nil {
			t.Fatal(err)
		}
		if s.Decoder != "parquet-go" {
			continue
		}
		found = true
		_, err = source.ReadObject(ctx, st, 0, o, source.Options{MaxAllocation: 1 << 10}, func(context.Context, *export.Batch) error { return nil })
		var oe *source.ObjectError
		if !errors.Is(err, source.ErrCorrupt) || !errors.As(err, &oe) || oe.Key != o.Key || !strings.Contains(err.Error(), "limit") {
			t.Fatalf("%s under a 1 KiB limit: %v; want a corrupt-object error naming it and the limit", o.Key, err)
		}
	}
	if !found {
		t.Fatal("no object was decoded by parquet-go: the test checks nothing")
	}
}
