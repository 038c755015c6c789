package schedule

import (
	"math"
	"slices"

	"github.com/recal-project/recal/transforms/cases"
)

// Assignment is one case's hearing.
type Assignment struct {
	Case *cases.Case
	Date int32
	// Session is the session the hearing is in (its IJ, start time).
	Session *Session
	// Standing reports that this is the case's standing hearing, kept.
	Standing bool
	// Released says why the case's standing hearing could not be kept
	// ("" when it had none, or kept it): this hearing replaces it.
	Released string
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

// Overflow is a recalendared case with no slot inside the horizon.
type Overflow struct {
	Case *cases.Case
	// Projected is the projected hearing date at the court's steady weekly
	// capacity past the horizon; valid only when HasProjection.
	Projected     int32
	HasProjection bool
	// Reason is NO_SLOT_IN_HORIZON or NO_CAPACITY (the court has no
	// sessions for the docket after the horizon).
	Reason string
	// Released says why the case's standing hearing was released, as in
	// Assignment.
	Released string
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
// order (cases.Compare), and the assignments and overflow it returns point
// into cs. The result is a pure function of the inputs (no maps iterated,
// no clocks).
//
// Taking the cases by value, contiguous, rather than as pointers into a
// larger slice keeps every pass over a group inside one range of memory.
func Group(cal *Calendar, court uint16, docket cases.Docket, cs []cases.Case, p Params) ([]Assignment, []Overflow) {
	// The order is total, so any sort gives the same result.
	slices.SortFunc(cs, func(a, b cases.Case) int { return cases.Compare(&a, &b) })
	sessions := cal.Sessions(court, docket)
	end := p.AsOf + int32(p.HorizonDays)

	assigned := make([]bool, len(cs))
	// Per-judge queues, in priority order, for judge-tied sessions.
	byJudge := map[string][]int{}
	hasJudgeSession := map[uint32]string{}
	for _, s := range sessions {
		if s.IJ != "" {
			if j, ok := p.Judges.Lookup(s.IJ); ok {
				hasJudgeSession[j] = s.IJ
			}
		}
	}
	for i := range cs {
		if code, ok := hasJudgeSession[cs[i].IJ]; ok && cs[i].IJ != 0 {
			byJudge[code] = append(byJudge[code], i)
		}
	}
	judgeNext := map[string]int{}
	// Standing hearings first, in priority order: each keeps its slot
	// while its session still has room on its day, and consumes it.
	var used map[slotKey]int // nil without standing hearings: reads give 0
	var released []string
	out := make([]Assignment, 0, len(cs))
	left := len(cs)
	if p.Standing != nil {
		used = map[slotKey]int{}
		released = make([]string, len(cs))
		for i := range cs {
			st, ok := p.Standing(&cs[i])
			if !ok {
				continue
			}
			si, why := keep(cal, court, docket, sessions, st, end, p.AsOf, used)
			if why != "" {
				released[i] = why
				continue
			}
			used[slotKey{si, st.Date}]++
			assigned[i] = true
			left--
			out = append(out, Assignment{Case: &cs[i], Date: st.Date, Session: &sessions[si], Standing: true})
		}
	}
	why := func(i int) string {
		if released == nil {
			return ""
		}
		return released[i]
	}
	// Cases whose lead is longer than the minimum wait in a side queue until
	// their first feasible day; the main pointer skips them until then.
	minLead := int32(p.MinNoticeDays)
	next := 0 // first possibly unassigned case in priority order
	feasible := func(i int, d int32) bool { return !assigned[i] && d >= p.Earliest(&cs[i]) }

	for d := p.AsOf + minLead; d <= end && left > 0; d++ {
		if !cal.Open(court, d) {
			continue
		}
		wd := Weekday(d)
		for si := range sessions {
			s := &sessions[si]
			if s.Weekday != wd || d < s.From || d > s.To || s.Slots == 0 {
				continue
			}
			free := s.Slots - used[slotKey{si, d}]
			if s.IJ != "" {
				q := byJudge[s.IJ]
				for k := judgeNext[s.IJ]; k < len(q) && free > 0; k++ {
					i := q[k]
					if feasible(i, d) {
						assigned[i] = true
						out = append(out, Assignment{Case: &cs[i], Date: d, Session: s, Released: why(i)})
						free--
						left--
					}
				}
				// Advance past the assigned prefix.
				k := judgeNext[s.IJ]
				for k < len(q) && assigned[q[k]] {
					k++
				}
				judgeNext[s.IJ] = k
			}
			for i := next; i < len(cs) && free > 0; i++ {
				if feasible(i, d) {
					assigned[i] = true
					out = append(out, Assignment{Case: &cs[i], Date: d, Session: s, Released: why(i)})
					free--
					left--
				}
			}
			for next < len(cs) && assigned[next] {
				next++
			}
		}
	}
	if left == 0 {
		return out, nil
	}
	// Overflow: projected at the steady weekly capacity after the horizon.
	weekly := 0
	after := end + 1
	for _, s := range sessions {
		if after >= s.From && after <= s.To || s.From > after && s.To == math.MaxInt32 {
			weekly += s.Slots
		}
	}
	over := make([]Overflow, 0, left)
	k := 0
	for i := range cs {
		if assigned[i] {
			continue
		}
		o := Overflow{Case: &cs[i], Reason: "NO_SLOT_IN_HORIZON", Released: why(i)}
		if weekly == 0 {
			o.Reason = "NO_CAPACITY"
		} else {
			week := int32(k / weekly)
			o.Projected = nextOpen(cal, court, after+7*week)
			o.HasProjection = true
		}
		over = append(over, o)
		k++
	}
	return out, over
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
func keep(cal *Calendar, court uint16, docket cases.Docket, sessions []Session, st Standing, end, asOf int32, used map[slotKey]int) (int, string) {
	switch {
	case st.Court != court:
		return -1, "COURT_CHANGED"
	case st.Docket != docket:
		return -1, "DOCKET_CHANGED"
	case st.Date < asOf:
		return -1, "HEARING_DATE_PASSED"
	case st.Date > end:
		return -1, "OUTSIDE_HORIZON"
	}
	if why := cal.Closed(court, st.Date); why != "" {
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
			return si, ""
		}
	}
	if found {
		return -1, "CAPACITY_CUT"
	}
	return -1, "SESSION_GONE"
}

func nextOpen(cal *Calendar, court uint16, d int32) int32 {
	for i := 0; i < 60; i++ {
		if cal.Open(court, d+int32(i)) {
			return d + int32(i)
		}
	}
	return d
}
