package job

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/apache/arrow/go/v15/parquet/file"
	"github.com/apache/arrow/go/v15/parquet/pqarrow"

	"github.com/recal-project/recal/pipeline/gen"
	"github.com/recal-project/recal/pipeline/job/runcheck"
	"github.com/recal-project/recal/pipeline/refdata"
	"github.com/recal-project/recal/pipeline/report"
	"github.com/recal-project/recal/pipeline/report/htmlcheck"
	"github.com/recal-project/recal/pipeline/storage/local"
	"github.com/recal-project/recal/pipeline/sysexit"
	"github.com/recal-project/recal/transforms/schedule/invariants"
)

// nightlyData generates a base export of 20 objects (5% of the cases
// each) and, beside it, an object of new cases with ids of their own.
func nightlyData(t *testing.T, rows int64) (base, fresh string) {
	t.Helper()
	ref, err := refdata.Load(refdata.Paths{})
	if err != nil {
		t.Fatal(err)
	}
	base, fresh = t.TempDir(), t.TempDir()
	if _, err := gen.Generate(context.Background(), local.New(base), ref, gen.Options{Rows: rows, Seed: 11, Objects: 20, TempDir: t.TempDir()}); err != nil {
		t.Fatal(err)
	}
	if _, err := gen.Generate(context.Background(), local.New(fresh), ref, gen.Options{Rows: rows / 20, Seed: 12, Objects: 1, FirstRow: rows, TempDir: t.TempDir()}); err != nil {
		t.Fatal(err)
	}
	return base, fresh
}

