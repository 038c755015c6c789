package job

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/recal-project/recal/pipeline/gen"
	"github.com/recal-project/recal/pipeline/job/runcheck"
	"github.com/recal-project/recal/pipeline/location"
	"github.com/recal-project/recal/pipeline/manifest"
	"github.com/recal-project/recal/pipeline/refdata"
	"github.com/recal-project/recal/pipeline/report"
	"github.com/recal-project/recal/pipeline/source"
	"github.com/recal-project/recal/pipeline/storage"
	"github.com/recal-project/recal/pipeline/storage/local"
	"github.com/recal-project/recal/pipeline/storage/s3store/s3servertest"
	"github.com/recal-project/recal/pipeline/sysexit"
	"github.com/recal-project/recal/transforms/impact"
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
	workerCounts := []int{1, 2, 8}
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

// checkRun verifies a committed local run with runcheck (contract §2 and
// every invariant of §3) and that it is the run the caller made.
func checkRun(t *testing.T, in, out string, m *manifest.Manifest) {
	t.Helper()
	disk := runcheck.Check(t, out, filepath.Join(in, "capacity.csv"), filepath.Join(in, "closures.csv"))
	if disk.RunID != m.RunID {
		t.Fatalf("manifest on disk is run %s, want %s", disk.RunID, m.RunID)
	}
}

func readTable(t *testing.T, path string) (map[string][]any, int) {
	t.Helper()
	return runcheck.ReadTable(t, path)
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
	srv := s3servertest.Start(t)
	srv.Env(t)
	in := t.TempDir()
	genData(t, in, 2500)

	// Local reference run.
	localOut := t.TempDir()
	localRes, err := Run(context.Background(), baseConfig(in, localOut))
	if err != nil {
		t.Fatal(err)
	}
	checkRun(t, in, localOut, localRes.Manifest) // the S3 run must equal it byte for byte
	// Generate the same inputs straight into the S3 server (recal gen to S3): the
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
	// The inputs' etags differ between the stores, so the run ids (and the
	// run-unique part of each name) differ; the data must not.
	want := map[string]string{}
	for k, v := range outputDigest(t, localOut) {
		want[strings.Replace(k, localRes.Manifest.RunID, "RUN", 1)] = v
	}
	got := map[string]string{}
	for _, o := range res.Manifest.Outputs {
		b, err := storage.ReadAll(ctx, outStore, o.Key)
		if err != nil {
			t.Fatal(err)
		}
		d := fmt.Sprintf("%x", sha256.Sum256(b))
		if d != o.SHA256 {
			t.Errorf("%s: sha256 on S3 differs from the manifest", o.Key)
		}
		if !strings.HasSuffix(o.Key, ".parquet") {
			continue // reports name the run id and input etags
		}
		got[strings.Replace(o.Key, res.Manifest.RunID, "RUN", 1)] = d
	}
	if len(got) == 0 || fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("S3 outputs differ from the local run:\n%v\n%v", got, want)
	}
	// `recal report` reads the run from S3 and writes to S3; the figures
	// equal the local run's (only the run identity differs).
	objsRep, _, err := report.Command(ctx, report.Config{Run: cfg.Output, Output: "s3://" + bucket + "/reports/r1"})
	if err != nil || len(objsRep) != 4 {
		t.Fatalf("report from S3: %v (%d files)", err, len(objsRep))
	}
	repStore, err := location.Open(ctx, "s3://"+bucket+"/reports/r1", location.Options{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := storage.ReadAll(ctx, repStore, "impact.json")
	if err != nil {
		t.Fatal(err)
	}
	fromS3, err := report.Parse(b, "s3 impact.json")
	if err != nil {
		t.Fatal(err)
	}
	lb, _ := os.ReadFile(filepath.Join(localOut, "reports", "impact.json"))
	fromLocal, _ := report.Parse(lb, "local impact.json")
	fromS3.Run, fromLocal.Run = impact.Run{}, impact.Run{}
	js, _ := json.Marshal(fromS3)
	jl, _ := json.Marshal(fromLocal)
	if !bytes.Equal(js, jl) {
		t.Errorf("the S3 run's impact figures differ from the local run's")
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
			if err == nil || sysexit.Code(err) != tt.code || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v (exit %d), want exit %d containing %q", err, sysexit.Code(err), tt.code, tt.want)
			}
		})
	}
	// A non-Parquet object under the prefix: a clean error naming it, exit 65.
	os.WriteFile(filepath.Join(in, "export", "notes.parquet"), []byte("this is not parquet at all"), 0o644)
	_, err := Run(context.Background(), baseConfig(in, t.TempDir()))
	if sysexit.Code(err) != sysexit.DataErr || !strings.Contains(err.Error(), "export/notes.parquet") && !strings.Contains(err.Error(), "notes.parquet") {
		t.Fatalf("corrupt object: %v (exit %d)", err, sysexit.Code(err))
	}
	_ = source.ErrCorrupt
}
