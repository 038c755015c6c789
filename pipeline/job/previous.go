package job

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"

	"github.com/recal-project/recal/pipeline/location"
	"github.com/recal-project/recal/pipeline/manifest"
	"github.com/recal-project/recal/pipeline/parts"
	"github.com/recal-project/recal/pipeline/refdata"
	"github.com/recal-project/recal/pipeline/storage"
	"github.com/recal-project/recal/pipeline/sysexit"
	"github.com/recal-project/recal/transforms/cases"
	"github.com/recal-project/recal/transforms/policy"
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
// manifest and its standing hearings, by idnproceeding.
type previous struct {
	uri           string
	m             *manifest.Manifest
	policyChanged bool
	standing      map[int64]*standingRec
	courtUnknown  uint16 // Court of a hearing at a court tonight's reference lacks
}

// standingRec is one hearing of the previous run.
type standingRec struct {
	st schedule.Standing
	// earliest is its earliest_hearing_date: the notice lead it met when
	// it was first scheduled, written through while it stands.
	earliest int32
	// present: the case is among tonight's valid rows (any shard's).
	present bool
}

// lookup is schedule.Params.Standing.
func (p *previous) lookup(id int64) (schedule.Standing, bool) {
	r, ok := p.standing[id]
	if !ok {
		return schedule.Standing{}, false
	}
	return r.st, true
}

