package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/recal-project/recal/pipeline/eoirimport/eoirtest"
	"github.com/recal-project/recal/pipeline/location"
	"github.com/recal-project/recal/pipeline/storage/local"
	"github.com/recal-project/recal/pipeline/storage/s3store/s3servertest"
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
	if !strings.Contains(stdout, "13 cases") || !strings.Contains(stdout, "exported 6 rows") || !strings.Contains(stdout, "rejected UNKNOWN_COURT") {
		t.Fatalf("import-eoir printed:\n%s", stdout)
	}
	out := t.TempDir()
	code, _, stderr = run(t, "run", "--input", imported+"/export", "--capacity", sample+"/capacity.csv", "--policy", "full-reversal",
		"--as-of", "2026-01-15", "--output", out)
	if code != 0 {
		t.Fatalf("run on the import: exit %d: %s", code, stderr)
	}
	m := readManifest(t, local.New(out), "manifest.json")
	if c := m.Counts; c.InputRows != 6 || c.Rejected != 0 || !m.Conservation.Holds || c.Assigned+c.Overflow+c.RemainClosed != 6 {
		t.Fatalf("run on the import: %+v, conservation %v", c, m.Conservation)
	}
	// Without the crosswalk the retired code is a reject, named by table
	// and line, and the import says so.
	code, stdout, _ = run(t, "import-eoir", "--release", rel, "--output", t.TempDir())
	if code != 0 || !strings.Contains(stdout, "exported 5 rows") {
		t.Fatalf("import without the crosswalk: exit %d:\n%s", code, stdout)
	}
	// A release without its proceedings table is refused (exit 66).
	os.Remove(filepath.Join(rel, "B_TblProceeding.csv"))
	if code, _, stderr := run(t, "import-eoir", "--release", rel, "--output", t.TempDir()); code != 66 || !strings.Contains(stderr, "B_TblProceeding") {
		t.Fatalf("release without proceedings: exit %d: %s", code, stderr)
	}
}

// TestImportEOIRThroughS3 reads the release from a real S3 server
// (versitygw) and writes the export there, then runs recal on it from S3:
// the import is the same job on either store.
func TestImportEOIRThroughS3(t *testing.T) {
	srv := s3servertest.Start(t)
	srv.Env(t)
	rel := eoirtest.WriteRelease(t)
	relStore, relBucket := srv.NewBucket(t, "release")
	relPrefix := relBucket + "/release"
	ents, err := os.ReadDir(rel)
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	for _, e := range ents {
		files = append(files, e.Name())
	}
	putFiles(t, relStore, rel, files...)
	putFiles(t, relStore, sample, "capacity.csv")
	_, outBucket := srv.NewBucket(t, "imported")
	outPrefix := outBucket + "/imported"
	code, stdout, stderr := run(t, "import-eoir", "--release", "s3://"+relPrefix, "--output", "s3://"+outPrefix)
	if code != 0 || !strings.Contains(stdout, "exported 5 rows") {
		t.Fatalf("import-eoir from S3: exit %d:\n%s\n%s", code, stdout, stderr)
	}
	_, runBucket := srv.NewBucket(t, "run")
	runPrefix := runBucket + "/run"
	code, _, stderr = run(t, "run", "--input", "s3://"+outPrefix+"/export", "--capacity", "s3://"+relPrefix+"/capacity.csv",
		"--policy", "full-reversal", "--as-of", "2026-01-15", "--output", "s3://"+runPrefix)
	if code != 0 {
		t.Fatalf("run on the S3 import: exit %d: %s", code, stderr)
	}
	st, err := location.Open(context.Background(), "s3://"+runPrefix, location.Options{})
	if err != nil {
		t.Fatal(err)
	}
	m := readManifest(t, st, "manifest.json")
	if m.Counts.InputRows != 5 || m.Counts.Rejected != 0 || !m.Conservation.Holds {
		t.Fatalf("run on the S3 import: %+v", m.Counts)
	}
}

// TestBundledRelease is make run-eoir's way on the bundled release
// (testdata/eoir-sample: the zip as EOIR makes it, Deflate64 members): the
// import observes a calendar, the run schedules on it without a reject and
// conserves every case, and the report says where the calendar came from.
func TestBundledRelease(t *testing.T) {
	imported, out := t.TempDir(), t.TempDir()
	code, stdout, stderr := run(t, "import-eoir", "--release", "../../testdata/eoir-sample/FOIA-TRAC-Report.zip", "--output", imported)
	if code != 0 || !strings.Contains(stdout, "capacity: ") {
		t.Fatalf("import-eoir: exit %d:\n%s\n%s", code, stdout, stderr)
	}
	code, _, stderr = run(t, "run", "--input", imported+"/export", "--capacity", imported+"/capacity.csv", "--policy", "castro-tum-2018",
		"--as-of", "2026-04-01", "--output", out)
	if code != 0 {
		t.Fatalf("run: exit %d: %s", code, stderr)
	}
	m := readManifest(t, local.New(out), "manifest.json")
	if c := m.Counts; c.InputRows == 0 || c.Rejected != 0 || c.Assigned == 0 || !m.Conservation.Holds || m.CapacitySource == nil {
		t.Fatalf("run on the bundled release: %+v, conservation %v, capacity source %v", c, m.Conservation, m.CapacitySource)
	}
	md, err := os.ReadFile(filepath.Join(out, "reports", "impact.md"))
	if err != nil || !strings.Contains(string(md), "observed from the EOIR release of 2026-03-31") {
		t.Fatalf("impact.md does not say where the calendar came from (%v)", err)
	}
}
