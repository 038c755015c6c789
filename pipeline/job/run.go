package job

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"golang.org/x/sync/errgroup"

	"github.com/recal-project/recal/pipeline/datasets"
	"github.com/recal-project/recal/pipeline/location"
	"github.com/recal-project/recal/pipeline/manifest"
	"github.com/recal-project/recal/pipeline/report"
	"github.com/recal-project/recal/pipeline/sink"
	"github.com/recal-project/recal/pipeline/storage"
	"github.com/recal-project/recal/pipeline/sysexit"
	"github.com/recal-project/recal/transforms/cases"
	"github.com/recal-project/recal/transforms/impact"
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
var ownedDirs = []string{"assignments/", "remain_closed/", "overflow/", "rejects/", "changes/", report.Dir, ShardsDir}

// contentTagger is a store whose ETags are not content-derived (local
// files: modification time and size) and that can tag content instead, so
// that the fingerprint, and with it every output name and the manifest,
// is the same on every machine for the same input bytes.
type contentTagger interface {
	ContentTag(ctx context.Context, key string) (string, error)
}

// committed returns the manifest of the run committed under out (with
// prefix: the shard committed there), or nil when there is no _SUCCESS.
func committed(ctx context.Context, out storage.Store, prefix string) (*manifest.Manifest, error) {
	if _, err := out.Stat(ctx, prefix+"_SUCCESS"); errors.Is(err, storage.ErrNotExist) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	b, err := storage.ReadAll(ctx, out, prefix+"manifest.json")
	if err != nil {
		return nil, fmt.Errorf("output %s has %s_SUCCESS but its manifest cannot be read: %w", out, prefix, err)
	}
	m, err := manifest.Parse(b)
	if err != nil {
		return nil, sysexit.With(sysexit.ErrData, fmt.Errorf("output %s: %smanifest.json: %w", out, prefix, err))
	}
	return m, nil
}

// cleanup deletes every object under the prefixes dirs that neither the
// manifest nor also lists: parts of an unfinished or replaced run.
func cleanup(ctx context.Context, out storage.Store, m *manifest.Manifest, dirs []string, also ...string) error {
	keep := make(map[string]bool, len(m.Outputs)+len(also))
	for _, o := range m.Outputs {
		keep[o.Key] = true
	}
	for _, k := range also {
		keep[k] = true
	}
	if err := storage.DeleteOthers(ctx, out, dirs, keep); err != nil {
		return fmt.Errorf("clean up: %w", err)
	}
	return nil
}

