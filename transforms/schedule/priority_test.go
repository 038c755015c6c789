package schedule

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/recal-project/recal/transforms/cases"
)

// randomCases draws n cases with few tiers and scores (so that ties go to
// the id), NaN and signed-zero scores among them.
func randomCases(r *rand.Rand, n int) []cases.Case {
	scores := []float64{0, math.Copysign(0, -1), 1.5, 2, 7.25, math.NaN(), math.Inf(1)}
	cs := make([]cases.Case, n)
	for i := range cs {
		cs[i] = cases.Case{IDNProceeding: int64(r.IntN(4 * n)), Tier: uint8(r.IntN(4)), Score: scores[r.IntN(len(scores))], IDNCase: int64(i)}
	}
	return cs
}

// TestSortByPriority checks the key sort against sorting the records.
func TestSortByPriority(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{0, 1, 255, 256, 1000, 20000} {
		cs := randomCases(r, n)
		want := slices.Clone(cs)
		slices.SortStableFunc(want, func(a, b cases.Case) int { return cases.Compare(&a, &b) })
		sortByPriority(cs)
		for i := range want {
			// Equal ids may tie completely; compare the order's fields.
			if cases.Compare(&cs[i], &want[i]) != 0 {
				t.Fatalf("n=%d: position %d: %+v, want %+v", n, i, cs[i], want[i])
			}
		}
		if !slices.IsSortedFunc(cs, func(a, b cases.Case) int { return cases.Compare(&a, &b) }) {
			t.Fatalf("n=%d: not in priority order", n)
		}
	}
}

// BenchmarkSortPriority sorts 1M shuffled cases of three tiers.
func BenchmarkSortPriority(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 1))
	src := make([]cases.Case, 1_000_000)
	for i := range src {
		src[i] = cases.Case{IDNProceeding: int64(i), Tier: uint8(1 + r.IntN(3)), Score: float64(r.IntN(5000)) / 365.25}
	}
	r.Shuffle(len(src), func(i, j int) { src[i], src[j] = src[j], src[i] })
	cs := make([]cases.Case, len(src))
	b.Run("keys", func(b *testing.B) {
		for range b.N {
			copy(cs, src)
			sortByPriority(cs)
		}
	})
	b.Run("records", func(b *testing.B) {
		for range b.N {
			copy(cs, src)
			slices.SortFunc(cs, func(a, b cases.Case) int { return cases.Compare(&a, &b) })
		}
	})
}
