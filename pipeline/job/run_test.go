package job

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/recal-project/recal/pipeline/gen"
	"github.com/recal-project/recal/pipeline/location"
	"github.com/recal-project/recal/pipeline/manifest"
	"github.com/recal-project/recal/pipeline/refdata"
	"github.com/recal-project/recal/pipeline/source"
	"github.com/recal-project/recal/pipeline/storage"
	"github.com/recal-project/recal/pipeline/storage/local"
	"github.com/recal-project/recal/pipeline/storage/s3store/miniotest"
	"github.com/recal-project/recal/pipeline/sysexit"
	"github.com/recal-project/recal/transforms/schedule"
)

const asOf = "2026-01-15"

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// genData writes a generated data set into dir.
func genData(t *testing.T, dir string, rows int64) {
	t.Helper()
	ref, err := refdata.Load(refdata.Paths{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := gen.Generate(context.Background(), local.New(dir), ref, gen.Options{Rows: rows, Seed: 11, TempDir: t.TempDir()}); err != nil {
		t.Fatal(err)
	}
}

func baseConfig(in, out string) Config {
	return Config{
		Input: filepath.Join(in, "export"), Capacity: filepath.Join(in, "capacity.csv"), Closures: filepath.Join(in, "closures.csv"),
		Policy: "castro-tum-2018", AsOf: asOf, Output: out, Workers: 2, Log: quiet(),
	}
}

// outputDigest hashes every data file under a local output directory
// (manifest and _SUCCESS excluded).
func outputDigest(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() || !strings.HasSuffix(p, ".parquet") {
			return err
		}
		b, _ := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		out[rel] = fmt.Sprintf("%x", sha256.Sum256(b))
		return nil
	})
	return out
}

func TestRunEndToEndLocal(t *testing.T) {
	in := t.TempDir()
	genData(t, in, 4000)

	var first map[string]string
	var firstManifest *manifest.Manifest
	workerCounts := []int{1, 2, 5}
	if testing.Short() {
		// The race pass (make test) runs one concurrent run; the full pass
		// compares the worker counts.
		workerCounts = []int{3}
	}
	for i, workers := range workerCounts {
		out := t.TempDir()
		cfg := baseConfig(in, out)
		cfg.Workers = workers
		res, err := Run(context.Background(), cfg)
		if err != nil {
			t.Fatalf("workers %d: %v", workers, err)
		}
		checkRun(t, in, out, res.Manifest)
		if i == 0 {
			checkWithDuckDB(t, out, res.Manifest)
		}
		d := outputDigest(t, out)
		if first == nil {
			first, firstManifest = d, res.Manifest
			continue
		}
		if fmt.Sprint(d) != fmt.Sprint(first) {
			t.Errorf("workers %d: output bytes differ from workers 1", workers)
		}
		a, b := *res.Manifest, *firstManifest
		a.Timing, b.Timing = manifest.Timing{}, manifest.Timing{}
		ja, _ := a.Marshal()
		jb, _ := b.Marshal()
		if !bytes.Equal(ja, jb) {
			t.Errorf("workers %d: manifest differs beyond timing", workers)
		}
	}
}

