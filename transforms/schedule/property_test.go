package schedule

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/recal-project/recal/transforms/cases"
	"github.com/recal-project/recal/transforms/civil"
	"github.com/recal-project/recal/transforms/reference"
	"github.com/recal-project/recal/transforms/schedule/invariants"
)

// TestHolidaysAgainstIndependentRule compares every day of 2015–2035 with
// the invariant checker's own holiday rule.
func TestHolidaysAgainstIndependentRule(t *testing.T) {
	cal := NewCalendar()
	from, to := civil.DaysFromCivil(2015, 1, 1), civil.DaysFromCivil(2035, 12, 31)
	for d := from; d <= to; d++ {
		day := time.Unix(int64(d)*86400, 0).UTC()
		weekend := day.Weekday() == time.Saturday || day.Weekday() == time.Sunday
		if got, want := !cal.Open(0, d), weekend || invariants.Holiday(day); got != want {
			t.Errorf("%s (%s): closed %v, independent rule says %v", day.Format(time.DateOnly), day.Weekday(), got, want)
		}
	}
}

var testRef = func() *reference.Data {
	ref, err := reference.Default()
	if err != nil {
		panic(err)
	}
	return ref
}()

// randomSchedule draws a calendar, closures, cases and parameters from
// seed, schedules every court and docket with Group, and returns what the
// independent checker needs.
func randomSchedule(t *testing.T, seed uint64) invariants.Input {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	asOf := civil.DaysFromCivil(2015+r.IntN(21), 1+r.IntN(12), 1+r.IntN(28))
	p := Params{AsOf: asOf, MinNoticeDays: 10, JuvenileNoticeDays: 10 + r.IntN(31), HorizonDays: 3 + r.IntN(90), Judges: cases.NewJudges()}
	courts := []string{"NYC", "BAL", "CHI"}
	dockets := []string{"DETAINED", "NON_DETAINED", "JUVENILE"}
	judges := []string{"", "J1", "J2"}
	days := []string{"MON", "TUE", "WED", "THU", "FRI"}
	starts := []string{"08:30", "09:00", "13:00"}
	in := invariants.Input{AsOf: civil.FormatDate(asOf), MinNoticeDays: p.MinNoticeDays, HorizonDays: p.HorizonDays}
	var capCSV, closCSV strings.Builder
	capCSV.WriteString("base_city_code,docket,ij_code,weekday,session_start,slots,effective_from,effective_to\n")
	closCSV.WriteString("base_city_code,date,reason\n")
	seen := map[string]bool{}
	for _, court := range courts {
		for _, docket := range dockets {
			for k := r.IntN(5); k > 0; k-- {
				s := invariants.Session{Court: court, Docket: docket, IJ: judges[r.IntN(3)], Weekday: days[r.IntN(5)], Start: starts[r.IntN(3)], Slots: r.IntN(5)}
				key := s.Court + s.Docket + s.IJ + s.Weekday + s.Start
				if seen[key] {
					continue
				}
				seen[key] = true
				from := asOf - 30 + int32(r.IntN(60))
				s.From = civil.FormatDate(from)
				if r.IntN(2) == 0 {
					s.To = civil.FormatDate(from + int32(r.IntN(60)))
				}
				in.Sessions = append(in.Sessions, s)
				fmt.Fprintf(&capCSV, "%s,%s,%s,%s,%s,%d,%s,%s\n", s.Court, s.Docket, s.IJ, s.Weekday, s.Start, s.Slots, s.From, s.To)
			}
		}
	}
	for k := r.IntN(4); k > 0; k-- {
		c := invariants.Closure{Court: append(courts, "*")[r.IntN(4)], Date: civil.FormatDate(asOf + int32(r.IntN(60)))}
		in.Closures = append(in.Closures, c)
		fmt.Fprintf(&closCSV, "%s,%s,weather\n", c.Court, c.Date)
	}
	cal := NewCalendar()
	if err := cal.ParseCapacity("cap.csv", []byte(capCSV.String()), testRef); err != nil {
		t.Fatalf("seed %d: %v", seed, err)
	}
	if err := cal.ParseClosures("closures.csv", []byte(closCSV.String()), testRef); err != nil {
		t.Fatalf("seed %d: %v", seed, err)
	}
	id := int64(1000)
	for _, court := range courts {
		for di, docket := range dockets {
			var cs []cases.Case
			for k := r.IntN(40); k > 0; k-- {
				id += 1 + int64(r.IntN(3))
				cs = append(cs, cases.Case{IDNProceeding: id, Tier: uint8(1 + r.IntN(3)), Score: []float64{0, 1, 2.5}[r.IntN(3)],
					IJ: p.Judges.Intern([]string{"", "J1", "J2", "J3"}[r.IntN(4)]), Juvenile: r.IntN(4) == 0, Court: uint16(testRef.CourtIndex(court)), Docket: cases.Docket(di)})
			}
			n := len(cs)
			base := 1 + r.IntN(1000) // the records count from the caller's index of cs[0]
			as, ov := Group(cal, uint16(testRef.CourtIndex(court)), cases.Docket(di), cs, base, p)
			sessions := cal.Sessions(uint16(testRef.CourtIndex(court)), cases.Docket(di))
			if len(as)+len(ov) != n {
				t.Fatalf("seed %d: %s %s: %d cases in, %d assigned + %d overflow out", seed, court, docket, n, len(as), len(ov))
			}
			once := map[int64]bool{}
			for _, a := range as {
				c, sess := &cs[int(a.Case)-base], &sessions[a.Session]
				if once[c.IDNProceeding] {
					t.Fatalf("seed %d: case %d twice", seed, c.IDNProceeding)
				}
				once[c.IDNProceeding] = true
				in.Cases = append(in.Cases, invariants.Case{ID: c.IDNProceeding, Court: court, Docket: docket, Tier: int32(c.Tier), Score: c.Score,
					CaseIJ: p.Judges.Code(c.IJ), Earliest: civil.FormatDate(p.Earliest(c)), Date: civil.FormatDate(a.Date), Time: sess.StartString(), SessionIJ: sess.IJ})
			}
			for _, o := range ov {
				c := &cs[int(o.Case)-base]
				if once[c.IDNProceeding] {
					t.Fatalf("seed %d: case %d twice", seed, c.IDNProceeding)
				}
				once[c.IDNProceeding] = true
				k := invariants.Case{ID: c.IDNProceeding, Court: court, Docket: docket, Tier: int32(c.Tier), Score: c.Score,
					CaseIJ: p.Judges.Code(c.IJ), Earliest: civil.FormatDate(p.Earliest(c)), Overflow: true, Reason: o.Reason.String()}
				if o.HasProjection {
					k.Projected = civil.FormatDate(o.Projected)
				}
				in.Cases = append(in.Cases, k)
			}
		}
	}
	sort.Slice(in.Cases, func(i, j int) bool { return in.Cases[i].ID < in.Cases[j].ID })
	return in
}

// TestGroupKeepsInvariants schedules random calendars, closures and cases
// and checks every invariant of contract §3 with the independent checker.
func TestGroupKeepsInvariants(t *testing.T) {
	n := uint64(400)
	if testing.Short() {
		n = 100
	}
	assigned, overflow := 0, 0
	for seed := uint64(1); seed <= n; seed++ {
		in := randomSchedule(t, seed)
		if err := invariants.Check(in); err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		for _, c := range in.Cases {
			if c.Overflow {
				overflow++
			} else {
				assigned++
			}
		}
	}
	t.Logf("%d random schedules: %d assigned, %d overflow", n, assigned, overflow)
	if assigned == 0 || overflow == 0 {
		t.Fatalf("the generator exercised too little: %d assigned, %d overflow", assigned, overflow)
	}
}

// FuzzGroup is the same property under the fuzzer's choice of seeds.
func FuzzGroup(f *testing.F) {
	for _, s := range []uint64{1, 2, 3, 42} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, seed uint64) {
		if err := invariants.Check(randomSchedule(t, seed)); err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
	})
}
