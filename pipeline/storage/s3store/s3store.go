// Package s3store implements storage.Store on Amazon S3 and S3-compatible
// stores (MinIO, Ceph, versitygw …) with aws-sdk-go-v2.
//
// Configuration follows the standard AWS chain (environment, shared config
// and credentials files, profiles, IMDS); AWS_ENDPOINT_URL_S3 or
// AWS_ENDPOINT_URL select a custom endpoint, which turns on path-style
// addressing and checksum calculation "when required" (many S3-compatible
// stores reject the SDK's default CRC trailers). Reads are ranged GETs: Open
// fetches the object's last 64 KiB (where a Parquet footer lives) together
// with its size in one request. Writes stream through the SDK's multipart
// uploader; cancelling the context aborts the upload.
package s3store

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/feature/s3/manager"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/recal-project/recal/pipeline/storage"
)

// TailSize is how many bytes at the end of an object Open fetches eagerly.
const TailSize = 64 << 10

// Options tune the client beyond the standard AWS configuration chain.
type Options struct {
	// Endpoint overrides AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL.
	Endpoint string
	// Region overrides AWS_REGION; defaults to us-east-1 when nothing sets it.
	Region string
	// InsecureSkipVerify disables TLS certificate verification. Off unless
	// the user asks for it explicitly.
	InsecureSkipVerify bool
	// MaxAttempts bounds the SDK retryer (exponential backoff with jitter);
	// 0 means 5. A response body cut short is retried as many times.
	MaxAttempts int
	// MaxBackoff caps the wait between attempts; 0 means the SDK's 20 s.
	MaxBackoff time.Duration
	// ResponseTimeout bounds the wait for a response's headers once the
	// request is sent, so that a stalled server fails the attempt (and it is
	// retried) instead of hanging the run; 0 means 60 s.
	ResponseTimeout time.Duration
	// PartSize is the multipart upload part size; 0 means 8 MiB.
	PartSize int64
}

// Store is a storage.Store on one bucket under a key prefix.
type Store struct {
	client *s3.Client
	//lint:ignore SA1019 transfermanager needs an aws-sdk-go-v2 core newer than the proxy serves with our pins (docs/libraries.md)
	uploader *manager.Uploader
	bucket   string
	prefix   string // "" or ending in "/"

	attempts   int
	maxBackoff time.Duration
}

// New connects to bucket, rooting keys at prefix.
func New(ctx context.Context, bucket, prefix string, o Options) (*Store, error) {
	if bucket == "" {
		return nil, errors.New("s3: empty bucket name")
	}
	if prefix != "" {
		if err := storage.ValidPrefix(prefix); err != nil {
			return nil, fmt.Errorf("s3://%s/%s: %w", bucket, prefix, err)
		}
		prefix = strings.TrimSuffix(prefix, "/") + "/"
	}
	attempts := o.MaxAttempts
	if attempts == 0 {
		attempts = 5
	}
	cfg, err := awsConfig(ctx, o, attempts)
	if err != nil {
		return nil, err
	}
	endpoint := o.Endpoint
	if endpoint == "" {
		endpoint = os.Getenv("AWS_ENDPOINT_URL_S3")
	}
	if endpoint == "" {
		endpoint = os.Getenv("AWS_ENDPOINT_URL")
	}
	custom := endpoint != "" || cfg.BaseEndpoint != nil
	client := s3.NewFromConfig(cfg, func(so *s3.Options) {
		if endpoint != "" {
			so.BaseEndpoint = aws.String(endpoint)
		}
		if custom {
			so.UsePathStyle = true
			so.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
			so.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
		}
	})
	partSize := o.PartSize
	if partSize == 0 {
		partSize = 8 << 20
	}
	//lint:ignore SA1019 transfermanager needs an aws-sdk-go-v2 core newer than the proxy serves with our pins (docs/libraries.md)
	up := manager.NewUploader(client, func(u *manager.Uploader) {
		u.PartSize = partSize
		u.Concurrency = 2
		if custom {
			u.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
		}
	})
	backoff := o.MaxBackoff
	if backoff == 0 {
		backoff = 20 * time.Second
	}
	return &Store{client: client, uploader: up, bucket: bucket, prefix: prefix, attempts: attempts, maxBackoff: backoff}, nil
}

