// Package faultproxy is an HTTP proxy for tests that stands between an S3
// client and a real S3-compatible server (versitygw on 127.0.0.1 in the tests) and injects
// faults into chosen requests: S3 error responses (503 SlowDown, 500
// InternalError), connections reset before or after the server handled the
// request, response bodies cut short, stalls and slow bandwidth. A Decider
// picks the fault for each request from its method, key and sequence
// number, so a test can make faults transient (every third request) or
// persistent (every GET of one object).
//
// Requests are forwarded with their Host header unchanged, so SigV4
// signatures made for the proxy's address verify at the server.
package faultproxy

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// Kind is a kind of fault.
type Kind int

// The faults. Each is injected instead of, or around, forwarding the
// request to the server.
const (
	None Kind = iota
	// SlowDown answers 503 with S3's SlowDown error, without forwarding.
	SlowDown
	// InternalError answers 500 with S3's InternalError, without forwarding.
	InternalError
	// ResetBefore closes the connection with a TCP reset before forwarding.
	ResetBefore
	// ResetAfter forwards the request, discards the server's answer and
	// resets the connection: the server did the work, the client never
	// hears of it.
	ResetAfter
	// TruncateBody forwards the request and sends the response's headers
	// (with the full Content-Length) but only half of its body, then drops
	// the connection.
	TruncateBody
	// Stall waits Fault.Delay before forwarding (or until the client gives
	// up).
	Stall
	// Slow forwards the response body at Fault.BytesPerSecond.
	Slow
)

var kindNames = [...]string{"none", "503 SlowDown", "500 InternalError", "reset before", "reset after", "truncated body", "stall", "slow"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Fault is what to do to one request.
type Fault struct {
	Kind           Kind
	Delay          time.Duration // Stall
	BytesPerSecond int           // Slow
}

// Request describes a request to the Decider.
type Request struct {
	// Seq numbers the requests the proxy has seen, from 1.
	Seq    int
	Method string
	// Bucket and Key come from the path (path-style addressing).
	Bucket, Key string
	Query       url.Values
	Header      http.Header
}

// Decider chooses the fault for a request. It is called from concurrent
// requests.
type Decider func(Request) Fault

// Proxy is a running fault-injecting proxy.
type Proxy struct {
	// URL is the endpoint to give the S3 client.
	URL    string
	target *url.URL
	decide Decider
	tr     *http.Transport
	srv    *httptest.Server

	mu       sync.Mutex
	seq      int
	injected map[Kind]int
}

// Start starts a proxy to target (an http:// endpoint) and stops it when
// the test ends.
func Start(t testing.TB, target string, decide Decider) *Proxy {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	p := &Proxy{target: u, decide: decide, injected: map[Kind]int{},
		tr: &http.Transport{DisableCompression: true, MaxIdleConnsPerHost: 16}}
	p.srv = httptest.NewServer(p)
	p.URL = p.srv.URL
	t.Cleanup(func() {
		p.srv.CloseClientConnections()
		p.srv.Close()
		p.tr.CloseIdleConnections()
	})
	return p
}

// Injected returns how many faults of each kind were injected so far.
func (p *Proxy) Injected() map[Kind]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make(map[Kind]int, len(p.injected))
	for k, n := range p.injected {
		out[k] = n
	}
	return out
}

// Requests returns how many requests the proxy has seen.
func (p *Proxy) Requests() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.seq
}

// ServeHTTP implements http.Handler.
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	p.seq++
	seq := p.seq
	p.mu.Unlock()
	bucket, key, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	f := p.decide(Request{Seq: seq, Method: r.Method, Bucket: bucket, Key: key, Query: r.URL.Query(), Header: r.Header})
	if f.Kind != None {
		p.mu.Lock()
		p.injected[f.Kind]++
		p.mu.Unlock()
	}
	switch f.Kind {
	case SlowDown:
		s3Error(w, r, http.StatusServiceUnavailable, "SlowDown", "Please reduce your request rate.")
		return
	case InternalError:
		s3Error(w, r, http.StatusInternalServerError, "InternalError", "We encountered an internal error. Please try again.")
		return
	case ResetBefore:
		io.Copy(io.Discard, r.Body)
		reset(w)
		return
	case Stall:
		select {
		case <-time.After(f.Delay):
		case <-r.Context().Done():
			return
		}
	}
	out := r.Clone(r.Context())
	out.RequestURI = ""
	out.URL.Scheme, out.URL.Host = p.target.Scheme, p.target.Host
	out.Host = r.Host // the signature covers the host the client addressed
	resp, err := p.tr.RoundTrip(out)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	if f.Kind == ResetAfter {
		io.Copy(io.Discard, resp.Body)
		reset(w)
		return
	}
	for k, vs := range resp.Header {
		w.Header()[k] = vs
	}
	w.WriteHeader(resp.StatusCode)
	switch f.Kind {
	case TruncateBody:
		n := resp.ContentLength / 2
		if n > 0 {
			io.CopyN(w, resp.Body, n)
		}
		w.(http.Flusher).Flush()
		panic(http.ErrAbortHandler) // drops the connection mid-body
	case Slow:
		bps := max(1, f.BytesPerSecond)
		chunk := max(1, bps/20)
		buf := make([]byte, chunk)
		for {
			n, err := resp.Body.Read(buf)
			if n > 0 {
				if _, werr := w.Write(buf[:n]); werr != nil {
					return
				}
				w.(http.Flusher).Flush()
				time.Sleep(time.Duration(n) * time.Second / time.Duration(bps))
			}
			if err != nil {
				return
			}
		}
	default:
		io.Copy(w, resp.Body)
	}
}

func s3Error(w http.ResponseWriter, r *http.Request, status int, code, msg string) {
	io.Copy(io.Discard, r.Body)
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?>`+"\n"+`<Error><Code>%s</Code><Message>%s</Message><Resource>%s</Resource><RequestId>faultproxy</RequestId></Error>`,
		code, msg, r.URL.Path)
}

// reset closes the client's connection with a TCP RST (SO_LINGER 0).
func reset(w http.ResponseWriter) {
	conn, _, err := w.(http.Hijacker).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		tc.SetLinger(0)
	}
	conn.Close()
}
