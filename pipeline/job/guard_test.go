package job

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/apache/arrow/go/v15/parquet/file"
	"github.com/apache/arrow/go/v15/parquet/pqarrow"

	"github.com/recal-project/recal/pipeline/nightly"
	"github.com/recal-project/recal/pipeline/report"
	"github.com/recal-project/recal/pipeline/sysexit"
)

// emptyLike writes a Parquet object with src's schema and no row: what an
// export job that wrote its headers and nothing else leaves.
func emptyLike(t *testing.T, src, dst string) {
	t.Helper()
	pf, err := file.OpenParquetFile(src, false)
	if err != nil {
		t.Fatal(err)
	}
	defer pf.Close()
	sc, err := pqarrow.FromParquet(pf.MetaData().Schema, nil, pf.MetaData().KeyValueMetadata())
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(dst)
	if err != nil {
		t.Fatal(err)
	}
	w, err := pqarrow.NewFileWriter(sc, f, nil, pqarrow.NewArrowWriterProperties(pqarrow.WithAllocator(memory.DefaultAllocator)))
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestReleaseGuard: after night 1, a night whose export holds zero rows
// (20 objects of headers only) and a night that lost half its objects are
// refused by default, naming both counts and committing nothing; the same
// nights pass with the thresholds moved; an ordinary night (5% of the
// cases resolved, 5% new) passes untouched and says how close it came.
func TestReleaseGuard(t *testing.T) {
	if testing.Short() {
		t.Skip("full pass only")
	}
	ctx := context.Background()
	base, fresh := nightlyData(t, 4000)
	part := func(i int) string { return filepath.Join(base, "export", fmt.Sprintf("part-%05d.parquet", i)) }
	objects := func(from, to int) map[string]string {
		m := map[string]string{}
		for i := from; i < to; i++ {
			m[filepath.Base(part(i))] = part(i)
		}
		return m
	}
	out1 := t.TempDir()
	cfg := baseConfig(base, out1)
	cfg.Input = linkExport(t, objects(0, 20))
	night1, err := Run(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}

	ordinary := objects(1, 20)
	ordinary["part-00020.parquet"] = filepath.Join(fresh, "export", "part-00000.parquet")
	empty := linkExport(t, nil)
	for i := range 20 {
		emptyLike(t, part(i), filepath.Join(empty, filepath.Base(part(i))))
	}
	one, none := 1.0, 0.0
	tests := []struct {
		name  string
		input string
		// raised: the run with --release-limit 1 --input-floor 0.
		raised  bool
		refused []string // what the refusal must say; nil: the night passes
	}{
		{name: "ordinary night", input: linkExport(t, ordinary)},
		{name: "zero-row export", input: empty, refused: []string{
			fmt.Sprintf("release %s of the previous run's %s hearings (100.0%%)", report.Commas(night1.Manifest.Counts.Assigned), report.Commas(night1.Manifest.Counts.Assigned)),
			"read 0 input rows, 0.0% of the previous run's 4,000"}},
		{name: "zero-row export, thresholds moved", input: empty, raised: true},
		{name: "half the objects", input: linkExport(t, objects(0, 10)), refused: []string{"of the previous run's", "more than --release-limit 0.1", "50.0% of the previous run's 4,000, below --input-floor 0.8"}},
		{name: "half the objects, thresholds moved", input: linkExport(t, objects(0, 10)), raised: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out := t.TempDir()
			cfg := baseConfig(base, out)
			cfg.Input, cfg.AsOf, cfg.Previous = tc.input, "2026-01-16", out1
			if tc.raised {
				cfg.ReleaseLimit, cfg.InputFloor = &one, &none
			}
			res, err := Run(ctx, cfg)
			if tc.refused != nil {
				if !errors.Is(err, nightly.ErrReleaseGuard) || sysexit.Code(err) != sysexit.DataErr {
					t.Fatalf("got %v (exit %d), want the release guard's refusal (65)", err, sysexit.Code(err))
				}
				for _, s := range tc.refused {
					if !strings.Contains(err.Error(), s) {
						t.Errorf("the refusal does not say %q: %v", s, err)
					}
				}
				if ents, _ := os.ReadDir(out); len(ents) != 0 {
					t.Errorf("a refused night left %d entries in its output", len(ents))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			ch := res.Manifest.Changes
			g := ch.Guard
			if g == nil || g.PreviousAssigned != night1.Manifest.Counts.Assigned || g.PreviousInputRows != 4000 {
				t.Fatalf("guard %+v", g)
			}
			if g.LeftExport != ch.ReleasedByReason["LEFT_EXPORT"] {
				t.Errorf("guard counts %d left the export, changes/ released %d LEFT_EXPORT", g.LeftExport, ch.ReleasedByReason["LEFT_EXPORT"])
			}
			if tc.name == "ordinary night" && (g.ReleaseShare < 0.03 || g.ReleaseShare > 0.07 || g.InputRows != 4000) {
				t.Errorf("ordinary night: guard %+v", g)
			}
			if tc.input == empty && (g.LeftExport != g.PreviousAssigned || ch.Unchanged != 0) {
				t.Errorf("zero-row night with thresholds moved: %+v, %d unchanged", g, ch.Unchanged)
			}
			checkRun(t, base, out, res.Manifest)
			md, err := os.ReadFile(filepath.Join(out, "reports", "impact.md"))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(md), "Release guard") || !strings.Contains(string(md), "left the export (limit") {
				t.Error("impact.md does not say how close the night came to the release guard")
			}
		})
	}
}
