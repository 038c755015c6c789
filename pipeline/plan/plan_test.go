package plan

import (
	"cmp"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/recal-project/recal/transforms/cases"
	"github.com/recal-project/recal/transforms/schedule"
)

// TestPartitionGroups checks the in-place layout: the cases that stay
// closed first, sorted by idnproceeding; then one contiguous range per
// (court, docket) group in key order, each holding exactly that group's
// cases; and no case lost or duplicated.
func TestPartitionGroups(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{0, 1, 7, 1000} {
		all := make([]cases.Case, n)
		for i := range all {
			all[i] = cases.Case{IDNProceeding: int64(i + 1), Court: uint16(r.IntN(5)), Docket: cases.Docket(r.IntN(int(cases.NumDockets))), Recalendar: r.IntN(3) > 0}
		}
		r.Shuffle(n, func(i, j int) { all[i], all[j] = all[j], all[i] })
		want := slices.Clone(all)
		closed, keys := partitionGroups(all, 2)
		if !slices.IsSortedFunc(closed, func(a, b cases.Case) int { return cmp.Compare(a.IDNProceeding, b.IDNProceeding) }) {
			t.Errorf("n=%d: closed cases not sorted by idnproceeding", n)
		}
		for _, c := range closed {
			if c.Recalendar {
				t.Fatalf("n=%d: case %d to recalendar among the closed", n, c.IDNProceeding)
			}
		}
		at := len(closed)
		for i, k := range keys {
			if k.from != at || k.to <= k.from {
				t.Fatalf("n=%d: group %d covers [%d,%d), want to start at %d and hold a case", n, i, k.from, k.to, at)
			}
			if i > 0 && cmp.Or(cmp.Compare(keys[i-1].court, k.court), cmp.Compare(keys[i-1].docket, k.docket)) >= 0 {
				t.Fatalf("n=%d: groups %d and %d out of key order", n, i-1, i)
			}
			for _, c := range all[k.from:k.to] {
				if !c.Recalendar || c.Court != k.court || c.Docket != k.docket {
					t.Fatalf("n=%d: case %d (court %d docket %d) in group court %d docket %d", n, c.IDNProceeding, c.Court, c.Docket, k.court, k.docket)
				}
			}
			at = k.to
		}
		if at != n {
			t.Fatalf("n=%d: layout covers %d cases", n, at)
		}
		byID := func(a, b cases.Case) int { return cmp.Compare(a.IDNProceeding, b.IDNProceeding) }
		slices.SortFunc(want, byID)
		got := slices.Clone(all)
		slices.SortFunc(got, byID)
		if !slices.Equal(got, want) {
			t.Errorf("n=%d: the partition lost or changed cases", n)
		}
	}
}

// TestOverflowsRange checks that Range walks the groups' slices as one
// sequence: every window, across group boundaries and past the end.
func TestOverflowsRange(t *testing.T) {
	var o Overflows
	var want []int32
	for _, n := range []int{3, 0, 1, 5, 2} {
		part := make([]schedule.Overflow, n)
		for i := range part {
			part[i].Projected = int32(len(want))
			want = append(want, int32(len(want)))
		}
		o.add(part)
	}
	if o.Len() != len(want) {
		t.Fatalf("Len %d, want %d", o.Len(), len(want))
	}
	for from := 0; from <= len(want); from++ {
		for to := from; to <= len(want)+1; to++ {
			var got []int32
			for r := range o.Range(from, to) {
				got = append(got, r.Projected)
			}
			if w := want[from:min(to, len(want))]; !slices.Equal(got, w) && !(len(got) == 0 && len(w) == 0) {
				t.Fatalf("Range(%d, %d) = %v, want %v", from, to, got, w)
			}
		}
	}
	n := 0
	for range o.All() {
		if n++; n == 4 {
			break // stopping early must not panic
		}
	}
}