// loadPrevious reads the previous run the configuration names: it must
// have committed (_SUCCESS), and have applied tonight's policy unless
// cfg.PreviousPolicyChange says the change is intended.
func loadPrevious(ctx context.Context, cfg *Config, pol *policy.Policy, ref *refdata.Data) (*previous, error) {
	st, err := location.Open(ctx, cfg.Previous, cfg.Locations)
	if err != nil {
		return nil, fmt.Errorf("--previous: %w", err)
	}
	m, err := committed(ctx, st, "")
	if err != nil {
		return nil, fmt.Errorf("--previous: %w", err)
	}
	if m == nil {
		objs, lerr := st.List(ctx, "")
		if lerr == nil && len(objs) == 0 {
			return nil, sysexit.Errorf(sysexit.NoInput, "--previous %s: no run there (nothing under that prefix)", st)
		}
		return nil, sysexit.Errorf(sysexit.NoInput, "--previous %s: that run did not commit (no _SUCCESS); rerun it, or point --previous at the last committed run", st)
	}
	p := &previous{uri: cfg.Previous, m: m, standing: map[int64]*standingRec{}, courtUnknown: ^uint16(0)}
	if m.Policy.ID != pol.ID {
		if !cfg.PreviousPolicyChange {
			return nil, sysexit.Errorf(sysexit.Config, "--previous %s applied policy %s, tonight's is %s: if the policy change is intended, add --previous-policy-change (hearings of cases tonight's policy no longer selects are then released)",
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
	s := parts.Open(ctx, st, keys, assignmentSchema, nil)
	defer s.Close()
	for s.Next() {
		r, i := s.Record(), s.Row()
		id := r.Column(1).(*array.Int64).Value(i)
		court := p.courtUnknown
		if ci := ref.CourtIndex(r.Column(2).(*array.String).Value(i)); ci >= 0 {
			court = uint16(ci)
		}
		docket, ok := cases.ParseDocket(r.Column(3).(*array.String).Value(i))
		start, okT := minutes(r.Column(5).(*array.String).Value(i))
		if !ok || !okT {
			return nil, sysexit.Errorf(sysexit.DataErr, "--previous %s: an assignment (idnproceeding %d) has docket %q and time %q: not a recal output",
				st, id, r.Column(3).(*array.String).Value(i), r.Column(5).(*array.String).Value(i))
		}
		ij := r.Column(6).(*array.String)
		rec := &standingRec{
			st:       schedule.Standing{Court: court, Docket: docket, Date: int32(r.Column(4).(*array.Date32).Value(i)), Start: start},
			earliest: int32(r.Column(12).(*array.Date32).Value(i)),
		}
		if ij.IsValid(i) {
			rec.st.IJ = ij.Value(i)
		}
		if _, dup := p.standing[id]; dup {
			return nil, sysexit.Errorf(sysexit.DataErr, "--previous %s: idnproceeding %d is assigned twice", st, id)
		}
		p.standing[id] = rec
	}
	if err := s.Err(); err != nil {
		if errors.Is(err, storage.ErrNotExist) {
			return nil, sysexit.With(sysexit.NoInput, fmt.Errorf("--previous %s: %w", st, err))
		}
		return nil, sysexit.With(sysexit.DataErr, fmt.Errorf("--previous %s: %w", st, err))
	}
	if int64(len(p.standing)) != m.Counts.Assigned {
		return nil, sysexit.Errorf(sysexit.DataErr, "--previous %s: its manifest counts %d assignments, its files hold %d", st, m.Counts.Assigned, len(p.standing))
	}
	return p, nil
}

// minutes parses HH:MM.
func minutes(s string) (int, bool) {
	if len(s) != 5 || s[2] != ':' {
		return 0, false
	}
	h, m := int(s[0]-'0')*10+int(s[1]-'0'), int(s[3]-'0')*10+int(s[4]-'0')
	if h < 0 || h > 23 || m < 0 || m > 59 || s[0] < '0' || s[1] < '0' || s[3] < '0' || s[4] < '0' {
		return 0, false
	}
	return h*60 + m, true
}

// markPresent records which standing hearings' cases are among tonight's
// valid rows: all shards' rows, before a shard keeps its own.
func (p *previous) markPresent(all []cases.Case) {
	for i := range all {
		if r, ok := p.standing[all[i].IDNProceeding]; ok {
			r.present = true
		}
	}
}

// change is one row of changes/.
type change struct {
	idnProc           int64
	court             uint16
	kind              string
	prevDate, newDate int32
	prevTime, newTime string
	hasPrev, hasNew   bool
	reason            string
}

// changes compares tonight's plan with the previous run: a row for every
// hearing tonight (NEW, UNCHANGED or MOVED) and for every standing
// hearing released, in idnproceeding order, with their counts. A shard
// covers its courts: tonight's cases it schedules, and the released
// hearings of cases absent tonight whose previous court it owns.
func (p *previous) changes(pl *plan, groups map[uint16][]schedule.Assignment, sp *shardPlan) ([]change, *manifest.Changes) {
	ch := &manifest.Changes{Previous: p.uri, PreviousRunID: p.m.RunID, PreviousAssigned: p.m.Counts.Assigned,
		PolicyChanged: p.policyChanged, Partial: sp != nil, MovedByReason: map[string]int64{}, ReleasedByReason: map[string]int64{}}
	var out []change
	timeOf := func(r *standingRec) string {
		return fmt.Sprintf("%02d:%02d", r.st.Start/60, r.st.Start%60)
	}
	release := func(id int64, court uint16, r *standingRec, why string) {
		out = append(out, change{idnProc: id, court: court, kind: changeReleased, prevDate: r.st.Date, prevTime: timeOf(r), hasPrev: true, reason: why})
		ch.Released++
		ch.ReleasedByReason[why]++
	}
	for _, as := range groups {
		for _, a := range as {
			c := a.Case
			x := change{idnProc: c.IDNProceeding, court: c.Court, newDate: a.Date, newTime: a.Session.StartString(), hasNew: true}
			r, had := p.standing[c.IDNProceeding]
			switch {
			case !had:
				x.kind = changeNew
				ch.New++
			case a.Standing:
				x.kind = changeUnchanged
				x.prevDate, x.prevTime, x.hasPrev = r.st.Date, timeOf(r), true
				ch.Unchanged++
			default:
				x.kind, x.reason = changeMoved, a.Released
				x.prevDate, x.prevTime, x.hasPrev = r.st.Date, timeOf(r), true
				ch.Moved++
				ch.MovedByReason[a.Released]++
			}
			out = append(out, x)
		}
	}
	for _, o := range pl.overflow {
		if r, had := p.standing[o.Case.IDNProceeding]; had {
			release(o.Case.IDNProceeding, o.Case.Court, r, o.Released)
		}
	}
	for i := range pl.closed {
		c := &pl.closed[i]
		if r, had := p.standing[c.IDNProceeding]; had {
			release(c.IDNProceeding, c.Court, r, releasedNotSelected)
		}
	}
	for id, r := range p.standing {
		if r.present {
			continue
		}
		court := r.st.Court
		if sp != nil && (court == p.courtUnknown && sp.index != 0 || court != p.courtUnknown && !sp.own[court]) {
			continue
		}
		release(id, court, r, releasedLeftExport)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].idnProc < out[j].idnProc })
	return out, ch
}

// changeSchema is changes/ (an addition, docs/contract-additions.md).
var changeSchema = arrow.NewSchema([]arrow.Field{
	{Name: "idnproceeding", Type: arrow.PrimitiveTypes.Int64},
	{Name: "base_city_code", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "change", Type: arrow.BinaryTypes.String},
	{Name: "previous_hearing_date", Type: arrow.FixedWidthTypes.Date32, Nullable: true},
	{Name: "previous_hearing_time", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "hearing_date", Type: arrow.FixedWidthTypes.Date32, Nullable: true},
	{Name: "hearing_time", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "reason", Type: arrow.BinaryTypes.String, Nullable: true},
}, nil)
