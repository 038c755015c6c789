package deflate64

import (
	"archive/zip"
	"bytes"
	"io"
	"path/filepath"
	"testing"

	"github.com/recal-project/recal/pipeline/release/releasetest"
)

// TestSevenZipDeflate64 reads what an independent encoder writes: 7-Zip's
// Deflate64 (7zz a -tzip -mm=Deflate64), registered with archive/zip, gives
// back every file byte for byte with its CRC-32 checked by archive/zip. The
// members do use Deflate64's differences: read as plain DEFLATE they
// fail or come out different.
func TestSevenZipDeflate64(t *testing.T) {
	bin := releasetest.SevenZip(t)
	dir := t.TempDir()
	want := releasetest.Tables(t, dir, 11)
	zipPath := filepath.Join(t.TempDir(), "release.zip")
	releasetest.Zip7(t, bin, dir, zipPath, "Deflate64")
	zr, err := zip.OpenReader(zipPath)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	zr.RegisterDecompressor(Method, NewReader)
	differs := 0
	for _, f := range zr.File {
		if f.FileInfo().IsDir() {
			continue
		}
		if f.Method != Method && f.UncompressedSize64 > 0 {
			t.Errorf("%s: method %d, want Deflate64 (9)", f.Name, f.Method)
		}
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		got, err := releasetest.ReadAll(rc) // archive/zip checks the CRC-32 at the end
		if err != nil || !bytes.Equal(got, want[f.Name]) {
			t.Errorf("%s: %d bytes, want %d: %v", f.Name, len(got), len(want[f.Name]), err)
		}
		if raw, err := f.OpenRaw(); err == nil && f.UncompressedSize64 > 0 {
			plain, err := io.ReadAll(newReader(raw, false))
			if err != nil || !bytes.Equal(plain, want[f.Name]) {
				differs++
			}
		}
		delete(want, f.Name)
	}
	if len(want) > 0 {
		t.Errorf("members missing from the zip: %v", len(want))
	}
	if differs == 0 {
		t.Error("every 7zz Deflate64 member also reads as plain DEFLATE: the test data does not exercise Deflate64")
	}
}
