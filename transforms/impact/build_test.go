package impact

import (
	"testing"

	"github.com/recal-project/recal/transforms/cases"
	"github.com/recal-project/recal/transforms/civil"
	"github.com/recal-project/recal/transforms/policy"
	"github.com/recal-project/recal/transforms/reference"
	"github.com/recal-project/recal/transforms/schedule"
)

func day(s string) int32 {
	d, ok := civil.ParseDate(s)
	if !ok {
		panic(s)
	}
	return d
}

// refAndPolicy loads the embedded reference data and castro-tum-2018.
func refAndPolicy(t *testing.T) (*reference.Data, *policy.Policy) {
	t.Helper()
	ref, err := reference.Default()
	if err != nil {
		t.Fatal(err)
	}
	pol, err := policy.LoadShipped("castro-tum-2018")
	if err != nil {
		t.Fatal(err)
	}
	return ref, pol
}

// TestBuildByHand checks every figure of a small run worked out by hand:
// one court (NYC), one Monday pool session of 2 slots, as of Monday
// 2026-03-02, notice 10 days and horizon 30: the window is 2026-03-12 to
// 2026-04-01, with three Mondays (6 slots).
func TestBuildByHand(t *testing.T) {
	ref, pol := refAndPolicy(t)
	cal := schedule.NewCalendar()
	csv := "base_city_code,docket,ij_code,weekday,session_start,slots,effective_from,effective_to\nNYC,NON_DETAINED,,MON,09:00,2,2026-01-01,\n"
	if err := cal.ParseCapacity("cap.csv", []byte(csv), ref); err != nil {
		t.Fatal(err)
	}
	p := schedule.Params{AsOf: day("2026-03-02"), MinNoticeDays: 10, JuvenileNoticeDays: 10, HorizonDays: 30}
	b := NewBuilder(ref, pol, cal, p)
	nyc := uint16(ref.CourtIndex("NYC"))
	sp := ref.Languages.Index("SP")
	if sp == 0 {
		t.Fatal("no SP in the language table")
	}
	sess := &cal.Sessions(nyc, cases.NonDetained)[0]
	recal := func(id int64) *cases.Case {
		return &cases.Case{IDNProceeding: id, Court: nyc, Docket: cases.NonDetained, Tier: 1, Recalendar: true, Rule: uint16(1 + pol.NumExempt), Lang: sp, Closure: 4, YearsClosed: 3}
	}
	for i, d := range []string{"2026-03-16", "2026-03-16", "2026-03-23", "2026-03-30"} {
		b.Assigned(recal(int64(i+1)), day(d), sess)
	}
	b.Overflowed(recal(5))
	b.Closed(&cases.Case{IDNProceeding: 6, Court: nyc, Rule: 0, YearsClosed: 12})
	b.Closed(&cases.Case{IDNProceeding: 7, Court: nyc, Rule: 0, YearsClosed: 0})
	b.Rejected("UNKNOWN_COURT")
	imp := b.Build(Run{RunID: "r"}, Options{BaselinePending: ptr(int64(1000))})

	if got, want := imp.Totals, (Totals{InputRows: 8, ValidCases: 7, Recalendared: 5, Assigned: 4, Overflow: 1, RemainClosed: 2, Rejected: 1}); got != want {
		t.Fatalf("totals %+v, want %+v", got, want)
	}
	if imp.Parameters.FirstHearingDay != "2026-03-12" || imp.Parameters.LastHearingDay != "2026-04-01" {
		t.Fatalf("window %+v", imp.Parameters)
	}
	if imp.Backlog.Added != 5 || imp.Backlog.IncreasePct == nil || *imp.Backlog.IncreasePct != 0.5 {
		t.Fatalf("backlog %+v", imp.Backlog)
	}
	var court *Group
	for i := range imp.ByCourt {
		if imp.ByCourt[i].Court == "NYC" {
			court = &imp.ByCourt[i]
		}
	}
	if court == nil {
		t.Fatal("no NYC row")
	}
	f := court.Figures
	check := func(name string, got, want any) {
		t.Helper()
		if got != want {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	check("cases_in", *f.CasesIn, int64(7))
	check("remain_closed_by_rule", len(court.RemainClosedByRule), 1)
	check("NOT_SELECTED at NYC", court.RemainClosedByRule[policy.NotSelected], int64(2))
	check("remain_closed", *f.RemainClosed, int64(2))
	check("slots_offered", *f.SlotsOffered, int64(6))
	check("sessions_offered", *f.SessionsOffered, int64(3))
	check("judge_sessions", *f.JudgeSessions, int64(3))
	check("utilization", *f.Utilization, 0.6667)
	check("weekly_capacity", *f.WeeklyCapacity, 2.0)
	check("weeks_to_absorb", *f.WeeksToAbsorb, 2.5)
	// Days 14, 14, 21, 28: nearest rank gives first 14, median the 2nd
	// (14), p90 the 4th (28).
	check("first", *f.DaysToHearing.First, 14)
	check("median", *f.DaysToHearing.Median, 14)
	check("p90", *f.DaysToHearing.P90, 28)
	if imp.Overall.SlotsOffered == nil || *imp.Overall.SlotsOffered != 6 {
		t.Errorf("overall slots %v", imp.Overall.SlotsOffered)
	}

	weeks := map[string]int64{}
	for _, w := range imp.HearingsPerWeek {
		weeks[w.WeekStart] = w.NonDetained
	}
	want := map[string]int64{"2026-03-09": 0, "2026-03-16": 2, "2026-03-23": 1, "2026-03-30": 1}
	if len(weeks) != len(want) {
		t.Errorf("weeks %v, want %v", weeks, want)
	}
	for k, v := range want {
		if weeks[k] != v {
			t.Errorf("week %s: %d, want %d", k, weeks[k], v)
		}
	}
	if l := imp.ByLanguage[0]; l.Code != "SP" || l.Recalendared != 5 || l.Share != 1 || l.Assigned != 4 {
		t.Errorf("first language %+v", l)
	}
	if u := imp.ByLanguage[1]; u.Code != UnknownCode || u.RemainClosed != 2 {
		t.Errorf("unknown language row %+v", u)
	}
	years := map[string]int64{}
	for _, y := range imp.ByYearsClosed {
		years[y.Code] = y.CasesIn
	}
	if years["0"] != 1 || years["2-4"] != 5 || years["10+"] != 1 {
		t.Errorf("years closed %v", years)
	}
	last := imp.RemainClosedByRule[len(imp.RemainClosedByRule)-1]
	if last.RuleID != policy.NotSelected || last.Cases != 2 {
		t.Errorf("remain closed by rule %+v", imp.RemainClosedByRule)
	}
	if len(imp.RejectedByCode) != 1 || imp.RejectedByCode[0] != (CodeCount{"UNKNOWN_COURT", 1}) {
		t.Errorf("rejects %+v", imp.RejectedByCode)
	}
	var hist int64
	for _, k := range imp.DaysToHearing.Buckets {
		hist += k.Total
	}
	if imp.DaysToHearing.BucketDays != 7 || hist != 4 {
		t.Errorf("histogram %+v", imp.DaysToHearing)
	}
}

func TestQuantiles(t *testing.T) {
	for _, tt := range []struct {
		hist               []int64
		first, median, p90 int
	}{
		{[]int64{0, 1}, 1, 1, 1},
		{[]int64{1, 1, 1, 1, 1, 1, 1, 1, 1, 1}, 0, 4, 8},
		{[]int64{0, 0, 5, 0, 5}, 2, 2, 4},
		{[]int64{3, 0, 0, 0, 0, 0, 0, 0, 0, 1}, 0, 0, 9},
	} {
		q := quantiles(tt.hist)
		if *q.First != tt.first || *q.Median != tt.median || *q.P90 != tt.p90 {
			t.Errorf("%v: %d/%d/%d, want %d/%d/%d", tt.hist, *q.First, *q.Median, *q.P90, tt.first, tt.median, tt.p90)
		}
	}
	if q := quantiles([]int64{0, 0}); q.Median != nil {
		t.Error("an empty histogram has quantiles")
	}
}
