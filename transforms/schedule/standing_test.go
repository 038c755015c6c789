package schedule

import (
	"testing"

	"github.com/recal-project/recal/transforms/cases"
	"github.com/recal-project/recal/transforms/civil"
	"github.com/recal-project/recal/transforms/reference"
)

// TestStanding checks Group's keep-or-release rules for standing
// hearings, one reason at a time, and that kept hearings consume their
// session's slots before anyone else is scheduled.
func TestStanding(t *testing.T) {
	ref, err := reference.Default()
	if err != nil {
		t.Fatal(err)
	}
	day := func(s string) int32 {
		d, ok := civil.ParseDate(s)
		if !ok {
			t.Fatalf("bad date %s", s)
		}
		return d
	}
	cal := NewCalendar()
	// NYC, non-detained: Mondays 09:00, 2 slots.
	if err := cal.ParseCapacity("capacity.csv", []byte("base_city_code,docket,ij_code,weekday,session_start,slots,effective_from,effective_to\n"+
		"NYC,NON_DETAINED,,MON,09:00,2,2020-01-01,\n"), ref); err != nil {
		t.Fatal(err)
	}
	if err := cal.ParseClosures("closures.csv", []byte("base_city_code,date,reason\nNYC,2026-02-09,burst pipe\n"), ref); err != nil {
		t.Fatal(err)
	}
	nyc := uint16(ref.CourtIndex("NYC"))
	p := Params{AsOf: day("2026-01-15"), MinNoticeDays: 10, JuvenileNoticeDays: 10, HorizonDays: 90}
	mon := day("2026-02-02") // a Monday inside the window
	pool := Standing{Court: nyc, Docket: cases.NonDetained, Date: mon, Start: 9 * 60}
	with := func(f func(*Standing)) Standing { s := pool; f(&s); return s }
	for _, c := range []struct {
		name     string
		standing Standing
		kept     bool
		why      string
	}{
		{"its slot is still there", pool, true, ""},
		{"another court tonight", with(func(s *Standing) { s.Court = nyc + 1 }), false, "COURT_CHANGED"},
		{"another docket tonight", with(func(s *Standing) { s.Docket = cases.Detained }), false, "DOCKET_CHANGED"},
		{"the day has passed", with(func(s *Standing) { s.Date = day("2026-01-12") }), false, "HEARING_DATE_PASSED"},
		{"after the horizon", with(func(s *Standing) { s.Date = day("2026-06-01") }), false, "OUTSIDE_HORIZON"},
		{"a closure", with(func(s *Standing) { s.Date = day("2026-02-09") }), false, "CLOSURE: burst pipe"},
		{"a federal holiday", with(func(s *Standing) { s.Date = day("2026-02-16") }), false, "HOLIDAY"},
		{"no session at that time", with(func(s *Standing) { s.Start = 13 * 60 }), false, "SESSION_GONE"},
		{"no session on that weekday", with(func(s *Standing) { s.Date = day("2026-02-03") }), false, "SESSION_GONE"},
		{"a judge's session gone", with(func(s *Standing) { s.IJ = "ABC" }), false, "SESSION_GONE"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cs := []cases.Case{{IDNProceeding: 1, Court: nyc, Docket: cases.NonDetained, Recalendar: true}}
			q := p
			q.Standing = func(k *cases.Case) (Standing, bool) { return c.standing, k.IDNProceeding == 1 }
			as, over := Group(cal, nyc, cases.NonDetained, cs, 0, q)
			if len(as) != 1 || len(over) != 0 {
				t.Fatalf("%d assignments, %d overflow", len(as), len(over))
			}
			a := as[0]
			if a.Standing != c.kept || cal.ReleaseReason(a.Release) != c.why {
				t.Fatalf("standing %v released %q, want %v %q", a.Standing, cal.ReleaseReason(a.Release), c.kept, c.why)
			}
			if c.kept && a.Date != mon {
				t.Fatalf("kept hearing on %s", civil.FormatDate(a.Date))
			}
		})
	}

	// Three standing hearings in a 2-slot session: the two of highest
	// priority stay, the third is released (CAPACITY_CUT) and, like a new
	// case, takes the next free slot; a new case of top priority cannot
	// take a standing slot.
	cs := []cases.Case{
		{IDNProceeding: 1, Court: nyc, Docket: cases.NonDetained, Recalendar: true, Tier: 1},
		{IDNProceeding: 2, Court: nyc, Docket: cases.NonDetained, Recalendar: true, Tier: 2},
		{IDNProceeding: 3, Court: nyc, Docket: cases.NonDetained, Recalendar: true, Tier: 3},
		{IDNProceeding: 4, Court: nyc, Docket: cases.NonDetained, Recalendar: true, Tier: 0},
	}
	q := p
	q.Standing = func(k *cases.Case) (Standing, bool) { return pool, k.IDNProceeding <= 3 }
	as, _ := Group(cal, nyc, cases.NonDetained, cs, 0, q)
	got := map[int64]Assignment{}
	for _, a := range as {
		got[cs[a.Case].IDNProceeding] = a
	}
	if !got[1].Standing || !got[2].Standing || got[1].Date != mon || got[2].Date != mon {
		t.Fatalf("the two highest-priority standing hearings did not stay: %+v %+v", got[1], got[2])
	}
	if got[3].Standing || got[3].Release != CapacityCut || got[3].Date == mon {
		t.Fatalf("the third standing hearing: %+v", got[3])
	}
	if got[4].Date == mon || got[4].Standing || got[4].Release != NotReleased {
		t.Fatalf("the new case took a standing slot: %+v", got[4])
	}
	// Case 4 (tier 0) outranks case 3, so it has the earlier of the two
	// next slots.
	if got[4].Date > got[3].Date {
		t.Fatalf("new case on %s after the released case on %s", civil.FormatDate(got[4].Date), civil.FormatDate(got[3].Date))
	}
}
