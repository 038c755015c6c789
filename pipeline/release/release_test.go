package release_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/recal-project/recal/pipeline/location"
	"github.com/recal-project/recal/pipeline/release"
	"github.com/recal-project/recal/pipeline/release/releasetest"
	"github.com/recal-project/recal/pipeline/storage"
	"github.com/recal-project/recal/pipeline/storage/s3store/s3servertest"
	"github.com/recal-project/recal/pipeline/sysexit"
)

func TestMain(m *testing.M) { os.Exit(s3servertest.Main(m)) }

// zips writes the tables under dir as every kind of zip the tests read and
// returns their paths by kind.
func zips(t *testing.T, dir string) map[string]string {
	t.Helper()
	bin := releasetest.SevenZip(t)
	out := t.TempDir()
	z := map[string]string{}
	for _, m := range []releasetest.SevenZipMethod{"Deflate64", "Deflate", "Copy"} {
		z["7zz "+string(m)] = filepath.Join(out, "7zz-"+string(m)+".zip")
		releasetest.Zip7(t, bin, dir, z["7zz "+string(m)], m)
	}
	z["Go archive/zip"] = filepath.Join(out, "go.zip")
	releasetest.ZipGo(t, dir, z["Go archive/zip"])
	z["ZIP64"] = filepath.Join(out, "zip64.zip")
	releasetest.ZipForced64(t, dir, z["ZIP64"])
	releasetest.Test7(t, bin, z["ZIP64"]) // 7-Zip agrees the hand-written ZIP64 is sound
	return z
}

// readRelease reads every table of the release at uri.
func readRelease(t *testing.T, uri string) map[string][]byte {
	t.Helper()
	ctx := context.Background()
	rel, err := release.Open(ctx, uri, release.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer rel.Close()
	got := map[string][]byte{}
	for _, tb := range rel.Tables() {
		rc, err := rel.Open(ctx, tb.Name)
		if err != nil {
			t.Fatal(err)
		}
		b, err := releasetest.ReadAll(rc)
		if err != nil {
			t.Fatalf("%s: %v", tb.Name, err)
		}
		if int64(len(b)) != tb.Size {
			t.Errorf("%s: %d bytes, listed as %d", tb.Name, len(b), tb.Size)
		}
		got[tb.Name] = b
	}
	return got
}

func sameTables(t *testing.T, what string, got, want map[string][]byte) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d tables, want %d", what, len(got), len(want))
	}
	for name, w := range want {
		if !bytes.Equal(got[name], w) {
			t.Errorf("%s: %s: %d bytes, want %d (or different bytes)", what, name, len(got[name]), len(w))
		}
	}
}

// TestZipsAsFolder reads each kind of zip, from disk and from a real S3
// server, and gets the folder's bytes, table by table.
func TestZipsAsFolder(t *testing.T) {
	dir := t.TempDir()
	want := releasetest.Tables(t, dir, 3)
	sameTables(t, "folder", readRelease(t, dir), want)
	// A zip without the folder: members at its root, found as well.
	flat := filepath.Join(t.TempDir(), "flat.zip")
	releasetest.Zip7(t, releasetest.SevenZip(t), filepath.Join(dir, "EOIR Case Data"), flat, "Deflate64")
	wantFlat := map[string][]byte{}
	for name, b := range want {
		wantFlat[strings.TrimPrefix(name, "EOIR Case Data/")] = b
	}
	sameTables(t, "a zip without a folder", readRelease(t, flat), wantFlat)
	kinds := zips(t, dir)
	var st storage.Store
	var bucket string
	if !testing.Short() { // the race pass reads the local zips only
		srv := s3servertest.Start(t)
		srv.Env(t)
		st, bucket = srv.NewBucket(t, "")
	}
	for kind, path := range kinds {
		t.Run(kind, func(t *testing.T) {
			sameTables(t, "local", readRelease(t, path), want)
			if st == nil {
				return
			}
			f, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			key := "eoir/" + filepath.Base(path)
			if err := storage.Put(context.Background(), st, key, f); err != nil {
				t.Fatal(err)
			}
			sameTables(t, "S3", readRelease(t, "s3://"+bucket+"/"+key), want)
		})
	}
}

// readErr reads every table of the zip at path and returns the first error.
func readErr(path string) error {
	rel, err := release.Open(context.Background(), path, release.Options{})
	if err != nil {
		return err
	}
	return readAllErr(rel)
}

// readAllErr reads every table of rel, closes it, and returns the first
// error.
func readAllErr(rel release.Release) error {
	ctx := context.Background()
	defer rel.Close()
	for _, tb := range rel.Tables() {
		rc, err := rel.Open(ctx, tb.Name)
		if err != nil {
			return err
		}
		if _, err := io.Copy(io.Discard, rc); err != nil {
			rc.Close()
			return err
		}
		rc.Close()
	}
	return nil
}

// centralEntry returns the offset of member name's central directory
// header in zip b.
func centralEntry(t *testing.T, b []byte, name string) int {
	t.Helper()
	for i := 0; i+46 < len(b); i++ {
		if binary.LittleEndian.Uint32(b[i:]) == 0x02014b50 {
			n := int(binary.LittleEndian.Uint16(b[i+28:]))
			if string(b[i+46:i+46+n]) == name {
				return i
			}
		}
	}
	t.Fatalf("no central entry for %s", name)
	return 0
}

// localData returns the offset of member name's data in zip b.
func localData(t *testing.T, b []byte, name string) int {
	t.Helper()
	c := centralEntry(t, b, name)
	off := int(binary.LittleEndian.Uint32(b[c+42:]))
	n, extra := int(binary.LittleEndian.Uint16(b[off+26:])), int(binary.LittleEndian.Uint16(b[off+28:]))
	return off + 30 + n + extra
}