// Run executes `recal run`.
func Run(ctx context.Context, cfg Config) (res *Result, err error) {
	var oc *outputClaim
	defer func() { res, err = oc.end(ctx, res, err) }()
	log := logger(&cfg)
	started := time.Now().UTC()
	t := newStageTimer(log)
	t.prog = cfg.Progress
	if cfg.Workers <= 0 {
		cfg.Workers = 2
	}
	cfg.ShardCount = max(1, cfg.ShardCount)
	if err := checkShard(cfg.ShardIndex, cfg.ShardCount); err != nil {
		return nil, err
	}
	if cfg.OnCorrupt != "" && cfg.OnCorrupt != "fail" && cfg.OnCorrupt != "quarantine" {
		return nil, sysexit.Errorf(sysexit.ErrUsage, "--on-corrupt=%s: want fail or quarantine", cfg.OnCorrupt)
	}
	if cfg.QuarantineLimit < 0 || cfg.QuarantineLimit > 1 {
		return nil, sysexit.Errorf(sysexit.ErrUsage, "--quarantine-limit %g: want a share from 0 to 1 (0.05 is 5%%)", cfg.QuarantineLimit)
	}
	if err := checkGuardSettings(cfg.ReleaseLimit, cfg.InputFloor); err != nil {
		return nil, sysexit.With(sysexit.ErrUsage, err)
	}
	if cfg.Output == "" || cfg.Input == "" || cfg.Capacity == "" {
		return nil, sysexit.Errorf(sysexit.ErrUsage, "--input, --capacity and --output are required")
	}

	// Everything that can be checked before reading data is checked first.
	t.begin("load")
	su, err := load(ctx, &cfg, true)
	if err != nil {
		return nil, err
	}
	asOf, pol, ref, cal := su.asOf, su.pol, su.ref, su.cal
	out, err := location.Open(ctx, cfg.Output, cfg.Locations)
	if err != nil {
		return nil, err
	}
	in, objs := su.in, su.objs

	// The fingerprint is known before any data is read: a committed run of
	// the same inputs makes this one a no-op, and a committed run of other
	// inputs is replaced only with --force.
	m := &manifest.Manifest{
		SchemaVersion: manifest.SchemaVersion,
		ToolVersion:   Version,
		AsOf:          cfg.AsOf,
		Policy: manifest.Policy{ID: pol.ID, SHA256: pol.SHA256, MinNoticeDays: pol.MinNoticeDays,
			JuvenileNoticeDays: pol.JuvenileNoticeDays, HorizonDays: pol.HorizonDays},
		Capacity:  manifest.Hashed{URI: cfg.Capacity, SHA256: sha(su.capBytes)},
		Reference: manifest.Hashed{SHA256: ref.SHA256},
		Shard:     manifest.Shard{Index: cfg.ShardIndex, Count: cfg.ShardCount},
		Job:       jobOf(cfg),
	}
	if cfg.Closures != "" {
		m.Closures = manifest.Hashed{URI: cfg.Closures, SHA256: sha(su.closBytes)}
	}
	for _, o := range objs {
		m.Inputs = append(m.Inputs, manifest.Input{Key: o.Key, Size: o.Size, ETag: o.ETag})
	}
	if ct, ok := in.(contentTagger); ok {
		for i := range m.Inputs {
			if m.Inputs[i].ETag, err = ct.ContentTag(ctx, m.Inputs[i].Key); err != nil {
				return nil, err
			}
		}
	}
	var prev *previous
	if cfg.Previous != "" {
		if prev, err = loadPrevious(ctx, &cfg, pol, ref, out); err != nil {
			return nil, err
		}
	}
	m.RunID = runID(m, reportSettings(cfg)+prev.settings())
	log = log.With("run_id", m.RunID)
	t.log = log
	sp := newShardPlan(ref, cfg.ShardIndex, cfg.ShardCount)
	// stage is where this process commits: the output itself, or its
	// shard's prefix, which `recal merge` reads.
	stage := ""
	if sp != nil {
		stage = ShardPrefix(cfg.ShardIndex, cfg.ShardCount)
		log = log.With("shard", cfg.ShardIndex, "shards", cfg.ShardCount)
		t.log = log
	}
	if prev, err := committed(ctx, out, ""); err != nil {
		return nil, err
	} else if prev != nil {
		if prev.RunID == m.RunID {
			// A merged sharded run and a single-process run of one job
			// share the run id: either way the job is done.
			log.Info("output already holds this run; nothing to do", "run_id", prev.RunID)
			return &Result{Manifest: prev, Output: out.String(), ManifestKey: "manifest.json", AlreadyComplete: true}, nil
		}
		if !cfg.Force && prev.ToolVersion != m.ToolVersion {
			return nil, sysexit.Errorf(sysexit.ErrUsage, "output %s holds a run committed by recal %s (run %s); this is recal %s, whose outputs may differ: rerun with --force to recompute it with this version",
				out, prev.ToolVersion, prev.RunID, m.ToolVersion)
		}
		if !cfg.Force {
			return nil, sysexit.Errorf(sysexit.ErrUsage, "output %s already holds a committed run of other inputs (run %s: policy %s, as of %s); rerun with --force to replace it",
				out, prev.RunID, prev.Policy.ID, prev.AsOf)
		}
		log.Info("--force: replacing the committed run", "old_run_id", prev.RunID, "run_id", m.RunID)
	}
	if sp != nil {
		if prev, err := committed(ctx, out, stage); err != nil {
			return nil, err
		} else if prev != nil && prev.RunID == m.RunID {
			log.Info("this shard is already committed; nothing to do", "run_id", prev.RunID)
			return &Result{Manifest: prev, Output: out.String(), ManifestKey: stage + "manifest.json", AlreadyComplete: true}, nil
		} else if prev != nil {
			log.Info("replacing this shard's uncommitted job of other inputs", "old_run_id", prev.RunID, "run_id", m.RunID)
		}
	}
	// One writer per output: claimed before anything is written.
	cs := claimSettings{command: "run", force: cfg.Force, stale: cfg.ClaimStale, heartbeat: cfg.claimHeartbeat}
	if prev, err := committed(ctx, out, stage); err == nil && prev != nil {
		cs.committed = prev.RunID
	}
	if oc, err = claimOutput(ctx, out, stage, m.RunID, cs, log); err != nil {
		return nil, err
	}
	if cfg.afterClaim != nil {
		cfg.afterClaim()
	}
	// From here until the new _SUCCESS, no reader may trust the prefix.
	if err := out.Delete(ctx, "_SUCCESS"); err != nil {
		return nil, err
	}
	if sp != nil {
		if err := out.Delete(ctx, stage+"_SUCCESS"); err != nil {
			return nil, err
		}
	}

	t.begin("read")
	col, stats, err := collect(ctx, in, objs, ref, pol, asOf, cfg.Workers, cfg.OnCorrupt == "quarantine", sp, cfg.Progress)
	if err != nil {
		return nil, err
	}
	// Nothing of the run outlives Run (Result holds only the manifest).
	defer col.free()
	if m.Quarantine, err = quarantineShare(col, objs, cfg.QuarantineLimit); err != nil {
		return nil, err
	}
	col.prev = prev
	col.dedupe()
	var guard *manifest.Guard
	if prev != nil {
		if guard, err = prev.guard(col, cfg.ReleaseLimit, cfg.InputFloor); err != nil {
			return nil, err
		}
	}
	var inBytes int64
	for _, o := range objs {
		inBytes += o.Size
	}
	t.end("objects", len(objs), "bytes", inBytes, "rows", col.rows, "rejected", len(col.rejects))

	t.begin("schedule")
	params := schedule.Params{AsOf: asOf, MinNoticeDays: pol.MinNoticeDays, JuvenileNoticeDays: pol.JuvenileNoticeDays, HorizonDays: pol.HorizonDays, Judges: col.judges}
	if prev != nil {
		params.Standing = prev.lookup
	}
	cal.WarmHolidays(asOf, asOf+int32(pol.HorizonDays)+400)
	plan, err := scheduleAll(ctx, cal, col.cases, params, cfg.Workers, cfg.Progress)
	if err != nil {
		return nil, err
	}
	var changes *changeSet
	if prev != nil {
		changes, m.Changes = prev.changes(plan, sp)
		m.Changes.Guard = guard
	}
	t.end("assigned", plan.assigned, "overflow", len(plan.overflow), "remain_closed", len(plan.closed))

	m.Counts = manifest.Counts{
		InputRows: col.rows, Assigned: int64(plan.assigned), RemainClosed: int64(len(plan.closed)),
		Overflow: int64(len(plan.overflow)), Rejected: int64(len(col.rejects)),
	}
	m.RejectsByCode, m.RemainClosedByRule, m.OverflowByReason = map[string]int64{}, map[string]int64{}, map[string]int64{}
	m.DataQuality, m.Decoders = col.quality.Map(), map[string]int{}
	for i, s := range stats {
		m.Inputs[i].Rows = col.objRows[i]
		if s.Decoder != "" {
			m.Decoders[s.Decoder]++
		}
	}
	for _, q := range col.quarantined { // their stats already count 0 rows
		why := firstLine(q.err.Error())
		m.Inputs[q.object].Quarantined = why
		m.QuarantinedObjects = append(m.QuarantinedObjects, objs[q.object].Key)
		log.Warn("object quarantined: not read, not counted", "object", objs[q.object].Key, "error", why)
	}
	for _, r := range col.rejects {
		m.RejectsByCode[r.reject.Code.String()]++
	}
	for _, c := range plan.closed {
		m.RemainClosedByRule[pol.RuleIDs[c.Rule]]++
	}
	for _, o := range plan.overflow {
		m.OverflowByReason[o.Reason]++
	}
	if err := m.Check(); err != nil {
		return nil, sysexit.With(sysexit.ErrInternal, err)
	}

	t.begin("report")
	ib := impactBuilder(ref, pol, cal, params, col, plan)
	var reports []sink.Object
	if sp == nil {
		imp, err := buildImpact(m, ib, cfg)
		if err != nil {
			return nil, sysexit.With(sysexit.ErrInternal, err)
		}
		if reports, err = report.Write(ctx, out, report.Dir, imp, report.Options{SuppressBelow: suppressBelow(cfg)}); err != nil {
			return nil, err
		}
	} else {
		// A shard's report is its builder's counts; merge adds them up.
		o, err := putJSON(ctx, out, stage+impactStateKey, ib.State())
		if err != nil {
			return nil, err
		}
		reports = []sink.Object{o}
	}
	t.end("objects", len(reports))

	t.begin("write")
	objsOut, err := writeOutputs(ctx, out, cfg, stage, m.RunID, params, pol, ref, col, plan, objs, prev, changes)
	if err != nil {
		return nil, err
	}
	objsOut = append(objsOut, reports...)
	sort.Slice(objsOut, func(i, j int) bool { return objsOut[i].Key < objsOut[j].Key })
	m.Outputs = objsOut
	var outBytes int64
	for _, o := range objsOut {
		outBytes += o.Bytes
	}
	t.end("objects", len(objsOut), "bytes", outBytes)
	m.Timing = manifest.Timing{StartedAt: started.Format(time.RFC3339Nano), FinishedAt: time.Now().UTC().Format(time.RFC3339Nano), Seconds: t.seconds}
	mb, err := m.Marshal()
	if err != nil {
		return nil, sysexit.With(sysexit.ErrInternal, err)
	}
	// What the commit makes visible is written only while the claim holds.
	if err := oc.verify(ctx); err != nil {
		return nil, err
	}
	if err := storage.Put(ctx, out, stage+"manifest.json", bytes.NewReader(mb)); err != nil {
		return nil, err
	}
	// Remove what an unfinished or replaced run left, then commit: the
	// marker is written only if absent, so two runs racing on one prefix
	// cannot both commit. A shard cleans only its own prefix: the other
	// shards are writing beside it, and merge cleans the rest.
	log.Info("committing", "run_id", m.RunID, "objects", len(m.Outputs))
	dirs := ownedDirs
	if sp != nil {
		dirs = []string{stage}
	}
	keep, err := claimKeys(ctx, out, stage)
	if err != nil {
		return nil, err
	}
	if err := cleanup(ctx, out, m, dirs, append(keep, stage+"manifest.json")...); err != nil {
		return nil, err
	}
	if err := oc.verify(ctx); err != nil {
		return nil, err
	}
	if err := commit(ctx, out, stage, m.RunID); err != nil {
		return nil, err
	}
	log.Info("run complete", "run_id", m.RunID, "input_rows", m.Counts.InputRows, "assigned", m.Counts.Assigned,
		"remain_closed", m.Counts.RemainClosed, "overflow", m.Counts.Overflow, "rejected", m.Counts.Rejected)
	return &Result{Manifest: m, Output: out.String(), ManifestKey: stage + "manifest.json"}, nil
}

