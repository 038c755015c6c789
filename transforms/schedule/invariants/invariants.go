// Package invariants checks a finished schedule against the invariants of
// contract §3 — capacity, business days, notice, own court and docket,
// judge first, priority order, and overflow — from the schedule's rows
// alone. It is written independently of package schedule (it shares no
// code with it: its own calendar arithmetic, holiday rules and slot
// model) so that tests can use it as a second opinion on the scheduler.
package invariants

import (
	"errors"
	"fmt"
	"sort"
	"time"
)

// Session is one capacity-calendar row, as written in the CSV.
type Session struct {
	Court, Docket, IJ, Weekday, Start string
	Slots                             int
	From, To                          string // To "" = open-ended
}

// Closure is one closures row; Court "*" closes every court.
type Closure struct{ Court, Date string }

// Case is one recalendared case as the outputs show it.
type Case struct {
	ID            int64
	Court, Docket string
	Tier          int32
	Score         float64
	// CaseIJ is the case's own judge ("" none); Earliest its first
	// feasible day (YYYY-MM-DD).
	CaseIJ, Earliest string
	// An assigned case has Date, Time and SessionIJ (the session's judge,
	// "" for a pool session).
	Date, Time, SessionIJ string
	// An overflow case has Overflow, Reason and Projected ("" = null).
	Overflow          bool
	Reason, Projected string
	// Standing marks a hearing kept from the previous run (`recal run
	// --previous`, change UNCHANGED). It was noticed under an earlier
	// as-of date, so tonight's notice floor (§3.3) and priority order
	// (§3.5, §3.4's judge-first) do not apply to it; it still takes its
	// slot (§3.1), on an open day (§3.2), at its own court and docket.
	Standing bool
}

// Input is a schedule to check.
type Input struct {
	AsOf          string
	MinNoticeDays int
	HorizonDays   int
	Sessions      []Session
	Closures      []Closure
	Cases         []Case
}

const maxReported = 10

type checker struct {
	in     Input
	asOf   time.Time
	end    time.Time
	errs   []error
	closed map[string]bool
}

func (c *checker) fail(format string, a ...any) {
	if len(c.errs) < maxReported {
		c.errs = append(c.errs, fmt.Errorf(format, a...))
	}
}

func date(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(fmt.Sprintf("invariants: bad date %q", s))
	}
	return t
}

func ds(t time.Time) string { return t.Format(time.DateOnly) }

// Check returns nil when every invariant holds, else the first violations.
func Check(in Input) error {
	c := &checker{in: in, asOf: date(in.AsOf), closed: map[string]bool{}}
	c.end = c.asOf.AddDate(0, 0, in.HorizonDays)
	for _, cl := range in.Closures {
		c.closed[cl.Court+"|"+cl.Date] = true
	}
	groups := map[string][]*Case{}
	fresh := map[string][]*Case{} // scheduled tonight: not standing
	for i := range in.Cases {
		k := &in.Cases[i]
		groups[k.Court+"|"+k.Docket] = append(groups[k.Court+"|"+k.Docket], k)
		if !k.Standing {
			fresh[k.Court+"|"+k.Docket] = append(fresh[k.Court+"|"+k.Docket], k)
		}
	}
	keys := make([]string, 0, len(groups))
	for g := range groups {
		keys = append(keys, g)
	}
	sort.Strings(keys)
	c.slots(in.Cases)
	for _, g := range keys {
		c.priority(fresh[g])
		c.judgeFirst(fresh[g])
		c.overflow(groups[g])
	}
	return errors.Join(c.errs...)
}

// open reports a business day on which the court sits (§3.2).
func (c *checker) open(court string, d time.Time) bool {
	if d.Weekday() == time.Saturday || d.Weekday() == time.Sunday {
		return false
	}
	return !holiday(d) && !c.closed[court+"|"+ds(d)] && !c.closed["*|"+ds(d)]
}

var weekdays = map[string]time.Weekday{"MON": time.Monday, "TUE": time.Tuesday, "WED": time.Wednesday, "THU": time.Thursday, "FRI": time.Friday}

// session returns the calendar row in force for a slot, if any.
func (c *checker) session(court, docket, ij, start string, d time.Time) (Session, bool) {
	for _, s := range c.in.Sessions {
		if s.Court == court && s.Docket == docket && s.IJ == ij && s.Start == start && weekdays[s.Weekday] == d.Weekday() &&
			ds(d) >= s.From && (s.To == "" || ds(d) <= s.To) {
			return s, true
		}
	}
	return Session{}, false
}

