// Package bufpooltest holds the allocator that tests use to prove that code
// handed a reusing allocator (bufpool.Pool) never reads a buffer after
// freeing it.
package bufpooltest

import (
	"sync/atomic"

	"github.com/recal-project/recal/pipeline/bufpool"
)

// PoisonByte is what Poison overwrites freed buffers with.
const PoisonByte = 0xA5

// Poison is an arrow memory.Allocator that never reuses a buffer but
// overwrites each one, to its capacity, with PoisonByte when it is freed:
// whatever reads a buffer after its Free reads garbage, so its output
// differs from a run with arrow's Go allocator. The zero value is ready to
// use and safe for concurrent use.
type Poison struct {
	allocs, frees atomic.Int64
}

// Allocate returns a new zeroed, 64-byte aligned buffer.
func (p *Poison) Allocate(size int) []byte {
	p.allocs.Add(1)
	return bufpool.Aligned(size)
}

// Reallocate reslices b when it is large enough, else copies it into a new
// buffer (the old one is not freed, as bufpool.Pool does not free it).
func (p *Poison) Reallocate(size int, b []byte) []byte {
	if size <= cap(b) {
		return b[:size]
	}
	nb := p.Allocate(size)
	copy(nb, b)
	return nb
}

// Free poisons b.
func (p *Poison) Free(b []byte) {
	p.frees.Add(1)
	b = b[:cap(b)]
	for i := range b {
		b[i] = PoisonByte
	}
}

// Frees reports how many buffers were freed (and poisoned): a test that
// expects use-after-free to be caught checks that frees happened at all.
func (p *Poison) Frees() int64 { return p.frees.Load() }
