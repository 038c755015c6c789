package s3store_test

import (
	"context"
	"io"
	"log"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/recal-project/recal/pipeline/storage/s3store"
	"github.com/recal-project/recal/pipeline/storage/s3store/s3servertest"
)

// TestTLSVerification puts the S3 server behind a TLS endpoint with a self-signed
// certificate: the store must refuse it by default (certificate
// verification on) and reach it only with InsecureSkipVerify, which
// `recal --s3-insecure-skip-verify` sets.
func TestTLSVerification(t *testing.T) {
	srv := s3servertest.Start(t)
	srv.Env(t)
	_, bucket := srv.NewBucket(t, "tls")
	target, err := url.Parse(srv.Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	// The proxy keeps the Host header the client signed for.
	front := httptest.NewUnstartedServer(httputil.NewSingleHostReverseProxy(target))
	front.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshakes are expected
	front.StartTLS()
	defer front.Close()
	ctx := context.Background()
	opts := s3store.Options{Endpoint: front.URL, Region: "us-east-1", MaxAttempts: 2, MaxBackoff: 50 * time.Millisecond}

	st, err := s3store.New(ctx, bucket, "", opts)
	if err != nil {
		t.Fatal(err)
	}
	_, err = st.List(ctx, "")
	if err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("listing through a self-signed endpoint: %v; want a certificate error", err)
	}

	opts.InsecureSkipVerify = true
	st, err = s3store.New(ctx, bucket, "", opts)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.List(ctx, ""); err != nil {
		t.Fatalf("with InsecureSkipVerify: %v", err)
	}
}