// slots checks invariants 1–4 for each assigned case.
func (c *checker) slots(cs []Case) {
	used := map[string]int{}
	floor := ds(c.asOf.AddDate(0, 0, c.in.MinNoticeDays))
	for i := range cs {
		k := &cs[i]
		if k.Earliest < floor && !k.Standing {
			c.fail("case %d: earliest day %s is before as_of + %d days (%s)", k.ID, k.Earliest, c.in.MinNoticeDays, floor)
		}
		if k.Overflow || k.Date == "" {
			continue
		}
		d := date(k.Date)
		if !c.open(k.Court, d) {
			c.fail("§3.2: case %d heard on %s (%s), a weekend, federal holiday or closure of %s", k.ID, k.Date, d.Weekday(), k.Court)
		}
		if k.Date < k.Earliest {
			c.fail("§3.3: case %d heard %s, before its earliest day %s", k.ID, k.Date, k.Earliest)
		}
		if d.After(c.end) {
			c.fail("case %d heard %s, after the horizon %s", k.ID, k.Date, ds(c.end))
		}
		s, ok := c.session(k.Court, k.Docket, k.SessionIJ, k.Time, d)
		if !ok {
			c.fail("§3.4: case %d at %s %s %s judge %q: no such session of its court and docket in force", k.ID, k.Court, k.Date, k.Time, k.SessionIJ)
			continue
		}
		key := fmt.Sprintf("%s|%s|%s|%s|%s", k.Court, k.Docket, k.SessionIJ, k.Time, k.Date)
		used[key]++
		if used[key] > s.Slots {
			c.fail("§3.1: session %s holds more than its %d slots", key, s.Slots)
		}
	}
}

// slotKey orders slots; overflow and unassigned cases are after all.
func slotKey(k *Case) string {
	if k.Overflow || k.Date == "" {
		return "~"
	}
	return k.Date + " " + k.Time
}

func higher(a, b *Case) bool { // a before b in priority
	if a.Tier != b.Tier {
		return a.Tier < b.Tier
	}
	if a.Score != b.Score {
		return a.Score > b.Score
	}
	return a.ID < b.ID
}

// priority checks §3.5: no case is heard later than (or overflows while) a
// lower-priority case of its court and docket holds an earlier slot that
// was open to it. A pool slot, or a judge's slot that went to a case not
// of that judge, is open to every case from its earliest day on; a judge's
// slot that went to that judge's own case is open to that judge's cases.
func (c *checker) priority(cs []*Case) {
	order := append([]*Case(nil), cs...)
	sort.Slice(order, func(i, j int) bool { return higher(order[i], order[j]) })
	earliest := map[string]bool{}
	for _, k := range cs {
		earliest[k.Earliest] = true
	}
	// Minimum slot key, over lower-priority cases, by earliest day.
	minPool := map[string]string{}
	minJudge := map[string]map[string]string{}
	for i := len(order) - 1; i >= 0; i-- {
		k := order[i]
		p := slotKey(k)
		if m, ok := minPool[k.Earliest]; ok && m < p {
			c.fail("§3.5: case %d (tier %d, score %v) is at %s though a lower-priority case holds the open slot %s", k.ID, k.Tier, k.Score, p, m)
		}
		if k.CaseIJ != "" {
			if m, ok := minJudge[k.CaseIJ][k.Earliest]; ok && m < p {
				c.fail("§3.5: case %d of judge %s is at %s though a lower-priority case of that judge holds the judge's slot %s", k.ID, k.CaseIJ, p, m)
			}
		}
		if p == "~" {
			continue
		}
		target := minPool
		if k.SessionIJ != "" && k.SessionIJ == k.CaseIJ {
			if minJudge[k.CaseIJ] == nil {
				minJudge[k.CaseIJ] = map[string]string{}
			}
			target = minJudge[k.CaseIJ]
		}
		for e := range earliest {
			if k.Date >= e {
				if m, ok := target[e]; !ok || p < m {
					target[e] = p
				}
			}
		}
	}
}

// judgeFirst checks §3.4's second half: a judge's session takes a case
// not of that judge only when none of the judge's cases that could sit
// that day is left for later.
func (c *checker) judgeFirst(cs []*Case) {
	byJudge := map[string][]*Case{}
	for _, k := range cs {
		if k.CaseIJ != "" {
			byJudge[k.CaseIJ] = append(byJudge[k.CaseIJ], k)
		}
	}
	for _, k := range cs {
		if k.Overflow || k.Date == "" || k.SessionIJ == "" || k.SessionIJ == k.CaseIJ {
			continue
		}
		p := slotKey(k)
		for _, j := range byJudge[k.SessionIJ] {
			if j.Earliest <= k.Date && slotKey(j) > p {
				c.fail("§3.4: judge %s's session at %s took case %d (not the judge's) while the judge's case %d waited until %s", k.SessionIJ, p, k.ID, j.ID, slotKey(j))
				break
			}
		}
	}
}