// checkRun verifies a committed local run against contract §2 and §3 with
// code independent of the scheduler: outputs are read back with
// xitongsys/parquet-go, the calendar is re-derived from the CSV.
func checkRun(t *testing.T, in, out string, m *manifest.Manifest) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(out, "_SUCCESS")); err != nil {
		t.Fatalf("no _SUCCESS: %v", err)
	}
	mb, err := os.ReadFile(filepath.Join(out, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	disk, err := manifest.Parse(mb)
	if err != nil {
		t.Fatal(err)
	}
	if disk.RunID != m.RunID || !disk.Conservation.Holds {
		t.Fatalf("manifest on disk: run %s conservation %+v", disk.RunID, disk.Conservation)
	}
	// Every listed output exists with its size and row count.
	rows := map[string]int{}
	for _, o := range disk.Outputs {
		st, err := os.Stat(filepath.Join(out, o.Key))
		if err != nil || st.Size() != o.Bytes {
			t.Fatalf("output %s: %v (size %v, manifest %d)", o.Key, err, st, o.Bytes)
		}
		_, n := readTable(t, filepath.Join(out, o.Key))
		if int64(n) != o.Rows {
			t.Fatalf("%s: %d rows, manifest says %d", o.Key, n, o.Rows)
		}
		rows[strings.Split(o.Key, "/")[0]] += n
	}
	c := disk.Counts
	if int64(rows["assignments"]) != c.Assigned || int64(rows["overflow"]) != c.Overflow ||
		int64(rows["remain_closed"]) != c.RemainClosed || int64(rows["rejects"]) != c.Rejected {
		t.Fatalf("rows on disk %v differ from counts %+v", rows, c)
	}
	if c.InputRows != c.Assigned+c.RemainClosed+c.Overflow+c.Rejected {
		t.Fatalf("conservation: %+v", c)
	}
	var footer int64
	for _, i := range disk.Inputs {
		footer += i.Rows
	}
	if footer != c.InputRows {
		t.Fatalf("inputs hold %d rows, counts say %d", footer, c.InputRows)
	}

	// Every proceeding appears in exactly one output.
	seen := map[int64]string{}
	note := func(id int64, where string) {
		if prev, dup := seen[id]; dup {
			t.Fatalf("idnproceeding %d in %s and %s", id, prev, where)
		}
		seen[id] = where
	}
	capCSV, _ := os.ReadFile(filepath.Join(in, "capacity.csv"))
	closCSV, _ := os.ReadFile(filepath.Join(in, "closures.csv"))
	cap := independentCapacity(t, capCSV)
	closed := independentClosures(t, closCSV)
	asOfT, _ := time.Parse(time.DateOnly, asOf)
	used := map[string]int{}
	type prio struct {
		tier  int32
		score float64
		id    int64
		date  string
	}
	byGroup := map[string][]prio{}
	for _, o := range disk.Outputs {
		cols, n := readTable(t, filepath.Join(out, o.Key))
		for i := 0; i < n; i++ {
			switch {
			case strings.HasPrefix(o.Key, "assignments/"):
				id := cols["idnproceeding"][i].(int64)
				note(id, "assignments")
				court := cols["base_city_code"][i].(string)
				if !strings.Contains(o.Key, "base_city_code="+court+"/") {
					t.Fatalf("case %d of court %s in partition %s", id, court, o.Key)
				}
				day := time.Unix(int64(cols["hearing_date"][i].(int32))*86400, 0).UTC()
				ds := day.Format(time.DateOnly)
				// §3.2 business days.
				if day.Weekday() == time.Saturday || day.Weekday() == time.Sunday || closed[court+"|"+ds] || closed["*|"+ds] || federalHoliday(day) {
					t.Fatalf("case %d heard on a closed day %s", id, ds)
				}
				// §3.3 notice (juveniles are at least 10 too).
				if day.Sub(asOfT) < 10*24*time.Hour {
					t.Fatalf("case %d heard %s, less than 10 days after %s", id, ds, asOf)
				}
				docket := cols["docket"][i].(string)
				ij := ""
				if v := cols["ij_code"][i]; v != nil {
					ij = v.(string)
				}
				hm := cols["hearing_time"][i].(string)
				key := fmt.Sprintf("%s|%s|%s|%s|%s", court, docket, ij, day.Weekday().String()[:3], hm)
				slots, ok := cap.slotsOn(key, ds)
				if !ok {
					t.Fatalf("case %d: no session %s on %s", id, key, ds)
				}
				used[key+"|"+ds]++
				if used[key+"|"+ds] > slots {
					t.Fatalf("session %s on %s holds %d cases, capacity %d", key, ds, used[key+"|"+ds], slots)
				}
				if ij == "" {
					g := court + "|" + docket
					byGroup[g] = append(byGroup[g], prio{cols["priority_tier"][i].(int32), cols["priority_score"][i].(float64), id, ds + " " + hm})
				}
			case strings.HasPrefix(o.Key, "overflow/"):
				note(cols["idnproceeding"][i].(int64), "overflow")
				if cols["overflow_reason"][i].(string) == "NO_SLOT_IN_HORIZON" && cols["projected_hearing_date"][i] == nil {
					t.Fatalf("overflow without projection")
				}
			case strings.HasPrefix(o.Key, "remain_closed/"):
				note(cols["idnproceeding"][i].(int64), "remain_closed")
			case strings.HasPrefix(o.Key, "rejects/"):
				if cols["error_code"][i].(string) == "DUPLICATE_IDNPROCEEDING" || cols["idnproceeding"][i] == nil {
					continue
				}
				note(cols["idnproceeding"][i].(int64), "rejects")
			}
		}
	}
	// §3.5 among pool sessions of one court and docket: no case is heard
	// after a lower-priority case whose slot was feasible for it. Outputs do
	// not say which cases are juveniles (30-day lead), so a slot counts as
	// feasible for every case only from as_of + 30 days on.
	allFeasible := asOfT.AddDate(0, 0, 30).Format(time.DateOnly)
	for g, ps := range byGroup {
		sort.Slice(ps, func(i, j int) bool {
			a, b := ps[i], ps[j]
			if a.tier != b.tier {
				return a.tier < b.tier
			}
			if a.score != b.score {
				return a.score > b.score
			}
			return a.id < b.id
		})
		latest := ""
		var latestID int64
		for _, p := range ps {
			if latest > p.date && p.date >= allFeasible {
				t.Fatalf("%s: case %d heard %s although lower-priority case %d had the feasible slot %s", g, latestID, latest, p.id, p.date)
			}
			if p.date > latest {
				latest, latestID = p.date, p.id
			}
		}
	}
}

type capRow struct {
	slots    int
	from, to string
}

type capTable map[string][]capRow

func (c capTable) slotsOn(key, day string) (int, bool) {
	for _, r := range c[key] {
		if day >= r.from && (r.to == "" || day <= r.to) {
			return r.slots, true
		}
	}
	return 0, false
}

func independentCapacity(t *testing.T, b []byte) capTable {
	t.Helper()
	c := capTable{}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	for _, l := range lines[1:] {
		f := strings.Split(l, ",")
		var slots int
		fmt.Sscan(f[5], &slots)
		wd := map[string]string{"MON": "Mon", "TUE": "Tue", "WED": "Wed", "THU": "Thu", "FRI": "Fri"}[f[3]]
		key := fmt.Sprintf("%s|%s|%s|%s|%s", f[0], f[1], f[2], wd, f[4])
		c[key] = append(c[key], capRow{slots, f[6], f[7]})
	}
	return c
}

func independentClosures(t *testing.T, b []byte) map[string]bool {
	m := map[string]bool{}
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n")[1:] {
		f := strings.Split(l, ",")
		m[f[0]+"|"+f[1]] = true
	}
	return m
}

