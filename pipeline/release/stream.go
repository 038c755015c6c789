package release

import (
	"context"
	"fmt"
	"io"
	"sync"

	"github.com/recal-project/recal/pipeline/progress"
	"github.com/recal-project/recal/pipeline/storage"
)

// chunkSize is what one read from storage fetches (one ranged GET on S3),
// and readDepth how many such chunks a stream holds ready ahead of its
// reader: storage latency overlaps decoding, and a stream's memory is
// (readDepth+2) chunks whatever the file's size.
const (
	chunkSize = 4 << 20
	readDepth = 2
)

// pipe is a stream of chunks that one producer goroutine fills and Read
// consumes in order. Its buffers are recycled: it never holds more than
// depth+1 of them. The producer stops at the end of its data, at its first
// error, or when the pipe's context is cancelled (Close).
type pipe struct {
	full chan []byte // filled chunks, in order; closed after the last
	free chan []byte // buffers returned to the producer
	cur  []byte      // what is left of the chunk being read
	buf  []byte      // cur's whole buffer, to return
	// err is the producer's last word (io.EOF at a clean end); Read sees
	// it after full is closed.
	err    error
	done   chan struct{} // closed when the producer has returned
	mu     sync.Mutex
	failed error // the producer's error other than io.EOF (failure)
}

// fillFunc fills buf from the start and returns how many bytes it wrote;
// io.EOF (with or without bytes) ends the stream.
type fillFunc func(ctx context.Context, buf []byte) (int, error)

// newPipe starts fill in a goroutine that lives until the data ends, fill
// fails or ctx is cancelled.
func newPipe(ctx context.Context, size, depth int, fill fillFunc) *pipe {
	p := &pipe{full: make(chan []byte, depth), free: make(chan []byte, depth+1), done: make(chan struct{})}
	for range depth + 1 {
		p.free <- make([]byte, size)
	}
	go p.run(ctx, fill)
	return p
}

func (p *pipe) run(ctx context.Context, fill fillFunc) {
	defer close(p.done)
	defer close(p.full)
	for {
		var buf []byte
		select {
		case buf = <-p.free:
		case <-ctx.Done():
			p.stop(ctx.Err())
			return
		}
		n, err := fill(ctx, buf[:cap(buf)])
		if n > 0 {
			select {
			case p.full <- buf[:n]:
			case <-ctx.Done():
				p.stop(ctx.Err())
				return
			}
		} else {
			p.free <- buf // there is room: it came from there
		}
		if err != nil {
			p.stop(err)
			return
		}
	}
}

// stop records the producer's last word.
func (p *pipe) stop(err error) {
	p.err = err
	if err != io.EOF {
		p.mu.Lock()
		p.failed = err
		p.mu.Unlock()
	}
}

// failure returns the producer's error so far (nil: none yet, or a clean
// end). It is safe to call while the producer runs.
func (p *pipe) failure() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.failed
}

// Read reads the chunks in order, then returns the producer's last word.
func (p *pipe) Read(b []byte) (int, error) {
	for len(p.cur) == 0 {
		if p.buf != nil {
			p.free <- p.buf[:cap(p.buf)] // never blocks: free holds every buffer
			p.buf = nil
		}
		c, ok := <-p.full
		if !ok {
			return 0, p.err
		}
		p.cur, p.buf = c, c
	}
	n := copy(b, p.cur)
	p.cur = p.cur[n:]
	return n, nil
}

// wait drains the pipe until its producer has returned (its context must
// be cancelled first, or its data read to the end).
func (p *pipe) wait() {
	for range p.full {
	}
	<-p.done
}

// stream is a ReadCloser over pipes that share one context: Close cancels
// it, waits for every producer, then runs closer.
type stream struct {
	io.Reader
	cancel context.CancelFunc
	pipes  []*pipe
	closer func() error
	closed bool
}

func (s *stream) Close() error {
	if s.closed {
		return nil
	}
	s.closed = true
	s.cancel()
	for _, p := range s.pipes {
		p.wait()
	}
	if s.closer != nil {
		return s.closer()
	}
	return nil
}

// rangeFill reads [off, off+n) of ra, chunk by chunk, for a pipe. A read
// that ends early is io.ErrUnexpectedEOF: the object is shorter than its
// listing or its zip directory says.
func rangeFill(name string, ra storage.ReaderAt, off, n int64, prog *progress.Progress) fillFunc {
	pos, end := off, off+n
	return func(_ context.Context, buf []byte) (int, error) {
		if pos >= end {
			return 0, io.EOF
		}
		want := int(min(int64(len(buf)), end-pos))
		got, err := ra.ReadAt(buf[:want], pos)
		pos += int64(got)
		prog.ReadBytes(int64(got))
		switch {
		case got == want:
			if pos == end {
				return got, io.EOF
			}
			return got, nil
		case err == nil || err == io.EOF:
			return got, fmt.Errorf("read %s: %w after %d of %d bytes", name, io.ErrUnexpectedEOF, pos-off, n)
		}
		return got, fmt.Errorf("read %s: %w", name, err)
	}
}

// readAhead streams [off, off+n) of ra, readDepth chunks ahead of the
// reader; Close stops it and then calls closer.
func readAhead(ctx context.Context, name string, ra storage.ReaderAt, off, n int64, prog *progress.Progress, closer func() error) io.ReadCloser {
	ctx, cancel := context.WithCancel(ctx)
	p := newPipe(ctx, chunkSize, readDepth, rangeFill(name, ra, off, n, prog))
	return &stream{Reader: p, cancel: cancel, pipes: []*pipe{p}, closer: closer}
}
