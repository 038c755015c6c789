package job

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"golang.org/x/sync/errgroup"

	"github.com/recal-project/recal/pipeline/location"
	"github.com/recal-project/recal/pipeline/manifest"
	"github.com/recal-project/recal/pipeline/parts"
	"github.com/recal-project/recal/pipeline/report"
	"github.com/recal-project/recal/pipeline/sink"
	"github.com/recal-project/recal/pipeline/storage"
	"github.com/recal-project/recal/pipeline/sysexit"
	"github.com/recal-project/recal/transforms/impact"
	"github.com/recal-project/recal/transforms/reference"
	"github.com/recal-project/recal/transforms/schedule"
)

// MergeConfig is the configuration of `recal merge`.
type MergeConfig struct {
	Output     string
	ShardCount int
	// Force replaces a committed run of another job under Output, and
	// takes over another run's claim on it.
	Force bool
	// ClaimStale is Config.ClaimStale.
	ClaimStale     time.Duration
	claimHeartbeat time.Duration
	Workers        int
	TempDir        string
	Locations      location.Options
	Log            *slog.Logger
}

// mergedDataset is a dataset merge joins from the shards' prefixes (each
// shard writes its courts' assignments in place), with the order a single
// process writes it in.
type mergedDataset struct {
	dir    string
	schema *arrow.Schema
	key    parts.Key
}

// mergedDatasets lists them. Single-process order: remain_closed and
// changes by idnproceeding; overflow court by court (reference order),
// each court as its one shard wrote it; rejects by input object (inputs
// gives the objects' order), then row. changes exists only with
// --previous.
func mergedDatasets(ref *reference.Data, inputs []manifest.Input) []mergedDataset {
	objIndex := make(map[string]int64, len(inputs))
	for i, in := range inputs {
		objIndex[in.Key] = int64(i)
	}
	byProceeding := func(col int) parts.Key {
		return func(r arrow.Record, i int) [2]int64 { return [2]int64{r.Column(col).(*array.Int64).Value(i), 0} }
	}
	return []mergedDataset{
		{"remain_closed", remainClosedSchema, byProceeding(1)},
		{"overflow", overflowSchema, func(r arrow.Record, i int) [2]int64 {
			return [2]int64{int64(ref.CourtIndex(r.Column(2).(*array.String).Value(i))), 0}
		}},
		{"rejects", RejectSchema, func(r arrow.Record, i int) [2]int64 {
			k, ok := objIndex[r.Column(0).(*array.String).Value(i)]
			if !ok {
				k = int64(len(objIndex))
			}
			return [2]int64{k, r.Column(1).(*array.Int64).Value(i)}
		}},
		{"changes", changeSchema, byProceeding(0)},
	}
}

