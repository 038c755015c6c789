// Package sink writes recal's Parquet outputs: each file is written to a
// local temporary file (arrow v15's writer panics when its very first write
// fails, and a temp file makes the upload seekable and retryable), hashed,
// and then streamed to the store. Nothing in a file depends on the clock,
// map order or goroutine scheduling, so equal inputs give equal bytes.
package sink

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/apache/arrow/go/v15/parquet"
	"github.com/apache/arrow/go/v15/parquet/compress"
	"github.com/apache/arrow/go/v15/parquet/pqarrow"

	"golang.org/x/sync/errgroup"

	"github.com/recal-project/recal/pipeline/storage"
)

// Object describes one written output object (for the manifest).
type Object struct {
	Key    string `json:"key"`
	Rows   int64  `json:"rows"`
	Bytes  int64  `json:"bytes"`
	SHA256 string `json:"sha256"`
}

// Options tune the writers.
type Options struct {
	// TempDir holds files before upload (default os.TempDir()).
	TempDir string
	// RowGroup is the row-group length (default 128k rows).
	RowGroup int64
	// MaxRowsPerFile splits large outputs into parts (default 2M rows).
	MaxRowsPerFile int
	// RunTag, when set, makes object names run-unique:
	// part-<shard>-<seq>-<RunTag>.parquet.
	RunTag string
	// Mem allocates the Parquet encoder's buffers (nil: arrow's Go
	// allocator); it may reuse freed buffers (bufpool). The arrays'
	// builders always use arrow's Go allocator: arrow v15's byte-array
	// statistics keep slices of the values written until the footer is.
	Mem memory.Allocator
}

func (o *Options) defaults() {
	if o.TempDir == "" {
		o.TempDir = os.TempDir()
	}
	if o.RowGroup == 0 {
		o.RowGroup = 128 << 10
	}
	if o.MaxRowsPerFile == 0 {
		o.MaxRowsPerFile = 2_000_000
	}
	if o.Mem == nil {
		o.Mem = memory.DefaultAllocator
	}
}

// FillFunc appends rows [from, to) of a dataset to the builder.
type FillFunc func(b *array.RecordBuilder, from, to int)

// Part is one file of a dataset split by Split: rows [From, To) under Key.
type Part struct {
	Key      string
	From, To int
}

// Split cuts n rows into the parts WriteParts writes: dir/part-<shard>-
// <seq>[-<RunTag>].parquet of at most MaxRowsPerFile rows each. An empty
// dataset has one empty part, so that readers always find the schema. The
// parts are independent: they may be written in any order, side by side.
func Split(dir string, shard, n int, o Options) []Part {
	o.defaults()
	var parts []Part
	for seq, from := 0, 0; from < n || seq == 0; seq++ {
		to := min(n, from+o.MaxRowsPerFile)
		key := fmt.Sprintf("%s/part-%05d-%05d.parquet", dir, shard, seq)
		if o.RunTag != "" {
			key = fmt.Sprintf("%s/part-%05d-%05d-%s.parquet", dir, shard, seq, o.RunTag)
		}
		parts = append(parts, Part{key, from, to})
		from = to
	}
	return parts
}

// WriteParts writes n rows as the parts Split gives, one after another.
func WriteParts(ctx context.Context, st storage.Store, dir string, shard int, sc *arrow.Schema, n int, fill FillFunc, o Options) ([]Object, error) {
	var out []Object
	for _, p := range Split(dir, shard, n, o) {
		obj, err := WriteFile(ctx, st, p.Key, sc, p.From, p.To, fill, o)
		if err != nil {
			return out, err
		}
		out = append(out, obj)
	}
	return out, nil
}

// WriteFile writes rows [from, to) as one Parquet object under key.
func WriteFile(ctx context.Context, st storage.Store, key string, sc *arrow.Schema, from, to int, fill FillFunc, o Options) (Object, error) {
	o.defaults()
	f, err := os.CreateTemp(o.TempDir, "recal-out-*.parquet")
	if err != nil {
		return Object{}, fmt.Errorf("write %s: %w", key, err)
	}
	name := f.Name()
	defer os.Remove(name)
	if err := encode(ctx, f, sc, from, to, fill, o); err != nil { // closes f
		if ctx.Err() == nil || !errors.Is(err, ctx.Err()) {
			err = fmt.Errorf("write %s: %w", key, err)
		}
		return Object{}, err
	}
	obj, err := upload(ctx, st, key, name)
	if err != nil {
		return Object{}, err
	}
	obj.Rows = int64(to - from)
	return obj, nil
}