// TestCorruptZips: a zip cut short, a member whose Deflate64 data is
// damaged, and one whose CRC-32 does not match are data errors (exit 65)
// naming the zip and the member; none is a panic or a silent success.
func TestCorruptZips(t *testing.T) {
	dir := t.TempDir()
	releasetest.Tables(t, dir, 5)
	good, err := os.ReadFile(zips(t, dir)["7zz Deflate64"])
	if err != nil {
		t.Fatal(err)
	}
	const member = "EOIR Case Data/tbl_schedule.csv"
	tests := []struct {
		name   string
		damage func(b []byte) []byte
		says   string
	}{
		{"cut short", func(b []byte) []byte { return b[:len(b)*2/3] }, "not a zip archive, or cut short"},
		{"damaged Huffman data", func(b []byte) []byte {
			d := localData(t, b, member)
			copy(b[d:], bytes.Repeat([]byte{0xff}, 64)) // block type 3: reserved
			return b
		}, member},
		{"damaged in the middle", func(b []byte) []byte {
			size := int(binary.LittleEndian.Uint32(b[centralEntry(t, b, member)+20:]))
			d := localData(t, b, member) + size/2
			for i := range 40 {
				b[d+i] ^= 0x5a
			}
			return b
		}, member},
		{"CRC-32 mismatch", func(b []byte) []byte {
			c := centralEntry(t, b, member)
			b[c+16] ^= 1
			return b
		}, "CRC-32 mismatch"},
		{"empty file", func([]byte) []byte { return nil }, "not a zip archive"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "release.zip")
			if err := os.WriteFile(path, tc.damage(bytes.Clone(good)), 0o644); err != nil {
				t.Fatal(err)
			}
			err := readErr(path)
			if !errors.Is(err, release.ErrCorrupt) || sysexit.Code(err) != sysexit.DataErr || !strings.Contains(err.Error(), tc.says) {
				t.Fatalf("got %v (exit %d), want a corrupt-zip error (65) saying %q", err, sysexit.Code(err), tc.says)
			}
		})
	}
}

// TestFolderHoldingAZip: a folder whose only file is a zip is refused
// with a message to pass the zip itself, not read as a release of no
// tables.
func TestFolderHoldingAZip(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "FOIA-TRAC-Report.zip"), []byte("PK"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := release.Open(context.Background(), dir, release.Options{})
	if sysexit.Code(err) != sysexit.Usage || err == nil || !strings.Contains(err.Error(), "pass the zip itself") {
		t.Fatalf("got %v (exit %d), want a usage error saying to pass the zip", err, sysexit.Code(err))
	}
}

// failingStore fails every ranged read after the first few, as a store
// that goes away mid-read does.
type failingStore struct {
	storage.Store
	after int
}

func (s *failingStore) Open(ctx context.Context, key string) (storage.ReaderAt, error) {
	r, err := s.Store.Open(ctx, key)
	if err != nil {
		return nil, err
	}
	return &failingReader{ReaderAt: r, left: s.after}, nil
}

type failingReader struct {
	storage.ReaderAt
	left int
}

func (r *failingReader) ReadAt(p []byte, off int64) (int, error) {
	if r.left <= 0 {
		return 0, storage.ErrUnavailable
	}
	r.left--
	return r.ReaderAt.ReadAt(p, off)
}

// TestStorageFailureIsNotCorruption: when the store fails while a member
// is streamed, the error is that failure (exit 69), not a damaged zip.
func TestStorageFailureIsNotCorruption(t *testing.T) {
	dir := t.TempDir()
	releasetest.Tables(t, dir, 9)
	path := zips(t, dir)["7zz Deflate64"]
	st, key, err := location.OpenFile(context.Background(), path, location.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, after := range []int{0, 3, 5} {
		rel, err := release.OpenZipForTest(context.Background(), &failingStore{Store: st, after: after}, key)
		if err == nil {
			err = readAllErr(rel)
		}
		if err == nil || errors.Is(err, release.ErrCorrupt) || sysexit.Code(err) != sysexit.Unavailable {
			t.Errorf("store failing after %d reads: %v (exit %d), want the storage failure (69)", after, err, sysexit.Code(err))
		}
	}
}

// TestStreamsStop: a member closed half read, or whose context is
// cancelled mid-read, stops its goroutines (none left behind), and the
// cancellation is reported as such, not as a damaged zip.
func TestStreamsStop(t *testing.T) {
	dir := t.TempDir()
	releasetest.Tables(t, dir, 13)
	path := zips(t, dir)["7zz Deflate64"]
	const member = "EOIR Case Data/tbl_schedule.csv"
	before := runtime.NumGoroutine()
	rel, err := release.Open(context.Background(), path, release.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer rel.Close()
	for range 20 { // closed after one chunk
		rc, err := rel.Open(context.Background(), member)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(rc, make([]byte, 1000)); err != nil {
			t.Fatal(err)
		}
		rc.Close()
	}
	// Cancelled mid-read: a table larger than the stream's read-ahead.
	big := t.TempDir()
	if err := os.WriteFile(filepath.Join(big, "tbl_schedule.csv"), bytes.Repeat([]byte("1\t2\t3\n"), 8<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	folder, err := release.Open(context.Background(), big, release.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	rc, err := folder.Open(ctx, "tbl_schedule.csv")
	if err != nil {
		t.Fatal(err)
	}
	io.ReadFull(rc, make([]byte, 1000))
	cancel()
	_, err = io.Copy(io.Discard, rc)
	rc.Close()
	if !errors.Is(err, context.Canceled) || errors.Is(err, release.ErrCorrupt) {
		t.Errorf("read after cancel: %v, want context.Canceled and not a damaged zip", err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Errorf("%d goroutines left running (%d before)", n-before, before)
	}
}
