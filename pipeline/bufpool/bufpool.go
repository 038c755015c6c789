// Package bufpool is an allocator for arrow's buffers (arrow's
// memory.Allocator method set) that keeps the buffers arrow frees and
// hands them out again.
//
// Arrow's Go allocator makes a new zeroed slice for every buffer and drops
// it on Free. Decoding and encoding millions of rows then allocates many
// gigabytes of short-lived buffers (13 GB for a 10M-row run), which costs
// twice: every new large slice is page-faulted in and zeroed, and the
// allocation rate sets how often the garbage collector runs. A Pool reuses
// a freed buffer of the same size class, still in cache, instead.
//
// A Pool keeps arrow's contract: buffers are 64-byte aligned and read as
// zero, also where Reallocate grows one in place. Buffers sit in
// sync.Pools, so an idle Pool gives its memory back to the garbage
// collector within two cycles; nothing needs closing.
//
// The Pool trusts its callers' Free, as arrow's reference counting does:
// a buffer freed while still in use, or freed twice, would be handed to
// another user. Arrow arrays must therefore not be read after their last
// Release, and strings taken from them without copying must be copied
// before it (recal's decoder does: it interns copies).
//
// Arrow v15 itself breaks that rule in two places, harmless only with an
// allocator whose Free does nothing. Neither may be given a Pool:
//   - the Parquet page reader (parquet.ReaderProperties' allocator)
//     releases a page's buffer as it returns the page, before the page is
//     decoded (serializedPageReader.Next's deferred buf.Release);
//   - the Parquet writer's byte-array statistics keep the min and max as
//     slices of the written arrow array (ByteArrayStatistics.SetMinMax), and
//     read them when the footer is written, long after the array's release:
//     the builders of the arrays handed to pqarrow's FileWriter.
//
// bufpooltest.Poison finds such uses: it overwrites every buffer it is
// given back, so output read from freed memory differs.
package bufpool

import (
	"math/bits"
	"sync"
	"unsafe"
)

const (
	// minPooled is the smallest request a Pool reuses buffers for; smaller
	// ones are left to the Go allocator, whose own size classes serve
	// them well.
	minPooled = 4 << 10
	// maxPooledBits bounds the pooled sizes (1 GiB); larger requests are
	// allocated and dropped.
	maxPooledBits = 30
	// steps is how many size classes each power of two is cut into:
	// rounding up wastes at most a quarter of a buffer.
	steps     = 4
	alignment = 64
)

// Pool is an arrow memory.Allocator that reuses freed buffers. The zero
// value is ready to use; a Pool is safe for concurrent use and must not be
// copied after first use.
type Pool struct {
	classes [(maxPooledBits + 1) * steps]sync.Pool // of *[]byte, each of its class's size
}

// classOf returns the size class of a request of size bytes and the class's
// buffer size, or -1 when such requests are not pooled.
func classOf(size int) (int, int) {
	if size < minPooled || size > 1<<maxPooledBits {
		return -1, 0
	}
	k := bits.Len(uint(size - 1)) // 1<<k >= size > 1<<(k-1)
	base := 1 << (k - 1)
	step := base / steps
	j := (size - base + step - 1) / step // 1..steps
	return (k-1)*steps + j - 1, base + j*step
}

// Allocate returns a zeroed, 64-byte aligned buffer of size bytes.
func (p *Pool) Allocate(size int) []byte {
	c, n := classOf(size)
	if c < 0 {
		return Aligned(size)
	}
	if v := p.classes[c].Get(); v != nil {
		b := *v.(*[]byte)
		clear(b) // all of it: Reallocate may grow into the rest in place
		return b[:size]
	}
	b := make([]byte, n)
	if uintptr(unsafe.Pointer(&b[0]))%alignment != 0 {
		return Aligned(size) // the Go allocator aligns these sizes; never seen otherwise
	}
	return b[:size]
}

// Reallocate resizes b to size bytes: in place when its capacity allows,
// as arrow's Go allocator does, else into a new buffer. The old buffer is
// left to the garbage collector, not reused: arrow frees what it releases,
// but nothing says a grown buffer's old bytes are no longer referenced.
func (p *Pool) Reallocate(size int, b []byte) []byte {
	if size <= cap(b) {
		return b[:size]
	}
	nb := p.Allocate(size)
	copy(nb, b)
	return nb
}

// Free takes b back for reuse. b must be a buffer this Pool returned and
// nothing may use it afterwards.
func (p *Pool) Free(b []byte) {
	c, n := classOf(cap(b))
	if c < 0 || n != cap(b) {
		return // not of a class: left to the garbage collector
	}
	b = b[:n]
	p.classes[c].Put(&b)
}

// Aligned is what arrow's Go allocator gives: a new zeroed slice of size
// bytes, 64-byte aligned, whose capacity is exactly size.
func Aligned(size int) []byte {
	buf := make([]byte, size+alignment)
	shift := 0
	if r := int(uintptr(unsafe.Pointer(&buf[0])) % alignment); r != 0 {
		shift = alignment - r
	}
	return buf[shift : shift+size : shift+size]
}
