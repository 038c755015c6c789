package job

import (
	"cmp"
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/recal-project/recal/pipeline/eoirimport"
	"github.com/recal-project/recal/pipeline/eoirimport/eoirtest"
	"github.com/recal-project/recal/pipeline/job/runcheck"
	"github.com/recal-project/recal/pipeline/sysexit"
	"github.com/recal-project/recal/transforms/impact"
)

// TestRunOnObservedCapacity is the public-data way end to end: a release
// of the national shape is imported with its capacity calendar, recal run
// schedules its export on that calendar, and the run passes the
// independent invariant checker; the report says where the calendar came
// from, and ranks the courts' capacity as their observed volumes.
func TestRunOnObservedCapacity(t *testing.T) {
	if testing.Short() {
		t.Skip("a national-shape release end to end")
	}
	courts, err := eoirtest.ReferenceCourts()
	if err != nil {
		t.Fatal(err)
	}
	rel, imported := t.TempDir(), t.TempDir()
	if _, err := eoirtest.National(rel, eoirtest.NationalSizes{Proceedings: 300_000}, courts, 5); err != nil {
		t.Fatal(err)
	}
	rep, err := eoirimport.Import(context.Background(), eoirimport.Config{Release: rel, Output: imported, TempDir: t.TempDir(), Log: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Capacity == nil || rep.Capacity.ReleaseDate != "2026-03-31" {
		t.Fatalf("capacity %+v (skipped: %s), want one observed up to the generator's release date", rep.Capacity, rep.CapacitySkipped)
	}
	capacity := filepath.Join(imported, "capacity.csv")
	out := t.TempDir()
	cfg := Config{Input: filepath.Join(imported, "export"), Capacity: capacity, Policy: "castro-tum-2018", AsOf: "2026-04-01",
		Output: out, Workers: 2, Log: quiet()}
	if _, err := Run(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	m := runcheck.Check(t, out, capacity, "")
	if m.CapacitySource == nil || m.CapacitySource.Method != "share" || m.CapacitySource.CapacitySHA256 != m.Capacity.SHA256 {
		t.Fatalf("manifest capacity_source %+v, want the import's capacity.json", m.CapacitySource)
	}
	html, err := os.ReadFile(filepath.Join(out, "reports", "impact.html"))
	if err != nil || !strings.Contains(string(html), "observed from the EOIR release of 2026-03-31") {
		t.Fatalf("impact.html does not say where the calendar came from (%v)", err)
	}
	// The courts' slots offered in the report rank as their observed
	// master settings.
	b, err := os.ReadFile(filepath.Join(out, "reports", "impact.json"))
	if err != nil {
		t.Fatal(err)
	}
	var imp impact.Impact
	if err := json.Unmarshal(b, &imp); err != nil {
		t.Fatal(err)
	}
	volume := map[string]float64{}
	for _, c := range imp.Run.CapacitySource.Courts {
		volume[c.Code] = float64(c.MasterSettings)
	}
	var xs, ys []float64
	var names []string
	for _, g := range imp.ByCourt {
		if g.SlotsOffered != nil && volume[g.Court] > 0 {
			xs, ys = append(xs, float64(*g.SlotsOffered)), append(ys, volume[g.Court])
			names = append(names, g.Court)
		}
	}
	if len(xs) < 10 {
		t.Fatalf("%d courts with slots and an observed volume", len(xs))
	}
	// The ten largest courts are the same by both measures; below them,
	// courts of one or two judges differ by noise (a one-off session, a
	// mega master), so the whole ranking is held to Spearman ≥ 0.8.
	if a, b := topTen(names, xs), topTen(names, ys); !slices.Equal(a, b) {
		t.Errorf("the ten courts with the most slots offered %v, with the most master settings observed %v", a, b)
	}
	if rho := spearman(xs, ys); rho < 0.8 {
		t.Errorf("slots offered and observed volumes rank the %d courts with Spearman %.2f, want ≥ 0.8", len(xs), rho)
	}
}

// topTen returns the names of the ten largest values, sorted by name.
func topTen(names []string, v []float64) []string {
	idx := make([]int, len(v))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(a, b int) int { return cmp.Compare(v[b], v[a]) })
	var out []string
	for _, i := range idx[:min(10, len(idx))] {
		out = append(out, names[i])
	}
	slices.Sort(out)
	return out
}

// spearman is the rank correlation of xs and ys (ties get their mean
// rank).
func spearman(xs, ys []float64) float64 {
	rank := func(v []float64) []float64 {
		idx := make([]int, len(v))
		for i := range idx {
			idx[i] = i
		}
		slices.SortFunc(idx, func(a, b int) int { return cmp.Compare(v[a], v[b]) })
		r := make([]float64, len(v))
		for i := 0; i < len(idx); {
			j := i
			for j < len(idx) && v[idx[j]] == v[idx[i]] {
				j++
			}
			for k := i; k < j; k++ {
				r[idx[k]] = float64(i+j-1) / 2
			}
			i = j
		}
		return r
	}
	rx, ry := rank(xs), rank(ys)
	var mx, my float64
	for i := range rx {
		mx += rx[i]
		my += ry[i]
	}
	mx, my = mx/float64(len(rx)), my/float64(len(ry))
	var sxy, sxx, syy float64
	for i := range rx {
		sxy += (rx[i] - mx) * (ry[i] - my)
		sxx += (rx[i] - mx) * (rx[i] - mx)
		syy += (ry[i] - my) * (ry[i] - my)
	}
	return sxy / math.Sqrt(sxx*syy)
}

// TestCapacitySourceBeside: a capacity.json beside the calendar that
// describes another calendar is not taken for this one's source (the run
// says nothing of a release); one that is not JSON fails the run (65)
// rather than being skipped.
func TestCapacitySourceBeside(t *testing.T) {
	in := t.TempDir()
	genData(t, in, 2000)
	for _, tc := range []struct {
		name, json string
		code       int
	}{
		{"another calendar's", `{"method": "share", "release_date": "2026-03-31", "capacity_sha256": "0000"}`, sysexit.OK},
		{"not JSON", `{"method": `, sysexit.DataErr},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := os.WriteFile(filepath.Join(in, "capacity.json"), []byte(tc.json), 0o644); err != nil {
				t.Fatal(err)
			}
			out := t.TempDir()
			res, err := Run(context.Background(), baseConfig(in, out))
			if code := sysexit.Code(err); code != tc.code {
				t.Fatalf("exit %d (%v), want %d", code, err, tc.code)
			}
			if err == nil && res.Manifest.CapacitySource != nil {
				t.Fatalf("capacity_source %+v taken from a capacity.json of another calendar", res.Manifest.CapacitySource)
			}
		})
	}
}
