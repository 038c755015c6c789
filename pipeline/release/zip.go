package release

import (
	"archive/zip"
	"bufio"
	"compress/flate"
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"strings"

	"github.com/recal-project/recal/pipeline/deflate64"
	"github.com/recal-project/recal/pipeline/progress"
	"github.com/recal-project/recal/pipeline/storage"
)

// decodedChunk is one chunk of a member's decompressed data, and
// decodedDepth how many of them a member holds ready: decompression runs
// on its own core, ahead of the table reader.
const (
	decodedChunk = 1 << 20
	decodedDepth = 4
)

// zipRelease is the release zip, read in place.
type zipRelease struct {
	prog   *progress.Progress
	name   string // store and key, for messages
	obj    storage.ReaderAt
	rec    *storage.RecordingReaderAt
	files  map[string]*zip.File
	tables []Table
}

// openZip reads the zip's central directory (ZIP64 included) through
// ranged reads of key.
func openZip(ctx context.Context, st storage.Store, key string, prog *progress.Progress) (*zipRelease, error) {
	name := strings.TrimSuffix(st.String(), "/") + "/" + key
	obj, err := st.Open(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("release %s: %w", name, err)
	}
	rec := &storage.RecordingReaderAt{ReaderAt: obj}
	zr, err := zip.NewReader(rec, obj.Size())
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) { // names are matched, never used as paths
		obj.Close()
		if serr := rec.Failure(); serr != nil {
			return nil, fmt.Errorf("release %s: %w", name, serr)
		}
		return nil, fmt.Errorf("%w: %s: %v (not a zip archive, or cut short)", ErrCorrupt, name, err)
	}
	z := &zipRelease{prog: prog, name: name, obj: obj, rec: rec, files: map[string]*zip.File{}}
	for _, f := range zr.File {
		if strings.HasSuffix(f.Name, "/") {
			continue // a folder
		}
		if _, dup := z.files[f.Name]; dup {
			obj.Close()
			return nil, fmt.Errorf("%w: %s holds two members named %q", ErrCorrupt, name, f.Name)
		}
		z.files[f.Name] = f
		z.tables = append(z.tables, Table{Name: f.Name, Size: int64(f.UncompressedSize64), Stored: int64(f.CompressedSize64)})
	}
	sortTables(z.tables)
	return z, nil
}

func (z *zipRelease) Tables() []Table { return z.tables }
func (z *zipRelease) String() string  { return z.name }
func (z *zipRelease) Close() error    { return z.obj.Close() }

// Open streams member name: its compressed bytes read ahead from storage
// in one goroutine, decompressed and checked (length and CRC-32 against
// the central directory) in another.
func (z *zipRelease) Open(ctx context.Context, name string) (io.ReadCloser, error) {
	f := z.files[name]
	if f == nil {
		return nil, fmt.Errorf("open %s: %w", name, storage.ErrNotExist)
	}
	if f.Flags&0x1 != 0 {
		return nil, fmt.Errorf("%w: %s: member %s is encrypted", ErrCorrupt, z.name, name)
	}
	switch f.Method {
	case zip.Store, zip.Deflate, deflate64.Method:
	default:
		return nil, fmt.Errorf("%w: %s: member %s uses compression method %d; recal reads stored, Deflate (8) and Deflate64 (9) members",
			ErrCorrupt, z.name, name, f.Method)
	}
	off, err := f.DataOffset() // reads the member's local header
	if err != nil {
		if serr := z.rec.Failure(); serr != nil {
			return nil, fmt.Errorf("release %s: member %s: %w", z.name, name, serr)
		}
		return nil, fmt.Errorf("%w: %s: member %s: %v", ErrCorrupt, z.name, name, err)
	}
	if off < 0 || int64(f.CompressedSize64) > z.obj.Size()-off {
		return nil, fmt.Errorf("%w: %s: member %s: its data runs past the end of the zip (cut short?)", ErrCorrupt, z.name, name)
	}
	ctx, cancel := context.WithCancel(ctx)
	raw := newPipe(ctx, chunkSize, readDepth, rangeFill(z.name, z.obj, off, int64(f.CompressedSize64), z.prog))
	m := &memberDecoder{zip: z.name, name: name, file: f, raw: raw, crc: crc32.NewIEEE()}
	switch f.Method {
	case zip.Store:
		m.dec = raw
	case zip.Deflate:
		m.dec = flate.NewReader(bufio.NewReaderSize(raw, 64<<10))
	default:
		m.dec = deflate64.NewReader(bufio.NewReaderSize(raw, 64<<10))
	}
	out := newPipe(ctx, decodedChunk, decodedDepth, m.fill)
	return &stream{Reader: out, cancel: cancel, pipes: []*pipe{out, raw}}, nil
}

// memberDecoder decompresses one member and checks it.
type memberDecoder struct {
	zip, name string
	file      *zip.File
	raw       *pipe
	dec       io.Reader
	crc       interface {
		io.Writer
		Sum32() uint32
	}
	n int64
}

// fill is the decoding pipe's fillFunc: buf filled with decompressed
// bytes; at the end of the member its length and CRC-32 are checked.
func (m *memberDecoder) fill(_ context.Context, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		k, err := m.dec.Read(buf[n:])
		n += k
		if err == nil {
			continue
		}
		m.crc.Write(buf[:n])
		m.n += int64(n)
		if err == io.EOF {
			return n, m.check()
		}
		return n, m.failed(err)
	}
	m.crc.Write(buf)
	m.n += int64(n)
	if m.n > int64(m.file.UncompressedSize64) {
		return n, fmt.Errorf("%w: %s: member %s: more than the %d bytes its directory entry declares", ErrCorrupt, m.zip, m.name, m.file.UncompressedSize64)
	}
	return n, nil
}

// check compares the decoded member with its directory entry.
func (m *memberDecoder) check() error {
	if m.n != int64(m.file.UncompressedSize64) {
		return fmt.Errorf("%w: %s: member %s: %d bytes decoded, its directory entry declares %d", ErrCorrupt, m.zip, m.name, m.n, m.file.UncompressedSize64)
	}
	if got := m.crc.Sum32(); got != m.file.CRC32 {
		return fmt.Errorf("%w: %s: member %s: CRC-32 mismatch (data %08x, directory %08x)", ErrCorrupt, m.zip, m.name, got, m.file.CRC32)
	}
	return io.EOF
}

// failed names the cause of a failed decode: the store's failure, or the
// cancellation, when the compressed bytes did not arrive; else damaged
// data.
func (m *memberDecoder) failed(err error) error {
	if cause := m.raw.failure(); cause != nil && cause != io.EOF && !errors.Is(cause, io.ErrUnexpectedEOF) {
		return fmt.Errorf("release %s: member %s: %w", m.zip, m.name, cause)
	}
	return fmt.Errorf("%w: %s: member %s: damaged data: %v", ErrCorrupt, m.zip, m.name, err)
}
