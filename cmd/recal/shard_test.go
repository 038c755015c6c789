package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/recal-project/recal/pipeline/location"
	"github.com/recal-project/recal/pipeline/manifest"
	"github.com/recal-project/recal/pipeline/shard"
	"github.com/recal-project/recal/pipeline/storage"
	"github.com/recal-project/recal/pipeline/storage/s3store/s3servertest"
)

// shardExport copies the sample export to dir/export and adds an object
// of duplicates: 1 row in 40 of part-00000 again, each under another
// court. Its key sorts before part-00000.parquet, so the copies win and
// the originals are rejected as duplicates, and many pairs cross shards:
// the case deduplication must handle across the shard boundary. It
// returns the number of pairs whose courts are on different shards, by
// shard count.
func shardExport(t *testing.T, dir string) map[int]int {
	t.Helper()
	bin := os.Getenv("RECAL_DUCKDB")
	if bin == "" {
		t.Skip("RECAL_DUCKDB is not set; `make test` builds the DuckDB tool and sets it")
	}
	if err := os.MkdirAll(filepath.Join(dir, "export"), 0o755); err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		b, err := os.ReadFile(filepath.Join(sample, "export", fmt.Sprintf("part-%05d.parquet", i)))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "export", fmt.Sprintf("part-%05d.parquet", i)), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	src := filepath.Join(dir, "export", "part-00000.parquet")
	dup := filepath.Join(dir, "export", "part-00000-dup.parquet")
	sql := fmt.Sprintf(`COPY (SELECT * REPLACE (['NYC','LOS','HOU','SFR','CHI','MIA','ELP'][idnproceeding %% 7 + 1] AS base_city_code)
		FROM read_parquet('%s') WHERE idnproceeding %% 40 = 0 AND base_city_code IS NOT NULL) TO '%s' (FORMAT parquet);
		SELECT a.base_city_code, b.base_city_code FROM read_parquet('%s') a JOIN read_parquet('%s') b USING (idnproceeding);`,
		src, dup, dup, src)
	out, err := exec.Command(bin, "-sql", sql).CombinedOutput()
	if err != nil {
		t.Fatalf("duckdb: %v\n%s", err, out)
	}
	cross := map[int]int{}
	pairs := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		if len(f) != 2 {
			continue
		}
		pairs++
		for _, n := range []int{3, 5} {
			if shard.Of(f[0], n) != shard.Of(f[1], n) {
				cross[n]++
			}
		}
	}
	if pairs < 50 {
		t.Fatalf("only %d duplicate pairs in the export:\n%s", pairs, out)
	}
	return cross
}

// partName matches the shard number in a data file's name.
var partName = regexp.MustCompile(`/part-\d{5}-`)

