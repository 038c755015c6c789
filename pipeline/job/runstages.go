package job

import (
	"context"
	"log/slog"
	"sort"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/recal-project/recal/pipeline/bufpool"
	"github.com/recal-project/recal/pipeline/collect"
	"github.com/recal-project/recal/pipeline/commit"
	"github.com/recal-project/recal/pipeline/location"
	"github.com/recal-project/recal/pipeline/manifest"
	"github.com/recal-project/recal/pipeline/nightly"
	"github.com/recal-project/recal/pipeline/plan"
	"github.com/recal-project/recal/pipeline/report"
	"github.com/recal-project/recal/pipeline/shard"
	"github.com/recal-project/recal/pipeline/sink"
	"github.com/recal-project/recal/pipeline/source"
	"github.com/recal-project/recal/pipeline/storage"
	"github.com/recal-project/recal/pipeline/sysexit"
	"github.com/recal-project/recal/transforms/cases"
	"github.com/recal-project/recal/transforms/schedule"
)

// Run executes `recal run`: the list of its stages, each over the one
// state of the run.
func Run(ctx context.Context, cfg Config) (res *Result, err error) {
	r := &runState{cfg: cfg, mem: new(bufpool.Pool)}
	defer func() { res, err = endClaim(ctx, r.oc, r.out, res, err) }() // releases the claim, says what a failure was
	defer r.free()
	for _, stage := range []func(context.Context) error{
		r.checkSettings, // flags that need no input
		r.load,          // policy, calendar, reference data, the export's listing, the run id
		r.findCommitted, // an output that holds this run: done; another run: --force
		r.claim,         // one writer per output
		r.read,          // the export: rejects, decisions, quarantine, the release guard
		r.schedule,      // slots per court and docket; changes against --previous
		r.count,         // the manifest's counts and their conservation check
		r.report,        // impact reports (a shard: its impact state)
		r.write,         // the data files
		r.commit,        // manifest.json, cleanup, _SUCCESS
	} {
		if err := stage(ctx); err != nil {
			return nil, err
		}
		if r.done != nil {
			return r.done, nil
		}
	}
	return &Result{Manifest: r.m, Output: r.out.String(), ManifestKey: r.stage + "manifest.json"}, nil
}

// runState is what the stages of a run share.
type runState struct {
	cfg     Config
	log     *slog.Logger
	t       *stageTimer
	started time.Time
	su      *setup
	out     storage.Store
	m       *manifest.Manifest
	prev    *nightly.Previous
	// sp is the run's share of the courts (nil: unsharded); stage is where
	// it commits: the output itself, or its shard's prefix under it.
	sp    *shard.Plan
	stage string
	oc    *commit.Output
	// staged is the run id committed where this run commits (its stage),
	// as findCommitted found it ("": none), for the claim's rules.
	staged  string
	col     *collect.Collected
	stats   []source.ObjectStats
	guard   *manifest.Guard
	params  schedule.Params
	plan    *plan.Plan
	changes *nightly.ChangeSet
	reports []sink.Object
	// mem allocates the arrow buffers of the read and the writers: one
	// pool, so that the read's freed buffers serve the writers too.
	mem *bufpool.Pool
	// done, when a stage sets it, ends the run with that result.
	done *Result
}

// contentTags sets each input's ETag to its content tag (a local file's
// sha256), workers objects at a time: one after another, hashing a 10M-row
// export's 330 MB was 0.2 s of the load stage on one core.
func contentTags(ctx context.Context, ct contentTagger, inputs []manifest.Input, workers int) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(max(1, workers))
	for i := range inputs {
		g.Go(func() error {
			tag, err := ct.ContentTag(gctx, inputs[i].Key)
			inputs[i].ETag = tag
			return err
		})
	}
	return g.Wait()
}

// free returns the memory of the cases (nothing of a run outlives Run:
// its Result holds only the manifest).
func (r *runState) free() {
	if r.col != nil {
		r.col.Free()
	}
}

