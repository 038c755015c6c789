package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/recal-project/recal/pipeline/eoirimport/eoirtest"
	"github.com/recal-project/recal/pipeline/storage/local"
)

// TestImportEOIRThenRun imports the fixture release with the command line,
// then runs recal on the export: every exported case is read, none is
// rejected, and the run conserves them.
func TestImportEOIRThenRun(t *testing.T) {
	rel := eoirtest.WriteRelease(t)
	cross := filepath.Join(t.TempDir(), "crosswalk.csv")
	if err := os.WriteFile(cross, []byte(eoirtest.Crosswalk), 0o644); err != nil {
		t.Fatal(err)
	}
	imported := t.TempDir()
	code, stdout, stderr := run(t, "import-eoir", "--release", rel, "--output", imported, "--court-crosswalk", cross)
	if code != 0 {
		t.Fatalf("import-eoir: exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "12 cases") || !strings.Contains(stdout, "exported 5 rows") || !strings.Contains(stdout, "rejected UNKNOWN_COURT") {
		t.Fatalf("import-eoir printed:\n%s", stdout)
	}
	out := t.TempDir()
	code, _, stderr = run(t, "run", "--input", imported+"/export", "--capacity", sample+"/capacity.csv", "--policy", "full-reversal",
		"--as-of", "2026-01-15", "--output", out)
	if code != 0 {
		t.Fatalf("run on the import: exit %d: %s", code, stderr)
	}
	m := readManifest(t, local.New(out), "manifest.json")
	if c := m.Counts; c.InputRows != 5 || c.Rejected != 0 || !m.Conservation.Holds || c.Assigned+c.Overflow+c.RemainClosed != 5 {
		t.Fatalf("run on the import: %+v, conservation %v", c, m.Conservation)
	}
	// Without the crosswalk the retired code is a reject, named by table
	// and line, and the import says so.
	code, stdout, _ = run(t, "import-eoir", "--release", rel, "--output", t.TempDir())
	if code != 0 || !strings.Contains(stdout, "exported 4 rows") {
		t.Fatalf("import without the crosswalk: exit %d:\n%s", code, stdout)
	}
	// A release without its proceedings table is refused (exit 66).
	os.Remove(filepath.Join(rel, "B_TblProceeding.csv"))
	if code, _, stderr := run(t, "import-eoir", "--release", rel, "--output", t.TempDir()); code != 66 || !strings.Contains(stderr, "B_TblProceeding") {
		t.Fatalf("release without proceedings: exit %d: %s", code, stderr)
	}
}
