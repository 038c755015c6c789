package policy

import (
	"math/rand/v2"
	"testing"

	"github.com/recal-project/recal/transforms/cases"
)

// benchRows draws n rows with roughly the sample's distributions.
func benchRows(n int) []row {
	r := rand.New(rand.NewPCG(7, 7))
	courts := []string{"NYC", "BAL", "CHI", "PHI", "DET", "LOS", "HOU", "MIA"}
	pick := func(xs ...string) string { return xs[r.IntN(len(xs))] }
	flag := func(p float64) *bool {
		switch u := r.Float64(); {
		case u < 0.03:
			return nil
		case u < 0.03+p:
			return yes
		}
		return no
	}
	out := make([]row, n)
	for i := range out {
		x := row{court: courts[r.IntN(len(courts))], custody: pick("D", "R", "N", "N", "N", ""),
			otherComp: pick("A", "A", "A", "B", "Y", "K", "M"), crim: flag(0.1), agg: flag(0.02),
			comp: pick("2012-03-01", "2016-07-15", "2019-06-01", "2021-02-01", "2023-09-09", "2024-12-01"),
			osc:  "2010-01-01", entry: pick("2009-01-01", "2021-05-05", ""), birth: pick("1980-01-01", "2012-04-04", "")}
		if r.Float64() < 0.35 {
			x.apps = []string{pick("I-130", "I-485", "I-589-USCIS", "TPS")}
			x.outcome = pick("PENDING", "PENDING", "APPROVED", "DENIED", "WITHDRAWN", "")
		}
		out[i] = x
	}
	return out
}

// BenchmarkDecide measures policy evaluation per row for each shipped
// policy, with the fast path and with cel-go alone (the baseline); ns/eval
// is per expression evaluated (rule condition or score).
func BenchmarkDecide(b *testing.B) {
	const n = 4096
	batch := batchOf(b, benchRows(n)...)
	ref := refData(b)
	asOf := day(b, "2026-01-15")
	for _, id := range Shipped() {
		p, err := LoadShipped(id)
		if err != nil {
			b.Fatal(err)
		}
		for _, mode := range []string{"fast", "cel-go-only"} {
			b.Run(id+"/"+mode, func(b *testing.B) {
				ev := p.NewEvaluator(ref, asOf)
				ev.celOnly = mode != "fast"
				var c cases.Case
				b.ReportAllocs()
				b.ResetTimer()
				for k := 0; k < b.N; k++ {
					if err := ev.Decide(batch, k%n, &c); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(ev.evals)/float64(b.N), "evals/row")
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(ev.evals), "ns/eval")
			})
		}
	}
}
