// Package plan schedules a run's cases, court by court in parallel, into
// the plan the writers and the report walk.
package plan

import (
	"cmp"
	"context"
	"fmt"
	"iter"
	"math"
	"slices"
	"sort"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/recal-project/recal/pipeline/progress"
	"github.com/recal-project/recal/transforms/cases"
	"github.com/recal-project/recal/transforms/idsort"
	"github.com/recal-project/recal/transforms/schedule"
)

// Plan is the outcome of scheduling. Its records name cases by index
// (Case) and sessions by their index in the calendar (Session).
type Plan struct {
	// Groups holds each court's assignments in hearing order, by court
	// index.
	Groups map[uint16][]schedule.Assignment
	// Courts are the sorted keys of Groups.
	Courts   []uint16
	Assigned int
	// Overflow holds the cases past the horizon, court by court.
	Overflow Overflows
	// Closed holds the cases that stay closed, by idnproceeding.
	Closed []cases.Case
	// all holds every case, in Schedule's layout; the records index it.
	all []cases.Case
	cal *schedule.Calendar
}

// Case is the case a record names.
func (pl *Plan) Case(i uint32) *cases.Case { return &pl.all[i] }

// Sessions is court's sessions by docket: assignment a of a case c at
// court is in session Sessions(court)[c.Docket][a.Session]. Take it once a
// court, not once an assignment.
func (pl *Plan) Sessions(court uint16) *[cases.NumDockets][]schedule.Session {
	var ss [cases.NumDockets][]schedule.Session
	for d := range ss {
		ss[d] = pl.cal.Sessions(court, cases.Docket(d))
	}
	return &ss
}

// Released is why a record's standing hearing was released ("": it was
// not, or there was none).
func (pl *Plan) Released(r schedule.Release) string { return pl.cal.ReleaseReason(r) }

