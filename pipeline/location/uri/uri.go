// Package uri parses recal's URIs: local paths, file://… and
// s3://bucket/prefix. It depends on no storage backend, so that its fuzz
// target builds in seconds (pipeline/location opens what it names).
package uri

import (
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"

	"github.com/recal-project/recal/pipeline/storage"
)

// ErrBadURI is wrapped by every URI parsing error.
var ErrBadURI = errors.New("bad URI")

// URI is a parsed location.
type URI struct {
	// Scheme is "file" or "s3".
	Scheme string
	// Bucket is the S3 bucket; empty for files.
	Bucket string
	// Path is the local directory (file) or the key prefix inside the bucket
	// (s3, no leading or trailing slash).
	Path string
}

// String renders the URI canonically.
func (u URI) String() string {
	if u.Scheme == "s3" {
		if u.Path == "" {
			return "s3://" + u.Bucket
		}
		return "s3://" + u.Bucket + "/" + u.Path
	}
	return u.Path
}

// Parse parses a local path, a file:// URI or an s3://bucket/prefix URI.
func Parse(raw string) (URI, error) {
	if raw == "" {
		return URI{}, fmt.Errorf("%w: empty", ErrBadURI)
	}
	if strings.ContainsAny(raw, "\x00\r\n") {
		return URI{}, fmt.Errorf("%w: control characters", ErrBadURI)
	}
	switch {
	case strings.HasPrefix(raw, "s3://"):
		rest := strings.TrimPrefix(raw, "s3://")
		bucket, prefix, _ := strings.Cut(rest, "/")
		if bucket == "" {
			return URI{}, fmt.Errorf("%w: %q has no bucket", ErrBadURI, raw)
		}
		if strings.ContainsAny(bucket, "?#%") || strings.ToLower(bucket) != bucket {
			return URI{}, fmt.Errorf("%w: %q: bucket names are lower-case letters, digits, dots and dashes", ErrBadURI, raw)
		}
		prefix = strings.Trim(prefix, "/")
		if prefix != "" {
			if err := storage.ValidKey(prefix); err != nil {
				return URI{}, fmt.Errorf("%w: %q: %w", ErrBadURI, raw, err)
			}
		}
		return URI{Scheme: "s3", Bucket: bucket, Path: prefix}, nil
	case strings.HasPrefix(raw, "file://"):
		u, err := url.Parse(raw)
		if err != nil {
			return URI{}, fmt.Errorf("%w: %q: %w", ErrBadURI, raw, err)
		}
		if u.Host != "" && u.Host != "localhost" {
			return URI{}, fmt.Errorf("%w: %q: file URIs name no host", ErrBadURI, raw)
		}
		if u.Path == "" {
			return URI{}, fmt.Errorf("%w: %q has no path", ErrBadURI, raw)
		}
		return URI{Scheme: "file", Path: filepath.Clean(u.Path)}, nil
	case strings.Contains(raw, "://"):
		scheme, _, _ := strings.Cut(raw, "://")
		return URI{}, fmt.Errorf("%w: scheme %q is not supported (use a path, file:// or s3://)", ErrBadURI, scheme)
	default:
		return URI{Scheme: "file", Path: filepath.Clean(raw)}, nil
	}
}