func (r *runState) checkSettings(context.Context) error {
	cfg := &r.cfg
	r.log = logger(cfg)
	r.started = time.Now().UTC()
	r.t = newStageTimer(r.log)
	r.t.prog = cfg.Progress
	if cfg.Workers <= 0 {
		cfg.Workers = 2
	}
	cfg.ShardCount = max(1, cfg.ShardCount)
	if err := shard.Check(cfg.ShardIndex, cfg.ShardCount); err != nil {
		return err
	}
	if cfg.OnCorrupt != "" && cfg.OnCorrupt != "fail" && cfg.OnCorrupt != "quarantine" {
		return sysexit.Errorf(sysexit.ErrUsage, "--on-corrupt=%s: want fail or quarantine", cfg.OnCorrupt)
	}
	if cfg.QuarantineLimit < 0 || cfg.QuarantineLimit > 1 {
		return sysexit.Errorf(sysexit.ErrUsage, "--quarantine-limit %g: want a share from 0 to 1 (0.05 is 5%%)", cfg.QuarantineLimit)
	}
	if err := nightly.CheckGuardSettings(cfg.ReleaseLimit, cfg.InputFloor); err != nil {
		return sysexit.With(sysexit.ErrUsage, err)
	}
	if cfg.Output == "" || cfg.Input == "" || cfg.Capacity == "" {
		return sysexit.Errorf(sysexit.ErrUsage, "--input, --capacity and --output are required")
	}
	return nil
}

// load checks everything that can be checked before data is read, and
// computes the run's fingerprint: a committed run of the same inputs makes
// this one a no-op, and one of other inputs is replaced only with --force.
func (r *runState) load(ctx context.Context) error {
	cfg := &r.cfg
	r.t.begin("load")
	su, err := load(ctx, cfg, true)
	if err != nil {
		return err
	}
	r.su = su
	if r.out, err = location.Open(ctx, cfg.Output, cfg.Locations); err != nil {
		return err
	}
	pol := su.pol
	m := &manifest.Manifest{
		SchemaVersion: manifest.SchemaVersion,
		ToolVersion:   Version,
		AsOf:          cfg.AsOf,
		Policy: manifest.Policy{ID: pol.ID, SHA256: pol.SHA256, MinNoticeDays: pol.MinNoticeDays,
			JuvenileNoticeDays: pol.JuvenileNoticeDays, HorizonDays: pol.HorizonDays},
		Capacity:       manifest.Hashed{URI: cfg.Capacity, SHA256: sha(su.capBytes)},
		CapacitySource: su.capSource,
		Reference:      manifest.Hashed{SHA256: su.ref.SHA256},
		Shard:          manifest.Shard{Index: cfg.ShardIndex, Count: cfg.ShardCount},
		Job:            jobOf(*cfg),
	}
	if cfg.Closures != "" {
		m.Closures = manifest.Hashed{URI: cfg.Closures, SHA256: sha(su.closBytes)}
	}
	for _, o := range su.objs {
		m.Inputs = append(m.Inputs, manifest.Input{Key: o.Key, Size: o.Size, ETag: o.ETag})
	}
	if ct, ok := su.in.(contentTagger); ok {
		if err := contentTags(ctx, ct, m.Inputs, cfg.Workers); err != nil {
			return err
		}
	}
	if cfg.Previous != "" {
		if r.prev, err = nightly.Load(ctx, nightly.Options{URI: cfg.Previous, PolicyChange: cfg.PreviousPolicyChange, Workers: cfg.Workers, Locations: cfg.Locations}, pol, su.ref, r.out); err != nil {
			return err
		}
	}
	m.RunID = runID(m, reportSettings(*cfg)+r.prev.Settings()+capacitySettings(m))
	r.m = m
	r.log = r.log.With("run_id", m.RunID)
	r.sp = shard.New(su.ref, cfg.ShardIndex, cfg.ShardCount)
	if r.sp != nil {
		r.stage = shard.Prefix(cfg.ShardIndex, cfg.ShardCount)
		r.log = r.log.With("shard", cfg.ShardIndex, "shards", cfg.ShardCount)
	}
	r.t.log = r.log
	return nil
}

