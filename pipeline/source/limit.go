package source

import (
	"fmt"

	"github.com/apache/arrow/go/v15/arrow/memory"
)

// DefaultMaxAllocation is the largest single buffer the decoder allocates
// unless Options.MaxAllocation says otherwise: far above any page,
// dictionary or column chunk of a real export (a few MB at 128k-row row
// groups), far below what would take down a small container.
const DefaultMaxAllocation = 512 << 20

// MaxObjectRows is the most rows one object's footer may declare. The
// footer's count sizes the run's case records before any row is decoded,
// so an absurd count is refused rather than trusted.
const MaxObjectRows = 1 << 31

// limitAllocator refuses any single allocation above max by panicking with
// an allocationError, which the decoder's recover turns into an ErrCorrupt
// naming the object: a page header or dictionary that claims gigabytes (a
// decompression bomb, a corrupt size) fails cleanly instead of exhausting
// memory.
type limitAllocator struct {
	memory.Allocator
	max int
}

type allocationError struct{ size, max int }

func (e allocationError) Error() string {
	return fmt.Sprintf("a page, dictionary or column chunk needs a %d-byte buffer, more than the %d-byte limit (decompression bomb or corrupt size)", e.size, e.max)
}

func (a limitAllocator) Allocate(size int) []byte {
	if size > a.max {
		panic(allocationError{size, a.max})
	}
	return a.Allocator.Allocate(size)
}

func (a limitAllocator) Reallocate(size int, b []byte) []byte {
	if size > a.max {
		panic(allocationError{size, a.max})
	}
	return a.Allocator.Reallocate(size, b)
}

// limited wraps mem (nil: the Go allocator) with the allocation limit max
// (0: DefaultMaxAllocation).
func limited(mem memory.Allocator, max int) memory.Allocator {
	if mem == nil {
		mem = memory.DefaultAllocator
	}
	if max <= 0 {
		max = DefaultMaxAllocation
	}
	return limitAllocator{mem, max}
}

// panicError turns a value recovered from the decoder into an error.
func panicError(p any, stack []byte) error {
	if ae, ok := p.(allocationError); ok {
		return fmt.Errorf("%w: %v", ErrCorrupt, ae)
	}
	if stack == nil {
		return fmt.Errorf("%w: decoder panicked: %v", ErrCorrupt, p)
	}
	return fmt.Errorf("%w: decoder panicked: %v\n%s", ErrCorrupt, p, firstFrames(stack))
}
