package idsort

import (
	"cmp"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// rec is 56 bytes, as a case record is; tail fills it out.
type rec struct {
	id, ord int64
	tail    [5]int64
}

func byIDOrd(a, b rec) int {
	if a.id != b.id {
		return cmp.Compare(a.id, b.id)
	}
	return cmp.Compare(a.ord, b.ord)
}

// TestSort checks Sort against slices.SortFunc: uniform, duplicate-heavy,
// skewed (one far outlier), negative, extreme and tiny inputs, with one to
// three workers.
func TestSort(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, tc := range []struct {
		name string
		id   func(i int) int64
	}{
		{"uniform", func(int) int64 { return 1 + r.Int64N(1<<22) }},
		{"duplicates", func(int) int64 { return 1 + r.Int64N(5000) }},
		{"one outlier", func(i int) int64 {
			if i == 7 {
				return 1 << 60
			}
			return 1 + r.Int64N(100000)
		}},
		{"negative", func(int) int64 { return r.Int64N(1<<20) - 1<<19 }},
		{"extremes", func(i int) int64 { return []int64{math.MinInt64, math.MaxInt64, 0, -1, 1}[i%5] }},
		{"all equal", func(int) int64 { return 42 }},
	} {
		for _, n := range []int{0, 1, 100, minBucketed, 200_000} {
			xs := make([]rec, n)
			for i := range xs {
				xs[i] = rec{id: tc.id(i), ord: int64(i), tail: [5]int64{int64(i)}}
			}
			r.Shuffle(n, func(i, j int) { xs[i], xs[j] = xs[j], xs[i] })
			want := slices.Clone(xs)
			slices.SortFunc(want, byIDOrd)
			for _, workers := range []int{1, 2, 3} {
				got := slices.Clone(xs)
				Sort(got, func(x *rec) int64 { return x.id }, byIDOrd, workers)
				if !slices.Equal(got, want) {
					t.Fatalf("%s, %d records, %d workers: not slices.SortFunc's order", tc.name, n, workers)
				}
			}
		}
	}
}

// BenchmarkSort sorts 2M shuffled 56-byte records by id.
func BenchmarkSort(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 1))
	src := make([]rec, 2_000_000)
	for i := range src {
		src[i] = rec{id: int64(i), ord: int64(i)}
	}
	r.Shuffle(len(src), func(i, j int) { src[i], src[j] = src[j], src[i] })
	xs := make([]rec, len(src))
	b.Run("idsort", func(b *testing.B) {
		for range b.N {
			copy(xs, src)
			Sort(xs, func(x *rec) int64 { return x.id }, byIDOrd, 2)
		}
	})
	b.Run("SortFunc", func(b *testing.B) {
		for range b.N {
			copy(xs, src)
			slices.SortFunc(xs, byIDOrd)
		}
	})
}
