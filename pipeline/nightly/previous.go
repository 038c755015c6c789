// Package nightly is a run's continuity with the night before
// (`recal run --previous`): the previous run's standing hearings, which
// tonight's scheduler keeps where it can; changes/, what moved; and the
// release guard that refuses a night whose export came empty or half.
package nightly

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"golang.org/x/sync/errgroup"

	"github.com/recal-project/recal/pipeline/commit"
	"github.com/recal-project/recal/pipeline/datasets"
	"github.com/recal-project/recal/pipeline/location"
	"github.com/recal-project/recal/pipeline/manifest"
	"github.com/recal-project/recal/pipeline/parts"
	"github.com/recal-project/recal/pipeline/plan"
	"github.com/recal-project/recal/pipeline/shard"
	"github.com/recal-project/recal/pipeline/storage"
	"github.com/recal-project/recal/pipeline/sysexit"
	"github.com/recal-project/recal/transforms/cases"
	"github.com/recal-project/recal/transforms/idsort"
	"github.com/recal-project/recal/transforms/policy"
	"github.com/recal-project/recal/transforms/reference"
	"github.com/recal-project/recal/transforms/schedule"
)

// Kinds of change (changes/, the change column).
const (
	ChangeNew       = "NEW"
	ChangeUnchanged = "UNCHANGED"
	ChangeMoved     = "MOVED"
	ChangeReleased  = "RELEASED"
)

// Release reasons the job gives (the scheduler gives the others, see
// schedule.Standing): the case is no longer selected for recalendaring,
// or is not among tonight's valid rows (it left the export, or its row was
// rejected: rejects/ says which).
const (
	releasedNotSelected = "NOT_SELECTED"
	releasedLeftExport  = "LEFT_EXPORT"
)

// Previous is the last committed run (`recal run --previous`): its
// manifest and its standing hearings, sorted by idnproceeding. The
// records are small and pointer-free (about 32 bytes a hearing), so a
// million of them cost the garbage collector nothing to scan.
type Previous struct {
	uri           string
	m             *manifest.Manifest
	policyChanged bool
	standing      []standingRec
	// judges numbers the sessions' judge codes (standingRec.ij; 0 = "",
	// a pool session); judgeCodes are its codes once loaded, read without
	// its lock by every scheduling worker (Lookup).
	judges     *cases.Judges
	judgeCodes []string
	// workers bounds the goroutines that sort the changes.
	workers int
}

// courtUnknown is the court of a hearing at a court tonight's reference
// data lacks.
const courtUnknown = ^uint16(0)

// standingRec is one hearing of the previous run.
type standingRec struct {
	id   int64
	date int32
	// earliest is its earliest_hearing_date: the notice lead it met when
	// it was first scheduled, written through while it stands.
	earliest int32
	start    int16 // minutes after midnight
	court    uint16
	ij       uint32
	docket   cases.Docket
	// present: the case is among tonight's valid rows (any shard's).
	present bool
}

// Settings renders --previous for the run id: the previous run's
// id (its outputs follow from it), and whether a policy change was
// accepted ("" without --previous). Merge recomputes it from the
// manifest's changes section.
func Settings(runID string, policyChanged bool) string {
	if runID == "" {
		return ""
	}
	return fmt.Sprintf("previous=%s;policy_change=%v;", runID, policyChanged)
}

// Settings is Settings of this previous run ("" for none: p is nil).
func (p *Previous) Settings() string {
	if p == nil {
		return ""
	}
	return Settings(p.m.RunID, p.policyChanged)
}

// of returns c's standing hearing, or nil (c.Prev, set by markPresent).
func (p *Previous) of(c *cases.Case) *standingRec {
	if c.Prev == 0 {
		return nil
	}
	return &p.standing[c.Prev-1]
}

// Earliest is the earliest_hearing_date of c's standing hearing: the
// notice lead it met when it was first scheduled. c must have one
// (c.Prev ≠ 0).
func (p *Previous) Earliest(c *cases.Case) int32 {
	return p.of(c).earliest
}

// Lookup is schedule.Params.Standing.
func (p *Previous) Lookup(c *cases.Case) (schedule.Standing, bool) {
	r := p.of(c)
	if r == nil {
		return schedule.Standing{}, false
	}
	return schedule.Standing{Court: r.court, Docket: r.docket, Date: r.date, Start: int(r.start), IJ: p.judgeCodes[r.ij]}, true
}