// TestShardMergeEquivalence runs a job as 1, 3 and 5 concurrent shard
// processes against the S3 server, merges each, and requires the data
// files and reports of a single-process run of the same job, byte for
// byte (impact.json differs only in its shard count, and data files in
// the shard number of their names), with conservation holding shard by
// shard and in sum. Then a missing shard, a failed one and a shard of
// another job must each make merge fail, naming the shard.
func TestShardMergeEquivalence(t *testing.T) {
	skipInRacePass(t)
	srv := s3servertest.Start(t)
	srv.Env(t)
	dir := t.TempDir()
	cross := shardExport(t, dir)
	t.Logf("duplicate pairs across shards: %d of 3, %d of 5", cross[3], cross[5])
	if cross[3] == 0 || cross[5] == 0 {
		t.Fatal("no duplicate pair crosses a shard boundary: the test would not exercise it")
	}
	inStore, in := srv.NewBucket(t, "in")
	var files []string
	ents, err := os.ReadDir(filepath.Join(dir, "export"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		files = append(files, "export/"+e.Name())
	}
	putFiles(t, inStore, dir, files...)
	putFiles(t, inStore, sample, "capacity.csv", "closures.csv")
	_, bucket := srv.NewBucket(t, "out")
	ctx := context.Background()
	open := func(out string) storage.Store {
		st, err := location.Open(ctx, "s3://"+bucket+"/"+out, location.Options{})
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	args := func(out string, extra ...string) []string {
		return append([]string{"run", "--input", "s3://" + in + "/in/export", "--capacity", "s3://" + in + "/in/capacity.csv",
			"--closures", "s3://" + in + "/in/closures.csv", "--policy", "castro-tum-circuit-split", "--as-of", "2026-01-15",
			"--baseline-pending", "3600000", "--workers", "2", "--output", "s3://" + bucket + "/" + out}, extra...)
	}

	if code, _, stderr := run(t, args("single")...); code != 0 {
		t.Fatalf("single-process run: exit %d: %s", code, stderr)
	}
	wantData, _ := committedData(t, open("single"))
	want := readManifest(t, open("single"), "manifest.json")
	if want.Counts.RemainClosed == 0 || want.Counts.Overflow == 0 || want.RejectsByCode["DUPLICATE_IDNPROCEEDING"] < 50 {
		t.Fatalf("the job should have rows of every outcome and many duplicates: %+v %v", want.Counts, want.RejectsByCode)
	}
	normalise := func(data map[string]string) map[string]string {
		out := map[string]string{}
		for k, v := range data {
			if k == "reports/impact.json" {
				var x map[string]any
				if err := json.Unmarshal([]byte(v), &x); err != nil {
					t.Fatal(err)
				}
				delete(x["run"].(map[string]any), "shard_count")
				b, _ := json.Marshal(x)
				v = string(b)
			}
			out[partName.ReplaceAllString(k, "/part-S-")] = v
		}
		return out
	}
	wantNorm := normalise(wantData)

	for _, n := range []int{1, 3, 5} {
		t.Run(fmt.Sprintf("%d shards", n), func(t *testing.T) {
			out := fmt.Sprintf("sharded-%d", n)
			// Shards run as separate processes, all at once, as an
			// Indexed Job's pods would: index from JOB_COMPLETION_INDEX,
			// count from RECAL_SHARD_COUNT.
			errs := runShards(t, n, args(out), nil)
			for i, err := range errs {
				if err != nil {
					t.Fatalf("shard %d: %v", i, err)
				}
			}
			var sum manifest.Counts
			if n > 1 {
				st := open(out)
				for i := range n {
					m := readManifest(t, st, shard.Prefix(i, n)+"manifest.json")
					c := m.Counts
					if c.InputRows != c.Assigned+c.RemainClosed+c.Overflow+c.Rejected || !m.Conservation.Holds {
						t.Fatalf("shard %d: conservation fails: %+v", i, c)
					}
					if c.InputRows == 0 {
						t.Fatalf("shard %d owns no rows", i)
					}
					sum.InputRows += c.InputRows
					sum.Assigned += c.Assigned
					sum.RemainClosed += c.RemainClosed
					sum.Overflow += c.Overflow
					sum.Rejected += c.Rejected
				}
				if sum != want.Counts {
					t.Fatalf("the shards' counts add up to %+v, the single run has %+v", sum, want.Counts)
				}
			}
			code, stdout, stderr := run(t, "merge", "--output", "s3://"+bucket+"/"+out, "--shard-count", fmt.Sprint(n))
			if code != 0 {
				t.Fatalf("merge: exit %d: %s", code, stderr)
			}
			if n == 1 && !strings.Contains(stdout, "already complete") {
				t.Fatalf("merge of one shard should find the run complete: %s", stdout)
			}
			data, _ := committedData(t, open(out))
			got := normalise(data)
			if len(got) != len(wantNorm) {
				t.Fatalf("merged output has %d objects, the single run %d", len(got), len(wantNorm))
			}
			for k, v := range wantNorm {
				if g, ok := got[k]; !ok {
					t.Errorf("merged output lacks %s", k)
				} else if g != v {
					t.Errorf("%s differs from the single-process run's", k)
				}
			}
			m := readManifest(t, open(out), "manifest.json")
			if m.RunID != want.RunID || m.Counts != want.Counts || !m.Conservation.Holds || m.Shard.Count != n {
				t.Fatalf("merged manifest: run %s counts %+v shard %+v; want run %s counts %+v", m.RunID, m.Counts, m.Shard, want.RunID, want.Counts)
			}
			for i := range m.Inputs {
				if m.Inputs[i] != want.Inputs[i] {
					t.Fatalf("merged input %+v, single run %+v", m.Inputs[i], want.Inputs[i])
				}
			}
			if objs, _ := open(out).List(ctx, shard.Dir); len(objs) != 0 {
				t.Fatalf("%d staging objects left under %s after the merge", len(objs), shard.Dir)
			}
			// A merge rerun, and a shard rerun, find the job done.
			if code, stdout, stderr := run(t, "merge", "--output", "s3://"+bucket+"/"+out, "--shard-count", fmt.Sprint(n)); code != 0 || !strings.Contains(stdout, "already complete") {
				t.Fatalf("merge rerun: exit %d: %s%s", code, stdout, stderr)
			}
			if code, stdout, stderr := run(t, args(out, "--shard-index", "0", "--shard-count", fmt.Sprint(n))...); code != 0 || !strings.Contains(stdout, "already complete") {
				t.Fatalf("shard rerun after the merge: exit %d: %s%s", code, stdout, stderr)
			}
		})
	}

	t.Run("missing, failed or foreign shard", func(t *testing.T) {
		const n = 3
		merge := func(out string) (int, string) {
			code, _, stderr := run(t, "merge", "--output", "s3://"+bucket+"/"+out, "--shard-count", fmt.Sprint(n))
			return code, stderr
		}
		// Shard 1 never ran.
		errs := runShards(t, n, args("missing"), map[int]bool{1: true})
		if errs[0] != nil || errs[2] != nil {
			t.Fatal(errs)
		}
		if code, stderr := merge("missing"); code != 66 || !strings.Contains(stderr, "shard 1 of 3 has not committed") {
			t.Fatalf("merge with shard 1 missing: exit %d: %s", code, stderr)
		}
		// Shard 2 is killed while reading (after shards 0 and 1 committed).
		errs = runShards(t, n, args("failed"), map[int]bool{2: true})
		if errs[0] != nil || errs[1] != nil {
			t.Fatal(errs)
		}
		cmd := exec.Command(os.Args[0], args("failed")...)
		cmd.Env = append(os.Environ(), "RECAL_TEST_AS_RECAL=1", "JOB_COMPLETION_INDEX=2", "RECAL_SHARD_COUNT=3")
		signalAt(t, cmd, `"stage":"read"`, 0, os.Kill)
		if code, stderr := merge("failed"); code != 66 || !strings.Contains(stderr, "shard 2 of 3 has not committed") {
			t.Fatalf("merge with shard 2 killed: exit %d: %s", code, stderr)
		}
		// Shard 2 reruns, but with another as-of date: another job. The
		// killed shard's claim is fresh and of another run, so the rerun
		// is refused (75, nothing written) unless --force takes it over.
		other := append(args("failed", "--shard-index", "2", "--shard-count", "3"), "--as-of", "2026-02-02")
		if code, _, stderr := run(t, other...); code != 75 || !strings.Contains(stderr, "is claimed by recal run") {
			t.Fatalf("shard 2 of another job over the killed shard's claim: exit %d: %s", code, stderr)
		}
		if code, _, stderr := run(t, append(other, "--force")...); code != 0 {
			t.Fatalf("shard 2 as of another date: exit %d: %s", code, stderr)
		}
		if code, stderr := merge("failed"); code != 65 || !strings.Contains(stderr, "shard 2 of 3 ran another job than shard 0") {
			t.Fatalf("merge with shard 2 of another job: exit %d: %s", code, stderr)
		}
		if _, err := open("failed").Stat(ctx, "_SUCCESS"); err == nil {
			t.Fatal("a refused merge left _SUCCESS")
		}
	})
}

// runShards runs n shard processes of args at once (skipping the indexes
// in skip) and returns each one's error.
func runShards(t *testing.T, n int, args []string, skip map[int]bool) []error {
	t.Helper()
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		if skip[i] {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := exec.Command(os.Args[0], args...)
			cmd.Env = append(os.Environ(), "RECAL_TEST_AS_RECAL=1", fmt.Sprintf("JOB_COMPLETION_INDEX=%d", i), fmt.Sprintf("RECAL_SHARD_COUNT=%d", n))
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Run(); err != nil {
				errs[i] = fmt.Errorf("%v: %s", err, lastLine(stderr.String()))
			}
		}()
	}
	wg.Wait()
	return errs
}

// readManifest reads and parses the manifest under key.
func readManifest(t *testing.T, st storage.Store, key string) *manifest.Manifest {
	t.Helper()
	b, err := storage.ReadAll(context.Background(), st, key)
	if err != nil {
		t.Fatal(err)
	}
	m, err := manifest.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	return m
}