// findCommitted looks at what the output already holds: this run (done),
// another run (replaced only with --force, and never taken for this one:
// another recal version is another run), or, for a shard, its stage.
func (r *runState) findCommitted(ctx context.Context) error {
	m, out, log := r.m, r.out, r.log
	prev, err := commit.Committed(ctx, out, "")
	if err != nil {
		return err
	}
	if prev != nil {
		if prev.RunID == m.RunID {
			// A merged sharded run and a single-process run of one job
			// share the run id: either way the job is done.
			log.Info("output already holds this run; nothing to do", "run_id", prev.RunID)
			r.done = &Result{Manifest: prev, Output: out.String(), ManifestKey: "manifest.json", AlreadyComplete: true}
			return nil
		}
		if !r.cfg.Force && prev.ToolVersion != m.ToolVersion {
			return sysexit.Errorf(sysexit.ErrUsage, "output %s holds a run committed by recal %s (run %s); this is recal %s, whose outputs may differ: rerun with --force to recompute it with this version",
				out, prev.ToolVersion, prev.RunID, m.ToolVersion)
		}
		if !r.cfg.Force {
			return sysexit.Errorf(sysexit.ErrUsage, "output %s already holds a committed run of other inputs (run %s: policy %s, as of %s); rerun with --force to replace it",
				out, prev.RunID, prev.Policy.ID, prev.AsOf)
		}
		log.Info("--force: replacing the committed run", "old_run_id", prev.RunID, "run_id", m.RunID)
	}
	if r.sp == nil {
		if prev != nil {
			r.staged = prev.RunID
		}
		return nil
	}
	prev, err = commit.Committed(ctx, out, r.stage)
	switch {
	case err != nil:
		return err
	case prev != nil && prev.RunID == m.RunID:
		log.Info("this shard is already committed; nothing to do", "run_id", prev.RunID)
		r.done = &Result{Manifest: prev, Output: out.String(), ManifestKey: r.stage + "manifest.json", AlreadyComplete: true}
	case prev != nil:
		log.Info("replacing this shard's uncommitted job of other inputs", "old_run_id", prev.RunID, "run_id", m.RunID)
	}
	if prev != nil {
		r.staged = prev.RunID
	}
	return nil
}

// claim claims the output (one writer per output) before anything is
// written, then withdraws the old _SUCCESS (never one of this same job):
// from here until the new one, no reader may trust the prefix.
func (r *runState) claim(ctx context.Context) error {
	cfg, out := &r.cfg, r.out
	cs := commit.Settings{Command: "run", Force: cfg.Force, Stale: cfg.ClaimStale, Heartbeat: cfg.claimHeartbeat, Committed: r.staged}
	var err error
	if r.oc, err = commit.Claim(ctx, out, r.stage, r.m.RunID, cs, r.log); err != nil {
		return err
	}
	if cfg.afterClaim != nil {
		cfg.afterClaim()
	}
	if r.sp != nil {
		if err := out.Delete(ctx, "_SUCCESS"); err != nil { // the merged run's: the shards replace it
			return err
		}
	}
	m, err := r.oc.Withdraw(ctx)
	if err != nil || m == nil {
		return err
	}
	r.log.Info("a run of this job committed the output meanwhile; nothing to do", "run_id", m.RunID)
	r.done = &Result{Manifest: m, Output: out.String(), ManifestKey: r.stage + "manifest.json", AlreadyComplete: true}
	return nil
}

// read reads and decides the export, applies the quarantine limits and,
// with --previous, the release guard.
func (r *runState) read(ctx context.Context) error {
	cfg, su := &r.cfg, r.su
	r.t.begin("read")
	col, stats, err := collect.Read(ctx, su.in, su.objs, collect.Options{Ref: su.ref, Policy: su.pol, AsOf: su.asOf,
		Workers: cfg.Workers, Quarantine: cfg.OnCorrupt == "quarantine", Shard: r.sp, Progress: cfg.Progress, Mem: r.mem})
	if err != nil {
		return err
	}
	r.col, r.stats = col, stats
	if r.m.Quarantine, err = col.QuarantineShare(su.objs, cfg.QuarantineLimit); err != nil {
		return err
	}
	var present func([]cases.Case)
	if r.prev != nil {
		present = r.prev.MarkPresent
	}
	col.Dedupe(present)
	if r.prev != nil {
		if r.guard, err = r.prev.Guard(col.KeptFooterRows(), cfg.ReleaseLimit, cfg.InputFloor); err != nil {
			return err
		}
	}
	var inBytes int64
	for _, o := range su.objs {
		inBytes += o.Size
	}
	r.t.end("objects", len(su.objs), "bytes", inBytes, "rows", col.Rows, "rejected", len(col.Rejects))
	return nil
}

func (r *runState) schedule(ctx context.Context) error {
	su, pol := r.su, r.su.pol
	r.t.begin("schedule")
	r.params = schedule.Params{AsOf: su.asOf, MinNoticeDays: pol.MinNoticeDays, JuvenileNoticeDays: pol.JuvenileNoticeDays, HorizonDays: pol.HorizonDays, Judges: r.col.Judges}
	if r.prev != nil {
		r.params.Standing = r.prev.Lookup
	}
	pl, err := plan.Schedule(ctx, su.cal, r.col.Cases, r.params, r.cfg.Workers, r.cfg.Progress)
	if err != nil {
		return err
	}
	r.plan = pl
	if r.prev != nil {
		r.changes, r.m.Changes = r.prev.Changes(pl, r.sp)
		r.m.Changes.Guard = r.guard
	}
	r.t.end("assigned", pl.Assigned, "overflow", pl.Overflow.Len(), "remain_closed", len(pl.Closed))
	return nil
}