// federalHoliday is a second, table-driven statement of 5 U.S.C. 6103 for
// the years the tests schedule in.
func federalHoliday(d time.Time) bool {
	known := map[string]bool{
		"2026-01-01": true, "2026-01-19": true, "2026-02-16": true, "2026-05-25": true, "2026-06-19": true,
		"2026-07-03": true, "2026-09-07": true, "2026-10-12": true, "2026-11-11": true, "2026-11-26": true, "2026-12-25": true,
		"2027-01-01": true, "2027-01-18": true, "2027-02-15": true, "2027-05-31": true, "2027-06-18": true,
		"2027-07-05": true, "2027-09-06": true, "2027-10-11": true, "2027-11-11": true, "2027-11-25": true, "2027-12-24": true,
		"2027-12-31": true,
	}
	return known[d.Format(time.DateOnly)]
}

func TestHolidaysMatchTable(t *testing.T) {
	for y := 2026; y <= 2027; y++ {
		for _, d := range schedule.FederalHolidays(y) {
			day := time.Unix(int64(d)*86400, 0).UTC()
			if !federalHoliday(day) {
				t.Errorf("scheduler holiday %s not in the independent table", day.Format(time.DateOnly))
			}
		}
	}
}

func TestRunS3MatchesLocal(t *testing.T) {
	if testing.Short() {
		t.Skip("full pass only: the race pass covers S3 through the storage conformance suite")
	}
	srv := miniotest.Start(t)
	srv.Env(t)
	in := t.TempDir()
	genData(t, in, 2500)

	// Local reference run.
	localOut := t.TempDir()
	if _, err := Run(context.Background(), baseConfig(in, localOut)); err != nil {
		t.Fatal(err)
	}
	// Generate the same inputs straight into MinIO (recal gen to S3): the
	// bytes must equal the local ones.
	bucketStore, bucket := srv.NewBucket(t, "in")
	ctx := context.Background()
	ref, _ := refdata.Load(refdata.Paths{})
	if _, err := gen.Generate(ctx, bucketStore, ref, gen.Options{Rows: 2500, Seed: 11, TempDir: t.TempDir()}); err != nil {
		t.Fatal(err)
	}
	objs, _ := local.New(in).List(ctx, "")
	for _, o := range objs {
		want, _ := os.ReadFile(filepath.Join(in, o.Key))
		got, err := storage.ReadAll(ctx, bucketStore, o.Key)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("%s generated on S3 differs from the local one (%v)", o.Key, err)
		}
	}
	cfg := baseConfig(in, "")
	cfg.Input = "s3://" + bucket + "/in/export"
	cfg.Capacity = "s3://" + bucket + "/in/capacity.csv"
	cfg.Closures = "s3://" + bucket + "/in/closures.csv"
	cfg.Output = "s3://" + bucket + "/out/run1"
	res, err := Run(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	outStore, err := location.Open(ctx, cfg.Output, location.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := outStore.Stat(ctx, "_SUCCESS"); err != nil {
		t.Fatalf("no _SUCCESS on S3: %v", err)
	}
	want := outputDigest(t, localOut)
	got := map[string]string{}
	for _, o := range res.Manifest.Outputs {
		b, err := storage.ReadAll(ctx, outStore, o.Key)
		if err != nil {
			t.Fatal(err)
		}
		got[o.Key] = fmt.Sprintf("%x", sha256.Sum256(b))
		if got[o.Key] != o.SHA256 {
			t.Errorf("%s: sha256 on S3 differs from the manifest", o.Key)
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("S3 outputs differ from the local run")
	}
}

func TestRunErrors(t *testing.T) {
	in := t.TempDir()
	genData(t, in, 500)
	tests := []struct {
		name   string
		mutate func(c *Config)
		code   int
		want   string
	}{
		{"no as-of", func(c *Config) { c.AsOf = "" }, sysexit.Usage, "--as-of is required"},
		{"bad as-of", func(c *Config) { c.AsOf = "2026-02-30" }, sysexit.Usage, "not a date"},
		{"unknown policy", func(c *Config) { c.Policy = "nope" }, sysexit.Config, `policy "nope"`},
		{"missing input", func(c *Config) { c.Input = filepath.Join(in, "nothing") }, sysexit.NoInput, "no objects"},
		{"missing capacity", func(c *Config) { c.Capacity = filepath.Join(in, "nope.csv") }, sysexit.NoInput, "nope.csv"},
		{"bad scheme", func(c *Config) { c.Output = "gs://x/y" }, sysexit.Usage, "not supported"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := baseConfig(in, t.TempDir())
			tt.mutate(&cfg)
			_, err := Run(context.Background(), cfg)
			if err == nil || Classify(err) != tt.code || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v (exit %d), want exit %d containing %q", err, Classify(err), tt.code, tt.want)
			}
		})
	}
	// A non-Parquet object under the prefix: a clean error naming it, exit 65.
	os.WriteFile(filepath.Join(in, "export", "notes.parquet"), []byte("this is not parquet at all"), 0o644)
	_, err := Run(context.Background(), baseConfig(in, t.TempDir()))
	if Classify(err) != sysexit.DataErr || !strings.Contains(err.Error(), "export/notes.parquet") && !strings.Contains(err.Error(), "notes.parquet") {
		t.Fatalf("corrupt object: %v (exit %d)", err, Classify(err))
	}
	_ = source.ErrCorrupt
}
