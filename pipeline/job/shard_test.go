package job

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/sync/errgroup"

	"github.com/recal-project/recal/pipeline/gen"
	"github.com/recal-project/recal/pipeline/progress"
	"github.com/recal-project/recal/pipeline/refdata"
	"github.com/recal-project/recal/pipeline/shard"
	"github.com/recal-project/recal/pipeline/storage/local"
)

var partShard = regexp.MustCompile(`/part-\d{5}-`)

// TestShardsMerge runs the three shards of a job in one process at once
// (for the race detector: -short runs it) on local files, merges them, and
// requires the single-process run's data files and reports.
func TestShardsMerge(t *testing.T) {
	in := t.TempDir()
	genData(t, in, 3000)
	night1 := t.TempDir()
	if _, err := Run(context.Background(), baseConfig(in, night1)); err != nil {
		t.Fatal(err)
	}
	merged1 := t.TempDir() // outlives the subtest
	t.Run("night 1", func(t *testing.T) { shardsMerge(t, baseConfig(in, ""), night1, merged1) })
	// Night 2 with --previous: an export that lost its first object, and
	// a closure on the busiest day of the busiest court, so that changes/
	// has NEW, UNCHANGED, MOVED and RELEASED rows across shards.
	ents, _ := os.ReadDir(filepath.Join(in, "export"))
	files := map[string]string{}
	for _, e := range ents[1:] {
		files[e.Name()] = filepath.Join(in, "export", e.Name())
	}
	fresh := t.TempDir()
	ref, _ := refdata.Load(refdata.Paths{})
	if _, err := gen.Generate(context.Background(), local.New(fresh), ref, gen.Options{Rows: 300, Seed: 12, Objects: 1, FirstRow: 3000, TempDir: t.TempDir()}); err != nil {
		t.Fatal(err)
	}
	files["part-new.parquet"] = filepath.Join(fresh, "export", "part-00000.parquet")
	busy := map[hearing]int{}
	var top hearing
	for _, h := range readHearings(t, night1) {
		k := hearing{court: h.court, date: h.date}
		busy[k]++
		if busy[k] > busy[top] || busy[k] == busy[top] && k.court+k.date < top.court+top.date {
			top = k
		}
	}
	clos, _ := os.ReadFile(filepath.Join(in, "closures.csv"))
	closures := filepath.Join(t.TempDir(), "closures.csv")
	os.WriteFile(closures, append(clos, []byte(top.court+","+top.date+",flood\n")...), 0o644)
	cfg := baseConfig(in, "")
	cfg.Input, cfg.Closures, cfg.AsOf, cfg.Previous = linkExport(t, files), closures, "2026-01-16", night1
	// One object of five left the export: 20% of the hearings, past the
	// release guard's default, and meant here.
	limit := 0.25
	cfg.ReleaseLimit = &limit
	single := t.TempDir()
	cfg.Output = single
	res, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if c := res.Manifest.Changes; c.New == 0 || c.Unchanged == 0 || c.Moved == 0 || c.Released == 0 {
		t.Fatalf("night 2 changes %+v: want some of each", *c)
	}
	t.Run("night 2", func(t *testing.T) { shardsMerge(t, cfg, single, t.TempDir()) })
	// The merged night 1 is the same run as the single one (one run id,
	// the same assignments): night 2 on top of it gives the same bytes.
	t.Run("night 2 after a merged night 1", func(t *testing.T) {
		c := cfg
		c.Previous, c.Output = merged1, t.TempDir()
		if _, err := Run(context.Background(), c); err != nil {
			t.Fatal(err)
		}
		if got, want := outputDigest(t, c.Output), outputDigest(t, single); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatal("night 2 differs when its previous run is the merged night 1")
		}
	})
}

// shardsMerge runs cfg as three concurrent shards into out and merges
// them: the data files and reports equal the single run's under single.
func shardsMerge(t *testing.T, cfg Config, single, out string) {
	const n = 3
	var g errgroup.Group
	for i := range n {
		g.Go(func() error {
			cfg := cfg
			cfg.Output = out
			cfg.ShardIndex, cfg.ShardCount = i, n
			_, err := Run(context.Background(), cfg)
			return err
		})
	}
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
	if _, err := Merge(context.Background(), MergeConfig{Output: out, ShardCount: n, Workers: 2, Log: quiet()}); err != nil {
		t.Fatal(err)
	}
	files := func(dir string) map[string]string {
		m := map[string]string{}
		filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
			if err != nil || info.IsDir() {
				return err
			}
			rel, _ := filepath.Rel(dir, p)
			if rel == "manifest.json" || rel == "reports/impact.json" {
				return nil
			}
			b, err := os.ReadFile(p)
			m[partShard.ReplaceAllString(filepath.ToSlash(rel), "/part-S-")] = string(b)
			return err
		})
		return m
	}
	want, got := files(single), files(out)
	if len(want) < 10 || len(got) != len(want) {
		t.Fatalf("merged output has %d files, the single run %d", len(got), len(want))
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s differs from the single-process run's", k)
		}
	}
	if _, err := os.Stat(filepath.Join(out, strings.TrimSuffix(shard.Dir, "/"))); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("staging left after the merge: %v", err)
	}
}

// TestProgress checks the counts a run reports as it goes, at its end:
// every object and row read, every court scheduled, every output object
// written (reports included, with their bytes).
func TestProgress(t *testing.T) {
	in := t.TempDir()
	genData(t, in, 2000)
	cfg := baseConfig(in, t.TempDir())
	cfg.Progress = &progress.Progress{}
	if s := cfg.Progress.Snapshot(); s != (progress.Snapshot{}) {
		t.Fatalf("a new Progress is not zero: %+v", s)
	}
	res, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	s := cfg.Progress.Snapshot()
	m := res.Manifest
	var inBytes, dataObjs, dataBytes int64
	for _, o := range m.Inputs {
		inBytes += o.Size
	}
	for _, o := range m.Outputs {
		if !strings.HasPrefix(o.Key, "reports/") {
			dataObjs++
			dataBytes += o.Bytes
		}
	}
	courts := map[string]bool{}
	for _, o := range m.Outputs {
		if c, ok := strings.CutPrefix(o.Key, "assignments/base_city_code="); ok {
			courts[c[:strings.IndexByte(c, '/')]] = true
		}
	}
	if s.Stage != "write" || s.Objects != int64(len(m.Inputs)) || s.ObjectsRead != s.Objects || s.RowsRead != m.Counts.InputRows ||
		s.BytesRead != inBytes || s.ObjectsWritten != dataObjs || s.BytesWritten != dataBytes ||
		s.CourtsScheduled != s.Courts || s.Courts < int64(len(courts)) {
		t.Fatalf("progress %+v; manifest: %d inputs of %d bytes, %d rows, %d data objects of %d bytes, %d courts with assignments",
			s, len(m.Inputs), inBytes, m.Counts.InputRows, dataObjs, dataBytes, len(courts))
	}
}
