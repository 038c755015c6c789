package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/recal-project/recal/pipeline/claim"
	"github.com/recal-project/recal/pipeline/eoirimport/eoirtest"
	"github.com/recal-project/recal/pipeline/storage/local"
	"github.com/recal-project/recal/pipeline/sysexit"
)

// closedEndpoint is an S3 endpoint on 127.0.0.1 where nothing listens.
func closedEndpoint(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr
}

// TestExitCodes pins, command by command, the exit code of contract §4 each
// kind of failure gets through the one table (sysexit.Code): the same cause
// gives the same code whichever command meets it. (TestCommandLine covers
// more usage, configuration and missing-input cases.)
func TestExitCodes(t *testing.T) {
	skipInRacePass(t)
	rel := eoirtest.WriteRelease(t)
	corrupt := t.TempDir()
	os.WriteFile(filepath.Join(corrupt, "B_TblProceeding.csv"), []byte("NOT A HEADER\x00\x01\n\xff\xfe\n"), 0o644)
	os.WriteFile(filepath.Join(corrupt, "A_TblCase.csv"), []byte("IDNCASE|X\n1|2\n"), 0o644)
	badZip := filepath.Join(t.TempDir(), "FOIA-TRAC-Report.zip")
	os.WriteFile(badZip, []byte("PK\x03\x04 cut short"), 0o644)
	badExport := t.TempDir()
	os.WriteFile(filepath.Join(badExport, "part-0.parquet"), []byte("not parquet"), 0o644)
	// An output claimed by a live run (a fresh heartbeat) of another job.
	claimed := t.TempDir()
	rec, _ := json.Marshal(claim.Record{RunID: "0123456789abcdef", Command: "run", Host: "elsewhere", PID: 1,
		Started: time.Now().UTC(), Heartbeat: time.Now().UTC()})
	if err := local.New(claimed).CreateExclusive(context.Background(), claim.Dir+"0000000001.json", rec); err != nil {
		t.Fatal(err)
	}
	runArgs := func(input, output string) []string {
		return []string{"run", "--input", input, "--capacity", sample + "/capacity.csv", "--policy", "castro-tum-2018",
			"--as-of", "2026-01-15", "--output", output}
	}
	down := map[string]string{"AWS_ENDPOINT_URL_S3": closedEndpoint(t), "AWS_REGION": "us-east-1",
		"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_EC2_METADATA_DISABLED": "true"}
	tests := []struct {
		name   string
		args   []string
		s3Down bool
		code   int
		stderr string
	}{
		{"import-eoir: usage", []string{"import-eoir", "--release", rel}, false, sysexit.Usage, "--release and --output are required"},
		{"import-eoir: release missing", []string{"import-eoir", "--release", filepath.Join(rel, "nothing"), "--output", t.TempDir()}, false, sysexit.NoInput, "no B_TblProceeding"},
		{"import-eoir: corrupt release", []string{"import-eoir", "--release", corrupt, "--output", t.TempDir()}, false, sysexit.DataErr, "bad table header"},
		{"import-eoir: corrupt release zip", []string{"import-eoir", "--release", badZip, "--output", t.TempDir()}, false, sysexit.DataErr, "not a zip archive"},
		{"import-eoir: release zip on an unavailable S3", []string{"import-eoir", "--release", "s3://bucket/FOIA-TRAC-Report.zip", "--output", t.TempDir()}, true, sysexit.Unavailable, "storage unavailable"},
		{"import-eoir: release on an unavailable S3", []string{"import-eoir", "--release", "s3://bucket/release", "--output", t.TempDir()}, true, sysexit.Unavailable, "storage unavailable"},
		{"import-eoir: output on an unavailable S3", []string{"import-eoir", "--release", rel, "--output", "s3://bucket/out"}, true, sysexit.Unavailable, "storage unavailable"},
		{"import-eoir: output claimed", []string{"import-eoir", "--release", rel, "--output", claimed}, false, sysexit.TempFail, "is claimed by recal run"},
		{"run: corrupt export", runArgs(badExport, t.TempDir()), false, sysexit.DataErr, "part-0.parquet"},
		{"run: export on an unavailable S3", runArgs("s3://bucket/export", t.TempDir()), true, sysexit.Unavailable, "storage unavailable"},
		{"run: output on an unavailable S3", runArgs(sample+"/export", "s3://bucket/out"), true, sysexit.Unavailable, "storage unavailable"},
		{"run: output claimed", runArgs(sample+"/export", claimed), false, sysexit.TempFail, "is claimed by recal run"},
		{"validate: export on an unavailable S3", []string{"validate", "--input", "s3://bucket/export"}, true, sysexit.Unavailable, "storage unavailable"},
		{"merge: output on an unavailable S3", []string{"merge", "--output", "s3://bucket/out", "--shard-count", "2"}, true, sysexit.Unavailable, "storage unavailable"},
		{"merge: shards not committed (checked before any claim)", []string{"merge", "--output", claimed, "--shard-count", "2"}, false, sysexit.NoInput, "has not committed"},
		{"report: run on an unavailable S3", []string{"report", "--run", "s3://bucket/run", "--output", t.TempDir()}, true, sysexit.Unavailable, "storage unavailable"},
		{"gen: usage", []string{"gen", "--rows", "-1", "--output", t.TempDir()}, false, sysexit.Usage, ""},
		{"version", []string{"version"}, false, sysexit.OK, ""},
	}
	for _, tc := range tests {
		if tc.s3Down {
			continue
		}
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := run(t, tc.args...)
			if code != tc.code || !strings.Contains(stderr, tc.stderr) {
				t.Fatalf("exit %d, want %d with %q: %s", code, tc.code, tc.stderr, lastLine(stderr))
			}
		})
	}
	// The unavailable-S3 cases wait out the client's retries (several
	// seconds each, mostly asleep): one child process each, all at once.
	type child struct {
		cmd    *exec.Cmd
		stderr *bytes.Buffer
	}
	children := map[string]child{}
	for _, tc := range tests {
		if tc.s3Down {
			cmd, stderr := childRecal(tc.args, down)
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			children[tc.name] = child{cmd, stderr}
		}
	}
	for _, tc := range tests {
		c, ok := children[tc.name]
		if !ok {
			continue
		}
		c.cmd.Wait()
		if code := c.cmd.ProcessState.ExitCode(); code != tc.code || !strings.Contains(c.stderr.String(), tc.stderr) {
			t.Errorf("%s: exit %d, want %d with %q: %s", tc.name, code, tc.code, tc.stderr, lastLine(c.stderr.String()))
		}
	}
}

// childRecal returns recal (this test binary acting as it) with args and
// the environment changed by env; stderr goes to the returned buffer.
func childRecal(args []string, env map[string]string) (*exec.Cmd, *bytes.Buffer) {
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "RECAL_TEST_AS_RECAL=1")
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	return cmd, &stderr
}
