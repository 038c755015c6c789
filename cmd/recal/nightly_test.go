package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/recal-project/recal/pipeline/location"
	"github.com/recal-project/recal/pipeline/storage/s3store/s3servertest"
)

// TestNightlyCLI runs two nights as a scheduler would, with fixed
// arguments: {as_of} and {as_of-1} in the URIs, RECAL_PREVIOUS from the
// environment. The second night names what changed; a night whose
// previous run is missing exits 66 naming it.
func TestNightlyCLI(t *testing.T) {
	runs := t.TempDir()
	night := func(asOf string, extra ...string) (int, string, string) {
		return run(t, append([]string{"run", "--input", sample + "/export", "--capacity", sample + "/capacity.csv", "--closures", sample + "/closures.csv",
			"--policy", "castro-tum-2018", "--as-of", asOf, "--output", filepath.Join(runs, "{as_of}")}, extra...)...)
	}
	if code, _, stderr := night("2026-01-15"); code != 0 {
		t.Fatalf("night 1: exit %d: %s", code, stderr)
	}
	t.Setenv("RECAL_PREVIOUS", filepath.Join(runs, "{as_of-1}"))
	code, stdout, stderr := night("2026-01-16")
	if code != 0 {
		t.Fatalf("night 2: exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "tonight, against run") || !strings.Contains(stdout, filepath.Join(runs, "2026-01-16", "changes")) {
		t.Fatalf("night 2 printed:\n%s", stdout)
	}
	if _, err := os.Stat(filepath.Join(runs, "2026-01-16", "_SUCCESS")); err != nil {
		t.Fatalf("night 2 did not commit under its dated prefix: %v", err)
	}
	// Night 4 after a missed night 3: its previous ({as_of-1}) is missing.
	code, _, stderr = night("2026-01-18")
	if code != 66 || !strings.Contains(stderr, filepath.Join(runs, "2026-01-17")) {
		t.Fatalf("night after a missed night: exit %d: %s", code, stderr)
	}
}

// TestNightlyThroughS3 is two nights on a real S3 server (versitygw):
// the previous run is read back from S3, and night 2's changes/ are
// written there.
func TestNightlyThroughS3(t *testing.T) {
	srv := s3servertest.Start(t)
	srv.Env(t)
	_, bucket := srv.NewBucket(t, "runs")
	runs := "s3://" + bucket + "/runs/"
	night := func(asOf string, extra ...string) (int, string, string) {
		return run(t, append([]string{"run", "--input", sample + "/export", "--capacity", sample + "/capacity.csv", "--closures", sample + "/closures.csv",
			"--policy", "castro-tum-2018", "--as-of", asOf, "--output", runs + "{as_of}"}, extra...)...)
	}
	if code, _, stderr := night("2026-01-15"); code != 0 {
		t.Fatalf("night 1: exit %d: %s", code, stderr)
	}
	code, stdout, stderr := night("2026-01-16", "--previous", runs+"{as_of-1}")
	if code != 0 || !strings.Contains(stdout, "tonight, against run") {
		t.Fatalf("night 2: exit %d:\n%s\n%s", code, stdout, stderr)
	}
	st, err := location.Open(context.Background(), runs+"2026-01-16", location.Options{})
	if err != nil {
		t.Fatal(err)
	}
	m := readManifest(t, st, "manifest.json")
	if m.Changes == nil || m.Changes.Unchanged == 0 || m.Changes.Unchanged+m.Changes.Moved+m.Changes.Released != m.Changes.PreviousAssigned {
		t.Fatalf("night 2 on S3: changes %+v", m.Changes)
	}
	objs, err := st.List(context.Background(), "changes/")
	if err != nil || len(objs) == 0 {
		t.Fatalf("no changes/ on S3: %v", err)
	}
}
