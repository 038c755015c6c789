package source

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/recal-project/recal/pipeline/storage"
)

// ErrRead is wrapped when the storage under an object failed while it was
// decoded (and the store's own error names no sentinel of its own): the
// bytes may be fine, so the failure is the store's, never the file's.
var ErrRead = errors.New("reading the object failed")

// blame decides what a failed decode is: a cancellation when ctx is done, a
// storage failure when the store failed a read and the decoder then blamed
// the bytes, else err itself. Only the last can be a data error, which
// --on-corrupt=quarantine may skip; the first two keep their retryable exit
// codes (75, 69).
func blame(ctx context.Context, rec *storage.RecordingReaderAt, err error) error {
	if err == nil {
		return nil
	}
	if ctx.Err() != nil {
		// A fresh error: the decoder's may wrap ErrCorrupt around the
		// cancelled read ("corrupt Parquet object: … context canceled").
		return fmt.Errorf("read stopped: %w", context.Cause(ctx))
	}
	if rec == nil || !IsDataError(err) {
		return err
	}
	if rerr := rec.Failure(); rerr != nil {
		if errors.Is(rerr, context.Canceled) || errors.Is(rerr, context.DeadlineExceeded) ||
			errors.Is(rerr, storage.ErrUnavailable) || errors.Is(rerr, storage.ErrNotExist) {
			return fmt.Errorf("while decoding: %w", rerr)
		}
		return fmt.Errorf("%w while decoding: %w", ErrRead, rerr)
	}
	return err
}

// Reason returns the first line of err's message: what a report or a
// manifest says of a failed object (errors from recovered decoder panics
// carry stack frames after it).
func Reason(err error) string {
	s := err.Error()
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