// commit writes prefix/_SUCCESS holding the run id, only if it is absent.
func commit(ctx context.Context, out storage.Store, prefix, runID string) error {
	err := out.CreateExclusive(ctx, prefix+"_SUCCESS", []byte(runID+"\n"))
	if errors.Is(err, storage.ErrExist) {
		// A retried conditional PUT whose first attempt reached the store
		// but whose answer was lost finds its own marker: that is a commit.
		if b, rerr := storage.ReadAll(ctx, out, prefix+"_SUCCESS"); rerr == nil && string(b) == runID+"\n" {
			return nil
		}
		return sysexit.Errorf(sysexit.ErrTemporary, "output %s: another run committed %s_SUCCESS while this one was writing: %v", out, prefix, err)
	}
	return err
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

// previousSettings renders --previous for the run id: the previous run's
// id (its outputs follow from it), and whether a policy change was
// accepted ("" without --previous). Merge recomputes it from the
// manifest's changes section.
func previousSettings(runID string, policyChanged bool) string {
	if runID == "" {
		return ""
	}
	return fmt.Sprintf("previous=%s;policy_change=%v;", runID, policyChanged)
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

// firstLine returns s up to its first newline (errors from recovered
// decoder panics carry stack frames after it).
// impactQuarantine is the manifest's quarantine share as the report has it.
func impactQuarantine(q *manifest.Quarantine) *impact.Quarantine {
	if q == nil {
		return nil
	}
	return &impact.Quarantine{FooterRows: q.FooterRows, InputFooterRows: q.InputFooter, Limit: q.Limit}
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
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
func impactBuilder(ref *reference.Data, pol *policy.Policy, cal *schedule.Calendar, params schedule.Params, col *collected, pl *plan) *impact.Builder {
	b := impact.NewBuilder(ref, pol, cal, params)
	for _, ci := range pl.courts {
		for _, a := range pl.groups[ci] {
			b.Assigned(a.Case, a.Date, a.Session)
		}
	}
	for _, o := range pl.overflow {
		b.Overflowed(o.Case)
	}
	for i := range pl.closed {
		b.Closed(&pl.closed[i])
	}
	for _, r := range col.rejects {
		b.Rejected(r.reject.Code.String())
	}
	return b
}

// buildImpact builds the impact figures of a run (or of a merged sharded
// run) and checks their totals against the manifest's counts.
func buildImpact(m *manifest.Manifest, b *impact.Builder, cfg Config) (*impact.Impact, error) {
	imp := b.Build(impact.Run{
		RunID: m.RunID, ToolVersion: m.ToolVersion, AsOf: m.AsOf, InputObjects: len(m.Inputs),
		CapacitySHA256: m.Capacity.SHA256, ClosuresSHA256: m.Closures.SHA256, ReferenceSHA256: m.Reference.SHA256,
		InputsSHA256: inputsFingerprint(m), ShardIndex: m.Shard.Index, ShardCount: m.Shard.Count,
		QuarantinedObjects: m.QuarantinedObjects, Quarantine: impactQuarantine(m.Quarantine), Changes: impactChanges(m.Changes),
	}, impact.Options{BaselinePending: cfg.BaselinePending, DataQuality: m.DataQuality})
	t, c := imp.Totals, m.Counts
	if t.InputRows != c.InputRows || t.Assigned != c.Assigned || t.Overflow != c.Overflow || t.RemainClosed != c.RemainClosed || t.Rejected != c.Rejected {
		return nil, fmt.Errorf("impact totals %+v disagree with the manifest's counts %+v", t, c)
	}
	return imp, nil
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
	}{{changeMoved, ch.MovedByReason}, {changeReleased, ch.ReleasedByReason}} {
		for _, r := range slices.Sorted(maps.Keys(kind.m)) {
			ic.Reasons = append(ic.Reasons, impact.ChangeCount{Change: kind.name, Reason: r, Count: kind.m[r]})
		}
	}
	return ic
}

// plan is the outcome of scheduling.
type plan struct {
	// groups holds each court's assignments, by court index.
	groups   map[uint16][]schedule.Assignment
	courts   []uint16 // sorted keys of groups
	assigned int
	overflow []schedule.Overflow
	// closed holds the cases that stay closed, by idnproceeding.
	closed []cases.Case
}

func scheduleAll(ctx context.Context, cal *schedule.Calendar, all []cases.Case, p schedule.Params, workers int, prog *Progress) (*plan, error) {
	// Lay the cases out in place, group by group: the cases that stay
	// closed first, then each (court, docket) group in key order, each one
	// contiguous range of all. Scheduling, the report and the writers then
	// walk memory in order; with groups of pointers into the whole slice
	// they chased pointers across gigabytes (TLB misses dominated the
	// writers' fill loop at 10M rows).
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
	bounds := make([]int, nb+1) // bucket b holds all[bounds[b]:bounds[b+1]]
	for i := range all {
		bounds[bucket(&all[i])+1]++
	}
	for b := 1; b <= nb; b++ {
		bounds[b] += bounds[b-1]
	}
	next := slices.Clone(bounds[:nb])
	for b := range nb {
		// Every case before next[b] in bucket b's range belongs there; the
		// case at next[b] is swapped to its own bucket until one of b's
		// arrives (in-place American-flag partition: one pass, no copy).
		for next[b] < bounds[b+1] {
			i := next[b]
			tb := bucket(&all[i])
			if tb == b {
				next[b]++
				continue
			}
			j := next[tb]
			next[tb]++
			all[i], all[j] = all[j], all[i]
		}
	}
	closed := all[:bounds[1]]
	slices.SortFunc(closed, func(a, b cases.Case) int { return cmp.Compare(a.IDNProceeding, b.IDNProceeding) })
	pl := &plan{groups: map[uint16][]schedule.Assignment{}, closed: closed}
	type key struct {
		court  uint16
		docket cases.Docket
		from   int
		to     int
	}
	var keys []key
	for b := 1; b < nb; b++ {
		if bounds[b] < bounds[b+1] {
			keys = append(keys, key{uint16((b - 1) / int(cases.NumDockets)), cases.Docket((b - 1) % int(cases.NumDockets)), bounds[b], bounds[b+1]})
		}
	}
	courts := 0
	for i, k := range keys {
		if i == 0 || k.court != keys[i-1].court {
			courts++
		}
	}
	prog.startSchedule(courts)
	assigns := make([][]schedule.Assignment, len(keys))
	overs := make([][]schedule.Overflow, len(keys))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(max(1, workers))
	for i, k := range keys {
		g.Go(func() error {
			if err := gctx.Err(); err != nil {
				return err
			}
			assigns[i], overs[i] = schedule.Group(cal, k.court, k.docket, all[k.from:k.to], p)
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	// Each court's dockets are joined and put in hearing order, courts in
	// parallel (keys are in court order, so a court's groups are adjacent).
	g, gctx = errgroup.WithContext(ctx)
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
			pl.assigned += len(assigns[i])
			pl.overflow = append(pl.overflow, overs[i]...)
		}
		court, parts := keys[lo].court, assigns[lo:hi]
		lo = hi
		if n == 0 {
			prog.scheduledCourt()
			continue
		}
		g.Go(func() error {
			if err := gctx.Err(); err != nil {
				return err
			}
			as := make([]schedule.Assignment, 0, n)
			for _, p := range parts {
				as = append(as, p...)
			}
			slices.SortFunc(as, func(a, b schedule.Assignment) int {
				switch {
				case a.Date != b.Date:
					return cmp.Compare(a.Date, b.Date)
				case a.Session.Start != b.Session.Start:
					return cmp.Compare(a.Session.Start, b.Session.Start)
				case a.Case.Docket != b.Case.Docket:
					return cmp.Compare(a.Case.Docket, b.Case.Docket)
				}
				return cases.Compare(a.Case, b.Case)
			})
			mu.Lock()
			pl.groups[court] = as
			pl.courts = append(pl.courts, court)
			mu.Unlock()
			prog.scheduledCourt()
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	sort.Slice(pl.courts, func(i, j int) bool { return pl.courts[i] < pl.courts[j] })
	return pl, nil
}

// Output schemas (contract §2).
var (
	assignmentSchema = arrow.NewSchema([]arrow.Field{
		{Name: "idncase", Type: arrow.PrimitiveTypes.Int64},
		{Name: "idnproceeding", Type: arrow.PrimitiveTypes.Int64},
		{Name: "base_city_code", Type: arrow.BinaryTypes.String},
		{Name: "docket", Type: arrow.BinaryTypes.String},
		{Name: "hearing_date", Type: arrow.FixedWidthTypes.Date32},
		{Name: "hearing_time", Type: arrow.BinaryTypes.String},
		{Name: "ij_code", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "priority_tier", Type: arrow.PrimitiveTypes.Int32},
		{Name: "priority_score", Type: arrow.PrimitiveTypes.Float64},
		{Name: "rule_id", Type: arrow.BinaryTypes.String},
		{Name: "tier_rule_id", Type: arrow.BinaryTypes.String},
		{Name: "policy_id", Type: arrow.BinaryTypes.String},
		// Additions (docs/contract-additions.md): what makes invariants 3–5
		// checkable from the outputs alone.
		{Name: "earliest_hearing_date", Type: arrow.FixedWidthTypes.Date32},
		{Name: "case_ij_code", Type: arrow.BinaryTypes.String, Nullable: true},
	}, nil)
	remainClosedSchema = arrow.NewSchema([]arrow.Field{
		{Name: "idncase", Type: arrow.PrimitiveTypes.Int64},
		{Name: "idnproceeding", Type: arrow.PrimitiveTypes.Int64},
		{Name: "base_city_code", Type: arrow.BinaryTypes.String},
		{Name: "rule_id", Type: arrow.BinaryTypes.String},
		{Name: "reason", Type: arrow.BinaryTypes.String},
	}, nil)
	overflowSchema = arrow.NewSchema([]arrow.Field{
		{Name: "idncase", Type: arrow.PrimitiveTypes.Int64},
		{Name: "idnproceeding", Type: arrow.PrimitiveTypes.Int64},
		{Name: "base_city_code", Type: arrow.BinaryTypes.String},
		{Name: "docket", Type: arrow.BinaryTypes.String},
		{Name: "priority_tier", Type: arrow.PrimitiveTypes.Int32},
		{Name: "priority_score", Type: arrow.PrimitiveTypes.Float64},
		{Name: "rule_id", Type: arrow.BinaryTypes.String},
		{Name: "projected_hearing_date", Type: arrow.FixedWidthTypes.Date32, Nullable: true},
		{Name: "overflow_reason", Type: arrow.BinaryTypes.String}, // addition: docs/contract-additions.md
		{Name: "earliest_hearing_date", Type: arrow.FixedWidthTypes.Date32},
		{Name: "case_ij_code", Type: arrow.BinaryTypes.String, Nullable: true},
	}, nil)
	// RejectSchema is rejects/ (contract §2), shared with recal merge and
	// recal import-eoir.
	RejectSchema = datasets.Rejects
)

// appendOptString appends s, or null when it is empty.
func appendOptString(b *array.StringBuilder, s string) {
	if s == "" {
		b.AppendNull()
		return
	}
	b.Append(s)
}

// writeOutputs writes the data objects. It releases pl.groups: nothing
// reads a court's assignments after they are written.
func writeOutputs(ctx context.Context, out storage.Store, cfg Config, stage, runTag string, params schedule.Params, pol *policy.Policy, ref *reference.Data, col *collected, pl *plan, objs []storage.ObjectInfo, prev *previous, changes *changeSet) ([]sink.Object, error) {
	so := sink.Options{TempDir: cfg.TempDir, RunTag: runTag}
	judges := col.judges.Codes()
	shard := cfg.ShardIndex
	courtCode := func(i uint16) string { return ref.Courts[i].Code }
	type job struct {
		name string
		run  func() ([]sink.Object, error)
	}
	var jobs []job
	for _, ci := range pl.courts {
		as := pl.groups[ci]
		dir := "assignments/base_city_code=" + courtCode(ci)
		jobs = append(jobs, job{dir, func() ([]sink.Object, error) {
			return sink.WriteParts(ctx, out, dir, shard, assignmentSchema, len(as), func(b *array.RecordBuilder, from, to int) {
				// Typed builders taken once per chunk, not per value.
				idc, idp := b.Field(0).(*array.Int64Builder), b.Field(1).(*array.Int64Builder)
				court, docket := b.Field(2).(*array.StringBuilder), b.Field(3).(*array.StringBuilder)
				date, tm, ij := b.Field(4).(*array.Date32Builder), b.Field(5).(*array.StringBuilder), b.Field(6).(*array.StringBuilder)
				tier, score := b.Field(7).(*array.Int32Builder), b.Field(8).(*array.Float64Builder)
				rule, tierRule, polID := b.Field(9).(*array.StringBuilder), b.Field(10).(*array.StringBuilder), b.Field(11).(*array.StringBuilder)
				earliest, caseIJ := b.Field(12).(*array.Date32Builder), b.Field(13).(*array.StringBuilder)
				for _, a := range as[from:to] {
					c := a.Case
					idc.Append(c.IDNCase)
					idp.Append(c.IDNProceeding)
					court.Append(courtCode(c.Court))
					docket.Append(c.Docket.String())
					date.Append(arrow.Date32(a.Date))
					tm.Append(a.Session.StartString())
					appendOptString(ij, a.Session.IJ)
					tier.Append(int32(c.Tier))
					score.Append(c.Score)
					rule.Append(pol.RuleIDs[c.Rule])
					tierRule.Append(pol.TierRuleIDs[c.TierRule])
					polID.Append(pol.ID)
					if a.Standing { // the lead it met when first scheduled
						earliest.Append(arrow.Date32(prev.of(c).earliest))
					} else {
						earliest.Append(arrow.Date32(params.Earliest(c)))
					}
					appendOptString(caseIJ, judges[c.IJ])
				}
			}, so)
		}})
	}
	jobs = append(jobs, job{"remain_closed", func() ([]sink.Object, error) {
		cs := pl.closed
		return sink.WriteParts(ctx, out, stage+"remain_closed", shard, remainClosedSchema, len(cs), func(b *array.RecordBuilder, from, to int) {
			for i := range cs[from:to] {
				c := &cs[from+i]
				b.Field(0).(*array.Int64Builder).Append(c.IDNCase)
				b.Field(1).(*array.Int64Builder).Append(c.IDNProceeding)
				b.Field(2).(*array.StringBuilder).Append(courtCode(c.Court))
				b.Field(3).(*array.StringBuilder).Append(pol.RuleIDs[c.Rule])
				b.Field(4).(*array.StringBuilder).Append(pol.RuleRationale[c.Rule])
			}
		}, so)
	}})
	jobs = append(jobs, job{"overflow", func() ([]sink.Object, error) {
		ov := pl.overflow
		return sink.WriteParts(ctx, out, stage+"overflow", shard, overflowSchema, len(ov), func(b *array.RecordBuilder, from, to int) {
			for _, o := range ov[from:to] {
				c := o.Case
				b.Field(0).(*array.Int64Builder).Append(c.IDNCase)
				b.Field(1).(*array.Int64Builder).Append(c.IDNProceeding)
				b.Field(2).(*array.StringBuilder).Append(courtCode(c.Court))
				b.Field(3).(*array.StringBuilder).Append(c.Docket.String())
				b.Field(4).(*array.Int32Builder).Append(int32(c.Tier))
				b.Field(5).(*array.Float64Builder).Append(c.Score)
				b.Field(6).(*array.StringBuilder).Append(pol.RuleIDs[c.Rule])
				if o.HasProjection {
					b.Field(7).(*array.Date32Builder).Append(arrow.Date32(o.Projected))
				} else {
					b.Field(7).AppendNull()
				}
				b.Field(8).(*array.StringBuilder).Append(o.Reason)
				b.Field(9).(*array.Date32Builder).Append(arrow.Date32(params.Earliest(c)))
				appendOptString(b.Field(10).(*array.StringBuilder), judges[c.IJ])
			}
		}, so)
	}})
	if changes != nil {
		jobs = append(jobs, job{"changes", func() ([]sink.Object, error) {
			return sink.WriteParts(ctx, out, stage+"changes", shard, changeSchema, len(changes.rows), func(b *array.RecordBuilder, from, to int) {
				idp, court, kind := b.Field(0).(*array.Int64Builder), b.Field(1).(*array.StringBuilder), b.Field(2).(*array.StringBuilder)
				reason := b.Field(7).(*array.StringBuilder)
				when := func(day int32, minute int16, d, t array.Builder) {
					if minute < 0 {
						d.AppendNull()
						t.AppendNull()
						return
					}
					d.(*array.Date32Builder).Append(arrow.Date32(day))
					t.(*array.StringBuilder).Append(schedule.Clock(int(minute)))
				}
				for _, x := range changes.rows[from:to] {
					idp.Append(x.idnProc)
					if int(x.court) < len(ref.Courts) {
						court.Append(courtCode(x.court))
					} else {
						court.AppendNull()
					}
					kind.Append(changeKinds[x.kind])
					when(x.prevDate, x.prevTime, b.Field(3), b.Field(4))
					when(x.newDate, x.newTime, b.Field(5), b.Field(6))
					appendOptString(reason, changes.reasons[x.reason])
				}
			}, so)
		}})
	}
	jobs = append(jobs, job{"rejects", func() ([]sink.Object, error) {
		rj := col.rejects
		return sink.WriteParts(ctx, out, stage+"rejects", shard, RejectSchema, len(rj), func(b *array.RecordBuilder, from, to int) {
			for _, r := range rj[from:to] {
				b.Field(0).(*array.StringBuilder).Append(objs[r.object].Key)
				b.Field(1).(*array.Int64Builder).Append(r.row)
				if r.hasID {
					b.Field(2).(*array.Int64Builder).Append(r.idnProc)
				} else {
					b.Field(2).AppendNull()
				}
				b.Field(3).(*array.StringBuilder).Append(r.reject.Code.String())
				b.Field(4).(*array.StringBuilder).Append(r.reject.Message())
			}
		}, so)
	}})

	// Each court's assignments are released once written (the jobs hold
	// the only references): memory falls as the stage goes on.
	pl.groups = nil
	results := make([][]sink.Object, len(jobs))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(max(1, cfg.Workers))
	for i := range jobs {
		g.Go(func() error {
			if err := gctx.Err(); err != nil {
				return err
			}
			r, err := jobs[i].run()
			if err != nil {
				return fmt.Errorf("write %s: %w", jobs[i].name, err)
			}
			var n int64
			for _, o := range r {
				n += o.Bytes
			}
			cfg.Progress.wrote(len(r), n)
			results[i] = r
			jobs[i] = job{}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	var all []sink.Object
	for _, r := range results {
		all = append(all, r...)
	}
	sort.Slice(all, func(i, j int) bool { return all[i].Key < all[j].Key })
	return all, nil
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
	col, _, err := collect(ctx, su.in, objs, su.ref, su.pol, su.asOf, cfg.Workers, false, nil, cfg.Progress)
	if err != nil {
		return nil, err
	}
	defer col.free()
	col.dedupe()
	res := &ValidateResult{Objects: len(objs), Rows: col.rows, Rejected: int64(len(col.rejects)), ByCode: map[string]int64{}, Quality: col.quality.Map(),
		Policy: su.pol, Outcomes: map[string]int64{}}
	for i := range col.cases {
		res.Outcomes[su.pol.RuleIDs[col.cases[i].Rule]]++
	}
	for i, r := range col.rejects {
		res.ByCode[r.reject.Code.String()]++
		if i < 10 {
			res.First = append(res.First, fmt.Sprintf("%s row %d: %s: %s", objs[r.object].Key, r.row, r.reject.Code, r.reject.Message()))
		}
	}
	return res, nil
}
