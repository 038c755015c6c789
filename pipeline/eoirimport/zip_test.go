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

// releaseZip generates a release and zips it as EOIR publishes it: the
// tables in a folder inside the zip, compressed by 7zz with Deflate64. It
// returns the unpacked folder and the zip.
func releaseZip(t *testing.T) (folder, zipPath string) {
	t.Helper()
	bin := releasetest.SevenZip(t)
	root := t.TempDir()
	folder = filepath.Join(root, "EOIR Case Data")
	if err := eoirtest.Generate(folder, eoirtest.GenerateSizes{Proceedings: 20000}, []string{"NYC", "LOS", "HOU", "ZZZ"}, 3); err != nil {
		t.Fatal(err)
	}
	zipPath = filepath.Join(t.TempDir(), "FOIA-TRAC-Report.zip")
	releasetest.Zip7(t, bin, root, zipPath, "Deflate64")
	return folder, zipPath
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
	folder, zipPath := releaseZip(t)
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
	f, err := os.Open(zipPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := storage.Put(ctx, st, "eoir/FOIA-TRAC-Report.zip", f); err != nil {
		t.Fatal(err)
	}
	for _, rel := range []string{zipPath, "s3://" + bucket + "/eoir/FOIA-TRAC-Report.zip"} {
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

// TestImportCorruptZip: a member whose CRC-32 does not match fails the
// import as a data error (exit 65) naming the member, and nothing is
// committed.
func TestImportCorruptZip(t *testing.T) {
	_, zipPath := releaseZip(t)
	b, err := os.ReadFile(zipPath)
	if err != nil {
		t.Fatal(err)
	}
	const member = "EOIR Case Data/tbl_schedule.csv"
	damaged := false
	for i := 0; i+46 < len(b); i++ { // the member's central directory entry: flip a bit of its CRC-32
		if binary.LittleEndian.Uint32(b[i:]) == 0x02014b50 {
			n := int(binary.LittleEndian.Uint16(b[i+28:]))
			if string(b[i+46:i+46+n]) == member {
				b[i+16] ^= 1
				damaged = true
			}
		}
	}
	if !damaged {
		t.Fatalf("%s not in the zip", member)
	}
	bad := filepath.Join(t.TempDir(), "release.zip")
	os.WriteFile(bad, b, 0o644)
	out := t.TempDir()
	_, err = eoirimport.Import(context.Background(), eoirimport.Config{Release: bad, Output: out, TempDir: t.TempDir()})
	if !errors.Is(err, release.ErrCorrupt) || sysexit.Code(err) != sysexit.DataErr || !bytes.Contains([]byte(err.Error()), []byte(member)) {
		t.Fatalf("got %v (exit %d), want a corrupt-zip error (65) naming %s", err, sysexit.Code(err), member)
	}
	for _, p := range []string{"_SUCCESS", "import.json", "export"} {
		if _, err := os.Stat(filepath.Join(out, p)); err == nil {
			t.Errorf("the failed import left %s", p)
		}
	}
}
