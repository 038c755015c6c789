package job

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/apache/arrow/go/v15/arrow/array"

	"github.com/recal-project/recal/pipeline/collect"
	"github.com/recal-project/recal/pipeline/manifest"
	"github.com/recal-project/recal/pipeline/nightly"
	"github.com/recal-project/recal/pipeline/plan"
	"github.com/recal-project/recal/pipeline/report"
	"github.com/recal-project/recal/pipeline/shard"
	"github.com/recal-project/recal/pipeline/sink"
	"github.com/recal-project/recal/pipeline/storage"
	"github.com/recal-project/recal/pipeline/sysexit"
	"github.com/recal-project/recal/transforms/impact"
	"github.com/recal-project/recal/transforms/observed"
	"github.com/recal-project/recal/transforms/policy"
	"github.com/recal-project/recal/transforms/reference"
	"github.com/recal-project/recal/transforms/schedule"
)

// Result summarises a run for the caller.
type Result struct {
	Manifest *manifest.Manifest
	Output   string
	// ManifestKey is the manifest's key under Output: manifest.json, or a
	// shard's under its _shards/ prefix.
	ManifestKey string
	// AlreadyComplete reports that the output already held this run
	// (same fingerprint) and nothing was done.
	AlreadyComplete bool
}

// ownedDirs are the prefixes a run owns under its output.
var ownedDirs = []string{"assignments/", "remain_closed/", "overflow/", "rejects/", "changes/", report.Dir, shard.Dir}

// contentTagger is a store whose ETags are not content-derived (local
// files: modification time and size) and that can tag content instead, so
// that the fingerprint, and with it every output name and the manifest,
// is the same on every machine for the same input bytes.
type contentTagger interface {
	ContentTag(ctx context.Context, key string) (string, error)
}

// putJSON writes v as indented JSON under key and describes the object.
func putJSON(ctx context.Context, out storage.Store, key string, v any) (sink.Object, error) {
	b, err := json.MarshalIndent(v, "", " ")
	if err != nil {
		return sink.Object{}, sysexit.With(sysexit.ErrInternal, err)
	}
	b = append(b, '\n')
	if err := storage.Put(ctx, out, key, bytes.NewReader(b)); err != nil {
		return sink.Object{}, err
	}
	return sink.Object{Key: key, Bytes: int64(len(b)), SHA256: sha(b)}, nil
}

// jobOf records the settings a run was given that decide its outputs:
// what `recal merge` needs to load the same policy, calendar and
// reference data and to render the same reports.
func jobOf(cfg Config) *manifest.Job {
	j := &manifest.Job{Input: cfg.Input, Capacity: cfg.Capacity, Closures: cfg.Closures, Policy: cfg.Policy, Previous: cfg.Previous,
		Courts: cfg.Courts, HearingLocations: cfg.HearingLocations, SuppressBelow: suppressBelow(cfg),
		BaselinePending: cfg.BaselinePending, OnCorrupt: cfg.OnCorrupt}
	if j.OnCorrupt == "" {
		j.OnCorrupt = "fail"
	}
	return j
}

// runID is the run's fingerprint: a hash of everything that determines
// its outputs (tool version, as-of date, policy, calendar, closures,
// reference data, and every input object's key, size and etag). It is
// known before any data is read. Sharding does not enter it: the shards of
// a job, their merge and a single-process run of the same job share one
// run id, as they share their outputs' contents.
func runID(m *manifest.Manifest, settings string) string {
	var b strings.Builder
	if settings != "" {
		b.WriteString(settings + "\n")
	}
	fmt.Fprintf(&b, "%s|%s|%s|%s|%s|%s|%s\n", m.ToolVersion, m.AsOf, m.Policy.ID, m.Policy.SHA256,
		m.Capacity.SHA256, m.Closures.SHA256, m.Reference.SHA256)
	writeInputs(&b, m.Inputs)
	return sha([]byte(b.String()))[:16]
}

