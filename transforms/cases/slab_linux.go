//go:build linux

package cases

import (
	"syscall"
	"unsafe"
)

// NewSlab returns a zeroed slice of n case records outside the Go heap,
// and a function that returns its memory. Case holds no pointers, so the
// collector never needs to see it.
//
// At millions of records this matters twice over: the memory comes zeroed
// from the kernel and is faulted in by whichever goroutine first writes
// each part (make zeroes the whole slice on the calling goroutine first),
// and it is advised for transparent huge pages, so that sorting,
// partitioning and the writers' random access miss the TLB far less. If
// the mapping fails it falls back to make.
//
// The caller must not use the slice, or any pointer into it, after calling
// free.
func NewSlab(n int) (s []Case, free func()) {
	size := n * int(unsafe.Sizeof(Case{}))
	if size < 4<<20 {
		return make([]Case, n), func() {}
	}
	mem, err := syscall.Mmap(-1, 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		return make([]Case, n), func() {}
	}
	_ = syscall.Madvise(mem, 14) // MADV_HUGEPAGE; advice only, errors ignored
	s = unsafe.Slice((*Case)(unsafe.Pointer(&mem[0])), n)
	return s, func() { _ = syscall.Munmap(mem) }
}
