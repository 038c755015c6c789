package eoirimport

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestIDIndex checks both forms of the index against a map, hits and
// misses, at word edges.
func TestIDIndex(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, c := range []struct {
		name string
		ids  []int64
	}{
		{"empty", nil},
		{"word edges", []int64{1, 63, 64, 65, 127, 128, 1000}},
		{"dense", func() []int64 {
			var ids []int64
			for id := int64(1); id < 200000; id++ {
				if r.IntN(3) == 0 {
					ids = append(ids, id)
				}
			}
			return ids
		}()},
		{"past the dense range (a map)", []int64{5, 77, maxDense - 1, maxDense, 1 << 40}},
	} {
		t.Run(c.name, func(t *testing.T) {
			x := newIDIndex(c.ids)
			want := map[int64]int32{}
			for i, id := range c.ids {
				want[id] = int32(i)
			}
			probe := slices.Clone(c.ids)
			for range 1000 {
				probe = append(probe, r.Int64N(300000))
			}
			probe = append(probe, 0, -5, 1<<41)
			for _, id := range probe {
				got, ok := x.get(id)
				w, wok := want[id]
				if ok != wok || got != w {
					t.Fatalf("get(%d) = %d, %v; want %d, %v", id, got, ok, w, wok)
				}
			}
		})
	}
}
