// Package releasetest writes release zips for tests with independent
// writers: Debian's 7-Zip (7zz: Deflate64, Deflate, stored), Go's
// archive/zip, and a ZIP64 archive written field by field (checked by
// 7zz). It is imported by tests only.
package releasetest

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// SevenZip returns the 7zz binary: $RECAL_7ZZ, else 7zz on the PATH. Without
// one the test is skipped, or fails under CI (make test installs it).
func SevenZip(t testing.TB) string {
	t.Helper()
	if bin := os.Getenv("RECAL_7ZZ"); bin != "" {
		return bin
	}
	if bin, err := exec.LookPath("7zz"); err == nil {
		return bin
	}
	if os.Getenv("CI") != "" {
		t.Fatal("7zz not found (make test installs Debian's 7zip)")
	}
	t.Skip("7zz not found; make test installs Debian's 7zip")
	return ""
}

// SevenZipMethod is a 7zz -mm= value: "Deflate64", "Deflate" or "Copy".
type SevenZipMethod string

// Zip7 zips every file under dir into zipPath with 7zz, paths relative
// to dir, members compressed with method at the highest level.
func Zip7(t testing.TB, bin, dir, zipPath string, method SevenZipMethod) {
	t.Helper()
	cmd := exec.Command(bin, "a", "-tzip", "-mm="+string(method), "-mx=9", "-bd", "-bso0", "-bsp0", zipPath, ".")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("7zz a -mm=%s: %v\n%s", method, err, out)
	}
}

// Zip7Mixed zips the files under dir as EOIR's zip is made (ZipMixed, at
// the highest level), failing t on error.
func Zip7Mixed(t testing.TB, bin, dir, zipPath string, big ...string) {
	t.Helper()
	if err := ZipMixed(bin, dir, zipPath, 9, big...); err != nil {
		t.Fatal(err)
	}
}

// ZipMixed zips the files under dir, paths relative to it, as EOIR's zip
// is made: the files of big (base names, as "B_TblProceeding.csv") with
// Deflate64, the others added to the same archive with Deflate, at 7zz's
// level (1-9). make bench uses it too.
func ZipMixed(bin, dir, zipPath string, level int, big ...string) error {
	zipPath, err := filepath.Abs(zipPath)
	if err != nil {
		return err
	}
	isBig := map[string]bool{}
	for _, b := range big {
		isBig[b] = true
	}
	all, err := listFiles(dir)
	if err != nil {
		return err
	}
	var first, rest []string
	for _, f := range all {
		if isBig[filepath.Base(f)] {
			first = append(first, f)
		} else {
			rest = append(rest, f)
		}
	}
	for _, step := range []struct {
		method SevenZipMethod
		files  []string
	}{{"Deflate64", first}, {"Deflate", rest}} {
		if len(step.files) == 0 {
			continue
		}
		args := append([]string{"a", "-tzip", "-mm=" + string(step.method), "-mx=" + strconv.Itoa(level), "-bd", "-bso0", "-bsp0", zipPath}, step.files...)
		cmd := exec.Command(bin, args...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("7zz a -mm=%s: %v\n%s", step.method, err, out)
		}
	}
	return nil
}

// Test7 runs 7zz's integrity test on zipPath: every member's data and
// CRC-32 as 7-Zip reads them.
func Test7(t testing.TB, bin, zipPath string) {
	t.Helper()
	if out, err := exec.Command(bin, "t", "-bd", zipPath).CombinedOutput(); err != nil {
		t.Fatalf("7zz t %s: %v\n%s", zipPath, err, out)
	}
}

// files lists the regular files under dir (listFiles), failing t on
// error.
func files(t testing.TB, dir string) []string {
	t.Helper()
	out, err := listFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// listFiles lists the regular files under dir, relative and
// slash-separated, sorted.
func listFiles(dir string) ([]string, error) {
	var out []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		out = append(out, filepath.ToSlash(rel))
		return nil
	})
	sort.Strings(out)
	return out, err
}