// Options say where the previous run is and how to read it.
type Options struct {
	// URI is --previous.
	URI string
	// PolicyChange accepts a previous run of another policy
	// (--previous-policy-change).
	PolicyChange bool
	// Workers bounds the assignment objects read at once.
	Workers   int
	Locations location.Options
}

// Load reads the previous run o names: it must not be tonight's output
// out, must have committed (_SUCCESS), and must have applied tonight's
// policy unless o.PolicyChange says the change is intended.
func Load(ctx context.Context, o Options, pol *policy.Policy, ref *reference.Data, out storage.Store) (*Previous, error) {
	st, err := location.Open(ctx, o.URI, o.Locations)
	if err != nil {
		return nil, fmt.Errorf("--previous: %w", err)
	}
	if st.String() == out.String() {
		return nil, sysexit.Errorf(sysexit.ErrUsage, "--previous and --output are both %s: write each night to its own prefix", out)
	}
	m, err := commit.Committed(ctx, st, "")
	if err != nil {
		return nil, fmt.Errorf("--previous: %w", err)
	}
	if m == nil {
		objs, lerr := st.List(ctx, "")
		if lerr == nil && len(objs) == 0 {
			return nil, sysexit.Errorf(sysexit.ErrNoInput, "--previous %s: no run there (nothing under that prefix)", st)
		}
		return nil, sysexit.Errorf(sysexit.ErrNoInput, "--previous %s: that run did not commit (no _SUCCESS); rerun it, or point --previous at the last committed run", st)
	}
	p := &Previous{uri: o.URI, m: m, judges: cases.NewJudges(), workers: o.Workers}
	if m.Policy.ID != pol.ID {
		if !o.PolicyChange {
			return nil, sysexit.Errorf(sysexit.ErrConfig, "--previous %s applied policy %s, tonight's is %s: if the policy change is intended, add --previous-policy-change (hearings of cases tonight's policy no longer selects are then released)",
				st, m.Policy.ID, pol.ID)
		}
		p.policyChanged = true
	}
	var keys []string
	for _, o := range m.Outputs {
		if strings.HasPrefix(o.Key, "assignments/") {
			keys = append(keys, o.Key)
		}
	}
	sort.Strings(keys)
	if p.standing, err = readAllStanding(ctx, st, keys, ref, p.judges, o.Workers); err != nil {
		err = fmt.Errorf("--previous %s: %w", st, err)
		if errors.Is(err, storage.ErrNotExist) || errors.Is(err, storage.ErrUnavailable) || ctx.Err() != nil {
			return nil, err // not there, the store failing, or cancelled
		}
		return nil, sysexit.With(sysexit.ErrData, err) // what the Parquet reader said of a bad file
	}
	if err := p.check(st); err != nil {
		return nil, err
	}
	p.judgeCodes = p.judges.Codes()
	return p, nil
}

