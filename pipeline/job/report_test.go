package job

import (
	"bytes"
	"context"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/recal-project/recal/pipeline/job/runcheck"
	"github.com/recal-project/recal/pipeline/report"
	"github.com/recal-project/recal/pipeline/report/htmlcheck"
	"github.com/recal-project/recal/pipeline/sysexit"
	"github.com/recal-project/recal/transforms/policy"
)

var update = flag.Bool("update", false, "rewrite golden files")

const sample = "../../testdata/sample"

// sampleConfig is `make run`'s job with another policy.
func sampleConfig(policyID, out string) Config {
	baseline := int64(3_600_000)
	return Config{
		Input: sample + "/export", Capacity: sample + "/capacity.csv", Closures: sample + "/closures.csv",
		Policy: policyID, AsOf: asOf, Output: out, Workers: 2, Log: quiet(), BaselinePending: &baseline,
	}
}

// TestReports runs the sample under every shipped policy, checks that every
// output row carries a rule id of that policy in the right place (with its
// rationale) and that the manifest's per-rule counts match the rows, and
// checks the reports: impact.json equals its golden file (and, by runcheck, the
// figures recomputed from the Parquet outputs); `recal report` re-renders
// the same bytes from the run's outputs alone; no A-number of the input
// appears in any report; and the HTML of one run and of the comparison
// renders in headless Chromium with every chart drawn.
func TestReports(t *testing.T) {
	fullPassOnly(t)
	ctx := context.Background()
	runs := map[string]string{}
	for _, id := range policy.Shipped() {
		out := t.TempDir()
		res, err := Run(ctx, sampleConfig(id, out))
		if err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		runcheck.Check(t, out, sample+"/capacity.csv", sample+"/closures.csv")
		if res.Manifest.Counts.InputRows != 20000 {
			t.Fatalf("%s: %d rows", id, res.Manifest.Counts.InputRows)
		}
		p, _ := policy.LoadShipped(id)
		checkRuleColumns(t, out, p, res.Manifest)
		runs[id] = out
	}

	t.Run("golden", func(t *testing.T) {
		for id, out := range runs {
			got, err := os.ReadFile(filepath.Join(out, "reports", "impact.json"))
			if err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", "impact", id+".json")
			if *update {
				os.MkdirAll(filepath.Dir(golden), 0o755)
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
				continue
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./pipeline/job -run TestReports -update)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s: impact.json differs from %s (if intended, rerun with -update and review the diff)", id, golden)
			}
		}
	})

	t.Run("rerender", func(t *testing.T) {
		// From the run's outputs alone, the same settings give the same
		// four files, byte for byte.
		out := runs["castro-tum-2018"]
		dir := t.TempDir()
		objs, _, err := report.Command(ctx, report.Config{Run: out, Output: dir, Options: report.Options{SuppressBelow: report.DefaultSuppressBelow}})
		if err != nil {
			t.Fatal(err)
		}
		if len(objs) != 4 {
			t.Fatalf("%d files", len(objs))
		}
		for _, o := range objs {
			a, _ := os.ReadFile(filepath.Join(dir, o.Key))
			b, _ := os.ReadFile(filepath.Join(out, "reports", o.Key))
			if !bytes.Equal(a, b) {
				t.Errorf("re-rendered %s differs from the run's", o.Key)
			}
		}
		// A changed impact.json is refused.
		tampered := t.TempDir()
		copyTree(t, out, tampered)
		p := filepath.Join(tampered, "reports", "impact.json")
		b, _ := os.ReadFile(p)
		os.WriteFile(p, bytes.Replace(b, []byte(`"assigned": `), []byte(`"assigned": 1`), 1), 0o644)
		if _, _, err := report.Command(ctx, report.Config{Run: tampered, Output: t.TempDir()}); err == nil || !strings.Contains(err.Error(), "does not match the sha256") {
			t.Fatalf("tampered report: %v", err)
		}
		// An uncommitted run is refused.
		os.Remove(filepath.Join(tampered, "_SUCCESS"))
		if _, _, err := report.Command(ctx, report.Config{Run: tampered, Output: t.TempDir()}); sysexit.Code(err) != 66 {
			t.Fatalf("uncommitted run: %v (exit %d)", err, sysexit.Code(err))
		}
	})

	compareDir := t.TempDir()
	t.Run("compare", func(t *testing.T) {
		objs, _, err := report.Command(ctx, report.Config{Run: runs["castro-tum-2018"],
			Compare: []string{runs["cruz-valdez-2021-pd"], runs["full-reversal"]}, Output: compareDir,
			Options: report.Options{SuppressBelow: report.DefaultSuppressBelow}})
		if err != nil {
			t.Fatal(err)
		}
		if len(objs) != 3 {
			t.Fatalf("%d comparison files", len(objs))
		}
		b, _ := os.ReadFile(filepath.Join(compareDir, "comparison.json"))
		for _, want := range []string{`"same_inputs": true`, `"id": "cruz-valdez-2021-pd"`, `"delta_vs_reference"`} {
			if !bytes.Contains(b, []byte(want)) {
				t.Errorf("comparison.json lacks %s", want)
			}
		}
		md, _ := os.ReadFile(filepath.Join(compareDir, "comparison.md"))
		if !bytes.Contains(md, []byte("Δ cruz-valdez-2021-pd")) {
			t.Error("comparison.md has no delta column")
		}
	})

	t.Run("no A-numbers", func(t *testing.T) {
		// Every alien_nbr of the input, read by DuckDB, searched for in
		// every report file (with and without its leading letter).
		ids := alienNumbers(t)
		for id := range ids {
			if findAny([]byte(`{"x": "`+id+`"}`), ids) == "" {
				t.Fatal("the A-number search misses a planted value")
			}
			break
		}
		dirs := []string{compareDir}
		for _, out := range runs {
			dirs = append(dirs, filepath.Join(out, "reports"))
		}
		files := 0
		for _, d := range dirs {
			ents, err := os.ReadDir(d)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range ents {
				b, err := os.ReadFile(filepath.Join(d, e.Name()))
				if err != nil {
					t.Fatal(err)
				}
				files++
				if hit := findAny(b, ids); hit != "" {
					t.Fatalf("%s holds an input A-number", filepath.Join(d, e.Name()))
				}
			}
		}
		if files < 4*len(runs)+3 {
			t.Fatalf("only %d report files searched", files)
		}
	})

	t.Run("browser", func(t *testing.T) {
		// castro-tum-2018 keeps no case closed: no remain-closed chart.
		for id, charts := range map[string]int{"castro-tum-2018": 3, "cruz-valdez-2021-pd": 4} {
			res := htmlcheck.Check(t, filepath.Join(runs[id], "reports", "impact.html"), id, asOf)
			if len(res.Charts) != charts || res.Tables < 8 {
				t.Errorf("%s impact.html: %d charts (want %d), %d tables", id, len(res.Charts), charts, res.Tables)
			}
			t.Logf("screenshot %s", res.Screenshot)
		}
		res := htmlcheck.Check(t, filepath.Join(compareDir, "comparison.html"), "castro-tum-2018", "cruz-valdez-2021-pd", "full-reversal", asOf)
		if len(res.Charts) != 5 {
			t.Errorf("comparison.html: %d charts", len(res.Charts))
		}
		t.Logf("screenshot %s", res.Screenshot)
	})
}