// ZipGo zips the files under dir with Go's archive/zip: Deflate for
// files of a kilobyte or more, stored for the rest.
func ZipGo(t testing.TB, dir, zipPath string) {
	t.Helper()
	var buf bytes.Buffer
	w := zip.NewWriter(&buf)
	for _, name := range files(t, dir) {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		method := zip.Deflate
		if len(data) < 1024 {
			method = zip.Store
		}
		fw, err := w.CreateHeader(&zip.FileHeader{Name: name, Method: method})
		if err != nil {
			t.Fatal(err)
		}
		fw.Write(data)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(zipPath, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// ZipForced64 zips the files under dir (Deflate) as a ZIP64 archive
// whatever their sizes: every local and central header carries its sizes
// (and offset) in a ZIP64 extra field with 0xFFFFFFFF in the 32-bit
// fields, and the directory ends with the ZIP64 end record and locator,
// as writers do for members and archives over 4 GiB.
func ZipForced64(t testing.TB, dir, zipPath string) {
	t.Helper()
	var out, central bytes.Buffer
	le := binary.LittleEndian
	put := func(b *bytes.Buffer, vs ...any) {
		for _, v := range vs {
			binary.Write(b, le, v)
		}
	}
	names := files(t, dir)
	for _, name := range names {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		var comp bytes.Buffer
		fw, _ := flate.NewWriter(&comp, flate.BestCompression)
		fw.Write(data)
		fw.Close()
		crc := crc32.ChecksumIEEE(data)
		offset := uint64(out.Len())
		// Local header: sizes in the ZIP64 extra (0x0001: original, compressed).
		put(&out, uint32(0x04034b50), uint16(45), uint16(0x0800), uint16(zip.Deflate), uint16(0), uint16(0x21),
			crc, uint32(0xFFFFFFFF), uint32(0xFFFFFFFF), uint16(len(name)), uint16(20))
		out.WriteString(name)
		put(&out, uint16(0x0001), uint16(16), uint64(len(data)), uint64(comp.Len()))
		out.Write(comp.Bytes())
		// Central header: sizes and offset in the ZIP64 extra.
		put(&central, uint32(0x02014b50), uint16(45), uint16(45), uint16(0x0800), uint16(zip.Deflate), uint16(0), uint16(0x21),
			crc, uint32(0xFFFFFFFF), uint32(0xFFFFFFFF), uint16(len(name)), uint16(28), uint16(0), uint16(0), uint16(0),
			uint32(0), uint32(0xFFFFFFFF))
		central.WriteString(name)
		put(&central, uint16(0x0001), uint16(24), uint64(len(data)), uint64(comp.Len()), offset)
	}
	dirOffset, dirSize := uint64(out.Len()), uint64(central.Len())
	out.Write(central.Bytes())
	end64 := uint64(out.Len())
	n := uint64(len(names))
	put(&out, uint32(0x06064b50), uint64(44), uint16(45), uint16(45), uint32(0), uint32(0), n, n, dirSize, dirOffset)
	put(&out, uint32(0x07064b50), uint32(0), end64, uint32(1))
	put(&out, uint32(0x06054b50), uint16(0), uint16(0), uint16(0xFFFF), uint16(0xFFFF), uint32(0xFFFFFFFF), uint32(0xFFFFFFFF), uint16(0))
	if err := os.WriteFile(zipPath, out.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// Tables writes a small release's worth of table-like files under
// dir/"EOIR Case Data": tab-delimited text with NUL bytes inside fields,
// runs longer than DEFLATE's 258-byte matches, and repeats farther back
// than its 32 KiB window, so that Deflate64 writers use what only
// Deflate64 has; plus an empty file. It returns the files' contents by
// their path inside the zip.
func Tables(t testing.TB, dir string, seed uint64) map[string][]byte {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, seed))
	sub := filepath.Join(dir, "EOIR Case Data")
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, f := range []struct {
		name string
		size int
	}{{"B_TblProceeding.csv", 400 << 10}, {"tbl_schedule.csv", 3 << 20}, {"A_TblCase.csv", 20 << 10}, {"Count.txt", 0}} {
		data := tableText(r, f.size)
		if err := os.WriteFile(filepath.Join(sub, f.name), data, 0o644); err != nil {
			t.Fatal(err)
		}
		out["EOIR Case Data/"+f.name] = data
	}
	return out
}

// tableText is n bytes of tab-delimited lines with far repeats, long runs
// and NULs.
func tableText(r *rand.Rand, n int) []byte {
	var b bytes.Buffer
	for b.Len() < n {
		switch r.IntN(8) {
		case 0: // a repeat from 33 to 64 KiB back
			if b.Len() > 64<<10 {
				from := b.Len() - (33<<10 + r.IntN(31<<10))
				b.Write(bytes.Clone(b.Bytes()[from : from+200+r.IntN(800)]))
			}
		case 1: // a run longer than 258
			b.WriteString(strings.Repeat(" ", 300+r.IntN(3000)))
		default:
			b.WriteString(strings.Join([]string{strconv.Itoa(r.IntN(1e7)), strconv.Itoa(r.IntN(1e8)), "NYC", "2019-0" + strconv.Itoa(1+r.IntN(9)) + "-1" + strconv.Itoa(r.IntN(10)),
				"ADMIN\x00CLOSED"[:5+r.IntN(8)], "M", "0830"}, "\t"))
			b.WriteString("\r\n")
		}
	}
	return b.Bytes()[:n]
}

// ReadAll reads r to the end and closes it.
func ReadAll(r io.ReadCloser) ([]byte, error) {
	b, err := io.ReadAll(r)
	if cerr := r.Close(); err == nil {
		err = cerr
	}
	return b, err
}
