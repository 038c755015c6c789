// Package idsort sorts large slices of records whose order begins with an
// int64 id: one in-place pass (an American-flag partition) lays the
// records out in 256 buckets of consecutive id ranges, then the buckets
// are sorted side by side. A whole-slice slices.SortFunc compares and
// moves records across the whole slice on one core; here the one pass is
// sequential streams and the rest runs in cache, on every worker.
package idsort

import (
	"math/bits"
	"slices"
	"sync"
)

// minBucketed is the length below which Sort is slices.SortFunc.
const minBucketed = 1 << 12

// Sort sorts xs by cmp, workers goroutines at a time. cmp must order by
// key first, ascending: cmp(a, b) < 0 whenever key(a) < key(b). Records
// with equal keys are ordered by cmp alone, as slices.SortFunc does, so
// when cmp is a total order the result is exactly slices.SortFunc's.
func Sort[T any](xs []T, key func(*T) int64, cmp func(a, b T) int, workers int) {
	if len(xs) < minBucketed {
		slices.SortFunc(xs, cmp)
		return
	}
	lo, hi := key(&xs[0]), key(&xs[0])
	for i := range xs {
		k := key(&xs[i])
		lo, hi = min(lo, k), max(hi, k)
	}
	// uint64(hi-lo) is the span even when hi-lo overflows an int64; the
	// shift leaves 8 bits of every offset from lo.
	shift := max(0, bits.Len64(uint64(hi-lo))-8)
	bucket := func(x *T) int { return int(uint64(key(x)-lo) >> shift) }
	var bounds [257]int // bucket b holds xs[bounds[b]:bounds[b+1]]
	for i := range xs {
		bounds[bucket(&xs[i])+1]++
	}
	for b := 1; b <= 256; b++ {
		bounds[b] += bounds[b-1]
	}
	var next [256]int
	copy(next[:], bounds[:256])
	for b := range 256 {
		// Every record before next[b] in b's range belongs there; the
		// one at next[b] is swapped to its own bucket until one of b's
		// arrives: each record moves at most once.
		for next[b] < bounds[b+1] {
			i := next[b]
			tb := bucket(&xs[i])
			if tb == b {
				next[b]++
				continue
			}
			j := next[tb]
			next[tb]++
			xs[i], xs[j] = xs[j], xs[i]
		}
	}
	var wg sync.WaitGroup
	slots := make(chan struct{}, max(1, workers))
	for b := range 256 {
		if bounds[b+1]-bounds[b] < 2 {
			continue
		}
		slots <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			slices.SortFunc(xs[bounds[b]:bounds[b+1]], cmp)
			<-slots
		}()
	}
	wg.Wait()
}
