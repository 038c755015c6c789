package job

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
	"github.com/recal-project/recal/pipeline/storage"
	"github.com/recal-project/recal/pipeline/sysexit"
	"github.com/recal-project/recal/transforms/cases"
	"github.com/recal-project/recal/transforms/policy"
	"github.com/recal-project/recal/transforms/reference"
	"github.com/recal-project/recal/transforms/schedule"
)

// Kinds of change (changes/, the change column).
const (
	changeNew       = "NEW"
	changeUnchanged = "UNCHANGED"
	changeMoved     = "MOVED"
	changeReleased  = "RELEASED"
)

// Release reasons the job gives (the scheduler gives the others, see
// schedule.Standing): the case is no longer selected for recalendaring,
// or is not among tonight's valid rows (it left the export, or its row was
// rejected: rejects/ says which).
const (
	releasedNotSelected = "NOT_SELECTED"
	releasedLeftExport  = "LEFT_EXPORT"
)

// previous is the last committed run (`recal run --previous`): its
// manifest and its standing hearings, sorted by idnproceeding. The
// records are small and pointer-free (about 32 bytes a hearing), so a
// million of them cost the garbage collector nothing to scan.
type previous struct {
	uri           string
	m             *manifest.Manifest
	policyChanged bool
	standing      []standingRec
	// judges numbers the sessions' judge codes (standingRec.ij; 0 = "",
	// a pool session).
	judges *cases.Judges
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

// settings is previousSettings of this previous run ("" for none).
func (p *previous) settings() string {
	if p == nil {
		return ""
	}
	return previousSettings(p.m.RunID, p.policyChanged)
}

// of returns c's standing hearing, or nil (c.Prev, set by markPresent).
func (p *previous) of(c *cases.Case) *standingRec {
	if c.Prev == 0 {
		return nil
	}
	return &p.standing[c.Prev-1]
}

// lookup is schedule.Params.Standing.
func (p *previous) lookup(c *cases.Case) (schedule.Standing, bool) {
	r := p.of(c)
	if r == nil {
		return schedule.Standing{}, false
	}
	return schedule.Standing{Court: r.court, Docket: r.docket, Date: r.date, Start: int(r.start), IJ: p.judges.Code(r.ij)}, true
}

// loadPrevious reads the previous run the configuration names: it must
// not be tonight's output, must have committed (_SUCCESS), and must have
// applied tonight's policy unless cfg.PreviousPolicyChange says the change
// is intended.
func loadPrevious(ctx context.Context, cfg *Config, pol *policy.Policy, ref *reference.Data, out storage.Store) (*previous, error) {
	st, err := location.Open(ctx, cfg.Previous, cfg.Locations)
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
	p := &previous{uri: cfg.Previous, m: m, standing: make([]standingRec, 0, m.Counts.Assigned), judges: cases.NewJudges()}
	if m.Policy.ID != pol.ID {
		if !cfg.PreviousPolicyChange {
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
	// The objects are read by cfg.Workers readers, each over its share.
	w := max(1, min(cfg.Workers, len(keys)))
	shares := make([][]standingRec, w)
	g, gctx := errgroup.WithContext(ctx)
	for k := range w {
		g.Go(func() error {
			var mine []string
			for i := k; i < len(keys); i += w {
				mine = append(mine, keys[i])
			}
			var err error
			shares[k], err = readStanding(gctx, st, mine, ref, p.judges)
			return err
		})
	}
	if err := g.Wait(); err != nil {
		err = fmt.Errorf("--previous %s: %w", st, err)
		if errors.Is(err, storage.ErrNotExist) || errors.Is(err, storage.ErrUnavailable) || ctx.Err() != nil {
			return nil, err // not there, the store failing, or cancelled
		}
		return nil, sysexit.With(sysexit.ErrData, err) // what the Parquet reader said of a bad file
	}
	for _, sh := range shares {
		p.standing = append(p.standing, sh...)
	}
	slices.SortFunc(p.standing, func(a, b standingRec) int { return cmp.Compare(a.id, b.id) })
	for i := 1; i < len(p.standing); i++ {
		if p.standing[i].id == p.standing[i-1].id {
			return nil, sysexit.Errorf(sysexit.ErrData, "--previous %s: idnproceeding %d is assigned twice", st, p.standing[i].id)
		}
	}
	if int64(len(p.standing)) != m.Counts.Assigned {
		return nil, sysexit.Errorf(sysexit.ErrData, "--previous %s: its manifest counts %d assignments, its files hold %d", st, m.Counts.Assigned, len(p.standing))
	}
	return p, nil
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

// markPresent records which standing hearings' cases are among tonight's
// valid rows (all shards' rows, before a shard keeps its own), and links
// each case to its standing hearing (Case.Prev). The cases come in
// ascending runs of idnproceeding (deduplication leaves them so): each
// run is joined to the sorted hearings by one search and a walk.
func (p *previous) markPresent(all []cases.Case) {
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

// change is one row of changes/ (times in minutes after midnight, -1
// for none; reason indexes changeReasons).
type change struct {
	idnProc           int64
	prevDate, newDate int32
	prevTime, newTime int16
	court             uint16
	reason            uint16
	kind              uint8
}

// changeKinds are the values of change.kind.
var changeKinds = [...]string{changeNew, changeUnchanged, changeMoved, changeReleased}

const (
	kindNew uint8 = iota
	kindUnchanged
	kindMoved
	kindReleased
)

// changeSet is changes/: its rows, in idnproceeding order, and the
// reasons they index (reasons[0] = none).
type changeSet struct {
	rows    []change
	reasons []string
}

// changes compares tonight's plan with the previous run: a row for every
// hearing tonight (NEW, UNCHANGED or MOVED) and for every standing
// hearing released, with their counts. A shard covers its courts:
// tonight's cases it schedules, and the released hearings of cases absent
// tonight whose previous court it owns.
func (p *previous) changes(pl *plan, sp *shardPlan) (*changeSet, *manifest.Changes) {
	ch := &manifest.Changes{Previous: p.uri, PreviousRunID: p.m.RunID, PreviousAssigned: p.m.Counts.Assigned,
		PolicyChanged: p.policyChanged, Partial: sp != nil, MovedByReason: map[string]int64{}, ReleasedByReason: map[string]int64{}}
	reasons := []string{""}
	reasonIdx := map[string]uint16{"": 0}
	reason := func(r string) uint16 {
		i, ok := reasonIdx[r]
		if !ok {
			i = uint16(len(reasons))
			reasons = append(reasons, r)
			reasonIdx[r] = i
		}
		return i
	}
	out := make([]change, 0, pl.assigned+len(p.standing)/16)
	release := func(id int64, court uint16, r *standingRec, why string) {
		out = append(out, change{idnProc: id, court: court, kind: kindReleased, prevDate: r.date, prevTime: r.start, newTime: -1, reason: reason(why)})
		ch.Released++
		ch.ReleasedByReason[why]++
	}
	for _, court := range pl.courts {
		for _, a := range pl.groups[court] {
			c := a.Case
			x := change{idnProc: c.IDNProceeding, court: c.Court, newDate: a.Date, newTime: int16(a.Session.Start), prevTime: -1}
			r := p.of(c)
			switch {
			case r == nil:
				x.kind = kindNew
				ch.New++
			case a.Standing:
				x.kind, x.prevDate, x.prevTime = kindUnchanged, r.date, r.start
				ch.Unchanged++
			default:
				x.kind, x.prevDate, x.prevTime, x.reason = kindMoved, r.date, r.start, reason(a.Released)
				ch.Moved++
				ch.MovedByReason[a.Released]++
			}
			out = append(out, x)
		}
	}
	for _, o := range pl.overflow {
		if r := p.of(o.Case); r != nil {
			release(o.Case.IDNProceeding, o.Case.Court, r, o.Released)
		}
	}
	for i := range pl.closed {
		c := &pl.closed[i]
		if r := p.of(c); r != nil {
			release(c.IDNProceeding, c.Court, r, releasedNotSelected)
		}
	}
	for i := range p.standing {
		r := &p.standing[i]
		if r.present {
			continue
		}
		if sp != nil && (r.court == courtUnknown && sp.index != 0 || r.court != courtUnknown && !sp.own[r.court]) {
			continue
		}
		release(r.id, r.court, r, releasedLeftExport)
	}
	slices.SortFunc(out, func(a, b change) int { return cmp.Compare(a.idnProc, b.idnProc) })
	return &changeSet{out, reasons}, ch
}
