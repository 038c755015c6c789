// Package s3servertest starts a real S3-compatible server on 127.0.0.1 for
// tests: the Versity S3 Gateway (versitygw) over a POSIX directory, an
// S3 server used in production, built from source through the Go module
// proxy. It replaced MinIO, whose build took 253 s from a cold cache
// against versitygw's 109 s, with the same results on every S3 test.
//
// The server binary is found through the RECAL_S3_SERVER environment
// variable, which `make test` sets after installing versitygw into the
// project's tool folder. Without it, tests that need S3 are skipped (plain
// `go test`), and with it they must pass.
package s3servertest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/recal-project/recal/pipeline/storage/s3store"
)

// Server is a running S3 server.
type Server struct {
	// Endpoint is the http://127.0.0.1:PORT URL.
	Endpoint string
	// AccessKey and SecretKey are the root credentials.
	AccessKey, SecretKey string

	cmd *exec.Cmd
	dir string
}

// Main runs a package's tests and then stops the shared server, if one was
// started, and removes its data. Call it from TestMain:
//
//	func TestMain(m *testing.M) { os.Exit(s3servertest.Main(m)) }
func Main(m *testing.M) int {
	code := m.Run()
	if shared != nil {
		shared.stop()
	}
	return code
}

// StartServer starts a private server from the versitygw binary bin, for programs
// that are not tests (the benchmark harness). Stop it with Stop.
func StartServer(bin string) (*Server, error) { return start(bin) }

// Stop kills a server from StartServer and removes its data.
func (s *Server) Stop() { s.stop() }

func (s *Server) stop() {
	s.cmd.Process.Kill()
	s.cmd.Wait()
	os.RemoveAll(s.dir)
}

var (
	once   sync.Once
	shared *Server
	err0   error
)

// Start returns a server shared by the whole test binary, started on
// first use. Main stops it and removes its data dir after the tests; if the
// test binary dies first, the kernel kills the server with it (Linux).
func Start(t testing.TB) *Server {
	t.Helper()
	bin := os.Getenv("RECAL_S3_SERVER")
	if bin == "" {
		t.Skip("RECAL_S3_SERVER is not set; `make test` installs versitygw and sets it")
	}
	once.Do(func() { shared, err0 = start(bin) })
	if err0 != nil {
		t.Fatalf("start the S3 server: %v", err0)
	}
	return shared
}

func start(bin string) (*Server, error) {
	dir, err := os.MkdirTemp("", "recal-s3-")
	if err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	secret := make([]byte, 16)
	rand.Read(secret)
	s := &Server{
		Endpoint:  fmt.Sprintf("http://127.0.0.1:%d", port),
		AccessKey: "recaltest",
		SecretKey: hex.EncodeToString(secret),
		dir:       dir,
	}
	data := filepath.Join(dir, "data")
	if err := os.MkdirAll(data, 0o755); err != nil {
		return nil, err
	}
	// The credentials go through the environment, not the command line
	// (where ps would show them).
	cmd := exec.Command(bin, "--port", fmt.Sprintf("127.0.0.1:%d", port), "posix", data)
	cmd.Env = append(os.Environ(), "ROOT_ACCESS_KEY_ID="+s.AccessKey, "ROOT_SECRET_ACCESS_KEY="+s.SecretKey, "HOME="+dir)
	logf, _ := os.Create(filepath.Join(dir, "server.log"))
	cmd.Stdout, cmd.Stderr = logf, logf
	dieWithParent(cmd)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("run %s: %w", bin, err)
	}
	s.cmd = cmd
	// Ready when it answers HTTP at all (an unsigned request gets an S3
	// error document).
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(s.Endpoint + "/")
		if err == nil {
			resp.Body.Close()
			return s, nil
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(dir, "server.log"))
			s.stop()
			return nil, fmt.Errorf("not answering after 30s: %s", log)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Env sets the standard AWS variables so that code using the default chain
// (as the recal binary does) reaches this server.
func (s *Server) Env(t *testing.T) {
	t.Helper()
	t.Setenv("AWS_ACCESS_KEY_ID", s.AccessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", s.SecretKey)
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_ENDPOINT_URL_S3", s.Endpoint)
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
}

// EnvList returns the same variables for a child process.
func (s *Server) EnvList() []string {
	return []string{
		"AWS_ACCESS_KEY_ID=" + s.AccessKey, "AWS_SECRET_ACCESS_KEY=" + s.SecretKey,
		"AWS_REGION=us-east-1", "AWS_ENDPOINT_URL_S3=" + s.Endpoint, "AWS_EC2_METADATA_DISABLED=true",
	}
}

var bucketSeq struct {
	sync.Mutex
	n int
}

// NewBucket creates a fresh bucket and returns a store rooted at prefix in
// it. The caller must have called Env.
func (s *Server) NewBucket(t *testing.T, prefix string) (*s3store.Store, string) {
	t.Helper()
	bucketSeq.Lock()
	bucketSeq.n++
	name := fmt.Sprintf("recal-test-%d-%d", os.Getpid(), bucketSeq.n)
	bucketSeq.Unlock()
	st, err := s3store.New(context.Background(), name, prefix, s3store.Options{Endpoint: s.Endpoint, Region: "us-east-1", PartSize: 5 << 20})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.CreateBucket(context.Background()); err != nil {
		t.Fatal(err)
	}
	return st, name
}