// alienNumbers reads every alien_nbr of the sample export with DuckDB.
func alienNumbers(t *testing.T) map[string]bool {
	t.Helper()
	duck := os.Getenv("RECAL_DUCKDB")
	if duck == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("RECAL_DUCKDB is not set (make test builds the DuckDB tool)")
		}
		t.Skip("RECAL_DUCKDB is not set; make test builds the DuckDB tool")
	}
	files, _ := filepath.Glob(sample + "/export/*.parquet")
	ids := map[string]bool{}
	for _, f := range files {
		out, err := exec.Command(duck, "-sql", "SELECT alien_nbr FROM read_parquet('"+f+"') WHERE alien_nbr IS NOT NULL").Output()
		if err != nil {
			t.Fatalf("duckdb on %s: %v", f, err)
		}
		for _, v := range strings.Fields(string(out)) {
			ids[v] = true
			if len(v) > 1 && (v[0] == 'A' || v[0] == 'a') {
				ids[v[1:]] = true
			}
		}
	}
	if len(ids) < 19000 {
		t.Fatalf("only %d A-numbers read from the sample", len(ids))
	}
	return ids
}

// findAny returns a value of ids that occurs in b, or "".
func findAny(b []byte, ids map[string]bool) string {
	lengths := map[int]bool{}
	for id := range ids {
		lengths[len(id)] = true
	}
	for n := range lengths {
		for i := 0; i+n <= len(b); i++ {
			if ids[string(b[i:i+n])] {
				return string(b[i : i+n])
			}
		}
	}
	return ""
}

func copyTree(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.Walk(from, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		if info.IsDir() {
			return os.MkdirAll(filepath.Join(to, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(to, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}