// writeInputs lists the input objects (key, size, etag), one per line: the
// export's part of the run id, and its own fingerprint in impact.json.
func writeInputs(b *strings.Builder, inputs []manifest.Input) {
	for _, in := range inputs {
		fmt.Fprintf(b, "%s|%d|%s\n", in.Key, in.Size, in.ETag)
	}
}

// reportSettings renders the report options that change output bytes ("" for
// the defaults, so that default runs keep their fingerprint).
func reportSettings(cfg Config) string {
	var s string
	if sb := suppressBelow(cfg); sb != report.DefaultSuppressBelow {
		s += fmt.Sprintf("suppress_below=%d;", sb)
	}
	if cfg.BaselinePending != nil {
		s += fmt.Sprintf("baseline_pending=%d;", *cfg.BaselinePending)
	}
	if cfg.OnCorrupt == "quarantine" {
		// A quarantining run of corrupt inputs commits what a failing one
		// refuses: it must not pass for the other's run.
		s += "on_corrupt=quarantine;"
	}
	return s
}

// impactQuarantine is the manifest's quarantine share as the report has it.
func impactQuarantine(q *manifest.Quarantine) *impact.Quarantine {
	if q == nil {
		return nil
	}
	return &impact.Quarantine{FooterRows: q.FooterRows, InputFooterRows: q.InputFooter, Limit: q.Limit}
}

// suppressBelow resolves Config.SuppressBelow (0: the default; negative:
// off).
func suppressBelow(cfg Config) int {
	switch {
	case cfg.SuppressBelow == 0:
		return report.DefaultSuppressBelow
	case cfg.SuppressBelow < 0:
		return 0
	}
	return cfg.SuppressBelow
}

// inputsFingerprint hashes the export's object listing (key, size, etag).
func inputsFingerprint(m *manifest.Manifest) string {
	var b strings.Builder
	writeInputs(&b, m.Inputs)
	return sha([]byte(b.String()))
}

// impactBuilder aggregates the run's outcomes for its impact figures.
func impactBuilder(ref *reference.Data, pol *policy.Policy, cal *schedule.Calendar, params schedule.Params, col *collect.Collected, pl *plan.Plan) *impact.Builder {
	b := impact.NewBuilder(ref, pol, cal, params)
	for _, ci := range pl.Courts {
		ss := pl.Sessions(ci)
		for _, a := range pl.Groups[ci] {
			c := pl.Case(a.Case)
			b.Assigned(c, a.Date, &ss[c.Docket][a.Session])
		}
	}
	for o := range pl.Overflow.All() {
		b.Overflowed(pl.Case(o.Case))
	}
	for i := range pl.Closed {
		b.Closed(&pl.Closed[i])
	}
	for _, r := range col.Rejects {
		b.Rejected(r.Reject.Code.String())
	}
	return b
}

// buildImpact builds the impact figures of a run (or of a merged sharded
// run) and checks their totals against the manifest's counts.
func buildImpact(m *manifest.Manifest, b *impact.Builder, cfg Config) (*impact.Impact, error) {
	imp := b.Build(impact.Run{
		RunID: m.RunID, ToolVersion: m.ToolVersion, AsOf: m.AsOf, InputObjects: len(m.Inputs),
		CapacitySHA256: m.Capacity.SHA256, CapacitySource: capacityOfRun(m), ClosuresSHA256: m.Closures.SHA256, ReferenceSHA256: m.Reference.SHA256,
		InputsSHA256: inputsFingerprint(m), ShardIndex: m.Shard.Index, ShardCount: m.Shard.Count,
		QuarantinedObjects: m.QuarantinedObjects, Quarantine: impactQuarantine(m.Quarantine), Changes: impactChanges(m.Changes),
	}, impact.Options{BaselinePending: cfg.BaselinePending, DataQuality: m.DataQuality})
	t, c := imp.Totals, m.Counts
	if t.InputRows != c.InputRows || t.Assigned != c.Assigned || t.Overflow != c.Overflow || t.RemainClosed != c.RemainClosed || t.Rejected != c.Rejected {
		return nil, fmt.Errorf("impact totals %+v disagree with the manifest's counts %+v", t, c)
	}
	return imp, nil
}