// overflow checks §3.6: overflow only when nothing open was left in the
// horizon, with a projection past it in priority order, or NO_CAPACITY
// when the court has no session for the docket after the horizon.
func (c *checker) overflow(cs []*Case) {
	var over []*Case
	for _, k := range cs {
		if k.Overflow {
			over = append(over, k)
		}
	}
	if len(over) == 0 {
		return
	}
	court, docket := cs[0].Court, cs[0].Docket
	used := map[string]int{}
	for _, k := range cs {
		if !k.Overflow && k.Date != "" {
			used[k.SessionIJ+"|"+k.Time+"|"+k.Date]++
		}
	}
	// The last open day with a free slot inside the horizon.
	lastFree := ""
	for d := c.asOf; !d.After(c.end); d = d.AddDate(0, 0, 1) {
		if !c.open(court, d) {
			continue
		}
		for _, s := range c.in.Sessions {
			if s.Court != court || s.Docket != docket || weekdays[s.Weekday] != d.Weekday() || ds(d) < s.From || (s.To != "" && ds(d) > s.To) {
				continue
			}
			if used[s.IJ+"|"+s.Start+"|"+ds(d)] < s.Slots {
				lastFree = ds(d)
			}
		}
	}
	after := ds(c.end.AddDate(0, 0, 1))
	capacityAfter := false
	for _, s := range c.in.Sessions {
		// Steady capacity: in force on the day after the horizon, or open-ended.
		if s.Court == court && s.Docket == docket && s.Slots > 0 && (s.To == "" || (s.From <= after && after <= s.To)) {
			capacityAfter = true
		}
	}
	sort.Slice(over, func(i, j int) bool { return higher(over[i], over[j]) })
	prev := ""
	for _, k := range over {
		if lastFree != "" && k.Earliest <= lastFree {
			c.fail("§3.6: case %d overflowed though a slot was free on %s", k.ID, lastFree)
		}
		switch k.Reason {
		case "NO_CAPACITY":
			if k.Projected != "" || capacityAfter {
				c.fail("§3.6: case %d is NO_CAPACITY (projected %q) but %s %s has sessions after the horizon: %v", k.ID, k.Projected, court, docket, capacityAfter)
			}
		case "NO_SLOT_IN_HORIZON":
			if k.Projected == "" || k.Projected < after || !c.open(court, date(k.Projected)) || k.Projected < prev {
				c.fail("§3.6: case %d projected %q: not an open day after the horizon %s in priority order", k.ID, k.Projected, ds(c.end))
			}
			prev = k.Projected
		default:
			c.fail("case %d: overflow reason %q", k.ID, k.Reason)
		}
	}
}

// Holiday reports a federal holiday of 5 U.S.C. 6103 on its observed date
// (d at midnight UTC), computed here by scanning the calendar rather than
// by formula.
func Holiday(d time.Time) bool { return holiday(d) }

func holiday(d time.Time) bool {
	y := d.Year()
	for _, yy := range []int{y - 1, y, y + 1} { // observed dates cross years
		for _, h := range holidaysOf(yy) {
			if h.Equal(d) {
				return true
			}
		}
	}
	return false
}

func holidaysOf(y int) []time.Time {
	var out []time.Time
	observed := func(m time.Month, day int) {
		t := time.Date(y, m, day, 0, 0, 0, 0, time.UTC)
		if t.Weekday() == time.Saturday {
			t = t.AddDate(0, 0, -1)
		} else if t.Weekday() == time.Sunday {
			t = t.AddDate(0, 0, 1)
		}
		out = append(out, t)
	}
	// nth returns the n-th (1-based; -1 = last) weekday wd of month m.
	nth := func(m time.Month, wd time.Weekday, n int) {
		var hits []time.Time
		for t := time.Date(y, m, 1, 0, 0, 0, 0, time.UTC); t.Month() == m; t = t.AddDate(0, 0, 1) {
			if t.Weekday() == wd {
				hits = append(hits, t)
			}
		}
		if n < 0 {
			out = append(out, hits[len(hits)-1])
		} else {
			out = append(out, hits[n-1])
		}
	}
	observed(time.January, 1)
	nth(time.January, time.Monday, 3)
	nth(time.February, time.Monday, 3)
	nth(time.May, time.Monday, -1)
	if y >= 2021 {
		observed(time.June, 19)
	}
	observed(time.July, 4)
	nth(time.September, time.Monday, 1)
	nth(time.October, time.Monday, 2)
	observed(time.November, 11)
	nth(time.November, time.Thursday, 4)
	observed(time.December, 25)
	return out
}
