package job

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/recal-project/recal/pipeline/commit"
	"github.com/recal-project/recal/pipeline/location"
	"github.com/recal-project/recal/pipeline/manifest"
	"github.com/recal-project/recal/pipeline/nightly"
	"github.com/recal-project/recal/pipeline/parts"
	"github.com/recal-project/recal/pipeline/report"
	"github.com/recal-project/recal/pipeline/shard"
	"github.com/recal-project/recal/pipeline/sink"
	"github.com/recal-project/recal/pipeline/storage"
	"github.com/recal-project/recal/pipeline/sysexit"
	"github.com/recal-project/recal/transforms/impact"
	"github.com/recal-project/recal/transforms/schedule"
)

// mergeState is what the stages of a merge share.
type mergeState struct {
	mc      MergeConfig
	log     *slog.Logger
	t       *stageTimer
	started time.Time
	out     storage.Store
	// top is what the output holds committed (nil: nothing); shards the
	// shards' manifests, in index order.
	top     *manifest.Manifest
	shards  []*manifest.Manifest
	cfg     Config
	su      *setup
	m       *manifest.Manifest
	oc      *commit.Output
	reports []sink.Object
	done    *Result
}

// readShards checks that every shard committed the same job, and whether
// the output already holds it.
func (r *mergeState) readShards(ctx context.Context) error {
	mc := &r.mc
	cfg0 := Config{Log: mc.Log}
	r.log = logger(&cfg0)
	r.started = time.Now().UTC()
	r.t = newStageTimer(r.log)
	if mc.Output == "" || mc.ShardCount < 1 {
		return sysexit.Errorf(sysexit.ErrUsage, "--output and --shard-count (1 or more) are required")
	}
	if mc.Workers <= 0 {
		mc.Workers = 2
	}
	n := mc.ShardCount
	var err error
	if r.out, err = location.Open(ctx, mc.Output, mc.Locations); err != nil {
		return err
	}
	r.t.begin("load")
	if r.top, err = commit.Committed(ctx, r.out, ""); err != nil {
		return err
	}
	r.shards = make([]*manifest.Manifest, n)
	for i := range n {
		m, err := commit.Committed(ctx, r.out, shard.Prefix(i, n))
		if err != nil {
			return fmt.Errorf("shard %d: %w", i, err)
		}
		if m == nil {
			if r.top != nil && r.top.Shard.Count == n {
				// The merge committed and cleared the shards' prefixes.
				r.log.Info("output already holds this merged run; nothing to do", "run_id", r.top.RunID)
				r.done = &Result{Manifest: r.top, Output: r.out.String(), ManifestKey: "manifest.json", AlreadyComplete: true}
				return nil
			}
			return sysexit.Errorf(sysexit.ErrNoInput, "shard %d of %d has not committed under %s (no %s_SUCCESS): run or rerun it, then merge", i, n, r.out, shard.Prefix(i, n))
		}
		if err := r.checkShard(i, m); err != nil {
			return err
		}
		r.shards[i] = m
	}
	return r.checkTop()
}

// checkShard checks shard i's manifest against its place and shard 0's.
func (r *mergeState) checkShard(i int, m *manifest.Manifest) error {
	n := r.mc.ShardCount
	if m.Shard != (manifest.Shard{Index: i, Count: n}) {
		return sysexit.Errorf(sysexit.ErrData, "shard %d of %d: its manifest says shard %d of %d", i, n, m.Shard.Index, m.Shard.Count)
	}
	if m.Job == nil {
		return sysexit.Errorf(sysexit.ErrData, "shard %d of %d: its manifest has no job settings (written by an older recal)", i, n)
	}
	if i > 0 {
		if err := sameJob(r.shards[0], m); err != nil {
			return sysexit.Errorf(sysexit.ErrData, "shard %d of %d ran another job than shard 0: %v; rerun the shards with the same inputs, policy, calendar, as-of date and recal version", i, n, err)
		}
	}
	return nil
}

// checkTop decides from what the output holds: this run (done), another
// (only with --force), and refuses shards of another recal version.
func (r *mergeState) checkTop() error {
	first := r.shards[0]
	if top := r.top; top != nil {
		if top.RunID == first.RunID {
			r.log.Info("output already holds this run; nothing to do", "run_id", top.RunID)
			r.done = &Result{Manifest: top, Output: r.out.String(), ManifestKey: "manifest.json", AlreadyComplete: true}
			return nil
		}
		if !r.mc.Force {
			return sysexit.Errorf(sysexit.ErrUsage, "output %s already holds a committed run of other inputs (run %s); rerun with --force to replace it", r.out, top.RunID)
		}
	}
	if first.ToolVersion != Version {
		return sysexit.Errorf(sysexit.ErrUsage, "the shards ran recal %s; merge them with the same version (this is %s)", first.ToolVersion, Version)
	}
	return nil
}

