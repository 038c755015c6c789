package collect

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/recal-project/recal/transforms/cases"
)

// TestDedupe checks both ways of deduplicating (without sorting, when the
// cases are disjoint ascending runs; by sorting otherwise) against the rule
// written out directly: of the cases sharing an idnproceeding the one with
// the lowest Ord is kept and every other is rejected as a duplicate.
func TestDedupe(t *testing.T) {
	mk := func(ids ...int64) []cases.Case {
		cs := make([]cases.Case, len(ids))
		for i, id := range ids {
			cs[i] = cases.Case{IDNProceeding: id, Ord: int64(i)}
		}
		return cs
	}
	// reversedOrd gives later records lower Ords (a batch reserved later
	// in the slab but earlier in the export).
	reversedOrd := func(cs []cases.Case) []cases.Case {
		for i := range cs {
			cs[i].Ord = int64(len(cs) - i)
		}
		return cs
	}
	r := rand.New(rand.NewPCG(3, 4))
	shuffled := mk()
	for i := 0; i < 5000; i++ {
		shuffled = append(shuffled, cases.Case{IDNProceeding: 1 + r.Int64N(3000), Ord: int64(i)<<40 | r.Int64N(1000)})
	}
	r.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	tests := []struct {
		name     string
		cs       []cases.Case
		wantRuns bool // deduplicated without sorting
	}{
		{"empty", mk(), true},
		{"sorted, no duplicates", mk(1, 2, 3, 10), true},
		{"sorted, duplicates", mk(1, 2, 2, 2, 3), true},
		{"disjoint runs out of order", mk(20, 21, 21, 22, 10, 11, 1, 2, 2), true},
		{"a later run that climbs past an earlier one", mk(10, 11, 12, 1, 2, 30), false},
		{"duplicate across a run boundary, later record first in the export", reversedOrd(mk(1, 2, 2, 3, 3)), true},
		{"overlapping runs", mk(1, 5, 9, 2, 5, 7), false},
		{"runs touching at one id", mk(1, 2, 3, 3, 4, 0, 1), false},
		{"shuffled with duplicates", shuffled, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			want := map[int64]int64{} // id -> lowest Ord
			wantRejects := 0
			for _, c := range tc.cs {
				if o, ok := want[c.IDNProceeding]; ok {
					wantRejects++
					want[c.IDNProceeding] = min(o, c.Ord)
				} else {
					want[c.IDNProceeding] = c.Ord
				}
			}
			for _, path := range []string{"dedupe", "sort"} {
				col := &Collected{Cases: slices.Clone(tc.cs)}
				switch path {
				case "dedupe":
					if got := col.dedupeRuns(); got != tc.wantRuns {
						t.Fatalf("dedupeRuns = %v, want %v", got, tc.wantRuns)
					}
					col = &Collected{Cases: slices.Clone(tc.cs)}
					col.Dedupe(nil)
				case "sort":
					slices.SortFunc(col.Cases, func(a, b cases.Case) int { return int(a.IDNProceeding - b.IDNProceeding) })
					col.dropAdjacentDuplicates()
				}
				got := map[int64]int64{}
				for _, c := range col.Cases {
					if _, dup := got[c.IDNProceeding]; dup {
						t.Fatalf("%s: id %d kept twice", path, c.IDNProceeding)
					}
					got[c.IDNProceeding] = c.Ord
				}
				if fmt.Sprint(got) != fmt.Sprint(want) {
					t.Errorf("%s: kept %v, want %v", path, got, want)
				}
				if len(col.Rejects) != wantRejects {
					t.Errorf("%s: %d rejects, want %d", path, len(col.Rejects), wantRejects)
				}
				for _, rj := range col.Rejects {
					if ord := int64(rj.Object)<<40 | rj.Row; ord == want[rj.IDNProc] {
						t.Errorf("%s: rejected the kept record of id %d", path, rj.IDNProc)
					}
				}
			}
		})
	}
}
