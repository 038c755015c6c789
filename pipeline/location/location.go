// Package location parses recal's URIs (local paths, file://…, s3://…) and
// opens the storage.Store each one names.
package location

import (
	"context"
	"fmt"
	"path"
	"path/filepath"
	"strings"

	"github.com/recal-project/recal/pipeline/location/uri"
	"github.com/recal-project/recal/pipeline/storage"
	"github.com/recal-project/recal/pipeline/storage/local"
	"github.com/recal-project/recal/pipeline/storage/s3store"
)

// ErrBadURI is wrapped by every URI parsing error.
var ErrBadURI = uri.ErrBadURI

// URI is a parsed location.
type URI = uri.URI

// Parse parses a local path, a file:// URI or an s3://bucket/prefix URI.
func Parse(raw string) (URI, error) { return uri.Parse(raw) }

// Options configure stores opened by Open.
type Options struct {
	// S3 tunes S3 stores.
	S3 s3store.Options
}

// Open parses raw and opens the store rooted there.
func Open(ctx context.Context, raw string, o Options) (storage.Store, error) {
	u, err := Parse(raw)
	if err != nil {
		return nil, err
	}
	return OpenURI(ctx, u, o)
}

// OpenURI opens the store rooted at u.
func OpenURI(ctx context.Context, u URI, o Options) (storage.Store, error) {
	switch u.Scheme {
	case "s3":
		return s3store.New(ctx, u.Bucket, u.Path, o.S3)
	default:
		return local.New(u.Path), nil
	}
}

// OpenFile opens the store holding the one object raw names (a local
// file, or an s3://bucket/key object) and returns it with the object's key
// there.
func OpenFile(ctx context.Context, raw string, o Options) (storage.Store, string, error) {
	u, err := Parse(raw)
	if err != nil {
		return nil, "", err
	}
	var key string
	dir := u
	if u.Scheme == "s3" {
		dir.Path, key = path.Split(u.Path)
		dir.Path = strings.TrimSuffix(dir.Path, "/")
	} else {
		dir.Path, key = filepath.Dir(u.Path), filepath.Base(u.Path)
	}
	st, err := OpenURI(ctx, dir, o)
	if err != nil {
		return nil, "", err
	}
	return st, key, nil
}

// ReadFile reads the whole (small) object a URI names: a local file, or an
// s3://bucket/key object.
func ReadFile(ctx context.Context, raw string, o Options) ([]byte, error) {
	st, key, err := OpenFile(ctx, raw, o)
	if err != nil {
		return nil, err
	}
	b, err := storage.ReadAll(ctx, st, key)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", raw, err)
	}
	return b, nil
}
