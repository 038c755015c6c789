package schedule

import (
	"math"

	"github.com/recal-project/recal/transforms/cases"
)

// Assignment is one case's hearing. It is 16 bytes and holds no pointer:
// a run keeps one per assigned case, millions of them, and the garbage
// collector need not scan them (with pointers it re-marked a 10M-row run's
// hundreds of megabytes of records every cycle of the write stage).
type Assignment struct {
	// Case is the case's index: base plus its position in Group's cs.
	Case uint32
	Date int32
	// Session is the session's index in cal.Sessions(court, docket): its
	// IJ and start time.
	Session uint32
	// Release says why the case's standing hearing could not be kept
	// (NotReleased: it had none, or kept it): this hearing replaces it.
	Release Release
	// Standing reports that this is the case's standing hearing, kept.
	Standing bool
}

// Standing is a hearing already noticed (the last run's assignment of a
// case, `recal run --previous`): it is kept when tonight's calendar still
// has its session on its day with room, and released otherwise.
type Standing struct {
	Court  uint16
	Docket cases.Docket
	Date   int32
	// Start is minutes after midnight; IJ the session's judge ("" pool).
	Start int
	IJ    string
}

// Overflow is a recalendared case with no slot inside the horizon. It is
// 12 bytes and holds no pointer (see Assignment): a run that overflows
// millions of cases keeps one per case.
type Overflow struct {
	// Case is the case's index, as in Assignment.
	Case uint32
	// Projected is the projected hearing date at the court's steady weekly
	// capacity past the horizon; valid only when HasProjection.
	Projected int32
	// Release says why the case's standing hearing was released
	// (NotReleased: it had none).
	Release       Release
	HasProjection bool
	// Reason is why there was no slot.
	Reason OverflowReason
}

// OverflowReason is why a case got no slot in the horizon.
type OverflowReason uint8

// The overflow reasons (contract §2, overflow's reason column).
const (
	// NoSlotInHorizon: the docket's sessions in the horizon were full.
	NoSlotInHorizon OverflowReason = iota
	// NoCapacity: the court has no sessions for the docket after the
	// horizon, so no projection either.
	NoCapacity
)

// String is the reason as the overflow dataset writes it.
func (r OverflowReason) String() string {
	if r == NoCapacity {
		return "NO_CAPACITY"
	}
	return "NO_SLOT_IN_HORIZON"
}

// Params bound one scheduling run.
type Params struct {
	// AsOf is the as-of date (days since epoch).
	AsOf int32
	// MinNoticeDays and JuvenileNoticeDays give the earliest hearing day:
	// AsOf + lead (contract §3.3).
	MinNoticeDays, JuvenileNoticeDays int
	// HorizonDays: the last schedulable day is AsOf + HorizonDays.
	HorizonDays int
	// Judges turns the cases' judge indices into codes, to match them
	// with judge-tied sessions (nil: no case has a judge).
	Judges *cases.Judges
	// Standing, when set, returns a case's standing hearing (Group's
	// keep-or-release rules). It is called concurrently.
	Standing func(c *cases.Case) (Standing, bool)
}

// Earliest is c's first feasible hearing day: as_of plus the notice lead
// (the juvenile lead for juvenile cases, when longer), contract §3.3.
func (p Params) Earliest(c *cases.Case) int32 {
	if c.Juvenile && p.JuvenileNoticeDays > p.MinNoticeDays {
		return p.AsOf + int32(p.JuvenileNoticeDays)
	}
	return p.AsOf + int32(p.MinNoticeDays)
}