// count fills the manifest's counts and checks their conservation.
func (r *runState) count(context.Context) error {
	m, col, plan, objs := r.m, r.col, r.plan, r.su.objs
	m.Counts = manifest.Counts{
		InputRows: col.Rows, Assigned: int64(plan.Assigned), RemainClosed: int64(len(plan.Closed)),
		Overflow: int64(plan.Overflow.Len()), Rejected: int64(len(col.Rejects)),
	}
	m.RejectsByCode, m.RemainClosedByRule, m.OverflowByReason = map[string]int64{}, map[string]int64{}, map[string]int64{}
	m.DataQuality, m.Decoders = col.Quality.Map(), map[string]int{}
	for i, s := range r.stats {
		m.Inputs[i].Rows = col.ObjRows[i]
		if s.Decoder != "" {
			m.Decoders[s.Decoder]++
		}
	}
	for _, q := range col.Quarantined { // their stats already count 0 rows
		why := source.Reason(q.Err)
		m.Inputs[q.Object].Quarantined = why
		m.QuarantinedObjects = append(m.QuarantinedObjects, objs[q.Object].Key)
		r.log.Warn("object quarantined: not read, not counted", "object", objs[q.Object].Key, "error", why)
	}
	for _, rj := range col.Rejects {
		m.RejectsByCode[rj.Reject.Code.String()]++
	}
	for _, c := range plan.Closed {
		m.RemainClosedByRule[r.su.pol.RuleIDs[c.Rule]]++
	}
	for o := range plan.Overflow.All() {
		m.OverflowByReason[o.Reason.String()]++
	}
	if err := m.Check(); err != nil {
		return sysexit.With(sysexit.ErrInternal, err)
	}
	return nil
}

// report writes the impact reports; a shard writes its impact state, which
// merge adds up.
func (r *runState) report(ctx context.Context) error {
	su := r.su
	r.t.begin("report")
	ib := impactBuilder(su.ref, su.pol, su.cal, r.params, r.col, r.plan)
	if r.sp == nil {
		imp, err := buildImpact(r.m, ib, r.cfg)
		if err != nil {
			return sysexit.With(sysexit.ErrInternal, err)
		}
		if r.reports, err = report.Write(ctx, r.out, report.Dir, imp, report.Options{SuppressBelow: suppressBelow(r.cfg)}); err != nil {
			return err
		}
	} else {
		o, err := putJSON(ctx, r.out, r.stage+shard.ImpactStateKey, ib.State())
		if err != nil {
			return err
		}
		r.reports = []sink.Object{o}
	}
	r.t.end("objects", len(r.reports))
	return nil
}

func (r *runState) write(ctx context.Context) error {
	r.t.begin("write")
	objsOut, err := r.writeOutputs(ctx)
	if err != nil {
		return err
	}
	objsOut = append(objsOut, r.reports...)
	sort.Slice(objsOut, func(i, j int) bool { return objsOut[i].Key < objsOut[j].Key })
	r.m.Outputs = objsOut
	var outBytes int64
	for _, o := range objsOut {
		outBytes += o.Bytes
	}
	r.t.end("objects", len(objsOut), "bytes", outBytes)
	return nil
}

// commit makes the run visible, while its claim holds: manifest.json, then
// the removal of what an unfinished or replaced run left, then _SUCCESS,
// written only if absent, so two runs racing on one prefix cannot both
// commit. A shard cleans only its own prefix: the other shards are writing
// beside it, and merge cleans the rest.
func (r *runState) commit(ctx context.Context) error {
	m := r.m
	dirs := ownedDirs
	if r.sp != nil {
		dirs = []string{r.stage}
	}
	m.Timing = manifest.Timing{StartedAt: r.started.Format(time.RFC3339Nano), FinishedAt: time.Now().UTC().Format(time.RFC3339Nano), Seconds: r.t.seconds}
	if err := r.oc.Publish(ctx, m, dirs); err != nil {
		return err
	}
	r.log.Info("run complete", "run_id", m.RunID, "input_rows", m.Counts.InputRows, "assigned", m.Counts.Assigned,
		"remain_closed", m.Counts.RemainClosed, "overflow", m.Counts.Overflow, "rejected", m.Counts.Rejected)
	return nil
}