// readAllStanding reads the standing hearings of the assignment objects
// keys, workers readers each over its share, sorted by idnproceeding.
func readAllStanding(ctx context.Context, st storage.Store, keys []string, ref *reference.Data, judges *cases.Judges, workers int) ([]standingRec, error) {
	w := max(1, min(workers, len(keys)))
	shares := make([][]standingRec, w)
	g, gctx := errgroup.WithContext(ctx)
	for k := range w {
		g.Go(func() error {
			var mine []string
			for i := k; i < len(keys); i += w {
				mine = append(mine, keys[i])
			}
			var err error
			shares[k], err = readStanding(gctx, st, mine, ref, judges)
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	var all []standingRec
	for _, sh := range shares {
		all = append(all, sh...)
	}
	idsort.Sort(all, func(r *standingRec) int64 { return r.id }, func(a, b standingRec) int { return cmp.Compare(a.id, b.id) }, workers)
	return all, nil
}

// check refuses a previous run whose files do not match its manifest: an
// idnproceeding assigned twice, or another number of assignments.
func (p *Previous) check(st storage.Store) error {
	for i := 1; i < len(p.standing); i++ {
		if p.standing[i].id == p.standing[i-1].id {
			return sysexit.Errorf(sysexit.ErrData, "--previous %s: idnproceeding %d is assigned twice", st, p.standing[i].id)
		}
	}
	if int64(len(p.standing)) != p.m.Counts.Assigned {
		return sysexit.Errorf(sysexit.ErrData, "--previous %s: its manifest counts %d assignments, its files hold %d", st, p.m.Counts.Assigned, len(p.standing))
	}
	return nil
}

// readStanding reads the standing hearings of the assignment objects
// keys, numbering their judges in judges.
func readStanding(ctx context.Context, st storage.Store, keys []string, ref *reference.Data, judges *cases.Judges) ([]standingRec, error) {
	courtIdx := map[string]uint16{}
	var out []standingRec
	// Only the columns a standing hearing needs: idnproceeding,
	// base_city_code, docket, hearing_date, hearing_time, ij_code and
	// earliest_hearing_date.
	s := parts.Open(ctx, st, keys, datasets.Assignments, nil).Select(1, 2, 3, 4, 5, 6, 12)
	defer s.Close()
	var rec arrow.Record
	var ids *array.Int64
	var courts, dockets, times, ijs *array.String
	var dates, earliest *array.Date32
	for s.Next() {
		if r := s.Record(); r != rec { // a new batch: its typed columns, once
			rec = r
			ids, courts, dockets = r.Column(0).(*array.Int64), r.Column(1).(*array.String), r.Column(2).(*array.String)
			dates, times, ijs, earliest = r.Column(3).(*array.Date32), r.Column(4).(*array.String), r.Column(5).(*array.String), r.Column(6).(*array.Date32)
		}
		i := s.Row()
		id := ids.Value(i)
		code := courts.Value(i)
		court, ok := courtIdx[code]
		if !ok {
			court = courtUnknown
			if ci := ref.CourtIndex(code); ci >= 0 {
				court = uint16(ci)
			}
			courtIdx[strings.Clone(code)] = court
		}
		docket, ok := cases.ParseDocket(dockets.Value(i))
		start, okT := schedule.ParseClock(times.Value(i))
		if !ok || !okT {
			return nil, sysexit.Errorf(sysexit.ErrData, "an assignment (idnproceeding %d) has docket %q and time %q: not a recal output",
				id, dockets.Value(i), times.Value(i))
		}
		var ij uint32
		if ijs.IsValid(i) {
			code := ijs.Value(i)
			if ij, ok = judges.Lookup(code); !ok {
				ij = judges.Intern(strings.Clone(code)) // the code outlives the batch
			}
		}
		out = append(out, standingRec{id: id, date: int32(dates.Value(i)), earliest: int32(earliest.Value(i)), start: int16(start),
			court: court, ij: ij, docket: docket})
	}
	return out, s.Err()
}

// MarkPresent records which standing hearings' cases are among tonight's
// valid rows (all shards' rows, before a shard keeps its own), and links
// each case to its standing hearing (Case.Prev). The cases come in
// ascending runs of idnproceeding (deduplication leaves them so): each
// run is joined to the sorted hearings by one search and a walk.
func (p *Previous) MarkPresent(all []cases.Case) {
	j := len(p.standing)
	for i := range all {
		id := all[i].IDNProceeding
		if j == len(p.standing) || i == 0 || id < all[i-1].IDNProceeding {
			j, _ = slices.BinarySearchFunc(p.standing, id, func(r standingRec, id int64) int { return cmp.Compare(r.id, id) })
		}
		for j < len(p.standing) && p.standing[j].id < id {
			j++
		}
		if j < len(p.standing) && p.standing[j].id == id {
			p.standing[j].present = true
			all[i].Prev = int32(j + 1)
		}
	}
}

// Change is one row of changes/ (times in minutes after midnight, -1
// for none; Reason indexes ChangeSet.Reasons, Kind indexes Kinds).
type Change struct {
	IDNProc           int64
	PrevDate, NewDate int32
	PrevTime, NewTime int16
	Court             uint16
	Reason            uint16
	Kind              uint8
}

// Kinds are the change column's values, by Change.Kind.
var Kinds = [...]string{ChangeNew, ChangeUnchanged, ChangeMoved, ChangeReleased}

const (
	kindNew uint8 = iota
	kindUnchanged
	kindMoved
	kindReleased
)

// ChangeSet is changes/: its rows, in idnproceeding order, and the
// reasons they index (Reasons[0] = none).
type ChangeSet struct {
	Rows    []Change
	Reasons []string
}

// Changes compares tonight's plan with the previous run: a row for every
// hearing tonight (NEW, UNCHANGED or MOVED) and for every standing
// hearing released, with their counts. A shard covers its courts:
// tonight's cases it schedules, and the released hearings of cases absent
// tonight whose previous court it owns.
func (p *Previous) Changes(pl *plan.Plan, sp *shard.Plan) (*ChangeSet, *manifest.Changes) {
	cb := &changeBuilder{
		ch: &manifest.Changes{Previous: p.uri, PreviousRunID: p.m.RunID, PreviousAssigned: p.m.Counts.Assigned,
			PolicyChanged: p.policyChanged, Partial: sp != nil, MovedByReason: map[string]int64{}, ReleasedByReason: map[string]int64{}},
		set:       ChangeSet{Rows: make([]Change, 0, pl.Assigned+len(p.standing)/16), Reasons: []string{""}},
		reasonIdx: map[string]uint16{"": 0},
	}
	for _, court := range pl.Courts {
		ss := pl.Sessions(court)
		for _, a := range pl.Groups[court] {
			c := pl.Case(a.Case)
			cb.hearing(c, a, &ss[c.Docket][a.Session], pl.Released(a.Release), p.of(c))
		}
	}
	for o := range pl.Overflow.All() {
		c := pl.Case(o.Case)
		if r := p.of(c); r != nil {
			cb.release(c.IDNProceeding, c.Court, r, pl.Released(o.Release))
		}
	}
	for i := range pl.Closed {
		c := &pl.Closed[i]
		if r := p.of(c); r != nil {
			cb.release(c.IDNProceeding, c.Court, r, releasedNotSelected)
		}
	}
	for i := range p.standing {
		r := &p.standing[i]
		if r.present {
			continue
		}
		court := int(r.court)
		if r.court == courtUnknown {
			court = -1
		}
		if !sp.OwnsRow(court) {
			continue
		}
		cb.release(r.id, r.court, r, releasedLeftExport)
	}
	// One row per idnproceeding: the order is total.
	idsort.Sort(cb.set.Rows, func(x *Change) int64 { return x.IDNProc }, func(a, b Change) int { return cmp.Compare(a.IDNProc, b.IDNProc) }, p.workers)
	return &cb.set, cb.ch
}

// changeBuilder gathers changes/ and its counts.
type changeBuilder struct {
	ch        *manifest.Changes
	set       ChangeSet
	reasonIdx map[string]uint16
}

// reason returns r's index in the set's reasons, adding it if new.
func (cb *changeBuilder) reason(r string) uint16 {
	i, ok := cb.reasonIdx[r]
	if !ok {
		i = uint16(len(cb.set.Reasons))
		cb.set.Reasons = append(cb.set.Reasons, r)
		cb.reasonIdx[r] = i
	}
	return i
}

// hearing records tonight's hearing a of case c in session s, whose
// standing hearing is r (nil: none) and was released for why: NEW,
// UNCHANGED or MOVED.
func (cb *changeBuilder) hearing(c *cases.Case, a schedule.Assignment, s *schedule.Session, why string, r *standingRec) {
	ch := cb.ch
	x := Change{IDNProc: c.IDNProceeding, Court: c.Court, NewDate: a.Date, NewTime: int16(s.Start), PrevTime: -1}
	switch {
	case r == nil:
		x.Kind = kindNew
		ch.New++
	case a.Standing:
		x.Kind, x.PrevDate, x.PrevTime = kindUnchanged, r.date, r.start
		ch.Unchanged++
	default:
		x.Kind, x.PrevDate, x.PrevTime, x.Reason = kindMoved, r.date, r.start, cb.reason(why)
		ch.Moved++
		ch.MovedByReason[why]++
	}
	cb.set.Rows = append(cb.set.Rows, x)
}

// release records standing hearing r of case id as released, for why.
func (cb *changeBuilder) release(id int64, court uint16, r *standingRec, why string) {
	cb.set.Rows = append(cb.set.Rows, Change{IDNProc: id, Court: court, Kind: kindReleased, PrevDate: r.date, PrevTime: r.start, NewTime: -1, Reason: cb.reason(why)})
	cb.ch.Released++
	cb.ch.ReleasedByReason[why]++
}
