// Package storage defines the object-store interface recal reads inputs from
// and writes outputs to, and resolves URIs (local paths, file://, s3://) to
// an implementation rooted at a prefix.
//
// The interface is deliberately small, in the spirit of gocloud.dev's
// blob/driver: every backend passes the same conformance suite in
// storage/storagetest.
package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
	"sync"
	"unicode"
)

// ErrNotExist is returned (wrapped) when an object does not exist.
var ErrNotExist = errors.New("object does not exist")

// ErrExist is returned (wrapped) by CreateExclusive when the object exists.
var ErrExist = errors.New("object already exists")

// ErrInvalidKey is returned (wrapped) for keys that are empty, absolute,
// contain "." or ".." segments, backslashes, control characters, or are not
// valid UTF-8: keys can never escape the store's prefix.
var ErrInvalidKey = errors.New("invalid object key")

// ObjectInfo describes one stored object.
type ObjectInfo struct {
	// Key is the object's key relative to the store's prefix, with "/"
	// separators.
	Key string
	// Size is the object's length in bytes.
	Size int64
	// ETag is the store's entity tag (S3) or a content-derived tag (local);
	// it changes when the content changes.
	ETag string
}

// ReaderAt is an open object that supports concurrent ranged reads.
type ReaderAt interface {
	io.ReaderAt
	// Size returns the object's length in bytes.
	Size() int64
	// Close releases resources. It does not fail for read-only objects.
	Close() error
}

// Store is a flat key space under one prefix. All keys are relative to the
// prefix and validated with ValidKey.
type Store interface {
	// List returns every object whose key starts with prefix ("" for all),
	// sorted by key. Implementations page through the listing internally.
	List(ctx context.Context, prefix string) ([]ObjectInfo, error)
	// Stat returns the object's info, or an error wrapping ErrNotExist.
	Stat(ctx context.Context, key string) (ObjectInfo, error)
	// Open opens an object for ranged reads. ctx bounds every read made
	// through the returned ReaderAt. A missing object yields ErrNotExist.
	Open(ctx context.Context, key string) (ReaderAt, error)
	// Create starts a streaming write. Data becomes visible under key only
	// when Close returns nil. Cancelling ctx before Close aborts the write
	// and leaves nothing behind; after a failed Write, cancel ctx rather
	// than calling Close.
	Create(ctx context.Context, key string) (io.WriteCloser, error)
	// CreateExclusive writes data under key only if no object exists there,
	// returning an error wrapping ErrExist otherwise. Stores that cannot
	// guarantee this atomically document it as best effort.
	CreateExclusive(ctx context.Context, key string, data []byte) error
	// Delete removes an object. Deleting a missing object is not an error.
	Delete(ctx context.Context, key string) error
	// String describes the store's location for messages (no secrets).
	String() string
}

// ValidKey reports whether key is a safe relative object key: non-empty,
// relative, no "." or ".." segments, no empty segments, no backslashes or
// control characters, valid UTF-8.
func ValidKey(key string) error {
	if key == "" {
		return fmt.Errorf("%w: empty", ErrInvalidKey)
	}
	if strings.HasPrefix(key, "/") {
		return fmt.Errorf("%w: %q is absolute", ErrInvalidKey, key)
	}
	if !isCleanText(key) {
		return fmt.Errorf("%w: %q has control, invalid or backslash characters", ErrInvalidKey, key)
	}
	for _, seg := range strings.Split(key, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return fmt.Errorf("%w: %q has an empty, \".\" or \"..\" segment", ErrInvalidKey, key)
		}
	}
	return nil
}

// validPrefix is ValidKey for list prefixes, which may be empty or end in "/".
func validPrefix(prefix string) error {
	p := strings.TrimSuffix(prefix, "/")
	if p == "" {
		if prefix == "" {
			return nil
		}
		return fmt.Errorf("%w: prefix %q", ErrInvalidKey, prefix)
	}
	return ValidKey(p)
}

// ValidPrefix reports whether prefix may be passed to List.
func ValidPrefix(prefix string) error { return validPrefix(prefix) }

func isCleanText(s string) bool {
	for _, r := range s {
		if r == unicode.ReplacementChar || r == '\\' || unicode.IsControl(r) {
			return false
		}
		if unicode.In(r, unicode.Cf) { // bidi overrides, zero-width joiners …
			return false
		}
	}
	return true
}

// Join joins key segments with "/" and cleans the result.
func Join(elem ...string) string {
	return strings.TrimPrefix(path.Join(elem...), "/")
}

// ReadAll reads a whole (small) object.
func ReadAll(ctx context.Context, s Store, key string) ([]byte, error) {
	r, err := s.Open(ctx, key)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	buf := make([]byte, r.Size())
	if _, err := r.ReadAt(buf, 0); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("read %s: %w", key, err)
	}
	return buf, nil
}

// Put writes data under key in one streaming write.
func Put(ctx context.Context, s Store, key string, src io.Reader) (err error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w, err := s.Create(ctx, key)
	if err != nil {
		return err
	}
	if _, err := io.Copy(w, src); err != nil {
		cancel() // abort: never publish a partial object
		_ = w.Close()
		return fmt.Errorf("write %s: %w", key, err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("commit %s: %w", key, err)
	}
	return nil
}

// DeleteOthers deletes every object under the prefixes that keep does not
// hold: what an unfinished or replaced job left beside the objects it
// just wrote.
func DeleteOthers(ctx context.Context, s Store, prefixes []string, keep map[string]bool) error {
	for _, p := range prefixes {
		objs, err := s.List(ctx, p)
		if err != nil {
			return err
		}
		for _, o := range objs {
			if !keep[o.Key] {
				if err := s.Delete(ctx, o.Key); err != nil {
					return fmt.Errorf("remove %s: %w", o.Key, err)
				}
			}
		}
	}
	return nil
}

// ErrUnavailable is wrapped by errors that mean the store could not be
// reached or kept failing after retries (exit code 69 territory).
var ErrUnavailable = errors.New("storage unavailable")

// RecordingReaderAt remembers the first error its ReaderAt returned other
// than io.EOF (which a ReadAt at the object's end returns by design).
// Decoders turn a failed read into an error of their own (arrow's "tried
// reading from file, but got error", parquet-go's page with fewer values,
// archive/zip's "not a valid zip file"), so the decoder's word alone cannot
// tell a bad byte from a failed read; the record can. It is safe for
// concurrent use.
type RecordingReaderAt struct {
	ReaderAt
	mu  sync.Mutex
	err error
}

// ReadAt reads from the ReaderAt, recording its first failure.
func (r *RecordingReaderAt) ReadAt(p []byte, off int64) (int, error) {
	n, err := r.ReaderAt.ReadAt(p, off)
	if err != nil && err != io.EOF {
		r.mu.Lock()
		if r.err == nil {
			r.err = err
		}
		r.mu.Unlock()
	}
	return n, err
}

// Failure returns the first read error, or nil.
func (r *RecordingReaderAt) Failure() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.err
}