// awsConfig loads the SDK's configuration (credentials, region) with
// recal's retries, response timeout and TLS choice.
func awsConfig(ctx context.Context, o Options, attempts int) (aws.Config, error) {
	respTimeout := o.ResponseTimeout
	if respTimeout == 0 {
		respTimeout = 60 * time.Second
	}
	hc := awshttp.NewBuildableClient().WithTransportOptions(func(tr *http.Transport) {
		tr.ResponseHeaderTimeout = respTimeout
		if o.InsecureSkipVerify {
			if tr.TLSClientConfig == nil {
				tr.TLSClientConfig = &tls.Config{}
			}
			tr.TLSClientConfig.InsecureSkipVerify = true //nolint:gosec // explicit user opt-in
		}
	})
	loadOpts := []func(*config.LoadOptions) error{
		config.WithRetryer(func() aws.Retryer {
			return retry.NewStandard(func(so *retry.StandardOptions) {
				so.MaxAttempts = attempts
				if o.MaxBackoff > 0 {
					so.MaxBackoff = o.MaxBackoff
				}
			})
		}),
		config.WithHTTPClient(hc),
	}
	if o.Region != "" {
		loadOpts = append(loadOpts, config.WithRegion(o.Region))
	}
	cfg, err := config.LoadDefaultConfig(ctx, loadOpts...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("s3: load AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	return cfg, nil
}

// bodyRetry runs read, which issues a request and reads its whole body,
// again when the body is cut short: the SDK retries requests that fail,
// not bodies that end early. Waits grow from 50 ms, capped by MaxBackoff.
func (s *Store) bodyRetry(ctx context.Context, read func() error) error {
	wait := 50 * time.Millisecond
	var err error
	for attempt := 1; ; attempt++ {
		var cut *bodyCut
		if err = read(); err == nil || !errors.As(err, &cut) || attempt >= s.attempts {
			return err
		}
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return err
		}
		wait = min(2*wait, s.maxBackoff)
	}
}

// bodyCut marks a response body that ended before its length.
type bodyCut struct{ err error }

func (b *bodyCut) Error() string { return b.err.Error() }
func (b *bodyCut) Unwrap() error { return b.err }

// String returns the store's s3:// URI.
func (s *Store) String() string { return "s3://" + s.bucket + "/" + s.prefix }

func (s *Store) full(key string) (string, error) {
	if err := storage.ValidKey(key); err != nil {
		return "", err
	}
	return s.prefix + key, nil
}

// classify wraps SDK errors with the storage sentinels.
func classify(op, key string, err error) error {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		switch ae.ErrorCode() {
		case "NoSuchKey", "NotFound", "NoSuchBucket":
			return fmt.Errorf("%s %s: %w (%s)", op, key, storage.ErrNotExist, ae.ErrorCode())
		case "PreconditionFailed", "ConditionalRequestConflict":
			return fmt.Errorf("%s %s: %w", op, key, storage.ErrExist)
		}
	}
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		switch code := re.HTTPStatusCode(); {
		case code == http.StatusNotFound:
			return fmt.Errorf("%s %s: %w", op, key, storage.ErrNotExist)
		case code == http.StatusPreconditionFailed:
			return fmt.Errorf("%s %s: %w", op, key, storage.ErrExist)
		case code >= 500 || code == http.StatusTooManyRequests:
			return fmt.Errorf("%s %s: %w: %w", op, key, storage.ErrUnavailable, err)
		}
	}
	var ne net.Error
	var oe *net.OpError
	if errors.As(err, &oe) || errors.As(err, &ne) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%s %s: %w: %w", op, key, storage.ErrUnavailable, err)
	}
	var me *retry.MaxAttemptsError
	if errors.As(err, &me) {
		return fmt.Errorf("%s %s: %w: %w", op, key, storage.ErrUnavailable, err)
	}
	return fmt.Errorf("%s %s: %w", op, key, err)
}