// linkExport builds an export folder from chosen object files.
func linkExport(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "export"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, src := range files {
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "export", name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return filepath.Join(dir, "export")
}

type hearing struct {
	court, date, time string
}

// readHearings returns a run's assignments by idnproceeding.
func readHearings(t *testing.T, out string) map[int64]hearing {
	t.Helper()
	got := map[int64]hearing{}
	files, _ := filepath.Glob(filepath.Join(out, "assignments", "*", "*.parquet"))
	for _, f := range files {
		cols, n := runcheck.ReadTable(t, f)
		for i := 0; i < n; i++ {
			got[cols["idnproceeding"][i].(int64)] = hearing{cols["base_city_code"][i].(string), dayString(cols["hearing_date"][i]), cols["hearing_time"][i].(string)}
		}
	}
	return got
}

type changeRow struct {
	kind, reason string
	prev, now    hearing
}

func readChanges(t *testing.T, out string) map[int64]changeRow {
	t.Helper()
	got := map[int64]changeRow{}
	files, _ := filepath.Glob(filepath.Join(out, "changes", "*.parquet"))
	if len(files) == 0 {
		t.Fatal("no changes/ objects")
	}
	str := func(v any) string {
		if v == nil {
			return ""
		}
		return v.(string)
	}
	for _, f := range files {
		cols, n := runcheck.ReadTable(t, f)
		for i := 0; i < n; i++ {
			id := cols["idnproceeding"][i].(int64)
			if _, dup := got[id]; dup {
				t.Fatalf("changes/ lists %d twice", id)
			}
			got[id] = changeRow{kind: cols["change"][i].(string), reason: str(cols["reason"][i]),
				prev: hearing{"", dayString(cols["previous_hearing_date"][i]), str(cols["previous_hearing_time"][i])},
				now:  hearing{str(cols["base_city_code"][i]), dayString(cols["hearing_date"][i]), str(cols["hearing_time"][i])}}
		}
	}
	return got
}

func dayString(v any) string {
	if v == nil {
		return ""
	}
	return time.Unix(int64(v.(int32))*86400, 0).UTC().Format(time.DateOnly)
}

// validIDs returns the idnproceedings of a run's outcomes other than
// rejects: the export's valid rows.
func validIDs(t *testing.T, out string) map[int64]bool {
	t.Helper()
	ids := map[int64]bool{}
	for _, d := range []string{"assignments/*", "remain_closed", "overflow"} {
		files, _ := filepath.Glob(filepath.Join(out, d, "*.parquet"))
		for _, f := range files {
			cols, n := runcheck.ReadTable(t, f)
			for i := 0; i < n; i++ {
				ids[cols["idnproceeding"][i].(int64)] = true
			}
		}
	}
	return ids
}

// TestNightlyContinuity runs night 1, then night 2 on an export that lost
// 5% of its cases (one object) and gained new ones, with --previous:
// no standing hearing of a surviving case moves, no session is over
// capacity counting both nights' hearings, and the released and new
// cases are exactly the expected ones. Night 2 is the same bytes however
// often and with however many workers it runs.
func TestNightlyContinuity(t *testing.T) {
	base, fresh := nightlyData(t, 8000)
	night1 := map[string]string{}
	for i := range 20 {
		name := fmt.Sprintf("part-%05d.parquet", i)
		night1[name] = filepath.Join(base, "export", name)
	}
	in1 := linkExport(t, night1)
	night2 := map[string]string{}
	for k, v := range night1 {
		if k != "part-00000.parquet" {
			night2[k] = v
		}
	}
	night2["part-00020.parquet"] = filepath.Join(fresh, "export", "part-00000.parquet")
	in2 := linkExport(t, night2)

	out1 := t.TempDir()
	cfg := baseConfig(base, out1)
	cfg.Input = in1
	if _, err := Run(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	out2 := t.TempDir()
	cfg2 := baseConfig(base, out2)
	cfg2.Input, cfg2.AsOf, cfg2.Previous = in2, "2026-01-16", out1
	res, err := Run(context.Background(), cfg2)
	if err != nil {
		t.Fatal(err)
	}
	// Capacity, open days, own court, and priority among tonight's
	// scheduling, by the independent checker (standing hearings are the
	// UNCHANGED rows of changes/).
	runcheck.Check(t, out2, filepath.Join(base, "capacity.csv"), filepath.Join(base, "closures.csv"))

	h1, h2, ch := readHearings(t, out1), readHearings(t, out2), readChanges(t, out2)
	valid2 := validIDs(t, out2)
	var moved, released, added, unchanged int
	for id, a := range h1 {
		b, still := h2[id]
		switch {
		case still && a != b:
			t.Errorf("case %d: standing hearing %v moved to %v (%+v)", id, a, b, ch[id])
		case still:
			unchanged++
			if ch[id].kind != "UNCHANGED" {
				t.Errorf("case %d kept its hearing but changes/ says %+v", id, ch[id])
			}
		default:
			released++
			want := "LEFT_EXPORT"
			if valid2[id] {
				want = "NOT_SELECTED" // or released for another reason: checked below
			}
			if ch[id].kind != "RELEASED" || (want == "LEFT_EXPORT" && ch[id].reason != want) {
				t.Errorf("case %d lost its hearing: changes/ says %+v, want RELEASED %s", id, ch[id], want)
			}
			if valid2[id] {
				t.Errorf("case %d is still in the export and lost its hearing (%+v): only LEFT_EXPORT was expected tonight", id, ch[id])
			}
		}
	}
	for id, b := range h2 {
		if _, had := h1[id]; had {
			continue
		}
		added++
		if c := ch[id]; c.kind != "NEW" || c.now != b {
			t.Errorf("case %d is new tonight at %v, changes/ says %+v", id, b, c)
		}
	}
	for _, c := range ch {
		if c.kind == "MOVED" {
			moved++
		}
	}
	c := res.Manifest.Changes
	t.Logf("night 2: %d unchanged, %d new, %d moved, %d released (%v)", unchanged, added, moved, released, c.ReleasedByReason)
	if moved != 0 || released == 0 || added == 0 || unchanged == 0 {
		t.Fatalf("night 2: %d unchanged, %d new, %d moved, %d released: want no moves, and some of each other", unchanged, added, moved, released)
	}
	if c.Unchanged != int64(unchanged) || c.New != int64(added) || c.Released != int64(released) || c.PreviousAssigned != int64(len(h1)) {
		t.Fatalf("manifest changes %+v", *c)
	}
	// The report says what changed tonight, in a real browser and in
	// impact.md.
	wantLine := fmt.Sprintf("%s new hearings, 0 moved, %s released; %s stand unchanged", report.Commas(c.New), report.Commas(c.Released), report.Commas(c.Unchanged))
	md, err := os.ReadFile(filepath.Join(out2, "reports", "impact.md"))
	if err != nil || !strings.Contains(string(md), wantLine) {
		t.Errorf("impact.md does not say %q (%v)", wantLine, err)
	}
	if !testing.Short() { // the browser once, in the plain pass
		if page := htmlcheck.Check(t, filepath.Join(out2, "reports", "impact.html"), "castro-tum-2018"); !strings.Contains(page.Text, wantLine) || !strings.Contains(page.Text, "LEFT_EXPORT") {
			t.Errorf("impact.html, as Chromium renders it, does not say %q with its reasons", wantLine)
		}
	}
	// Every released hearing's case left the export: it was in the
	// dropped object.
	dropped := exportIDs(t, night1["part-00000.parquet"])
	for id, x := range ch {
		if x.kind == "RELEASED" && !dropped[id] {
			t.Errorf("case %d released (%s) but it was not in the dropped object", id, x.reason)
		}
	}

	// Same previous run and inputs: the same bytes, whatever the workers.
	want := outputDigest(t, out2)
	workers := []int{1, 3}
	if testing.Short() { // the race pass: one rerun
		workers = workers[1:]
	}
	for _, w := range workers {
		again := t.TempDir()
		cfg3 := cfg2
		cfg3.Output, cfg3.Workers = again, w
		if _, err := Run(context.Background(), cfg3); err != nil {
			t.Fatal(err)
		}
		if got := outputDigest(t, again); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("night 2 with %d workers differs from the first night-2 run", w)
		}
	}
}

// TestClosureMovesStandingHearings adds a closure on a day with standing
// hearings: exactly those cases move, each to the earliest day with room
// from its earliest feasible day, reported as MOVED with the closure as
// the reason; every other hearing stands.
func TestClosureMovesStandingHearings(t *testing.T) {
	in := t.TempDir()
	genData(t, in, 6000)
	out1 := t.TempDir()
	if _, err := Run(context.Background(), baseConfig(in, out1)); err != nil {
		t.Fatal(err)
	}
	h1 := readHearings(t, out1)
	overflowCourts := map[string]bool{}
	if files, _ := filepath.Glob(filepath.Join(out1, "overflow", "*.parquet")); len(files) > 0 {
		for _, f := range files {
			cols, n := runcheck.ReadTable(t, f)
			for i := 0; i < n; i++ {
				overflowCourts[cols["base_city_code"][i].(string)] = true
			}
		}
	}
	// The busiest (court, day) of a court that had room to spare.
	count := map[[2]string]int{}
	for _, h := range h1 {
		if !overflowCourts[h.court] {
			count[[2]string{h.court, h.date}]++
		}
	}
	var keys [][2]string
	for k := range count {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if count[keys[i]] != count[keys[j]] {
			return count[keys[i]] > count[keys[j]]
		}
		return keys[i][0]+keys[i][1] < keys[j][0]+keys[j][1]
	})
	if len(keys) == 0 {
		t.Fatal("no court without overflow")
	}
	closed := keys[0]
	clos, err := os.ReadFile(filepath.Join(in, "closures.csv"))
	if err != nil {
		t.Fatal(err)
	}
	closures := filepath.Join(t.TempDir(), "closures.csv")
	if err := os.WriteFile(closures, append(clos, []byte(closed[0]+","+closed[1]+",burst pipe\n")...), 0o644); err != nil {
		t.Fatal(err)
	}
	out2 := t.TempDir()
	cfg := baseConfig(in, out2)
	cfg.Closures, cfg.Previous = closures, out1
	res, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	runcheck.Check(t, out2, filepath.Join(in, "capacity.csv"), closures)
	h2, ch := readHearings(t, out2), readChanges(t, out2)
	moved := 0
	for id, a := range h1 {
		b := h2[id]
		hit := a.court == closed[0] && a.date == closed[1]
		switch {
		case hit && (ch[id].kind != "MOVED" || ch[id].reason != "CLOSURE: burst pipe" || b.date == closed[1]):
			t.Errorf("case %d stood on the closed day %s: %+v, now %v", id, closed[1], ch[id], b)
		case hit:
			moved++
		case a != b || ch[id].kind != "UNCHANGED":
			t.Errorf("case %d moved from %v to %v (%+v) though its day is open", id, a, b, ch[id])
		}
	}
	if moved != count[closed] || res.Manifest.Changes.Moved != int64(moved) || res.Manifest.Changes.New != 0 || res.Manifest.Changes.Released != 0 {
		t.Fatalf("moved %d of the %d hearings on the closed day; manifest %+v", moved, count[closed], *res.Manifest.Changes)
	}
	t.Logf("closure of %s on %s moved %d hearings", closed[0], closed[1], moved)

	// Earliest feasible: no session of a moved case's court and docket
	// had a free slot on an open day from its earliest day to before its
	// new one.
	type slot struct{ court, docket, ij, time, date string }
	used := map[slot]int{}
	type asg struct {
		slot
		earliest string
	}
	all := map[int64]asg{}
	files, _ := filepath.Glob(filepath.Join(out2, "assignments", "*", "*.parquet"))
	for _, f := range files {
		cols, n := runcheck.ReadTable(t, f)
		for i := 0; i < n; i++ {
			ij, _ := cols["ij_code"][i].(string)
			s := slot{cols["base_city_code"][i].(string), cols["docket"][i].(string), ij, cols["hearing_time"][i].(string), dayString(cols["hearing_date"][i])}
			used[s]++
			all[cols["idnproceeding"][i].(int64)] = asg{s, dayString(cols["earliest_hearing_date"][i])}
		}
	}
	capCSV, err := os.ReadFile(filepath.Join(in, "capacity.csv"))
	if err != nil {
		t.Fatal(err)
	}
	closedDays := map[string]bool{}
	for _, line := range strings.Split(string(clos)+closed[0]+","+closed[1]+",x\n", "\n")[1:] {
		if f := strings.Split(line, ","); len(f) >= 2 {
			closedDays[f[0]+"|"+f[1]] = true
		}
	}
	sessions := strings.Split(strings.TrimSpace(string(capCSV)), "\n")[1:]
	for id, x := range ch {
		if x.kind != "MOVED" {
			continue
		}
		a := all[id]
		for d, _ := time.Parse(time.DateOnly, a.earliest); d.Format(time.DateOnly) < a.date; d = d.AddDate(0, 0, 1) {
			ds := d.Format(time.DateOnly)
			if d.Weekday() == time.Saturday || d.Weekday() == time.Sunday || invariants.Holiday(d) || closedDays[a.court+"|"+ds] || closedDays["*|"+ds] {
				continue
			}
			for _, line := range sessions {
				f := strings.Split(line, ",")
				if f[0] != a.court || f[1] != a.docket || f[3] != strings.ToUpper(d.Weekday().String()[:3]) || ds < f[6] || (f[7] != "" && ds > f[7]) {
					continue
				}
				var slots int
				fmt.Sscan(f[5], &slots)
				if used[slot{f[0], f[1], f[2], f[4], ds}] < slots {
					t.Errorf("moved case %d sits on %s though session %s had a free slot on %s", id, a.date, line, ds)
				}
			}
		}
	}
}

