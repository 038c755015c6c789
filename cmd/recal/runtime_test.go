package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/recal-project/recal/pipeline/location"
	"github.com/recal-project/recal/pipeline/storage/s3store/s3servertest"
)

// TestRuntimeContract runs recal as a container would (issue 9, item 3),
// without a container engine:
//   - a static binary (CGO_ENABLED=0);
//   - a non-root user (nobody, 65534);
//   - an empty HOME, and a working directory it cannot write;
//   - configuration only from the environment (RECAL_* and the AWS chain);
//   - TMPDIR the only writable place;
//   - input, calendar and output on the S3 server.
//
// The run must commit. Switching users needs root, so the test skips
// otherwise.
func TestRuntimeContract(t *testing.T) {
	skipInRacePass(t)
	if os.Geteuid() != 0 {
		t.Skip("running as another user needs root")
	}
	srv := s3servertest.Start(t)
	srv.Env(t)
	inStore, bucket := srv.NewBucket(t, "in")
	ctx := context.Background()
	putFiles(t, inStore, sample, "export/part-00000.parquet", "export/part-00001.parquet", "capacity.csv", "closures.csv")

	// Everything the child may touch lives under root, readable by all;
	// only tmp belongs to nobody.
	root, err := os.MkdirTemp("", "recal-runtime-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(root) })
	bin := staticBinary(t)
	work, home, tmp := filepath.Join(root, "work"), filepath.Join(root, "home"), filepath.Join(root, "tmp")
	for _, d := range []string{work, home, tmp} {
		if err := os.Mkdir(d, 0o555); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chown(tmp, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	os.Chmod(tmp, 0o700)
	if err := os.Chmod(root, 0o755); err != nil {
		t.Fatal(err)
	}

	out := "s3://" + bucket + "/out"
	env := append(srv.EnvList(),
		"HOME="+home, "TMPDIR="+tmp, "PATH=/usr/bin:/bin",
		"RECAL_INPUT=s3://"+bucket+"/in/export", "RECAL_CAPACITY=s3://"+bucket+"/in/capacity.csv",
		"RECAL_CLOSURES=s3://"+bucket+"/in/closures.csv", "RECAL_POLICY=castro-tum-2018",
		"RECAL_AS_OF=2026-01-15", "RECAL_OUTPUT="+out)
	for _, args := range [][]string{{"version"}, {"run"}} {
		cmd := exec.Command(bin, args...)
		cmd.Dir = work
		cmd.Env = env
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
		b, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("recal %s as nobody: %v\n%s", strings.Join(args, " "), err, b)
		}
	}
	st, err := location.Open(ctx, out, location.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Stat(ctx, "_SUCCESS"); err != nil {
		t.Fatalf("no _SUCCESS: %v", err)
	}
	// Nothing was written where it may not be, and the staged files in
	// TMPDIR were removed.
	for _, d := range []string{work, home, tmp} {
		if ents, _ := os.ReadDir(d); len(ents) != 0 {
			t.Errorf("%s holds %d entries after the run", d, len(ents))
		}
	}
}

var static struct {
	once sync.Once
	dir  string
	err  error
}

// staticBinary builds recal once per test process as it ships: static
// (CGO_ENABLED=0), stripped. Its folder is readable by every user and is
// removed by TestMain.
func staticBinary(t *testing.T) string {
	t.Helper()
	static.once.Do(func() {
		if static.dir, static.err = os.MkdirTemp("", "recal-static-"); static.err != nil {
			return
		}
		if static.err = os.Chmod(static.dir, 0o755); static.err != nil {
			return
		}
		build := exec.Command("go", "build", "-ldflags=-s -w -X main.buildVersion=test-static", "-o", filepath.Join(static.dir, "recal"), ".")
		build.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := build.CombinedOutput(); err != nil {
			static.err = fmt.Errorf("static build: %v\n%s", err, out)
		}
	})
	if static.err != nil {
		t.Fatal(static.err)
	}
	return filepath.Join(static.dir, "recal")
}