// writerProperties are the Parquet writer's settings for schema sc.
//
// Snappy, not zstd: arrow v15 builds a new zstd encoder for every page
// (docs/libraries.md, "Hazards"), which made writing 15x slower.
// Dictionary encoding for text columns only (codes, times, rule ids: few
// distinct values). On ids and scores it only cost time: arrow v15's
// dictionary encoders allocate per value (6 allocations a row), and
// unique ids fall back to plain encoding anyway. Data pages v2: arrow
// v15's v1 pages grow the definition-level buffer of a nullable column by
// reallocating and copying it for every literal run (apache/arrow
// GH-41541, fixed in v17), which made the writer about 2x slower on
// ij_code and case_ij_code.
func writerProperties(sc *arrow.Schema, rowGroup int64, mem memory.Allocator) *parquet.WriterProperties {
	opts := []parquet.WriterProperty{
		parquet.WithAllocator(mem),
		parquet.WithCompression(compress.Codecs.Snappy),
		parquet.WithMaxRowGroupLength(rowGroup),
		parquet.WithDictionaryDefault(false),
		parquet.WithStats(true),
		parquet.WithCreatedBy("recal"),
		parquet.WithDataPageVersion(parquet.DataPageV2),
	}
	for _, f := range sc.Fields() {
		if f.Type.ID() == arrow.STRING {
			opts = append(opts, parquet.WithDictionaryFor(f.Name, true))
		}
	}
	return parquet.NewWriterProperties(opts...)
}

// encode writes rows from to to of fill into f as Parquet, and closes f.
// Filling the next chunk's arrays runs beside encoding the last one: when
// one large file is most of a run's output (a court's overflow), it is the
// write stage's critical path, and filling is a quarter of its work.
func encode(ctx context.Context, f *os.File, sc *arrow.Schema, from, to int, fill FillFunc, o Options) error {
	w, err := pqarrow.NewFileWriter(sc, f, writerProperties(sc, o.RowGroup, o.Mem), pqarrow.NewArrowWriterProperties(pqarrow.WithAllocator(o.Mem)))
	if err != nil {
		f.Close()
		return err
	}
	g, gctx := errgroup.WithContext(ctx)
	recs := make(chan arrow.Record) // at most two chunks in memory: one filled, one written
	g.Go(func() error {
		defer close(recs)
		return fillChunks(gctx, sc, from, to, fill, recs)
	})
	g.Go(func() error {
		for rec := range recs {
			err := gctx.Err()
			if err == nil {
				err = w.WriteBuffered(rec)
			}
			rec.Release()
			if err != nil {
				for rec := range recs { // until the filler sees gctx end
					rec.Release()
				}
				return err
			}
		}
		return nil
	})
	if err := g.Wait(); err != nil {
		w.Close()
		return err
	}
	return w.Close() // closes f too
}

// chunkRows is how many rows each record handed to the Parquet writer holds.
const chunkRows = 64 << 10

// fillChunks fills rows from to to, chunkRows at a time, and sends each
// chunk's record to recs (the receiver releases it), until ctx ends.
func fillChunks(ctx context.Context, sc *arrow.Schema, from, to int, fill FillFunc, recs chan<- arrow.Record) error {
	// Not Options.Mem: the statistics alias the arrays' strings (see
	// Options.Mem; TestWriteFreedBuffersUnused).
	b := array.NewRecordBuilder(memory.DefaultAllocator, sc)
	defer b.Release()
	for i := from; i < to; i += chunkRows {
		if err := ctx.Err(); err != nil {
			return err
		}
		// Reserved for the chunk's rows: NewRecord leaves the builders
		// empty, and regrowing them chunk after chunk cost 10% of the
		// writer (BenchmarkWriteParts 690 -> 615 ns/row).
		b.Reserve(min(to, i+chunkRows) - i)
		fill(b, i, min(to, i+chunkRows))
		rec := b.NewRecord()
		select {
		case recs <- rec:
		case <-ctx.Done():
			rec.Release()
			return ctx.Err()
		}
	}
	return nil
}

// upload hashes the local file name and puts it at key.
func upload(ctx context.Context, st storage.Store, key, name string) (Object, error) {
	r, err := os.Open(name)
	if err != nil {
		return Object{}, fmt.Errorf("write %s: %w", key, err)
	}
	defer r.Close()
	h := sha256.New()
	size, err := io.Copy(h, r)
	if err != nil {
		return Object{}, fmt.Errorf("hash %s: %w", key, err)
	}
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return Object{}, err
	}
	if err := storage.Put(ctx, st, key, r); err != nil {
		return Object{}, err
	}
	return Object{Key: key, Bytes: size, SHA256: hex.EncodeToString(h.Sum(nil))}, nil
}