// reload loads the policy, calendar and reference data the shards used,
// checks them against the shards' hashes, and adds the shards' manifests up.
func (r *mergeState) reload(ctx context.Context) error {
	first, mc := r.shards[0], r.mc
	j := first.Job
	r.cfg = Config{Capacity: j.Capacity, Closures: j.Closures, Policy: j.Policy, AsOf: first.AsOf, Courts: j.Courts,
		HearingLocations: j.HearingLocations, SuppressBelow: j.SuppressBelow, BaselinePending: j.BaselinePending,
		OnCorrupt: j.OnCorrupt, Workers: mc.Workers, TempDir: mc.TempDir, Locations: mc.Locations, Log: mc.Log}
	if r.cfg.SuppressBelow == 0 {
		r.cfg.SuppressBelow = -1 // recorded 0 means off
	}
	su, err := load(ctx, &r.cfg, true)
	if err != nil {
		return fmt.Errorf("reload the shards' settings: %w", err)
	}
	r.su = su
	for _, c := range []struct{ what, got, want string }{
		{"policy " + j.Policy, su.pol.SHA256, first.Policy.SHA256},
		{"capacity calendar " + j.Capacity, sha(su.capBytes), first.Capacity.SHA256},
		{"closures " + j.Closures, closuresSHA(j.Closures, su.closBytes), first.Closures.SHA256},
		{"reference data", su.ref.SHA256, first.Reference.SHA256},
	} {
		if c.got != c.want {
			return sysexit.Errorf(sysexit.ErrData, "%s changed since the shards ran (sha256 %s, the shards used %s)", c.what, c.got, c.want)
		}
	}
	m := mergedManifest(r.shards)
	var prevID string
	var policyChanged bool
	if ch := m.Changes; ch != nil {
		prevID, policyChanged = ch.PreviousRunID, ch.PolicyChanged
	}
	if id := runID(m, reportSettings(r.cfg)+nightly.Settings(prevID, policyChanged)+capacitySettings(m)); id != first.RunID {
		return sysexit.Errorf(sysexit.ErrInternal, "the merged settings give run id %s, the shards ran %s", id, first.RunID)
	}
	if err := m.Check(); err != nil {
		return sysexit.With(sysexit.ErrData, fmt.Errorf("the shards' counts: %w", err))
	}
	r.m = m
	r.t.end("shards", r.mc.ShardCount, "input_rows", m.Counts.InputRows)
	return nil
}

// claim claims the output before anything is written. Two merges of one
// sharded run are the same job: the later takes over, and the earlier
// stops at its next check (or finds the job done).
func (r *mergeState) claim(ctx context.Context) error {
	cs := commit.Settings{Command: "merge", Force: r.mc.Force, Stale: r.mc.ClaimStale, Heartbeat: r.mc.claimHeartbeat}
	if r.top != nil {
		cs.Committed = r.top.RunID
	}
	var err error
	if r.oc, err = commit.Claim(ctx, r.out, "", r.m.RunID, cs, r.log); err != nil {
		return err
	}
	// From here until the new _SUCCESS, no reader may trust the prefix;
	// a merge of this job that committed meanwhile ends this one.
	m, err := r.oc.Withdraw(ctx)
	if err == nil && m != nil {
		r.log.Info("a merge of this run committed the output meanwhile; nothing to do", "run_id", m.RunID)
		r.done = &Result{Manifest: m, Output: r.out.String(), ManifestKey: "manifest.json", AlreadyComplete: true}
	}
	return err
}

