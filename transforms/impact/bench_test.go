package impact

import (
	"math/rand"
	"testing"

	"github.com/recal-project/recal/transforms/cases"
	"github.com/recal-project/recal/transforms/policy"
	"github.com/recal-project/recal/transforms/reference"
	"github.com/recal-project/recal/transforms/schedule"
)

// BenchmarkBuild1M aggregates 1M outcomes (90% assigned over 250 days of
// 60 courts, 5% overflow, 5% closed) and builds the Impact: the report
// stage's cost before rendering.
func BenchmarkBuild1M(b *testing.B) {
	ref, _ := reference.Default()
	pol, _ := policy.LoadShipped("castro-tum-2018")
	cal := schedule.NewCalendar()
	csv := "base_city_code,docket,ij_code,weekday,session_start,slots,effective_from,effective_to\n"
	for _, c := range ref.Courts[:60] {
		for _, wd := range []string{"MON", "TUE", "WED", "THU", "FRI"} {
			csv += c.Code + ",NON_DETAINED,," + wd + ",09:00,25,2026-01-01,\n" + c.Code + ",NON_DETAINED,," + wd + ",13:00,25,2026-01-01,\n"
		}
	}
	if err := cal.ParseCapacity("cap.csv", []byte(csv), ref); err != nil {
		b.Fatal(err)
	}
	p := schedule.Params{AsOf: day("2026-01-15"), MinNoticeDays: 10, JuvenileNoticeDays: 30, HorizonDays: 365}
	r := rand.New(rand.NewSource(1))
	const n = 1_000_000
	cs := make([]cases.Case, n)
	days := make([]int32, n)
	for i := range cs {
		cs[i] = cases.Case{IDNProceeding: int64(i), Court: uint16(r.Intn(60)), Docket: cases.NonDetained, Tier: uint8(1 + r.Intn(3)),
			Recalendar: true, Lang: uint16(r.Intn(50)), Nat: uint16(r.Intn(40)), Closure: uint8(r.Intn(5)), YearsClosed: uint8(r.Intn(12))}
		days[i] = p.AsOf + 10 + int32(i*250/n)
	}
	sess := &cal.Sessions(0, cases.NonDetained)[0]
	b.ReportAllocs()
	b.ResetTimer()
	for k := 0; k < b.N; k++ {
		bl := NewBuilder(ref, pol, cal, p)
		for i := range cs {
			switch {
			case i%20 == 0:
				bl.Closed(&cs[i])
			case i%20 == 1:
				bl.Overflowed(&cs[i])
			default:
				bl.Assigned(&cs[i], days[i], sess)
			}
		}
		bl.Build(Run{}, Options{})
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/case")
}
