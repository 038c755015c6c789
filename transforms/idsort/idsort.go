// Package idsort sorts large slices of records whose order begins with an
// int64 id: one in-place pass (an American-flag partition, Partition) lays
// the records out in 256 buckets of consecutive id ranges, then the
// buckets are sorted side by side. A whole-slice slices.SortFunc compares and
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
	bounds := Partition(xs, 256, bucket)
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

// Partition lays xs out in place by bucket, each bucket one contiguous
// range, buckets in ascending order, and returns the nb+1 bounds: bucket b
// holds xs[bounds[b]:bounds[b+1]]. bucket must return 0 <= b < nb. It is an
// American-flag pass: one count, then each record moved at most once;
// records keep no order within a bucket.
func Partition[T any](xs []T, nb int, bucket func(*T) int) []int {
	bounds := make([]int, nb+1)
	for i := range xs {
		bounds[bucket(&xs[i])+1]++
	}
	for b := 1; b <= nb; b++ {
		bounds[b] += bounds[b-1]
	}
	next := slices.Clone(bounds[:nb])
	for b := range nb {
		// Every record before next[b] in b's range belongs there; the one
		// at next[b] is swapped to its own bucket until one of b's
		// arrives.
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
	return bounds
}