// report adds up the shards' impact states and writes the reports.
func (r *mergeState) report(ctx context.Context) error {
	su, n := r.su, r.mc.ShardCount
	r.t.begin("report")
	params := schedule.Params{AsOf: su.asOf, MinNoticeDays: su.pol.MinNoticeDays, JuvenileNoticeDays: su.pol.JuvenileNoticeDays, HorizonDays: su.pol.HorizonDays}
	ib := impact.NewBuilder(su.ref, su.pol, su.cal, params)
	for i, s := range r.shards {
		st, err := readState(ctx, r.out, shard.Prefix(i, n)+shard.ImpactStateKey, s)
		if err != nil {
			return sysexit.With(sysexit.ErrData, fmt.Errorf("shard %d: %w", i, err))
		}
		if err := ib.Merge(st); err != nil {
			return sysexit.With(sysexit.ErrData, fmt.Errorf("shard %d: %s: %w", i, shard.ImpactStateKey, err))
		}
	}
	imp, err := buildImpact(r.m, ib, r.cfg)
	if err != nil {
		return sysexit.With(sysexit.ErrData, fmt.Errorf("the shards' impact states: %w", err))
	}
	if r.reports, err = report.Write(ctx, r.out, report.Dir, imp, report.Options{SuppressBelow: suppressBelow(r.cfg)}); err != nil {
		return err
	}
	r.t.end("objects", len(r.reports))
	return nil
}

// mergeDatasets joins the shards' sorted datasets into the files a single
// process writes; the assignments, written in place by the shards, are
// listed as they are.
func (r *mergeState) mergeDatasets(ctx context.Context) error {
	r.t.begin("merge")
	var outputs []sink.Object
	for _, s := range r.shards {
		for _, o := range s.Outputs {
			if strings.HasPrefix(o.Key, "assignments/") {
				outputs = append(outputs, o)
			}
		}
	}
	merging := mergedDatasets(r.su.ref, r.m.Inputs)
	merged := make([][]sink.Object, len(merging))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(r.mc.Workers)
	for d, ds := range merging {
		if ds.dir == "changes" && r.m.Changes == nil {
			continue
		}
		g.Go(func() error {
			objs, err := r.mergeDataset(gctx, ds)
			merged[d] = objs
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	for _, objs := range merged {
		outputs = append(outputs, objs...)
	}
	outputs = append(outputs, r.reports...)
	sort.Slice(outputs, func(i, j int) bool { return outputs[i].Key < outputs[j].Key })
	r.m.Outputs = outputs
	r.t.end("objects", len(outputs))
	return nil
}

// mergeDataset joins one dataset of every shard, in its order.
func (r *mergeState) mergeDataset(ctx context.Context, ds mergedDataset) ([]sink.Object, error) {
	n := r.mc.ShardCount
	streams := make([]*parts.Stream, n)
	var rows int64
	for i, s := range r.shards {
		var ks []string
		for _, o := range s.Outputs {
			if strings.HasPrefix(o.Key, shard.Prefix(i, n)+ds.dir+"/") {
				ks = append(ks, o.Key)
				rows += o.Rows
			}
		}
		streams[i] = parts.Open(ctx, r.out, ks, ds.schema, nil)
	}
	mg := parts.NewMerger(streams, ds.key)
	defer mg.Close()
	objs, err := sink.WriteParts(ctx, r.out, ds.dir, 0, ds.schema, int(rows), mg.Fill, sink.Options{TempDir: r.mc.TempDir, RunTag: r.m.RunID})
	if err != nil {
		return nil, fmt.Errorf("merge %s: %w", ds.dir, err)
	}
	if got, err := mg.Done(); err != nil {
		return nil, sysexit.With(sysexit.ErrData, fmt.Errorf("merge %s: %w", ds.dir, err))
	} else if got != rows {
		return nil, sysexit.Errorf(sysexit.ErrData, "merge %s: %d rows merged, the shards' manifests list %d", ds.dir, got, rows)
	}
	return objs, nil
}

// commit publishes the merged run as a run publishes itself, then removes
// the shards' prefixes (kept until now: a merge that fails before can be
// rerun).
func (r *mergeState) commit(ctx context.Context) error {
	m := r.m
	dirs := slices.DeleteFunc(slices.Clone(ownedDirs), func(d string) bool { return d == shard.Dir })
	m.Timing = manifest.Timing{StartedAt: r.started.Format(time.RFC3339Nano), FinishedAt: time.Now().UTC().Format(time.RFC3339Nano), Seconds: r.t.seconds}
	if err := r.oc.Publish(ctx, m, dirs); err != nil {
		return err
	}
	if err := commit.Cleanup(ctx, r.out, m, []string{shard.Dir}); err != nil {
		// The run is committed; what is left under _shards/ is not listed
		// and the next run of this output removes it.
		r.log.Warn("could not remove the shards' staging objects", "error", err)
	}
	r.log.Info("merge complete", "run_id", m.RunID, "shards", r.mc.ShardCount, "input_rows", m.Counts.InputRows, "assigned", m.Counts.Assigned,
		"remain_closed", m.Counts.RemainClosed, "overflow", m.Counts.Overflow, "rejected", m.Counts.Rejected)
	return nil
}