// List implements storage.Store, paging with ListObjectsV2.
func (s *Store) List(ctx context.Context, prefix string) ([]storage.ObjectInfo, error) {
	if err := storage.ValidPrefix(prefix); err != nil {
		return nil, err
	}
	p := s3.NewListObjectsV2Paginator(s.client, &s3.ListObjectsV2Input{
		Bucket: aws.String(s.bucket),
		Prefix: aws.String(s.prefix + prefix),
	})
	var out []storage.ObjectInfo
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, classify("list", s.String()+prefix, err)
		}
		for _, o := range page.Contents {
			key := strings.TrimPrefix(aws.ToString(o.Key), s.prefix)
			if storage.ValidKey(key) != nil {
				continue // keys such as "a//b" cannot be addressed safely
			}
			out = append(out, storage.ObjectInfo{Key: key, Size: aws.ToInt64(o.Size), ETag: strings.Trim(aws.ToString(o.ETag), `"`)})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}

// Stat implements storage.Store.
func (s *Store) Stat(ctx context.Context, key string) (storage.ObjectInfo, error) {
	full, err := s.full(key)
	if err != nil {
		return storage.ObjectInfo{}, err
	}
	h, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(full)})
	if err != nil {
		return storage.ObjectInfo{}, classify("stat", key, err)
	}
	return storage.ObjectInfo{Key: key, Size: aws.ToInt64(h.ContentLength), ETag: strings.Trim(aws.ToString(h.ETag), `"`)}, nil
}