// exportIDs reads the idnproceeding column of an export object (int32
// or int64, as the generator's layouts write it) with arrow.
func exportIDs(t *testing.T, path string) map[int64]bool {
	t.Helper()
	pf, err := file.OpenParquetFile(path, false)
	if err != nil {
		t.Fatal(err)
	}
	defer pf.Close()
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{}, memory.DefaultAllocator)
	if err != nil {
		t.Fatal(err)
	}
	tbl, err := fr.ReadTable(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer tbl.Release()
	idx := tbl.Schema().FieldIndices("idnproceeding")
	if len(idx) != 1 {
		t.Fatalf("%s: no idnproceeding column", path)
	}
	ids := map[int64]bool{}
	for _, ch := range tbl.Column(idx[0]).Data().Chunks() {
		for i := 0; i < ch.Len(); i++ {
			if ch.IsNull(i) {
				continue
			}
			switch a := ch.(type) {
			case *array.Int64:
				ids[a.Value(i)] = true
			case *array.Int32:
				ids[int64(a.Value(i))] = true
			default:
				t.Fatalf("%s: idnproceeding is %s", path, ch.DataType())
			}
		}
	}
	return ids
}

// TestPreviousRefused: a previous run that is missing, uncommitted or of
// another policy is refused with a clear error, unless the policy change
// is declared.
func TestPreviousRefused(t *testing.T) {
	in := t.TempDir()
	genData(t, in, 2000)
	out1 := t.TempDir()
	if _, err := Run(context.Background(), baseConfig(in, out1)); err != nil {
		t.Fatal(err)
	}
	uncommitted := t.TempDir()
	if _, err := Run(context.Background(), baseConfig(in, uncommitted)); err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(uncommitted, "_SUCCESS"))
	// A committed run whose assignment object was damaged afterwards.
	corrupt := t.TempDir()
	if _, err := Run(context.Background(), baseConfig(in, corrupt)); err != nil {
		t.Fatal(err)
	}
	parts, _ := filepath.Glob(filepath.Join(corrupt, "assignments", "*", "*.parquet"))
	if len(parts) == 0 {
		t.Fatal("no assignment objects")
	}
	if err := os.WriteFile(parts[0], []byte("PAR1 not parquet PAR1"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, previous, policy string
		change                 bool
		code                   int
		msg                    string
	}{
		{"missing", filepath.Join(t.TempDir(), "nothing"), "castro-tum-2018", false, sysexit.NoInput, "no run there"},
		{"uncommitted", uncommitted, "castro-tum-2018", false, sysexit.NoInput, "did not commit"},
		{"other policy", out1, "full-reversal", false, sysexit.Config, "--previous-policy-change"},
		{"a damaged object", corrupt, "castro-tum-2018", false, sysexit.DataErr, filepath.Base(parts[0])},
		{"other policy, declared", out1, "full-reversal", true, 0, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := baseConfig(in, t.TempDir())
			cfg.Previous, cfg.Policy, cfg.PreviousPolicyChange, cfg.AsOf = c.previous, c.policy, c.change, "2026-01-16"
			res, err := Run(context.Background(), cfg)
			if c.code == 0 {
				if err != nil {
					t.Fatal(err)
				}
				if !res.Manifest.Changes.PolicyChanged {
					t.Fatal("policy change not recorded")
				}
				return
			}
			if sysexit.Code(err) != c.code || !strings.Contains(err.Error(), c.msg) {
				t.Fatalf("error %v, want exit %d mentioning %q", err, c.code, c.msg)
			}
		})
	}
}
