package impact

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/recal-project/recal/transforms/cases"
)

// State is a Builder's accumulated counts in a form that can be stored and
// added to another Builder's: a sharded run stores each shard's State, and
// `recal merge` adds them up and builds the one Impact of the whole run.
// Every field is a sum or a set union, so the merged Impact equals the one a
// single process would have built from the same cases. Its JSON encoding is
// deterministic (slices in key order).
type State struct {
	Cells       []CellState      `json:"cells"`
	Sessions    []SessionState   `json:"sessions"`
	ClosedCourt []CountState     `json:"closed_court"`
	ClosedRule  []int64          `json:"closed_rule"`
	ClosedBoth  []CountState     `json:"closed_court_rule"`
	Lang        []DemandState    `json:"lang"`
	Nat         []DemandState    `json:"nat"`
	Closure     []DemandState    `json:"closure"`
	Years       []DemandState    `json:"years"`
	Weeks       []WeekState      `json:"weeks"`
	Rejects     map[string]int64 `json:"rejects"`
}

// CellState holds one court, docket and tier's recalendared cases.
type CellState struct {
	Court    uint16  `json:"court"`
	Docket   uint8   `json:"docket"`
	Tier     uint8   `json:"tier"`
	Assigned int64   `json:"assigned"`
	Overflow int64   `json:"overflow"`
	Days     []int64 `json:"days,omitempty"`
}

// SessionState is one session that heard at least one case.
type SessionState struct {
	Court  uint16 `json:"court"`
	Docket uint8  `json:"docket"`
	Day    int32  `json:"day"`
	Start  int    `json:"start"`
	IJ     string `json:"ij,omitempty"`
}

// CountState counts remain-closed cases of a court (Rule unused), or of a
// court and rule.
type CountState struct {
	Court uint16 `json:"court"`
	Rule  uint16 `json:"rule,omitempty"`
	N     int64  `json:"n"`
}

// DemandState is one row of a demand breakdown (by language, nationality,
// closure code or years closed), by index.
type DemandState struct {
	Assigned int64 `json:"assigned"`
	Overflow int64 `json:"overflow"`
	Closed   int64 `json:"closed"`
}

// WeekState counts hearings in the week starting on Monday Day, by docket.
type WeekState struct {
	Day int32   `json:"day"`
	N   []int64 `json:"n"`
}

// State returns the Builder's counts. The Builder stays usable.
func (b *Builder) State() *State {
	s := &State{Rejects: map[string]int64{}}
	for court, ds := range b.cells {
		for d, tiers := range ds {
			for tier, x := range tiers {
				if x != nil {
					s.Cells = append(s.Cells, CellState{Court: uint16(court), Docket: uint8(d), Tier: uint8(tier),
						Assigned: x.assigned, Overflow: x.overflow, Days: slices.Clone(x.days)})
				}
			}
		}
	}
	for k := range b.sessions {
		s.Sessions = append(s.Sessions, SessionState{Court: k.court, Docket: uint8(k.docket), Day: k.day, Start: k.start, IJ: k.ij})
	}
	slices.SortFunc(s.Sessions, func(a, b SessionState) int {
		return cmp.Or(cmp.Compare(a.Court, b.Court), cmp.Compare(a.Docket, b.Docket), cmp.Compare(a.Day, b.Day),
			cmp.Compare(a.Start, b.Start), cmp.Compare(a.IJ, b.IJ))
	})
	for c, n := range b.closedCourt {
		s.ClosedCourt = append(s.ClosedCourt, CountState{Court: c, N: n})
	}
	slices.SortFunc(s.ClosedCourt, func(a, b CountState) int { return cmp.Compare(a.Court, b.Court) })
	for k, n := range b.closedBoth {
		s.ClosedBoth = append(s.ClosedBoth, CountState{Court: k[0], Rule: k[1], N: n})
	}
	slices.SortFunc(s.ClosedBoth, func(a, b CountState) int {
		return cmp.Or(cmp.Compare(a.Court, b.Court), cmp.Compare(a.Rule, b.Rule))
	})
	s.ClosedRule = slices.Clone(b.closedRule)
	demands := func(ds []demand) []DemandState {
		out := make([]DemandState, len(ds))
		for i, d := range ds {
			out[i] = DemandState{d.assigned, d.overflow, d.closed}
		}
		return out
	}
	s.Lang, s.Nat, s.Closure, s.Years = demands(b.lang), demands(b.nat), demands(b.closure[:]), demands(b.years[:])
	for d, w := range b.weeks {
		s.Weeks = append(s.Weeks, WeekState{Day: d, N: slices.Clone(w[:])})
	}
	slices.SortFunc(s.Weeks, func(a, b WeekState) int { return cmp.Compare(a.Day, b.Day) })
	for c, n := range b.rejects {
		s.Rejects[c] = n
	}
	return s
}

// Merge adds s to the Builder's counts. s must come from a Builder of the
// same reference data, policy and parameters: tables of another size are
// refused.
func (b *Builder) Merge(s *State) error {
	if len(s.ClosedRule) != len(b.closedRule) || len(s.Lang) != len(b.lang) || len(s.Nat) != len(b.nat) ||
		len(s.Closure) != len(b.closure) || len(s.Years) != len(b.years) {
		return fmt.Errorf("impact state of another policy or reference data (rules %d/%d, languages %d/%d, nationalities %d/%d)",
			len(s.ClosedRule), len(b.closedRule), len(s.Lang), len(b.lang), len(s.Nat), len(b.nat))
	}
	for _, x := range s.Cells {
		if x.Docket >= uint8(cases.NumDockets) || (x.Days != nil && len(x.Days) != b.p.HorizonDays+1) {
			return fmt.Errorf("impact state: cell of court %d docket %d tier %d does not fit this run's parameters", x.Court, x.Docket, x.Tier)
		}
		c := b.cell(&cases.Case{Court: x.Court, Docket: cases.Docket(x.Docket), Tier: x.Tier})
		c.assigned += x.Assigned
		c.overflow += x.Overflow
		if x.Days != nil {
			if c.days == nil {
				c.days = make([]int64, len(x.Days))
			}
			for i, n := range x.Days {
				c.days[i] += n
			}
		}
	}
	for _, k := range s.Sessions {
		b.sessions[sessionKey{k.Court, cases.Docket(k.Docket), k.Day, k.Start, k.IJ}] = struct{}{}
	}
	b.lastSession = sessionKey{}
	for _, x := range s.ClosedCourt {
		b.closedCourt[x.Court] += x.N
	}
	for _, x := range s.ClosedBoth {
		b.closedBoth[[2]uint16{x.Court, x.Rule}] += x.N
	}
	for i, n := range s.ClosedRule {
		b.closedRule[i] += n
	}
	add := func(ds []demand, ss []DemandState) {
		for i, x := range ss {
			ds[i].assigned += x.Assigned
			ds[i].overflow += x.Overflow
			ds[i].closed += x.Closed
		}
	}
	add(b.lang, s.Lang)
	add(b.nat, s.Nat)
	add(b.closure[:], s.Closure)
	add(b.years[:], s.Years)
	for _, w := range s.Weeks {
		if len(w.N) != int(cases.NumDockets) {
			return fmt.Errorf("impact state: week %d has %d dockets", w.Day, len(w.N))
		}
		x := b.weeks[w.Day]
		if x == nil {
			x = &[cases.NumDockets]int64{}
			b.weeks[w.Day] = x
		}
		for d, n := range w.N {
			x[d] += n
		}
	}
	for c, n := range s.Rejects {
		b.rejects[c] += n
	}
	return nil
}
