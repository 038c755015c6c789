package job

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"

	"github.com/recal-project/recal/pipeline/datasets"
	"github.com/recal-project/recal/pipeline/location"
	"github.com/recal-project/recal/pipeline/manifest"
	"github.com/recal-project/recal/pipeline/parts"
	"github.com/recal-project/recal/pipeline/sink"
	"github.com/recal-project/recal/pipeline/storage"
	"github.com/recal-project/recal/transforms/impact"
	"github.com/recal-project/recal/transforms/reference"
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
		{"remain_closed", datasets.RemainClosed, byProceeding(1)},
		{"overflow", datasets.Overflow, func(r arrow.Record, i int) [2]int64 {
			return [2]int64{int64(ref.CourtIndex(r.Column(2).(*array.String).Value(i))), 0}
		}},
		{"rejects", datasets.Rejects, func(r arrow.Record, i int) [2]int64 {
			k, ok := objIndex[r.Column(0).(*array.String).Value(i)]
			if !ok {
				k = int64(len(objIndex))
			}
			return [2]int64{k, r.Column(1).(*array.Int64).Value(i)}
		}},
		{"changes", datasets.Changes, byProceeding(0)},
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
	r := &mergeState{mc: mc}
	defer func() { res, err = endClaim(ctx, r.oc, r.out, res, err) }() // releases the claim, says what a failure was
	for _, stage := range []func(context.Context) error{
		r.readShards,    // every shard committed the same job; the output holds it already?
		r.reload,        // the policy, calendar and reference data, checked against the shards' hashes
		r.claim,         // one writer per output
		r.report,        // the shards' impact states, added up
		r.mergeDatasets, // the shards' sorted datasets, joined
		r.commit,        // manifest.json, cleanup, _SUCCESS, then the shards' prefixes go
	} {
		if err := stage(ctx); err != nil {
			return nil, err
		}
		if r.done != nil {
			return r.done, nil
		}
	}
	return &Result{Manifest: r.m, Output: r.out.String(), ManifestKey: "manifest.json"}, nil
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
		Policy: f.Policy, Capacity: f.Capacity, CapacitySource: f.CapacitySource, Closures: f.Closures, Reference: f.Reference,
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
