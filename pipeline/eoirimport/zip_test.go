package eoirimport_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/recal-project/recal/pipeline/eoirimport"
	"github.com/recal-project/recal/pipeline/eoirimport/eoirtest"
	"github.com/recal-project/recal/pipeline/progress"
	"github.com/recal-project/recal/pipeline/release"
	"github.com/recal-project/recal/pipeline/release/releasetest"
	"github.com/recal-project/recal/pipeline/storage"
	"github.com/recal-project/recal/pipeline/storage/s3store/s3servertest"
	"github.com/recal-project/recal/pipeline/sysexit"
)

// releaseZips generates a release and zips it in every way the tests
// read: as EOIR publishes it (the tables in a folder inside the zip, the
// two largest Deflate64 and the others Deflate, by 7zz), all Deflate by
// 7zz, by Go's archive/zip, and as ZIP64. It returns the unpacked folder
// and the zips by kind.
func releaseZips(t *testing.T) (folder string, zips map[string]string) {
	t.Helper()
	bin := releasetest.SevenZip(t)
	root := t.TempDir()
	folder = filepath.Join(root, "EOIR Case Data")
	if err := eoirtest.Generate(folder, eoirtest.GenerateSizes{Proceedings: 20000}, []string{"NYC", "LOS", "HOU", "ZZZ"}, 3); err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	zips = map[string]string{"EOIR's (7zz Deflate64 and Deflate)": filepath.Join(out, "FOIA-TRAC-Report.zip"),
		"7zz Deflate": filepath.Join(out, "deflate.zip"), "Go archive/zip": filepath.Join(out, "go.zip"), "ZIP64": filepath.Join(out, "zip64.zip")}
	releasetest.Zip7Mixed(t, bin, root, zips["EOIR's (7zz Deflate64 and Deflate)"], "B_TblProceeding.csv", "tbl_schedule.csv")
	releasetest.Zip7(t, bin, root, zips["7zz Deflate"], "Deflate")
	releasetest.ZipGo(t, root, zips["Go archive/zip"])
	releasetest.ZipForced64(t, root, zips["ZIP64"])
	return folder, zips
}

// exportFiles returns the bytes of every export object under out.
func exportFiles(t *testing.T, out string) map[string][]byte {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(out, "export", "*.parquet"))
	if len(files) == 0 {
		t.Fatalf("no export under %s", out)
	}
	m := map[string][]byte{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		m[filepath.Base(f)] = b
	}
	return m
}

