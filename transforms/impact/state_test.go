package impact

import (
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/recal-project/recal/transforms/cases"
	"github.com/recal-project/recal/transforms/schedule"
)

// TestStateMerge checks that Builders fed disjoint parts of a run (by
// court, as shards are) and merged through their stored States build the
// Impact one Builder fed the whole run builds.
func TestStateMerge(t *testing.T) {
	ref, pol := refAndPolicy(t)
	cal := schedule.NewCalendar()
	csv := "base_city_code,docket,ij_code,weekday,session_start,slots,effective_from,effective_to\n" +
		"NYC,NON_DETAINED,,MON,09:00,2,2026-01-01,\nNYC,DETAINED,,TUE,13:00,3,2026-01-01,\n" +
		"LOS,NON_DETAINED,,WED,08:30,4,2026-01-01,\nHOU,JUVENILE,,THU,10:00,1,2026-01-01,\n"
	if err := cal.ParseCapacity("cap.csv", []byte(csv), ref); err != nil {
		t.Fatal(err)
	}
	p := schedule.Params{AsOf: day("2026-03-02"), MinNoticeDays: 10, JuvenileNoticeDays: 10, HorizonDays: 60}
	courts := []uint16{uint16(ref.CourtIndex("NYC")), uint16(ref.CourtIndex("LOS")), uint16(ref.CourtIndex("HOU"))}
	whole := NewBuilder(ref, pol, cal, p)
	parts := []*Builder{NewBuilder(ref, pol, cal, p), NewBuilder(ref, pol, cal, p)}
	shard := func(c uint16) *Builder {
		if c == courts[0] {
			return parts[0]
		}
		return parts[1]
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 3000 {
		c := &cases.Case{IDNProceeding: int64(i + 1), Court: courts[rng.IntN(len(courts))], Docket: cases.Docket(rng.IntN(int(cases.NumDockets))),
			Tier: uint8(1 + rng.IntN(3)), Lang: uint16(rng.IntN(len(ref.Languages.Codes) + 1)), Nat: uint16(rng.IntN(len(ref.Nationalities.Codes) + 1)),
			Closure: uint8(rng.IntN(len(cases.ClosureCodes))), YearsClosed: uint8(rng.IntN(15)), Rule: uint16(rng.IntN(len(pol.RuleIDs)))}
		switch rng.IntN(4) {
		case 0:
			whole.Closed(c)
			shard(c.Court).Closed(c)
		case 1:
			whole.Overflowed(c)
			shard(c.Court).Overflowed(c)
		case 2:
			whole.Rejected("UNKNOWN_COURT")
			parts[0].Rejected("UNKNOWN_COURT")
		default:
			ss := cal.Sessions(c.Court, c.Docket)
			if len(ss) == 0 {
				whole.Overflowed(c)
				shard(c.Court).Overflowed(c)
				continue
			}
			d := p.AsOf + 10 + int32(rng.IntN(50))
			whole.Assigned(c, d, &ss[0])
			shard(c.Court).Assigned(c, d, &ss[0])
		}
	}
	merged := NewBuilder(ref, pol, cal, p)
	for _, b := range parts {
		js, err := json.Marshal(b.State())
		if err != nil {
			t.Fatal(err)
		}
		var s State
		if err := json.Unmarshal(js, &s); err != nil {
			t.Fatal(err)
		}
		if err := merged.Merge(&s); err != nil {
			t.Fatal(err)
		}
	}
	run, opt := Run{RunID: "r"}, Options{BaselinePending: ptr(int64(100000))}
	want, got := whole.Build(run, opt), merged.Build(run, opt)
	if !reflect.DeepEqual(got, want) {
		gj, _ := json.Marshal(got)
		wj, _ := json.Marshal(want)
		t.Fatalf("merged impact differs from the whole run's:\n got %s\nwant %s", gj, wj)
	}
	if want.Totals.InputRows != 3000 {
		t.Fatalf("input rows %d, want 3000", want.Totals.InputRows)
	}
	// The stored state is deterministic: map order does not show.
	a, _ := json.Marshal(whole.State())
	for range 5 {
		if b, _ := json.Marshal(whole.State()); string(a) != string(b) {
			t.Fatal("State's JSON changes from call to call")
		}
	}
}

// TestStateMergeRefusesOtherRuns checks that a state of another policy or
// horizon is refused, not silently added.
func TestStateMergeRefusesOtherRuns(t *testing.T) {
	ref, pol := refAndPolicy(t)
	cal := schedule.NewCalendar()
	p := schedule.Params{AsOf: day("2026-03-02"), MinNoticeDays: 10, HorizonDays: 60}
	b := NewBuilder(ref, pol, cal, p)
	s := b.State()
	s.ClosedRule = append(s.ClosedRule, 1)
	if err := NewBuilder(ref, pol, cal, p).Merge(s); err == nil {
		t.Fatal("a state with another rule count was merged")
	}
	s = b.State()
	s.Cells = []CellState{{Court: 1, Docket: 0, Tier: 1, Assigned: 1, Days: make([]int64, 10)}}
	if err := NewBuilder(ref, pol, cal, p).Merge(s); err == nil {
		t.Fatal("a state with another horizon was merged")
	}
}
