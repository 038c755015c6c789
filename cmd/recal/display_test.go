package main

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/recal-project/recal/pipeline/metrics/pushgatewaytest"
	"github.com/recal-project/recal/pipeline/progress"
	"github.com/recal-project/recal/pipeline/storage/local"
)

func TestProgressLine(t *testing.T) {
	for _, c := range []struct {
		s    progress.Snapshot
		want string
	}{
		{progress.Snapshot{}, ""},
		{progress.Snapshot{Stage: "load"}, "recal load 3s"},
		{progress.Snapshot{Stage: "read", Objects: 5, ObjectsRead: 2, RowsRead: 1234567, BytesRead: 3 << 20},
			"recal read 3s · read 2/5 objects, 1,234,567 rows, 3.0 MiB"},
		{progress.Snapshot{Stage: "write", Objects: 5, ObjectsRead: 5, RowsRead: 999, BytesRead: 512, Courts: 70, CourtsScheduled: 70, ObjectsWritten: 12, BytesWritten: 5 << 30},
			"recal write 3s · read 5/5 objects, 999 rows, 512 B · scheduled 70/70 courts · wrote 12 objects, 5.0 GiB"},
	} {
		if got := progressLine(c.s, 3*time.Second); got != c.want {
			t.Errorf("progressLine(%+v) = %q, want %q", c.s, got, c.want)
		}
	}
}

// TestDisplayKeepsLogLinesWhole checks that log lines written through the
// display arrive whole, each on its own line, with the progress line
// cleared before and drawn after.
func TestDisplayKeepsLogLinesWhole(t *testing.T) {
	var buf bytes.Buffer
	d := newDisplay(&buf, nil, time.Hour)
	d.shown = true // as if a progress line were on screen
	fmt.Fprint(d, "level=INFO msg=one\n")
	fmt.Fprint(d, "level=INFO msg=two\n")
	d.Close()
	if got, want := buf.String(), "\r\033[Klevel=INFO msg=one\nlevel=INFO msg=two\n"; got != want {
		t.Fatalf("terminal got %q, want %q", got, want)
	}
}

// TestRunPushesMetrics runs recal with --pushgateway against a real
// Pushgateway: a run's rows by outcome and its success time arrive; a
// failed run of the same job then records its exit code and keeps the
// success's time.
func TestRunPushesMetrics(t *testing.T) {
	skipInRacePass(t)
	g := pushgatewaytest.Start(t)
	out := t.TempDir()
	code, _, stderr := run(t, "run", "--input", sample+"/export", "--capacity", sample+"/capacity.csv", "--policy", "castro-tum-2018",
		"--as-of", "2026-01-15", "--output", out, "--pushgateway", g.URL, "--pushgateway-job", "nightly")
	if code != 0 {
		t.Fatalf("run: exit %d: %s", code, stderr)
	}
	m := readManifest(t, local.New(out), "manifest.json")
	lbl := `instance="",job="nightly"`
	if got := g.Value(t, `recal_rows{`+lbl+`,outcome="assigned"}`); got != fmt.Sprint(m.Counts.Assigned) {
		t.Fatalf("pushed assigned rows %s, the manifest has %d", got, m.Counts.Assigned)
	}
	if got := g.Value(t, `recal_rows{`+lbl+`,outcome="input"}`); got != fmt.Sprint(m.Counts.InputRows) {
		t.Fatalf("pushed input rows %s, the manifest has %d", got, m.Counts.InputRows)
	}
	success := g.Value(t, `recal_last_success_timestamp_seconds{`+lbl+`}`)
	if read := g.Value(t, `recal_stage_duration_seconds{`+lbl+`,stage="read"}`); read == "0" {
		t.Fatal("read stage took no time")
	}
	if strings.Contains(stderr, "metrics not pushed") || !strings.Contains(stderr, "metrics pushed") {
		t.Fatalf("log: %s", stderr)
	}
	code, _, _ = run(t, "run", "--input", t.TempDir()+"/none", "--capacity", sample+"/capacity.csv", "--policy", "castro-tum-2018",
		"--as-of", "2026-01-15", "--output", t.TempDir(), "--pushgateway", g.URL, "--pushgateway-job", "nightly")
	if code == 0 {
		t.Fatal("a run without input succeeded")
	}
	if got := g.Value(t, `recal_last_run_exit_code{`+lbl+`}`); got != fmt.Sprint(code) {
		t.Fatalf("pushed exit code %s, the run exited %d", got, code)
	}
	if got := g.Value(t, `recal_last_success_timestamp_seconds{`+lbl+`}`); got != success {
		t.Fatalf("the failure replaced the last success time: %s, was %s", got, success)
	}
	// An unreachable gateway is a warning, not a failed run.
	code, _, stderr = run(t, "run", "--input", sample+"/export", "--capacity", sample+"/capacity.csv", "--policy", "castro-tum-2018",
		"--as-of", "2026-01-15", "--output", out, "--pushgateway", "http://127.0.0.1:1")
	if code != 0 || !strings.Contains(stderr, "metrics not pushed") {
		t.Fatalf("run with an unreachable gateway: exit %d: %s", code, stderr)
	}
}