// TestImportZip imports the release zip itself, from disk and from a real
// S3 server, and gets the export the unpacked folder gives, byte for byte.
func TestImportZip(t *testing.T) {
	folder, zips := releaseZips(t)
	ctx := context.Background()
	imp := func(rel string) (string, *eoirimport.Report) {
		t.Helper()
		out := t.TempDir()
		prog := &progress.Progress{}
		rep, err := eoirimport.Import(ctx, eoirimport.Config{Release: rel, Output: out, ObjectRows: 2000, TempDir: t.TempDir(), Progress: prog})
		if err != nil {
			t.Fatalf("import %s: %v", rel, err)
		}
		// Progress: every table read counted, its rows and its bytes as
		// stored (compressed in the zip), B_TblProceeding twice.
		var reads int
		var rows, stored int64
		for _, tr := range rep.Tables {
			reads += tr.Reads
			rows += int64(tr.Reads) * tr.Rows
			stored += int64(tr.Reads) * tr.StoredBytes
			if tr.Bytes == 0 || tr.StoredBytes == 0 || (tr.StoredBytes >= tr.Bytes) != !release.IsZip(rel) {
				t.Errorf("%s: table %s: %d bytes, %d stored", rel, tr.Key, tr.Bytes, tr.StoredBytes)
			}
		}
		s := prog.Snapshot()
		if s.Objects != int64(reads) || s.ObjectsRead != int64(reads) || s.RowsRead != rows || s.BytesRead != stored || s.Unit != "table reads" {
			t.Errorf("%s: progress %+v, want %d table reads of %d rows and %d stored bytes", rel, s, reads, rows, stored)
		}
		return out, rep
	}
	fromFolder, repFolder := imp(folder)
	want := exportFiles(t, fromFolder)
	srv := s3servertest.Start(t)
	srv.Env(t)
	st, bucket := srv.NewBucket(t, "")
	releases := []string{}
	for kind, path := range zips {
		releases = append(releases, path)
		if kind != "EOIR's (7zz Deflate64 and Deflate)" && kind != "ZIP64" {
			continue
		}
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		key := "eoir/" + filepath.Base(path)
		err = storage.Put(ctx, st, key, f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		releases = append(releases, "s3://"+bucket+"/"+key)
	}
	for _, rel := range releases {
		out, rep := imp(rel)
		got := exportFiles(t, out)
		if len(got) != len(want) {
			t.Fatalf("%s: %d export objects, the folder gives %d", rel, len(got), len(want))
		}
		for name, b := range want {
			if !bytes.Equal(got[name], b) {
				t.Errorf("%s: export/%s differs from the folder's", rel, name)
			}
		}
		if rep.Exported != repFolder.Exported || rep.Tables["B_TblProceeding"].Rows != repFolder.Tables["B_TblProceeding"].Rows {
			t.Errorf("%s: exported %d of %d proceedings; the folder: %d of %d", rel, rep.Exported, rep.Tables["B_TblProceeding"].Rows,
				repFolder.Exported, repFolder.Tables["B_TblProceeding"].Rows)
		}
	}
}

// centralEntry returns the offset of member's central directory header
// in zip b (-1: none).
func centralEntry(b []byte, member string) int {
	for i := 0; i+46 < len(b); i++ {
		if binary.LittleEndian.Uint32(b[i:]) == 0x02014b50 {
			n := int(binary.LittleEndian.Uint16(b[i+28:]))
			if i+46+n <= len(b) && string(b[i+46:i+46+n]) == member {
				return i
			}
		}
	}
	return -1
}

// TestImportCorruptZip: a zip cut short, a Deflate64 member with damaged
// Huffman data, and one whose CRC-32 does not match fail the import as
// data errors (exit 65) naming the zip or the member, with nothing
// committed.
func TestImportCorruptZip(t *testing.T) {
	_, zips := releaseZips(t)
	good, err := os.ReadFile(zips["EOIR's (7zz Deflate64 and Deflate)"])
	if err != nil {
		t.Fatal(err)
	}
	const member = "EOIR Case Data/tbl_schedule.csv"
	if centralEntry(good, member) < 0 {
		t.Fatalf("%s not in the zip", member)
	}
	for _, tc := range []struct {
		name   string
		damage func(b []byte) []byte
		says   string
	}{
		{"cut short", func(b []byte) []byte { return b[:len(b)/2] }, "not a zip archive, or cut short"},
		{"wrong CRC-32", func(b []byte) []byte {
			b[centralEntry(b, member)+16] ^= 1
			return b
		}, member + ": CRC-32 mismatch"},
		{"damaged Huffman data", func(b []byte) []byte {
			c := centralEntry(b, member)
			off := int(binary.LittleEndian.Uint32(b[c+42:]))
			data := off + 30 + int(binary.LittleEndian.Uint16(b[off+26:])) + int(binary.LittleEndian.Uint16(b[off+28:]))
			copy(b[data:], bytes.Repeat([]byte{0xff}, 32))
			return b
		}, member + ": damaged data"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bad := filepath.Join(t.TempDir(), "FOIA-TRAC-Report.zip")
			os.WriteFile(bad, tc.damage(bytes.Clone(good)), 0o644)
			out := t.TempDir()
			_, err := eoirimport.Import(context.Background(), eoirimport.Config{Release: bad, Output: out, TempDir: t.TempDir()})
			if !errors.Is(err, release.ErrCorrupt) || sysexit.Code(err) != sysexit.DataErr || !bytes.Contains([]byte(err.Error()), []byte(tc.says)) {
				t.Fatalf("got %v (exit %d), want a corrupt-zip error (65) saying %q", err, sysexit.Code(err), tc.says)
			}
			for _, p := range []string{"_SUCCESS", "import.json", "export", "rejects"} {
				if _, err := os.Stat(filepath.Join(out, p)); err == nil {
					t.Errorf("the failed import left %s", p)
				}
			}
		})
	}
}
