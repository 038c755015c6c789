// Package pushgatewaytest starts a real Prometheus Pushgateway on
// 127.0.0.1 for tests: the binary named by RECAL_PUSHGATEWAY (make test
// extracts Debian's prometheus-pushgateway into .tools/bin).
package pushgatewaytest

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// Gateway is a running Pushgateway.
type Gateway struct {
	// URL is its base URL, http://127.0.0.1:PORT.
	URL string
}

// Start starts a Pushgateway for the test (stopped at its end), or skips
// the test when RECAL_PUSHGATEWAY is not set.
func Start(t *testing.T) *Gateway {
	t.Helper()
	bin := os.Getenv("RECAL_PUSHGATEWAY")
	if bin == "" {
		t.Skip("RECAL_PUSHGATEWAY is not set; `make test` installs Debian's prometheus-pushgateway and sets it")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	cmd := exec.Command(bin, "--web.listen-address="+addr)
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatalf("start pushgateway: %v", err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	g := &Gateway{URL: "http://" + addr}
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(g.URL + "/-/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return g
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("pushgateway on %s not ready: %v", addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Metrics returns the gateway's exposition lines (comments left out) whose
// metric name starts with prefix.
func (g *Gateway) Metrics(t *testing.T, prefix string) []string {
	t.Helper()
	resp, err := http.Get(g.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %s", resp.Status)
	}
	var out []string
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if l := sc.Text(); strings.HasPrefix(l, prefix) {
			out = append(out, l)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// Value returns the value of the series whose line starts with series
// (name and labels as the gateway prints them), or fails the test.
func (g *Gateway) Value(t *testing.T, series string) string {
	t.Helper()
	for _, l := range g.Metrics(t, series) {
		if strings.HasPrefix(l, series+" ") {
			return strings.TrimPrefix(l, series+" ")
		}
	}
	t.Fatalf("no series %s at the gateway; it has:\n%s", series, strings.Join(g.Metrics(t, "recal_"), "\n"))
	return ""
}

// String describes the gateway.
func (g *Gateway) String() string { return fmt.Sprintf("pushgateway at %s", g.URL) }
