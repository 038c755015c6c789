package shard

import (
	"fmt"
	"testing"

	"github.com/recal-project/recal/pipeline/refdata"
	"github.com/recal-project/recal/pipeline/sysexit"
)

// TestShardOwnership checks that every row has exactly one owning shard:
// a known court's rows belong to the shard its code hashes to, and rows
// of no known court to shard 0; and that every shard of 5 gets courts.
func TestShardOwnership(t *testing.T) {
	ref, err := refdata.Load(refdata.Paths{})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{2, 3, 5, 16} {
		plans := make([]*Plan, n)
		for i := range n {
			plans[i] = New(ref, i, n)
		}
		courts := make([]int, n)
		for c := -1; c < len(ref.Courts); c++ {
			owners := 0
			for i, p := range plans {
				if p.OwnsRow(c) {
					owners++
					if c < 0 && i != 0 {
						t.Errorf("%d shards: rows of no known court owned by shard %d", n, i)
					}
					if c >= 0 {
						courts[i]++
						if Of(ref.Courts[c].Code, n) != i {
							t.Errorf("%d shards: court %s owned by %d, hashes to %d", n, ref.Courts[c].Code, i, Of(ref.Courts[c].Code, n))
						}
					}
				}
			}
			if owners != 1 {
				t.Errorf("%d shards: court index %d has %d owners", n, c, owners)
			}
		}
		if n <= 5 {
			for i, k := range courts {
				if k == 0 {
					t.Errorf("%d shards: shard %d has no court", n, i)
				}
			}
		}
	}
	if New(ref, 0, 1) != nil || !(*Plan)(nil).OwnsRow(-1) {
		t.Error("an unsharded run must own every row")
	}
	// The hash is fixed: shards of one job on different machines or
	// versions must agree (FNV-1a 32 of the code).
	if got := Of("NYC", 5); got != 0x9b0c4f4d%5 && got != int(fnv32a("NYC")%5) {
		t.Errorf("Of(NYC, 5) = %d", got)
	}
}

func fnv32a(s string) uint32 {
	h := uint32(2166136261)
	for i := 0; i < len(s); i++ {
		h ^= uint32(s[i])
		h *= 16777619
	}
	return h
}

// TestShardFlags checks the shard flags' bounds.
func TestShardFlags(t *testing.T) {
	for _, c := range []struct{ index, count int }{{0, 0}, {-1, 3}, {3, 3}, {5, 2}} {
		err := Check(c.index, c.count)
		if sysexit.Code(err) != sysexit.Usage {
			t.Errorf("index %d count %d: %v, want a usage error", c.index, c.count, err)
		}
	}
	for _, c := range []struct{ index, count int }{{0, 1}, {2, 3}} {
		if err := Check(c.index, c.count); err != nil {
			t.Errorf("index %d count %d: %v", c.index, c.count, err)
		}
	}
	if p := Prefix(2, 5); p != fmt.Sprintf("_shards/%05d-of-%05d/", 2, 5) {
		t.Errorf("Prefix = %s", p)
	}
}