// Schedule assigns the cases to be recalendared to the calendar's
// sessions, each (court, docket) group on its own, workers at a time. It
// reorders all in place (see partitionGroups); the plan's records index
// it, so all must outlive the plan.
func Schedule(ctx context.Context, cal *schedule.Calendar, all []cases.Case, p schedule.Params, workers int, prog *progress.Progress) (*Plan, error) {
	if uint64(len(all)) > math.MaxUint32 {
		return nil, fmt.Errorf("%d cases: more than the scheduler's %d", len(all), uint64(math.MaxUint32))
	}
	closed, keys := partitionGroups(all, workers)
	pl := &Plan{Groups: map[uint16][]schedule.Assignment{}, Closed: closed, all: all, cal: cal}
	courts := 0
	for i, k := range keys {
		if i == 0 || k.court != keys[i-1].court {
			courts++
		}
	}
	prog.StartSchedule(courts)
	assigns := make([][]schedule.Assignment, len(keys))
	overs := make([][]schedule.Overflow, len(keys))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(max(1, workers))
	for i, k := range keys {
		g.Go(func() error {
			if err := gctx.Err(); err != nil {
				return err
			}
			assigns[i], overs[i] = schedule.Group(cal, k.court, k.docket, all[k.from:k.to], k.from, p)
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	if err := pl.joinCourts(ctx, keys, assigns, overs, workers, prog); err != nil {
		return nil, err
	}
	return pl, nil
}

// groupKey is one (court, docket) group: all[from:to].
type groupKey struct {
	court    uint16
	docket   cases.Docket
	from, to int
}

// partitionGroups lays the cases out in place, group by group: the cases
// that stay closed first (returned sorted by idnproceeding), then each
// (court, docket) group in key order, each one contiguous range of all
// (workers sort the closed cases).
// Scheduling, the report and the writers then walk memory in order; with
// groups of pointers into the whole slice they chased pointers across
// gigabytes (TLB misses dominated the writers' fill loop at 10M rows).
func partitionGroups(all []cases.Case, workers int) ([]cases.Case, []groupKey) {
	maxCourt := 0
	for i := range all {
		maxCourt = max(maxCourt, int(all[i].Court))
	}
	bucket := func(c *cases.Case) int {
		if !c.Recalendar {
			return 0
		}
		return 1 + int(c.Court)*int(cases.NumDockets) + int(c.Docket)
	}
	nb := 1 + (maxCourt+1)*int(cases.NumDockets)
	// In place, one pass, no copy; bucket b holds all[bounds[b]:bounds[b+1]].
	bounds := idsort.Partition(all, nb, bucket)
	closed := all[:bounds[1]]
	// One case per idnproceeding (deduplicated): the order is total.
	idsort.Sort(closed, func(c *cases.Case) int64 { return c.IDNProceeding }, func(a, b cases.Case) int { return cmp.Compare(a.IDNProceeding, b.IDNProceeding) }, workers)
	var keys []groupKey
	for b := 1; b < nb; b++ {
		if bounds[b] < bounds[b+1] {
			keys = append(keys, groupKey{uint16((b - 1) / int(cases.NumDockets)), cases.Docket((b - 1) % int(cases.NumDockets)), bounds[b], bounds[b+1]})
		}
	}
	return closed, keys
}

// joinCourts joins each court's dockets and puts them in hearing order,
// courts in parallel (keys are in court order, so a court's groups are
// adjacent), and collects the overflow.
func (pl *Plan) joinCourts(ctx context.Context, keys []groupKey, assigns [][]schedule.Assignment, overs [][]schedule.Overflow, workers int, prog *progress.Progress) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(max(1, workers))
	var mu sync.Mutex
	for lo := 0; lo < len(keys); {
		hi := lo
		n := 0
		for hi < len(keys) && keys[hi].court == keys[lo].court {
			n += len(assigns[hi])
			hi++
		}
		for i := lo; i < hi; i++ {
			pl.Assigned += len(assigns[i])
			pl.Overflow.add(overs[i])
		}
		court, parts := keys[lo].court, assigns[lo:hi]
		lo = hi
		if n == 0 {
			prog.ScheduledCourt()
			continue
		}
		g.Go(func() error {
			if err := gctx.Err(); err != nil {
				return err
			}
			var as []schedule.Assignment
			for _, p := range parts {
				if len(p) == n {
					as = p // one docket holds them all: sorted where it is, no copy
				}
			}
			if as == nil {
				as = make([]schedule.Assignment, 0, n)
				for k, p := range parts {
					as = append(as, p...)
					parts[k] = nil // the group's own slice can go now, before the others are joined
				}
			}
			slices.SortFunc(as, pl.hearingOrder(court))
			mu.Lock()
			pl.Groups[court] = as
			pl.Courts = append(pl.Courts, court)
			mu.Unlock()
			prog.ScheduledCourt()
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	sort.Slice(pl.Courts, func(i, j int) bool { return pl.Courts[i] < pl.Courts[j] })
	return nil
}

// Overflows is the overflow of every group, in group order: the groups'
// own slices, not joined. At 10M cases nearly all overflow, and joining
// them into one growing slice held two or three copies of 240 MB at once.
type Overflows struct {
	parts [][]schedule.Overflow
	n     int
}

func (o *Overflows) add(part []schedule.Overflow) {
	if len(part) > 0 {
		o.parts = append(o.parts, part)
		o.n += len(part)
	}
}

// Len is the number of overflow records.
func (o *Overflows) Len() int { return o.n }

// All yields every record in order.
func (o *Overflows) All() iter.Seq[*schedule.Overflow] { return o.Range(0, o.n) }

// Range yields records [from, to) in order.
func (o *Overflows) Range(from, to int) iter.Seq[*schedule.Overflow] {
	return func(yield func(*schedule.Overflow) bool) {
		base := 0
		for _, p := range o.parts {
			lo, hi := max(from-base, 0), min(to-base, len(p))
			base += len(p)
			for i := lo; i < hi; i++ {
				if !yield(&p[i]) {
					return
				}
			}
			if base >= to {
				return
			}
		}
	}
}

// hearingOrder orders a court's assignments: date, start, docket, then
// priority.
func (pl *Plan) hearingOrder(court uint16) func(a, b schedule.Assignment) int {
	sessions := pl.Sessions(court)
	return func(a, b schedule.Assignment) int {
		if a.Date != b.Date {
			return cmp.Compare(a.Date, b.Date)
		}
		ca, cb := &pl.all[a.Case], &pl.all[b.Case]
		sa, sb := sessions[ca.Docket][a.Session].Start, sessions[cb.Docket][b.Session].Start
		switch {
		case sa != sb:
			return cmp.Compare(sa, sb)
		case ca.Docket != cb.Docket:
			return cmp.Compare(ca.Docket, cb.Docket)
		}
		return cases.Compare(ca, cb)
	}
}