// capacityOfRun is what the report says of the calendar's source.
func capacityOfRun(m *manifest.Manifest) *observed.Report {
	if m.CapacitySource == nil {
		return nil
	}
	r := m.CapacitySource.Report
	return &r
}

// impactChanges is the report's view of the manifest's changes section:
// reasons in a fixed order (moved, then released; by reason).
func impactChanges(ch *manifest.Changes) *impact.Changes {
	if ch == nil {
		return nil
	}
	ic := &impact.Changes{PreviousRunID: ch.PreviousRunID, New: ch.New, Unchanged: ch.Unchanged, Moved: ch.Moved, Released: ch.Released}
	if g := ch.Guard; g != nil {
		ic.Guard = &impact.Guard{ReleaseShare: g.ReleaseShare, ReleaseLimit: g.ReleaseLimit, InputShare: g.InputShare, InputFloor: g.InputFloor}
	}
	for _, kind := range []struct {
		name string
		m    map[string]int64
	}{{nightly.ChangeMoved, ch.MovedByReason}, {nightly.ChangeReleased, ch.ReleasedByReason}} {
		for _, r := range slices.Sorted(maps.Keys(kind.m)) {
			ic.Reasons = append(ic.Reasons, impact.ChangeCount{Change: kind.name, Reason: r, Count: kind.m[r]})
		}
	}
	return ic
}

// appendOptString appends s, or null when it is empty.
func appendOptString(b *array.StringBuilder, s string) {
	if s == "" {
		b.AppendNull()
		return
	}
	b.Append(s)
}

// ValidateResult summarises `recal validate`.
type ValidateResult struct {
	Objects  int
	Rows     int64
	Rejected int64
	ByCode   map[string]int64
	// First holds the first rejects (position and reason, no values).
	First []string
	// Quality counts malformed optional values by column.
	Quality map[string]int64
	// Policy is the policy checked (and, with an input, evaluated).
	Policy *policy.Policy
	// Outcomes counts valid cases by the rule that decided them.
	Outcomes map[string]int64
}

// Validate executes `recal validate`: it reads and checks inputs and writes
// nothing.
//
// With --policy and no --input it checks the policy alone.
func Validate(ctx context.Context, cfg Config) (*ValidateResult, error) {
	if cfg.Input == "" {
		if cfg.Policy == "" {
			return nil, sysexit.Errorf(sysexit.ErrUsage, "--input (or, to check a policy alone, --policy) is required")
		}
		pol, err := LoadPolicy(ctx, cfg.Policy, cfg.Locations)
		if err != nil {
			return nil, err
		}
		return &ValidateResult{Policy: pol}, nil
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 2
	}
	su, err := load(ctx, &cfg, false)
	if err != nil {
		return nil, err
	}
	objs := su.objs
	col, _, err := collect.Read(ctx, su.in, objs, collect.Options{Ref: su.ref, Policy: su.pol, AsOf: su.asOf, Workers: cfg.Workers, Progress: cfg.Progress})
	if err != nil {
		return nil, err
	}
	defer col.Free()
	col.Dedupe(nil)
	res := &ValidateResult{Objects: len(objs), Rows: col.Rows, Rejected: int64(len(col.Rejects)), ByCode: map[string]int64{}, Quality: col.Quality.Map(),
		Policy: su.pol, Outcomes: map[string]int64{}}
	for i := range col.Cases {
		res.Outcomes[su.pol.RuleIDs[col.Cases[i].Rule]]++
	}
	for i, r := range col.Rejects {
		res.ByCode[r.Reject.Code.String()]++
		if i < 10 {
			res.First = append(res.First, fmt.Sprintf("%s row %d: %s: %s", objs[r.Object].Key, r.Row, r.Reject.Code, r.Reject.Message()))
		}
	}
	return res, nil
}
