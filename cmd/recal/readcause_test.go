package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/recal-project/recal/pipeline/location"
	"github.com/recal-project/recal/pipeline/storage"
	"github.com/recal-project/recal/pipeline/storage/s3store/faultproxy"
	"github.com/recal-project/recal/pipeline/storage/s3store/s3servertest"
)

// exportReads is a faultproxy whose decider hands every ranged GET of an
// export object, numbered from 1 per run, to the current hook.
type exportReads struct {
	mu    sync.Mutex
	n     int
	hook  func(n int, r faultproxy.Request) faultproxy.Fault
	proxy *faultproxy.Proxy
}

func startExportReads(t *testing.T, srv *s3servertest.Server) *exportReads {
	e := &exportReads{}
	e.proxy = faultproxy.Start(t, srv.Endpoint, func(r faultproxy.Request) faultproxy.Fault {
		if r.Method != "GET" || !strings.Contains(r.Key, "/export/") || r.Header.Get("Range") == "" {
			return faultproxy.Fault{}
		}
		e.mu.Lock()
		e.n++
		n, hook := e.n, e.hook
		e.mu.Unlock()
		if hook == nil {
			return faultproxy.Fault{}
		}
		return hook(n, r)
	})
	return e
}

// set resets the count and installs hook (nil: count only).
func (e *exportReads) set(hook func(n int, r faultproxy.Request) faultproxy.Fault) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.n, e.hook = 0, hook
}

func (e *exportReads) count() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.n
}

// readStageSetup puts the sample (five objects, five codecs, one of them
// LZ4_RAW for the parquet-go decoder) on the S3 server and returns the
// arguments of a run whose input is read through the proxy.
func readStageSetup(t *testing.T) (*s3servertest.Server, *exportReads, func(out string, extra ...string) []string, func(out string) storage.Store) {
	srv := s3servertest.Start(t)
	srv.Env(t)
	inStore, bucket := srv.NewBucket(t, "in")
	putFiles(t, inStore, sample, "export/part-00000.parquet", "export/part-00001.parquet", "export/part-00002.parquet",
		"export/part-00003.parquet", "export/part-00004.parquet", "capacity.csv", "closures.csv")
	reads := startExportReads(t, srv)
	args := func(out string, extra ...string) []string {
		a := []string{"run", "--input", "s3://" + bucket + "/in/export", "--capacity", "s3://" + bucket + "/in/capacity.csv",
			"--closures", "s3://" + bucket + "/in/closures.csv", "--policy", "castro-tum-2018", "--as-of", "2026-01-15",
			"--workers", "2", "--output", "s3://" + bucket + "/" + out}
		return append(a, extra...)
	}
	open := func(out string) storage.Store {
		st, err := location.Open(context.Background(), "s3://"+bucket+"/"+out, location.Options{})
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	return srv, reads, args, open
}

// child returns recal (this test binary acting as it) reading through the
// proxy; stderr goes to the returned buffer.
func child(reads *exportReads, args []string) (*exec.Cmd, *bytes.Buffer) {
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "RECAL_TEST_AS_RECAL=1", "AWS_ENDPOINT_URL_S3="+reads.proxy.URL)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	return cmd, &stderr
}

// nothingCommitted fails the test if out holds _SUCCESS or a manifest.
func nothingCommitted(t *testing.T, st storage.Store) {
	t.Helper()
	for _, k := range []string{"_SUCCESS", "manifest.json"} {
		if _, err := st.Stat(context.Background(), k); !errors.Is(err, storage.ErrNotExist) {
			t.Errorf("%s after a stopped run (stat: %v)", k, err)
		}
	}
}

// TestSIGTERMAnywhereInTheReadStage sends SIGTERM to `recal run` at points
// spread over its whole read stage on the S3 server: at the k-th ranged
// read of the export (footers and column chunks, both decoders), for k
// spread from the first read to the last, either while that GET is held
// in flight or as it is answered (so that the signal lands during
// decoding). Every run must exit 75 with nothing committed, and no error
// may blame the data.
func TestSIGTERMAnywhereInTheReadStage(t *testing.T) {
	skipInRacePass(t)
	_, reads, args, open := readStageSetup(t)
	ref, stderr := child(reads, args("reference"))
	if err := ref.Run(); err != nil {
		t.Fatalf("reference run: %v\n%s", err, stderr)
	}
	total := reads.count()
	if total < 10 {
		t.Fatalf("the read stage made %d ranged reads: too few points to spread over", total)
	}
	const points = 14
	for p := 0; p < points; p++ {
		k := 1 + p*(total-1)/(points-1)
		held := p%2 == 0
		t.Run(fmt.Sprintf("read %d of %d, held %v", k, total, held), func(t *testing.T) {
			out := fmt.Sprintf("term-%02d", p)
			cmd, stderr := child(reads, args(out))
			var mu sync.Mutex
			var signalled time.Time
			reads.set(func(n int, r faultproxy.Request) faultproxy.Fault {
				if n != k {
					return faultproxy.Fault{}
				}
				cmd.Process.Signal(syscall.SIGTERM)
				mu.Lock()
				signalled = time.Now()
				mu.Unlock()
				if held {
					return faultproxy.Fault{Kind: faultproxy.Stall, Delay: 3 * time.Second}
				}
				return faultproxy.Fault{}
			})
			defer reads.set(nil)
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			cmd.Wait()
			code := cmd.ProcessState.ExitCode()
			mu.Lock()
			when := signalled
			mu.Unlock()
			if when.IsZero() {
				t.Fatalf("read %d never came (exit %d): %s", k, code, lastLine(stderr.String()))
			}
			if code != 75 {
				t.Errorf("exit %d, want 75: %s", code, lastLine(stderr.String()))
			}
			for _, blamed := range []string{"corrupt", "decoded rows differ", "schema mismatch", "quarantin"} {
				if strings.Contains(stderr.String(), blamed) {
					t.Errorf("a cancellation blamed the data (%q): %s", blamed, lastLine(stderr.String()))
				}
			}
			if took := time.Since(when); took > 5*time.Second {
				t.Errorf("took %s to exit after SIGTERM", took)
			}
			nothingCommitted(t, open(out))
		})
	}
}
