package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/recal-project/recal/pipeline/manifest"
	"github.com/recal-project/recal/pipeline/storage"
	"github.com/recal-project/recal/pipeline/storage/local"
)

// TestTwoVersionsOneOutput builds recal twice with different versions and
// runs both on one output: the second never takes the first's committed
// run for its own (the version is part of the run id); it refuses, naming
// both versions, until --force, and then recomputes. Each binary's
// `recal version` is the manifest's tool_version.
func TestTwoVersionsOneOutput(t *testing.T) {
	skipInRacePass(t)
	dir := t.TempDir()
	bins := map[string]string{}
	for _, v := range []string{"v-one", "v-two"} {
		bins[v] = filepath.Join(dir, "recal-"+v)
		build := exec.Command("go", "build", "-ldflags=-s -w -X main.buildVersion="+v, "-o", bins[v], ".")
		build.Env = append(os.Environ(), "CGO_ENABLED=0") // as staticBinary: one compile of the packages
		if out, err := build.CombinedOutput(); err != nil {
			t.Fatalf("build %s: %v\n%s", v, err, out)
		}
	}
	out := filepath.Join(t.TempDir(), "out")
	recal := func(v string, extra ...string) (int, string) {
		args := append([]string{"run", "--input", sample + "/export", "--capacity", sample + "/capacity.csv", "--closures", sample + "/closures.csv",
			"--policy", "castro-tum-2018", "--as-of", "2026-01-15", "--output", out}, extra...)
		cmd := exec.Command(bins[v], args...)
		b, err := cmd.CombinedOutput()
		if err != nil && cmd.ProcessState == nil {
			t.Fatal(err)
		}
		return cmd.ProcessState.ExitCode(), string(b)
	}
	toolVersion := func() string {
		b, err := storage.ReadAll(context.Background(), local.New(out), "manifest.json")
		if err != nil {
			t.Fatal(err)
		}
		m, err := manifest.Parse(b)
		if err != nil {
			t.Fatal(err)
		}
		return m.ToolVersion
	}
	printed := func(v string) string {
		b, err := exec.Command(bins[v], "version").Output()
		if err != nil {
			t.Fatal(err)
		}
		first, _, _ := strings.Cut(string(b), "\n")
		return strings.TrimPrefix(first, "recal ")
	}
	if code, text := recal("v-one"); code != 0 {
		t.Fatalf("v-one: exit %d: %s", code, text)
	}
	if got := toolVersion(); got != "v-one" || printed("v-one") != "v-one" {
		t.Fatalf("manifest tool_version %q, recal version %q; want v-one", got, printed("v-one"))
	}
	if code, text := recal("v-one"); code != 0 || !strings.Contains(text, "already complete") {
		t.Fatalf("v-one again: exit %d, want 0 (already complete): %s", code, text)
	}
	code, text := recal("v-two")
	if code != 64 || !strings.Contains(text, "committed by recal v-one") || !strings.Contains(text, "this is recal v-two") || !strings.Contains(text, "--force") {
		t.Fatalf("v-two on v-one's output: exit %d, want 64 naming both versions and --force: %s", code, text)
	}
	if got := toolVersion(); got != "v-one" {
		t.Fatalf("a refused run changed the output: tool_version %q", got)
	}
	if code, text := recal("v-two", "--force"); code != 0 || strings.Contains(text, "already complete") {
		t.Fatalf("v-two --force: exit %d, want a recomputed run: %s", code, text)
	}
	if got := toolVersion(); got != "v-two" || printed("v-two") != "v-two" {
		t.Fatalf("manifest tool_version %q, recal version %q; want v-two", got, printed("v-two"))
	}
}

// TestNoLargeTrackedFiles: no file over 5 MB is tracked outside
// testdata's corpora (a build output committed by mistake: a 72 MB
// recalbench binary was).
func TestNoLargeTrackedFiles(t *testing.T) {
	root, err := exec.Command("git", "rev-parse", "--show-toplevel").Output()
	if err != nil {
		t.Skip("not a git checkout")
	}
	top := strings.TrimSpace(string(root))
	files, err := exec.Command("git", "-C", top, "ls-files", "-z").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range strings.Split(strings.TrimRight(string(files), "\x00"), "\x00") {
		if strings.HasPrefix(f, "testdata/parquet-testing/") {
			continue // the corpus
		}
		info, err := os.Stat(filepath.Join(top, f))
		if err != nil {
			continue // deleted in the work tree
		}
		if info.Size() > 5<<20 {
			t.Errorf("%s is tracked and %d MB: build outputs belong in .gitignore, data in testdata/", f, info.Size()>>20)
		}
	}
}
