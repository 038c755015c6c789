package source

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/apache/arrow/go/v15/parquet/file"
	"github.com/apache/arrow/go/v15/parquet/pqarrow"

	"github.com/recal-project/recal/pipeline/storage"
)

// CountRows decodes every column of any Parquet object (not only exports)
// through the same guards as the export reader — magic and footer checks,
// unsupported-feature detection, panic recovery, and the footer row-count
// check — and returns how many rows it decoded. The compatibility test runs
// it over the parquet-testing corpus.
func CountRows(ctx context.Context, st Opener, obj storage.ObjectInfo, mem memory.Allocator) (stats ObjectStats, err error) {
	stats.Info = obj
	defer func() {
		if p := recover(); p != nil {
			err = &ObjectError{Key: obj.Key, Err: panicError(p, nil)}
		}
	}()
	// No allocation limit by default here: CountRows reads any schema, and
	// arrow v15 loads a struct's children in goroutines of its own, where
	// the limit's panic could not be recovered (the export reader projects
	// flat leaf columns, which decode on the caller's goroutine).
	if mem == nil {
		mem = memory.DefaultAllocator
	}
	ra, err := st.Open(ctx, obj.Key)
	if err != nil {
		return stats, &ObjectError{Key: obj.Key, Err: err}
	}
	defer ra.Close()
	stats, err = countRows(ctx, ra, stats, mem)
	if err != nil {
		return stats, &ObjectError{Key: obj.Key, Err: err}
	}
	return stats, nil
}

func countRows(ctx context.Context, ra storage.ReaderAt, stats ObjectStats, mem memory.Allocator) (ObjectStats, error) {
	pf, err := openParquet(ra, mem)
	if err != nil {
		return stats, err
	}
	defer pf.Close()
	md := pf.MetaData()
	stats.FooterRows = md.NumRows
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{BatchSize: 8192, Parallel: false}, mem)
	if err != nil {
		return stats, fmt.Errorf("%w: schema: %w", ErrCorrupt, err)
	}
	names := make([]string, len(fr.Manifest.Fields))
	for i := range fr.Manifest.Fields {
		names[i] = fr.Manifest.Fields[i].Field.Name
	}
	plainDictionaries(fr.Manifest) // as the export reader does
	all := projection{leaves: fieldLeaves(pf, names)}
	return countDecoded(ctx, ra, pf, fr, all, stats)
}

// countDecoded counts an open object's rows with arrow, or with parquet-go
// where arrow lacks a codec or encoding, or does not implement what the
// object uses (the export reader's choice of decoder).
func countDecoded(ctx context.Context, ra storage.ReaderAt, pf *file.Reader, fr *pqarrow.FileReader, all projection, stats ObjectStats) (ObjectStats, error) {
	md := pf.MetaData()
	feature := arrowLacks(pf, all)
	if feature == "" {
		stats.Decoder = "arrow"
		if md.Schema.NumColumns() == 0 {
			return stats, fmt.Errorf("%w: no columns", ErrSchema)
		}
		rr, err := fr.GetRecordReader(ctx, nil, nil)
		if err != nil {
			return stats, fmt.Errorf("%w: %w", ErrCorrupt, err)
		}
		defer rr.Release()
		for rr.Next() {
			stats.Rows += rr.Record().NumRows()
		}
		err = rr.Err()
		switch {
		case errors.Is(err, arrow.ErrNotImplemented) && stats.Rows == 0:
			feature = "a layout arrow v15 does not implement"
		case err != nil && !errors.Is(err, io.EOF):
			return stats, fmt.Errorf("%w: after %d rows: %w", ErrCorrupt, stats.Rows, err)
		case stats.Rows != md.NumRows:
			return stats, fmt.Errorf("%w: %d decoded, footer says %d", ErrRowCount, stats.Rows, md.NumRows)
		default:
			return stats, nil
		}
	}
	stats.Decoder = "parquet-go"
	rows, err := fallbackCount(ra)
	stats.Rows = rows
	if err != nil {
		return stats, err
	}
	if rows != md.NumRows {
		return stats, fmt.Errorf("%w: %d decoded, footer says %d (%s, decoded by parquet-go)", ErrRowCount, rows, md.NumRows, feature)
	}
	return stats, nil
}
