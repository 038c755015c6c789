// Package release opens EOIR's case-data release as users have it: a
// folder (or an S3 prefix) of the unpacked table files, or the zip EOIR
// publishes, on disk or on S3, read in place. A zip's central directory is
// read with ranged reads; its members are streamed, decompressed (stored,
// Deflate, Deflate64) and checked against their CRC-32 as they are read,
// never unpacked to disk.
package release

import (
	"context"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"

	"github.com/recal-project/recal/pipeline/location"
	"github.com/recal-project/recal/pipeline/progress"
	"github.com/recal-project/recal/pipeline/storage"
	"github.com/recal-project/recal/pipeline/sysexit"
)

// ErrCorrupt is wrapped when a release zip cannot be read: not a zip, cut
// short, a member's data damaged or not matching its CRC-32, or a
// compression method recal does not decode. It is a data error (exit 65).
var ErrCorrupt = sysexit.Sentinel(sysexit.ErrData, "corrupt release zip")

// Table is one file of a release.
type Table struct {
	// Name is the file's path: its key under the folder, or the member's
	// name inside the zip (with any folder, "EOIR Case Data/…").
	Name string
	// Size is its length in bytes as the table is read (uncompressed);
	// Stored is what is read from storage to stream it.
	Size, Stored int64
}

// Release is one release's files.
type Release interface {
	// Tables lists the files, sorted by name (a zip's folder entries
	// left out).
	Tables() []Table
	// Open streams the file name. Errors while reading name the file:
	// storage failures keep their cause (storage.ErrUnavailable, …);
	// damaged or mismatching zip data wraps ErrCorrupt. Close stops
	// the stream's goroutines.
	Open(ctx context.Context, name string) (io.ReadCloser, error)
	// String describes the release for messages (no secrets).
	String() string
	// Close releases the zip object (nothing for a folder).
	Close() error
}

// IsZip reports whether raw names a zip file rather than a folder: its
// last element ends in ".zip", in any case.
func IsZip(raw string) bool {
	return strings.HasSuffix(strings.ToLower(strings.TrimRight(raw, "/")), ".zip")
}

// Options say how to reach a release and what to report while reading.
type Options struct {
	Locations location.Options
	// Progress, when set, counts the bytes read from storage.
	Progress *progress.Progress
}

// Open opens the release raw names: a zip file (IsZip) or a folder.
func Open(ctx context.Context, raw string, o Options) (Release, error) {
	if IsZip(raw) {
		st, key, err := location.OpenFile(ctx, raw, o.Locations)
		if err != nil {
			return nil, err
		}
		z, err := openZip(ctx, st, key, o.Progress)
		if err != nil {
			return nil, err // not a nil *zipRelease in a non-nil Release
		}
		return z, nil
	}
	st, err := location.Open(ctx, raw, o.Locations)
	if err != nil {
		return nil, err
	}
	objs, err := st.List(ctx, "")
	if err != nil {
		return nil, fmt.Errorf("release %s: %w", st, err)
	}
	f := &folder{st: st, prog: o.Progress}
	for _, ob := range objs {
		f.tables = append(f.tables, Table{Name: ob.Key, Size: ob.Size, Stored: ob.Size})
	}
	if len(f.tables) == 1 && IsZip(f.tables[0].Name) {
		return nil, sysexit.Errorf(sysexit.ErrUsage, "release %s holds only %s: pass the zip itself as --release", st, f.tables[0].Name)
	}
	return f, nil
}

// folder is an unpacked release: a folder or prefix of table files.
type folder struct {
	st     storage.Store
	tables []Table
	prog   *progress.Progress
}

func (f *folder) Tables() []Table { return f.tables }
func (f *folder) String() string  { return f.st.String() }
func (f *folder) Close() error    { return nil }

func (f *folder) Open(ctx context.Context, name string) (io.ReadCloser, error) {
	obj, err := f.st.Open(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", name, err)
	}
	return readAhead(ctx, name, obj, 0, obj.Size(), f.prog, obj.Close), nil
}

// sortTables sorts ts by name.
func sortTables(ts []Table) {
	sort.Slice(ts, func(i, j int) bool { return ts[i].Name < ts[j].Name })
}

// BaseName is a table's name without its folders and extensions
// ("EOIR Case Data/B_TblProceeding.csv" → "B_TblProceeding").
func BaseName(name string) string {
	base, _, _ := strings.Cut(path.Base(name), ".")
	return base
}