// Open implements storage.Store. It issues one suffix-range GET that returns
// both the object's size (Content-Range) and its last TailSize bytes.
func (s *Store) Open(ctx context.Context, key string) (storage.ReaderAt, error) {
	full, err := s.full(key)
	if err != nil {
		return nil, err
	}
	r := &reader{ctx: ctx, s: s, key: key, full: full}
	err = s.bodyRetry(ctx, func() error {
		out, err := s.client.GetObject(ctx, &s3.GetObjectInput{
			Bucket: aws.String(s.bucket), Key: aws.String(full),
			Range: aws.String("bytes=-" + strconv.Itoa(TailSize)),
		})
		if err != nil {
			var re *awshttp.ResponseError
			if errors.As(err, &re) && re.HTTPStatusCode() == http.StatusRequestedRangeNotSatisfiable {
				info, err := s.Stat(ctx, key) // an empty object
				if err != nil {
					return err
				}
				r.size = info.Size
				return nil
			}
			return classify("open", key, err)
		}
		defer out.Body.Close()
		total, err := totalFromContentRange(aws.ToString(out.ContentRange))
		if err != nil {
			// Servers that ignore Range send the whole object.
			total = aws.ToInt64(out.ContentLength)
		}
		tail, err := io.ReadAll(out.Body)
		if err == nil && out.ContentLength != nil && int64(len(tail)) != *out.ContentLength {
			err = io.ErrUnexpectedEOF
		}
		if err != nil {
			return classify("open", key, &bodyCut{fmt.Errorf("body after %d bytes: %w", len(tail), err)})
		}
		r.size = total
		r.tail = tail
		r.tailOff = total - int64(len(tail))
		return nil
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

func totalFromContentRange(cr string) (int64, error) {
	i := strings.LastIndexByte(cr, '/')
	if i < 0 || cr[i+1:] == "*" {
		return 0, fmt.Errorf("no total in Content-Range %q", cr)
	}
	return strconv.ParseInt(cr[i+1:], 10, 64)
}

type reader struct {
	ctx     context.Context
	s       *Store
	key     string
	full    string
	size    int64
	tail    []byte
	tailOff int64
}

func (r *reader) Size() int64  { return r.size }
func (r *reader) Close() error { return nil }

// ReadAt serves reads inside the cached tail from memory and others with a
// ranged GET; a body cut short is retried with backoff (the SDK retries
// requests, not bodies).
func (r *reader) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("read %s: negative offset", r.key)
	}
	if off >= r.size {
		return 0, io.EOF
	}
	want := len(p)
	var short error
	if off+int64(want) > r.size {
		want = int(r.size - off)
		short = io.EOF
	}
	if off >= r.tailOff && r.tail != nil {
		n := copy(p[:want], r.tail[off-r.tailOff:])
		return n, short
	}
	if want == 0 {
		return 0, short
	}
	var n int
	err := r.s.bodyRetry(r.ctx, func() error {
		var err error
		n, err = r.get(p[:want], off)
		return err
	})
	if err != nil {
		return 0, err
	}
	return n, short
}

func (r *reader) get(p []byte, off int64) (int, error) {
	out, err := r.s.client.GetObject(r.ctx, &s3.GetObjectInput{
		Bucket: aws.String(r.s.bucket), Key: aws.String(r.full),
		Range: aws.String(fmt.Sprintf("bytes=%d-%d", off, off+int64(len(p))-1)),
	})
	if err != nil {
		return 0, classify("read", r.key, err)
	}
	defer out.Body.Close()
	n, err := io.ReadFull(out.Body, p)
	if err != nil {
		return n, classify("read", r.key, &bodyCut{fmt.Errorf("body after %d of %d bytes: %w", n, len(p), io.ErrUnexpectedEOF)})
	}
	return n, nil
}

// Create implements storage.Store with a multipart upload fed through a
// pipe. Close waits for the upload; cancelling ctx aborts it.
func (s *Store) Create(ctx context.Context, key string) (io.WriteCloser, error) {
	full, err := s.full(key)
	if err != nil {
		return nil, err
	}
	pr, pw := io.Pipe()
	w := &writer{pw: pw, key: key, done: make(chan struct{})}
	w.stop = context.AfterFunc(ctx, func() { pw.CloseWithError(fmt.Errorf("upload %s aborted: %w", key, context.Cause(ctx))) })
	go func() {
		defer close(w.done)
		//lint:ignore SA1019 transfermanager needs an aws-sdk-go-v2 core newer than the proxy serves with our pins (docs/libraries.md)
		_, err := s.uploader.Upload(ctx, &s3.PutObjectInput{
			Bucket: aws.String(s.bucket), Key: aws.String(full), Body: pr,
		})
		if err != nil {
			w.err = classify("upload", key, err)
		}
		pr.CloseWithError(errors.Join(w.err, io.ErrClosedPipe))
	}()
	return w, nil
}

type writer struct {
	pw     *io.PipeWriter
	key    string
	done   chan struct{}
	err    error // set by the upload goroutine before done closes
	stop   func() bool
	closed sync.Once
}

func (w *writer) Write(p []byte) (int, error) {
	n, err := w.pw.Write(p)
	if err != nil {
		<-w.done
		if w.err != nil {
			return n, w.err
		}
		return n, fmt.Errorf("write %s: %w", w.key, err)
	}
	return n, nil
}

func (w *writer) Close() error {
	var err error
	w.closed.Do(func() {
		w.pw.Close()
		<-w.done
		w.stop()
		err = w.err
	})
	return err
}

// CreateExclusive implements storage.Store with a conditional PutObject
// (If-None-Match: *), which S3, MinIO and versitygw enforce atomically.
func (s *Store) CreateExclusive(ctx context.Context, key string, data []byte) error {
	full, err := s.full(key)
	if err != nil {
		return err
	}
	_, err = s.client.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String(s.bucket), Key: aws.String(full),
		Body: bytes.NewReader(data), ContentLength: aws.Int64(int64(len(data))),
		IfNoneMatch: aws.String("*"),
	})
	if err != nil {
		return classify("create", key, err)
	}
	return nil
}

// Delete implements storage.Store.
func (s *Store) Delete(ctx context.Context, key string) error {
	full, err := s.full(key)
	if err != nil {
		return err
	}
	if _, err := s.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(full)}); err != nil {
		err = classify("delete", key, err)
		if errors.Is(err, storage.ErrNotExist) {
			return nil
		}
		return err
	}
	return nil
}

// CreateBucket creates the bucket if it does not exist (used by tests and
// `recal gen` against a fresh server).
func (s *Store) CreateBucket(ctx context.Context) error {
	_, err := s.client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(s.bucket)})
	if err != nil {
		var ae smithy.APIError
		if errors.As(err, &ae) && (ae.ErrorCode() == "BucketAlreadyOwnedByYou" || ae.ErrorCode() == "BucketAlreadyExists") {
			return nil
		}
		return classify("create bucket", s.bucket, err)
	}
	return nil
}
