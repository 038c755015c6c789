package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
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
