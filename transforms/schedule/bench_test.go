package schedule

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/recal-project/recal/transforms/cases"
	"github.com/recal-project/recal/transforms/civil"
)

// BenchmarkGroup1M schedules 1M recalendared cases over 60 courts (two
// dockets each, pool and judge sessions, a 365-day horizon), one group
// after another; ns/case is the scheduler's cost per case on one core.
func BenchmarkGroup1M(b *testing.B) {
	const nCases, nCourts = 1_000_000, 60
	var capCSV strings.Builder
	capCSV.WriteString("base_city_code,docket,ij_code,weekday,session_start,slots,effective_from,effective_to\n")
	courts := testRef.Courts[:nCourts]
	for _, c := range courts {
		for _, wd := range []string{"MON", "TUE", "WED", "THU", "FRI"} {
			fmt.Fprintf(&capCSV, "%s,NON_DETAINED,,%s,09:00,30,2025-01-01,\n", c.Code, wd)
			fmt.Fprintf(&capCSV, "%s,NON_DETAINED,IJ1,%s,13:00,10,2025-01-01,\n", c.Code, wd)
			fmt.Fprintf(&capCSV, "%s,DETAINED,,%s,08:30,8,2025-01-01,\n", c.Code, wd)
		}
	}
	cal := NewCalendar()
	if err := cal.ParseCapacity("cap.csv", []byte(capCSV.String()), testRef); err != nil {
		b.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 1))
	groups := map[[2]int][]cases.Case{}
	judges := cases.NewJudges()
	ij1 := judges.Intern("IJ1")
	for i := 0; i < nCases; i++ {
		court := r.IntN(nCourts)
		c := cases.Case{IDNProceeding: int64(i), Court: uint16(testRef.CourtIndex(courts[court].Code)), Tier: uint8(1 + r.IntN(3)),
			Score: float64(r.IntN(5000)) / 365.25, Juvenile: r.IntN(15) == 0, Docket: cases.NonDetained}
		if r.IntN(10) == 0 {
			c.Docket = cases.Detained
		}
		if r.IntN(3) == 0 {
			c.IJ = ij1
		}
		k := [2]int{court, int(c.Docket)}
		groups[k] = append(groups[k], c)
	}
	p := Params{AsOf: civil.DaysFromCivil(2026, 1, 15), MinNoticeDays: 10, JuvenileNoticeDays: 30, HorizonDays: 365, Judges: judges}
	b.ResetTimer()
	var assigned, over int
	for k := 0; k < b.N; k++ {
		assigned, over = 0, 0
		for g, cs := range groups {
			as, ov := Group(cal, uint16(testRef.CourtIndex(courts[g[0]].Code)), cases.Docket(g[1]), cs, 0, p)
			assigned += len(as)
			over += len(ov)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/nCases, "ns/case")
	b.ReportMetric(float64(assigned), "assigned")
	b.ReportMetric(float64(over), "overflow")
}
