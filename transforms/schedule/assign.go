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
	// Cases whose lead is longer than the minimum wait in a side queue until
	// their first feasible day; the main pointer skips them until then.
	minLead := int32(p.MinNoticeDays)
	out := make([]Assignment, 0, len(cs))
	left := len(cs)
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
			free := s.Slots
			if s.IJ != "" {
				q := byJudge[s.IJ]
				for k := judgeNext[s.IJ]; k < len(q) && free > 0; k++ {
					i := q[k]
					if feasible(i, d) {
						assigned[i] = true
						out = append(out, Assignment{Case: &cs[i], Date: d, Session: s})
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
					out = append(out, Assignment{Case: &cs[i], Date: d, Session: s})
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
		o := Overflow{Case: &cs[i], Reason: "NO_SLOT_IN_HORIZON"}
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

func nextOpen(cal *Calendar, court uint16, d int32) int32 {
	for i := 0; i < 60; i++ {
		if cal.Open(court, d+int32(i)) {
			return d + int32(i)
		}
	}
	return d
}