// Merge executes `recal merge`: it checks that every shard of a sharded
// run committed the same job, joins the shards' remain_closed, overflow
// and rejects parts in the order a single process writes them, adds up
// their counts and impact states, and writes the run's reports, manifest
// and _SUCCESS. Its data files and reports are those of a single-process
// run of the same job, byte for byte; only the manifest's shard count,
// timing and the assignment files' names (part-<shard>-…) differ.
func Merge(ctx context.Context, mc MergeConfig) (res *Result, err error) {
	var oc *outputClaim
	defer func() { res, err = oc.end(ctx, res, err) }()
	cfg0 := Config{Log: mc.Log}
	log := logger(&cfg0)
	started := time.Now().UTC()
	t := newStageTimer(log)
	if mc.Output == "" || mc.ShardCount < 1 {
		return nil, sysexit.Errorf(sysexit.ErrUsage, "--output and --shard-count (1 or more) are required")
	}
	if mc.Workers <= 0 {
		mc.Workers = 2
	}
	n := mc.ShardCount
	out, err := location.Open(ctx, mc.Output, mc.Locations)
	if err != nil {
		return nil, err
	}

	t.begin("load")
	top, err := committed(ctx, out, "")
	if err != nil {
		return nil, err
	}
	shards := make([]*manifest.Manifest, n)
	for i := range n {
		m, err := committed(ctx, out, ShardPrefix(i, n))
		if err != nil {
			return nil, fmt.Errorf("shard %d: %w", i, err)
		}
		if m == nil {
			if top != nil && top.Shard.Count == n {
				// The merge committed and cleared the shards' prefixes.
				log.Info("output already holds this merged run; nothing to do", "run_id", top.RunID)
				return &Result{Manifest: top, Output: out.String(), ManifestKey: "manifest.json", AlreadyComplete: true}, nil
			}
			return nil, sysexit.Errorf(sysexit.ErrNoInput, "shard %d of %d has not committed under %s (no %s_SUCCESS): run or rerun it, then merge", i, n, out, ShardPrefix(i, n))
		}
		if m.Shard != (manifest.Shard{Index: i, Count: n}) {
			return nil, sysexit.Errorf(sysexit.ErrData, "shard %d of %d: its manifest says shard %d of %d", i, n, m.Shard.Index, m.Shard.Count)
		}
		if m.Job == nil {
			return nil, sysexit.Errorf(sysexit.ErrData, "shard %d of %d: its manifest has no job settings (written by an older recal)", i, n)
		}
		if i > 0 {
			if err := sameJob(shards[0], m); err != nil {
				return nil, sysexit.Errorf(sysexit.ErrData, "shard %d of %d ran another job than shard 0: %v; rerun the shards with the same inputs, policy, calendar, as-of date and recal version", i, n, err)
			}
		}
		shards[i] = m
	}
	first := shards[0]
	if top != nil {
		if top.RunID == first.RunID {
			log.Info("output already holds this run; nothing to do", "run_id", top.RunID)
			return &Result{Manifest: top, Output: out.String(), ManifestKey: "manifest.json", AlreadyComplete: true}, nil
		}
		if !mc.Force {
			return nil, sysexit.Errorf(sysexit.ErrUsage, "output %s already holds a committed run of other inputs (run %s); rerun with --force to replace it", out, top.RunID)
		}
	}
	if first.ToolVersion != Version {
		return nil, sysexit.Errorf(sysexit.ErrUsage, "the shards ran recal %s; merge them with the same version (this is %s)", first.ToolVersion, Version)
	}

	// The policy, calendar and reference data the shards used, reloaded
	// and checked against their hashes.
	j := first.Job
	cfg := Config{Capacity: j.Capacity, Closures: j.Closures, Policy: j.Policy, AsOf: first.AsOf, Courts: j.Courts,
		HearingLocations: j.HearingLocations, SuppressBelow: j.SuppressBelow, BaselinePending: j.BaselinePending,
		OnCorrupt: j.OnCorrupt, Workers: mc.Workers, TempDir: mc.TempDir, Locations: mc.Locations, Log: mc.Log}
	if cfg.SuppressBelow == 0 {
		cfg.SuppressBelow = -1 // recorded 0 means off
	}
	su, err := load(ctx, &cfg, true)
	if err != nil {
		return nil, fmt.Errorf("reload the shards' settings: %w", err)
	}
	for _, c := range []struct{ what, got, want string }{
		{"policy " + j.Policy, su.pol.SHA256, first.Policy.SHA256},
		{"capacity calendar " + j.Capacity, sha(su.capBytes), first.Capacity.SHA256},
		{"closures " + j.Closures, closuresSHA(j.Closures, su.closBytes), first.Closures.SHA256},
		{"reference data", su.ref.SHA256, first.Reference.SHA256},
	} {
		if c.got != c.want {
			return nil, sysexit.Errorf(sysexit.ErrData, "%s changed since the shards ran (sha256 %s, the shards used %s)", c.what, c.got, c.want)
		}
	}
	m := mergedManifest(shards)
	var prevID string
	var policyChanged bool
	if ch := m.Changes; ch != nil {
		prevID, policyChanged = ch.PreviousRunID, ch.PolicyChanged
	}
	if id := runID(m, reportSettings(cfg)+previousSettings(prevID, policyChanged)); id != first.RunID {
		return nil, sysexit.Errorf(sysexit.ErrInternal, "the merged settings give run id %s, the shards ran %s", id, first.RunID)
	}
	if err := m.Check(); err != nil {
		return nil, sysexit.With(sysexit.ErrData, fmt.Errorf("the shards' counts: %w", err))
	}
	t.end("shards", n, "input_rows", m.Counts.InputRows)

	// One writer per output: claimed before anything is written. Two
	// merges of one sharded run are the same job: the later takes over,
	// and the earlier stops at its next check (or finds the job done).
	cs := claimSettings{command: "merge", force: mc.Force, stale: mc.ClaimStale, heartbeat: mc.claimHeartbeat}
	if top != nil {
		cs.committed = top.RunID
	}
	if oc, err = claimOutput(ctx, out, "", first.RunID, cs, log); err != nil {
		return nil, err
	}
	// From here until the new _SUCCESS, no reader may trust the prefix.
	if err := out.Delete(ctx, "_SUCCESS"); err != nil {
		return nil, err
	}

	t.begin("report")
	params := schedule.Params{AsOf: su.asOf, MinNoticeDays: su.pol.MinNoticeDays, JuvenileNoticeDays: su.pol.JuvenileNoticeDays, HorizonDays: su.pol.HorizonDays}
	su.cal.WarmHolidays(su.asOf, su.asOf+int32(su.pol.HorizonDays)+400)
	ib := impact.NewBuilder(su.ref, su.pol, su.cal, params)
	for i, s := range shards {
		st, err := readState(ctx, out, ShardPrefix(i, n)+impactStateKey, s)
		if err != nil {
			return nil, sysexit.With(sysexit.ErrData, fmt.Errorf("shard %d: %w", i, err))
		}
		if err := ib.Merge(st); err != nil {
			return nil, sysexit.With(sysexit.ErrData, fmt.Errorf("shard %d: %s: %w", i, impactStateKey, err))
		}
	}
	imp, err := buildImpact(m, ib, cfg)
	if err != nil {
		return nil, sysexit.With(sysexit.ErrData, fmt.Errorf("the shards' impact states: %w", err))
	}
	reports, err := report.Write(ctx, out, report.Dir, imp, report.Options{SuppressBelow: suppressBelow(cfg)})
	if err != nil {
		return nil, err
	}
	t.end("objects", len(reports))

	t.begin("merge")
	merging := mergedDatasets(su.ref, m.Inputs)
	var outputs []sink.Object
	for _, s := range shards {
		for _, o := range s.Outputs {
			if strings.HasPrefix(o.Key, "assignments/") {
				outputs = append(outputs, o)
			}
		}
	}
	merged := make([][]sink.Object, len(merging))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(mc.Workers)
	for d, ds := range merging {
		if ds.dir == "changes" && m.Changes == nil {
			continue
		}
		g.Go(func() error {
			streams := make([]*parts.Stream, n)
			var rows int64
			for i, s := range shards {
				var ks []string
				for _, o := range s.Outputs {
					if strings.HasPrefix(o.Key, ShardPrefix(i, n)+ds.dir+"/") {
						ks = append(ks, o.Key)
						rows += o.Rows
					}
				}
				streams[i] = parts.Open(gctx, out, ks, ds.schema, nil)
			}
			mg := parts.NewMerger(streams, ds.key)
			defer mg.Close()
			objs, err := sink.WriteParts(gctx, out, ds.dir, 0, ds.schema, int(rows), mg.Fill, sink.Options{TempDir: mc.TempDir, RunTag: m.RunID})
			if err != nil {
				return fmt.Errorf("merge %s: %w", ds.dir, err)
			}
			if got, err := mg.Done(); err != nil {
				return sysexit.With(sysexit.ErrData, fmt.Errorf("merge %s: %w", ds.dir, err))
			} else if got != rows {
				return sysexit.Errorf(sysexit.ErrData, "merge %s: %d rows merged, the shards' manifests list %d", ds.dir, got, rows)
			}
			merged[d] = objs
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	for _, objs := range merged {
		outputs = append(outputs, objs...)
	}
	outputs = append(outputs, reports...)
	sort.Slice(outputs, func(i, j int) bool { return outputs[i].Key < outputs[j].Key })
	m.Outputs = outputs
	t.end("objects", len(outputs))

	m.Timing = manifest.Timing{StartedAt: started.Format(time.RFC3339Nano), FinishedAt: time.Now().UTC().Format(time.RFC3339Nano), Seconds: t.seconds}
	mb, err := m.Marshal()
	if err != nil {
		return nil, sysexit.With(sysexit.ErrInternal, err)
	}
	if err := oc.verify(ctx); err != nil {
		return nil, err
	}
	if err := storage.Put(ctx, out, "manifest.json", bytes.NewReader(mb)); err != nil {
		return nil, err
	}
	log.Info("committing", "run_id", m.RunID, "objects", len(m.Outputs))
	// The shards' prefixes are kept until the commit: a merge that fails
	// before it can be rerun.
	if err := cleanup(ctx, out, m, slices.DeleteFunc(slices.Clone(ownedDirs), func(d string) bool { return d == ShardsDir })); err != nil {
		return nil, err
	}
	if err := oc.verify(ctx); err != nil {
		return nil, err
	}
	if err := commit(ctx, out, "", m.RunID); err != nil {
		return nil, err
	}
	if err := cleanup(ctx, out, m, []string{ShardsDir}); err != nil {
		// The run is committed; what is left under _shards/ is not listed
		// and the next run of this output removes it.
		log.Warn("could not remove the shards' staging objects", "error", err)
	}
	log.Info("merge complete", "run_id", m.RunID, "shards", n, "input_rows", m.Counts.InputRows, "assigned", m.Counts.Assigned,
		"remain_closed", m.Counts.RemainClosed, "overflow", m.Counts.Overflow, "rejected", m.Counts.Rejected)
	return &Result{Manifest: m, Output: out.String(), ManifestKey: "manifest.json"}, nil
}

// closuresSHA is the closures hash a run records ("" when none was given).
func closuresSHA(uri string, b []byte) string {
	if uri == "" {
		return ""
	}
	return sha(b)
}

// sameJob reports how shard b's job differs from shard a's, or nil.
func sameJob(a, b *manifest.Manifest) error {
	switch {
	case a.RunID != b.RunID:
		return fmt.Errorf("run %s, shard 0 ran %s", b.RunID, a.RunID)
	case !sameJobSettings(a.Job, b.Job):
		return fmt.Errorf("settings %+v, shard 0 had %+v", *b.Job, *a.Job)
	case !slices.Equal(a.QuarantinedObjects, b.QuarantinedObjects):
		return fmt.Errorf("quarantined objects %v, shard 0 quarantined %v", b.QuarantinedObjects, a.QuarantinedObjects)
	case len(a.Inputs) != len(b.Inputs):
		return fmt.Errorf("%d input objects, shard 0 read %d", len(b.Inputs), len(a.Inputs))
	}
	return nil
}

// sameJobSettings compares settings by value (BaselinePending is a
// pointer).
func sameJobSettings(a, b *manifest.Job) bool {
	x, y := *a, *b
	if (x.BaselinePending == nil) != (y.BaselinePending == nil) || (x.BaselinePending != nil && *x.BaselinePending != *y.BaselinePending) {
		return false
	}
	x.BaselinePending, y.BaselinePending = nil, nil
	return x == y
}

// mergedManifest adds up the shards' manifests (same run id, checked).
func mergedManifest(shards []*manifest.Manifest) *manifest.Manifest {
	f := shards[0]
	m := &manifest.Manifest{
		SchemaVersion: manifest.SchemaVersion, RunID: f.RunID, ToolVersion: f.ToolVersion, AsOf: f.AsOf,
		Policy: f.Policy, Capacity: f.Capacity, Closures: f.Closures, Reference: f.Reference,
		Inputs: slices.Clone(f.Inputs), Shard: manifest.Shard{Index: 0, Count: len(shards)}, Job: f.Job,
		RejectsByCode: map[string]int64{}, RemainClosedByRule: map[string]int64{}, OverflowByReason: map[string]int64{},
		DataQuality: map[string]int64{}, Decoders: maps.Clone(f.Decoders), QuarantinedObjects: f.QuarantinedObjects, Quarantine: f.Quarantine,
	}
	for i := range m.Inputs {
		m.Inputs[i].Rows = 0
	}
	add := func(dst, src map[string]int64) {
		for k, v := range src {
			dst[k] += v
		}
	}
	for _, s := range shards {
		for i, in := range s.Inputs {
			m.Inputs[i].Rows += in.Rows
		}
		c := s.Counts
		m.Counts.InputRows += c.InputRows
		m.Counts.Assigned += c.Assigned
		m.Counts.RemainClosed += c.RemainClosed
		m.Counts.Overflow += c.Overflow
		m.Counts.Rejected += c.Rejected
		add(m.RejectsByCode, s.RejectsByCode)
		add(m.RemainClosedByRule, s.RemainClosedByRule)
		add(m.OverflowByReason, s.OverflowByReason)
		add(m.DataQuality, s.DataQuality)
		if ch := s.Changes; ch != nil {
			if m.Changes == nil {
				m.Changes = &manifest.Changes{Previous: ch.Previous, PreviousRunID: ch.PreviousRunID, PreviousAssigned: ch.PreviousAssigned, Guard: ch.Guard,
					PolicyChanged: ch.PolicyChanged, MovedByReason: map[string]int64{}, ReleasedByReason: map[string]int64{}}
			}
			m.Changes.New += ch.New
			m.Changes.Unchanged += ch.Unchanged
			m.Changes.Moved += ch.Moved
			m.Changes.Released += ch.Released
			add(m.Changes.MovedByReason, ch.MovedByReason)
			add(m.Changes.ReleasedByReason, ch.ReleasedByReason)
		}
	}
	return m
}

// readState reads a shard's impact state and checks it against the
// shard's manifest entry.
func readState(ctx context.Context, out storage.Store, key string, m *manifest.Manifest) (*impact.State, error) {
	var want *sink.Object
	for i := range m.Outputs {
		if m.Outputs[i].Key == key {
			want = &m.Outputs[i]
		}
	}
	if want == nil {
		return nil, fmt.Errorf("its manifest does not list %s", key)
	}
	b, err := storage.ReadAll(ctx, out, key)
	if err != nil {
		return nil, err
	}
	if sha(b) != want.SHA256 {
		return nil, fmt.Errorf("%s does not match its manifest's sha256", key)
	}
	var s impact.State
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("%s: %w", key, err)
	}
	return &s, nil
}