// Group schedules one court's docket. cs must hold that court's and
// docket's recalendared cases; Group sorts them in place into priority
// order (cases.Compare), and the assignments and overflow it returns name
// each case by base plus its position in cs (the caller's index of cs[0];
// base+len(cs) must fit in a uint32). The result is a pure function of the
// inputs (no maps iterated, no clocks).
//
// Taking the cases by value, contiguous, rather than as pointers into a
// larger slice keeps every pass over a group inside one range of memory.
func Group(cal *Calendar, court uint16, docket cases.Docket, cs []cases.Case, base int, p Params) ([]Assignment, []Overflow) {
	sortByPriority(cs)
	end := p.AsOf + int32(p.HorizonDays)
	// At most the slots of the horizon are assigned: when most cases
	// overflow, sizing the assignments by the group cost 40 bytes a case
	// for nothing.
	slots, _ := cal.Offered(court, docket, p.AsOf+int32(p.MinNoticeDays), end)
	g := &grouper{cal: cal, court: court, docket: docket, cs: cs, base: uint32(base), p: p, sessions: cal.Sessions(court, docket),
		end: end, assigned: make([]bool, len(cs)), out: make([]Assignment, 0, min(int64(len(cs)), slots)), left: len(cs)}
	g.judgeQueues()
	if p.Standing != nil {
		g.keepStanding()
	}
	g.fill()
	if g.left == 0 {
		return g.out, nil
	}
	return g.out, g.overflow()
}

// grouper is the state of scheduling one group.
type grouper struct {
	cal      *Calendar
	court    uint16
	docket   cases.Docket
	cs       []cases.Case
	base     uint32 // the index of cs[0] in the records' Case
	p        Params
	sessions []Session
	end      int32 // the horizon's last day
	assigned []bool
	// byJudge queues, in priority order, the cases of judges that have
	// judge-tied sessions; judgeNext is each queue's first unassigned.
	byJudge   map[string][]int
	judgeNext map[string]int
	// used counts standing hearings per session and day (nil without
	// standing hearings: reads give 0); released says why a case's
	// standing hearing could not stand (nil without standing hearings).
	used     map[slotKey]int
	released []Release
	out      []Assignment
	left     int // cases not yet assigned
}

// judgeQueues builds the per-judge queues for judge-tied sessions.
func (g *grouper) judgeQueues() {
	g.byJudge, g.judgeNext = map[string][]int{}, map[string]int{}
	hasJudgeSession := map[uint32]string{}
	for _, s := range g.sessions {
		if s.IJ != "" {
			if j, ok := g.p.Judges.Lookup(s.IJ); ok {
				hasJudgeSession[j] = s.IJ
			}
		}
	}
	for i := range g.cs {
		if code, ok := hasJudgeSession[g.cs[i].IJ]; ok && g.cs[i].IJ != 0 {
			g.byJudge[code] = append(g.byJudge[code], i)
		}
	}
}

// keepStanding places the standing hearings first, in priority order: each
// keeps its slot while its session still has room on its day, and
// consumes it.
func (g *grouper) keepStanding() {
	g.used = map[slotKey]int{}
	g.released = make([]Release, len(g.cs))
	for i := range g.cs {
		st, ok := g.p.Standing(&g.cs[i])
		if !ok {
			continue
		}
		si, why := keep(g.cal, g.court, g.docket, g.sessions, st, g.end, g.p.AsOf, g.used)
		if why != NotReleased {
			g.released[i] = why
			continue
		}
		g.used[slotKey{si, st.Date}]++
		g.assigned[i] = true
		g.left--
		g.out = append(g.out, Assignment{Case: g.base + uint32(i), Date: st.Date, Session: uint32(si), Standing: true})
	}
}

// why says why case i's standing hearing was released.
func (g *grouper) why(i int) Release {
	if g.released == nil {
		return NotReleased
	}
	return g.released[i]
}

// fill walks the open days of the horizon and gives each session's free
// slots to the highest-priority feasible cases, judge-tied sessions taking
// their judge's cases first. Cases whose lead is longer than the minimum
// are skipped until their first feasible day.
func (g *grouper) fill() {
	cs, p := g.cs, g.p
	next := 0 // first possibly unassigned case in priority order
	feasible := func(i int, d int32) bool { return !g.assigned[i] && d >= p.Earliest(&cs[i]) }
	for d := p.AsOf + int32(p.MinNoticeDays); d <= g.end && g.left > 0; d++ {
		if !g.cal.Open(g.court, d) {
			continue
		}
		wd := Weekday(d)
		for si := range g.sessions {
			s := &g.sessions[si]
			if s.Weekday != wd || d < s.From || d > s.To || s.Slots == 0 {
				continue
			}
			free := s.Slots - g.used[slotKey{si, d}]
			if s.IJ != "" {
				free = g.fillJudge(si, d, free, feasible)
			}
			for i := next; i < len(cs) && free > 0; i++ {
				if feasible(i, d) {
					g.assigned[i] = true
					g.out = append(g.out, Assignment{Case: g.base + uint32(i), Date: d, Session: uint32(si), Release: g.why(i)})
					free--
					g.left--
				}
			}
			for next < len(cs) && g.assigned[next] {
				next++
			}
		}
	}
}

