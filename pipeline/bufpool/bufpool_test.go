package bufpool

import (
	"sync"
	"testing"
	"unsafe"
)

func TestClassOf(t *testing.T) {
	for _, tc := range []struct{ size, class, n int }{
		{0, -1, 0},
		{minPooled - 1, -1, 0},
		{4096, 12*steps - 1, 4096},
		{4097, 12 * steps, 5120},
		{5120, 12 * steps, 5120},
		{5121, 12*steps + 1, 6144},
		{8192, 13*steps - 1, 8192},
		{655360, 19 * steps, 655360},
		{1 << 20, 20*steps - 1, 1 << 20},
		{1 << maxPooledBits, (maxPooledBits)*steps - 1, 1 << maxPooledBits},
		{1<<maxPooledBits + 1, -1, 0},
	} {
		c, n := classOf(tc.size)
		if c != tc.class || n != tc.n {
			t.Errorf("classOf(%d) = %d, %d; want %d, %d", tc.size, c, n, tc.class, tc.n)
		}
		if c >= 0 && (n < tc.size || n > tc.size+tc.size/4+1) {
			t.Errorf("classOf(%d): buffer of %d bytes", tc.size, n)
		}
	}
}

// TestReuse checks arrow's contract on reused buffers: aligned, zeroed to
// their capacity (Reallocate may grow into it), the same memory handed out
// again after Free.
func TestReuse(t *testing.T) {
	var p Pool
	for _, size := range []int{1, 100, minPooled, 70_000, 1 << 20} {
		reused := false
		// sync.Pool may drop what it is given (under -race, one Put in
		// four on purpose): try until one comes back.
		for try := 0; try < 100 && !reused; try++ {
			b := p.Allocate(size)
			if len(b) != size {
				t.Fatalf("Allocate(%d): len %d", size, len(b))
			}
			checkBuffer(t, b)
			full := b[:cap(b)]
			for i := range full {
				full[i] = 0xFF
			}
			p.Free(b)
			c := p.Allocate(size)
			checkBuffer(t, c)
			reused = unsafe.SliceData(c) == unsafe.SliceData(b)
			p.Free(c)
		}
		if size >= minPooled && !reused {
			t.Errorf("Allocate(%d): a freed buffer was never reused", size)
		}
	}
}

func checkBuffer(t *testing.T, b []byte) {
	t.Helper()
	if len(b) > 0 && uintptr(unsafe.Pointer(unsafe.SliceData(b)))%alignment != 0 {
		t.Fatalf("buffer of %d bytes not %d-byte aligned", len(b), alignment)
	}
	for i, v := range b[:cap(b)] {
		if v != 0 {
			t.Fatalf("buffer of %d bytes: byte %d of %d is %#x, not zero", len(b), i, cap(b), v)
		}
	}
}

func TestReallocate(t *testing.T) {
	var p Pool
	b := p.Allocate(5000)
	for i := range b {
		b[i] = byte(i)
	}
	if g := p.Reallocate(5100, b); unsafe.SliceData(g) != unsafe.SliceData(b) || len(g) != 5100 || g[4999] != byte(4999%256) || g[5050] != 0 {
		t.Fatal("growing within the class did not keep the buffer, its bytes and zeroed rest")
	}
	g := p.Reallocate(9000, b)
	if len(g) != 9000 || g[4999] != byte(4999%256) || g[8999] != 0 {
		t.Fatal("growing past the class lost the bytes or did not zero the rest")
	}
	for i, v := range g[5000:cap(g)] {
		if v != 0 {
			t.Fatalf("byte %d of the grown buffer is %#x", 5000+i, v)
		}
	}
	if s := p.Reallocate(10, g); len(s) != 10 || s[9] != 9 {
		t.Fatal("shrinking lost the bytes")
	}
}

// TestConcurrent hands buffers between goroutines (run with -race): no
// buffer is ever given to two holders at once.
func TestConcurrent(t *testing.T) {
	var p Pool
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 2000 {
				b := p.Allocate(4096 + (i*g)%20000)
				checkBuffer(t, b)
				for k := range b {
					b[k] = byte(g + 1)
				}
				for k := range b {
					if b[k] != byte(g+1) {
						t.Errorf("goroutine %d: buffer written by another holder", g)
						return
					}
				}
				p.Free(b)
			}
		}()
	}
	wg.Wait()
}