// fillJudge gives judge-tied session si's free slots on day d to its
// judge's feasible cases first, and returns the slots left.
func (g *grouper) fillJudge(si int, d int32, free int, feasible func(int, int32) bool) int {
	s := &g.sessions[si]
	q := g.byJudge[s.IJ]
	for k := g.judgeNext[s.IJ]; k < len(q) && free > 0; k++ {
		i := q[k]
		if feasible(i, d) {
			g.assigned[i] = true
			g.out = append(g.out, Assignment{Case: g.base + uint32(i), Date: d, Session: uint32(si), Release: g.why(i)})
			free--
			g.left--
		}
	}
	// Advance past the assigned prefix.
	k := g.judgeNext[s.IJ]
	for k < len(q) && g.assigned[q[k]] {
		k++
	}
	g.judgeNext[s.IJ] = k
	return free
}

// overflow projects the unassigned cases at the steady weekly capacity
// after the horizon.
func (g *grouper) overflow() []Overflow {
	weekly := 0
	after := g.end + 1
	for _, s := range g.sessions {
		if after >= s.From && after <= s.To || s.From > after && s.To == math.MaxInt32 {
			weekly += s.Slots
		}
	}
	over := make([]Overflow, 0, g.left)
	k := 0
	week, projected := int32(-1), int32(0)
	for i := range g.cs {
		if g.assigned[i] {
			continue
		}
		o := Overflow{Case: g.base + uint32(i), Release: g.why(i)}
		if weekly == 0 {
			o.Reason = NoCapacity
		} else {
			if w := int32(k / weekly); w != week { // the week's first case: its open day, once a week
				week, projected = w, nextOpen(g.cal, g.court, after+7*w)
			}
			o.Projected, o.HasProjection = projected, true
		}
		over = append(over, o)
		k++
	}
	return over
}

// slotKey is one session (an index into the group's sessions) on one day.
type slotKey struct {
	session int
	day     int32
}

// keep decides whether a standing hearing stays: it returns its session's
// index, or why it is released. COURT_CHANGED and DOCKET_CHANGED: the case
// is tonight at another court or on another docket; HEARING_DATE_PASSED:
// its day is before the as-of date; OUTSIDE_HORIZON: after the last
// schedulable day; WEEKEND, HOLIDAY or CLOSURE (with the closure's
// reason): the court does not sit that day; SESSION_GONE: tonight's
// calendar has no such session that day; CAPACITY_CUT: the session's
// slots are taken by higher-priority standing hearings.
func keep(cal *Calendar, court uint16, docket cases.Docket, sessions []Session, st Standing, end, asOf int32, used map[slotKey]int) (int, Release) {
	switch {
	case st.Court != court:
		return -1, CourtChanged
	case st.Docket != docket:
		return -1, DocketChanged
	case st.Date < asOf:
		return -1, HearingDatePassed
	case st.Date > end:
		return -1, OutsideHorizon
	}
	if why := cal.closedRelease(court, st.Date); why != NotReleased {
		return -1, why
	}
	wd := Weekday(st.Date)
	found := false
	for si := range sessions {
		s := &sessions[si]
		if s.Weekday != wd || st.Date < s.From || st.Date > s.To || s.Start != st.Start || s.IJ != st.IJ || s.Slots == 0 {
			continue
		}
		found = true
		if used[slotKey{si, st.Date}] < s.Slots {
			return si, NotReleased
		}
	}
	if found {
		return -1, CapacityCut
	}
	return -1, SessionGone
}

func nextOpen(cal *Calendar, court uint16, d int32) int32 {
	for i := 0; i < 60; i++ {
		if cal.Open(court, d+int32(i)) {
			return d + int32(i)
		}
	}
	return d
}
