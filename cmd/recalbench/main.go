// Command recalbench is `make bench`: it measures `recal run` end to end
// against DuckDB running the equivalent SQL on the same files, against the
// floor of decoding the needed columns with pqarrow, and from an S3 server
// (versitygw on 127.0.0.1), in one
// run, interleaved and repeated, and prints a table of medians.
//
// Usage:
//
//	recalbench [-rows 1000000,10000000] [-eoir-proceedings 16800000] [-nightly-rows 1000000] [-reps 3] [-data .bench] [-out out/bench]
//	recalbench floor DIR   (internal: decode and discard; run as its own process)
//
// Exports are generated once with `recal gen --layout reference` (a simple,
// homogeneous export: zstd, int64 ids, date32 dates) and cached under -data.
// The job is castro-tum-2018 with one notice lead (juvenile_min_days equal
// to min_days, so that numbering cases by priority and joining them to the
// slots by rank, as the SQL does, is exactly recal's earliest-feasible-slot
// assignment) on a pool-only calendar (no judge-tied sessions). After the
// runs, DuckDB checks that both assigned every case to the same court,
// docket, day and time. Then `recal import-eoir` is measured on a generated
// EOIR release (eoir.go).
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/recal-project/recal/pipeline/storage"
	"github.com/recal-project/recal/pipeline/storage/local"
	"github.com/recal-project/recal/pipeline/storage/s3store"
	"github.com/recal-project/recal/pipeline/storage/s3store/s3servertest"
	"github.com/recal-project/recal/transforms/civil"
	"github.com/recal-project/recal/transforms/policy"
	"github.com/recal-project/recal/transforms/schedule"
)

const asOf = "2026-01-15"

type config struct {
	rows                         []int64
	eoir, nightly                int64
	reps                         int
	data, out                    string
	recal, duckdb, s3server, ref string
	sevenZip                     string
}

func main() {
	if len(os.Args) > 2 && os.Args[1] == "floor" {
		if err := floor(os.Args[2]); err != nil {
			fmt.Fprintln(os.Stderr, "recalbench floor:", err)
			os.Exit(1)
		}
		return
	}
	if len(os.Args) > 3 && os.Args[1] == "release" {
		n, err := strconv.ParseInt(os.Args[2], 10, 64)
		if err == nil {
			err = sampleRelease("7zz", n, os.Args[3])
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "recalbench release:", err)
			os.Exit(1)
		}
		return
	}
	var c config
	var rows string
	flag.StringVar(&rows, "rows", "1000000,10000000", "export sizes, comma-separated (empty: none)")
	flag.Int64Var(&c.eoir, "eoir-proceedings", 16_800_000, "proceedings of the generated EOIR release of the national shape the import is measured on (16800000: the national size; 0: skip)")
	flag.Int64Var(&c.nightly, "nightly-rows", 1_000_000, "cases of the week of nightly runs measured with and without --previous (0: skip)")
	flag.IntVar(&c.reps, "reps", 3, "repetitions of each measurement (the median is reported)")
	flag.StringVar(&c.data, "data", ".bench", "where generated exports are cached")
	flag.StringVar(&c.out, "out", "out/bench", "where results and run outputs go")
	flag.StringVar(&c.recal, "recal", "bin/recal", "the recal binary")
	flag.StringVar(&c.duckdb, "duckdb", ".tools/bin/recal-duckdb", "the DuckDB tool (testdata/duckdb)")
	flag.StringVar(&c.s3server, "s3server", ".tools/bin/versitygw", "the versitygw binary (empty: skip the S3 measurement)")
	flag.StringVar(&c.sevenZip, "7zz", "7zz", "7-Zip, which writes the release zip the import is measured on")
	flag.StringVar(&c.ref, "courts", "transforms/reference/data/eoir_base_cities.csv", "the courts table the SQL validates against")
	flag.Parse()
	for _, r := range strings.Split(rows, ",") {
		if strings.TrimSpace(rows) == "" {
			break // only the nightly week and the import
		}
		n, err := strconv.ParseInt(strings.TrimSpace(r), 10, 64)
		if err != nil || n <= 0 {
			fmt.Fprintf(os.Stderr, "recalbench: bad -rows %q\n", r)
			os.Exit(2)
		}
		c.rows = append(c.rows, n)
	}
	if err := run(c); err != nil {
		fmt.Fprintln(os.Stderr, "recalbench:", err)
		os.Exit(1)
	}
}

// sample is one measured process.
type sample struct {
	wall   time.Duration
	rssKiB int64
}

type variant struct {
	name string
	cmd  func(rep int) (*exec.Cmd, error)
}

func run(c config) error {
	for _, p := range []*string{&c.recal, &c.duckdb, &c.data, &c.out, &c.ref} {
		a, err := filepath.Abs(*p)
		if err != nil {
			return err
		}
		*p = a
	}
	if err := os.MkdirAll(c.out, 0o755); err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	var srv *s3servertest.Server
	if c.s3server != "" {
		if _, err := os.Stat(c.s3server); err == nil {
			if srv, err = s3servertest.StartServer(c.s3server); err != nil {
				return fmt.Errorf("start the S3 server: %w", err)
			}
			defer srv.Stop()
		}
	}
	type result struct {
		rows    int64
		name    string
		samples []sample
	}
	var results []result
	var checks []string
	for _, n := range c.rows {
		dir := filepath.Join(c.data, fmt.Sprintf("rows-%d", n))
		if err := prepare(c, dir, n); err != nil {
			return err
		}
		work := filepath.Join(c.out, fmt.Sprintf("rows-%d", n))
		os.RemoveAll(work)
		if err := os.MkdirAll(work, 0o755); err != nil {
			return err
		}
		if err := prepareShapes(c, dir); err != nil {
			return err
		}
		recalArgs := func(in, capacity, closures, out string, workers int) []string {
			return []string{"run", "--input", in, "--capacity", capacity, "--closures", closures,
				"--policy", filepath.Join(dir, "policy.yaml"), "--as-of", asOf, "--output", out, "--workers", strconv.Itoa(workers)}
		}
		var variants []variant
		for si, sh := range shapes {
			sh, recalOut := sh, filepath.Join(work, fmt.Sprintf("recal-%d", si))
			sql := duckSQL(c, dir, sh, filepath.Join(work, fmt.Sprintf("duckdb-%d.parquet", si)), filepath.Join(work, fmt.Sprintf("duckdb-%d-overflow.parquet", si)))
			variants = append(variants,
				variant{"recal, " + sh.name, func(rep int) (*exec.Cmd, error) {
					os.RemoveAll(recalOut)
					return exec.Command(c.recal, recalArgs(filepath.Join(dir, sh.export), filepath.Join(dir, sh.capacity), filepath.Join(dir, "closures.csv"), recalOut, 2)...), nil
				}},
				variant{"duckdb, " + sh.name, func(rep int) (*exec.Cmd, error) {
					return exec.Command(c.duckdb, sqlArgs(sql)...), nil
				}})
		}
		for _, layout := range []string{"export", "export-mt"} {
			variants = append(variants, variant{"floor (pqarrow decode), " + layout, func(rep int) (*exec.Cmd, error) {
				return exec.Command(self, "floor", filepath.Join(dir, layout)), nil
			}})
		}
		variants = append(variants, variant{"recal --workers 1, overflowing", func(rep int) (*exec.Cmd, error) {
			out := filepath.Join(work, "recal-w1")
			os.RemoveAll(out)
			return exec.Command(c.recal, recalArgs(filepath.Join(dir, "export"), filepath.Join(dir, "capacity-overflow.csv"), filepath.Join(dir, "closures.csv"), out, 1)...), nil
		}})
		if srv != nil {
			bucket, err := upload(srv, dir, n)
			if err != nil {
				return err
			}
			variants = append(variants, variant{"recal from S3 (versitygw), roomy", func(rep int) (*exec.Cmd, error) {
				out := fmt.Sprintf("s3://%s/out/rep-%d", bucket, rep)
				cmd := exec.Command(c.recal, recalArgs("s3://"+bucket+"/in/export", "s3://"+bucket+"/in/capacity-roomy.csv", "s3://"+bucket+"/in/closures.csv", out, 2)...)
				cmd.Env = append(os.Environ(), srv.EnvList()...)
				return cmd, nil
			}})
		}
		samples, err := interleave(c.reps, variants, filepath.Join(work, "logs"), fmt.Sprintf("%d rows", n))
		if err != nil {
			return err
		}
		res := make([]result, len(variants))
		for i, v := range variants {
			res[i] = result{rows: n, name: v.name, samples: samples[i]}
		}
		results = append(results, res...)
		for si, sh := range shapes {
			check, err := compare(c, filepath.Join(work, fmt.Sprintf("recal-%d", si)), filepath.Join(work, fmt.Sprintf("duckdb-%d.parquet", si)), filepath.Join(work, fmt.Sprintf("duckdb-%d-overflow.parquet", si)))
			if err != nil {
				return err
			}
			checks = append(checks, fmt.Sprintf("%d rows, %s: %s", n, sh.name, check))
		}
	}

	// The table.
	var b strings.Builder
	host, _ := os.Hostname()
	fmt.Fprintf(&b, "recal bench, %s, %d cores (GOMAXPROCS %d), %s/%s, %s; median of %d interleaved runs; castro-tum-2018 (one notice lead), as of %s; calendars: three pool sessions a weekday per court and docket, 50 slots each (roomy) or 1 (overflowing)\n\n",
		time.Now().UTC().Format("2006-01-02"), runtime.NumCPU(), runtime.GOMAXPROCS(0), runtime.GOOS, runtime.GOARCH, host, c.reps, asOf)
	fmt.Fprintf(&b, "| rows | what | wall s | rows/s | peak RSS MiB | vs DuckDB | vs floor |\n|---:|---|---:|---:|---:|---:|---:|\n")
	med := map[string]sample{}
	for _, r := range results {
		med[fmt.Sprint(r.rows, r.name)] = median(r.samples)
	}
	for _, r := range results {
		m := med[fmt.Sprint(r.rows, r.name)]
		shapeName := r.name[strings.Index(r.name, ", ")+2:]
		duck, fl := med[fmt.Sprint(r.rows, "duckdb, "+shapeName)], med[fmt.Sprint(r.rows, "floor (pqarrow decode), export")]
		if strings.Contains(r.name, "multi-threaded") {
			fl = med[fmt.Sprint(r.rows, "floor (pqarrow decode), export-mt")]
		}
		vsDuck := "—"
		if duck.wall > 0 {
			vsDuck = fmt.Sprintf("%.2f×", m.wall.Seconds()/duck.wall.Seconds())
		}
		fmt.Fprintf(&b, "| %d | %s | %.2f | %.0f | %d | %s | %.2f× |\n", r.rows, r.name, m.wall.Seconds(),
			float64(r.rows)/m.wall.Seconds(), m.rssKiB/1024, vsDuck, m.wall.Seconds()/fl.wall.Seconds())
	}
	b.WriteString("\n")
	for _, n := range c.rows {
		w1, w2 := med[fmt.Sprint(n, "recal --workers 1, overflowing")], med[fmt.Sprint(n, "recal, overflowing")]
		fmt.Fprintf(&b, "- %d rows, overflowing: --workers 1 / --workers 2 = %.2f× speed-up\n", n, w1.wall.Seconds()/w2.wall.Seconds())
	}
	if len(c.rows) > 1 {
		sorted := append([]int64(nil), c.rows...)
		sort.Slice(sorted, func(i, j int) bool { return sorted[i] < sorted[j] })
		lo, hi := sorted[0], sorted[len(sorted)-1]
		fmt.Fprintf(&b, "- recal time %d / %d rows, overflowing = %.2f (rows ratio %.0f)\n", hi, lo,
			med[fmt.Sprint(hi, "recal, overflowing")].wall.Seconds()/med[fmt.Sprint(lo, "recal, overflowing")].wall.Seconds(), float64(hi)/float64(lo))
	}
	for _, ch := range checks {
		fmt.Fprintf(&b, "- recal vs DuckDB, %s\n", ch)
	}
	if c.nightly > 0 {
		t, err := benchNightly(c, c.nightly, 7)
		if err != nil {
			return err
		}
		b.WriteString(t)
	}
	if c.eoir > 0 {
		t, err := benchImport(c, c.eoir)
		if err != nil {
			return err
		}
		b.WriteString(t)
	}
	fmt.Print(b.String())
	return os.WriteFile(filepath.Join(c.out, "table.md"), []byte(b.String()), 0o644)
}

// interleave measures every variant once per round, reps rounds, so that
// drift of the machine's speed spreads over all of them. It returns each
// variant's samples; label names the data in progress lines and errors.
func interleave(reps int, variants []variant, logDir, label string) ([][]sample, error) {
	samples := make([][]sample, len(variants))
	for rep := 0; rep < reps; rep++ {
		for i, v := range variants {
			cmd, err := v.cmd(rep)
			if err != nil {
				return nil, err
			}
			s, err := measure(cmd, filepath.Join(logDir, fmt.Sprintf("%02d-%d.log", i, rep)))
			if err != nil {
				return nil, fmt.Errorf("%s, %s: %w", label, v.name, err)
			}
			fmt.Fprintf(os.Stderr, "%s  %-36s rep %d  %6.2f s  %6d MiB\n", label, v.name, rep+1, s.wall.Seconds(), s.rssKiB/1024)
			samples[i] = append(samples[i], s)
		}
	}
	return samples, nil
}

func median(s []sample) sample {
	ws := append([]sample(nil), s...)
	sort.Slice(ws, func(i, j int) bool { return ws[i].wall < ws[j].wall })
	m := ws[len(ws)/2]
	rss := make([]int64, len(s))
	for i, x := range s {
		rss[i] = x.rssKiB
	}
	sort.Slice(rss, func(i, j int) bool { return rss[i] < rss[j] })
	m.rssKiB = rss[len(rss)/2]
	return m
}

// measure runs cmd and returns its wall time and peak RSS (getrusage of
// the child, through wait4).
func measure(cmd *exec.Cmd, logPath string) (sample, error) {
	os.MkdirAll(filepath.Dir(logPath), 0o755)
	logf, err := os.Create(logPath)
	if err != nil {
		return sample{}, err
	}
	defer logf.Close()
	cmd.Stdout, cmd.Stderr = logf, logf
	start := time.Now()
	if err := cmd.Run(); err != nil {
		b, _ := os.ReadFile(logPath)
		return sample{}, fmt.Errorf("%v: %s", err, tail(string(b), 2000))
	}
	wall := time.Since(start)
	ru, _ := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	var rss int64
	if ru != nil {
		rss = ru.Maxrss // KiB on Linux
	}
	return sample{wall: wall, rssKiB: rss}, nil
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// prepare generates the export once, and writes the pool-only calendar,
// the bench policy and the holiday dates the SQL needs.
func prepare(c config, dir string, n int64) error {
	if _, err := os.Stat(filepath.Join(dir, "capacity.csv")); err != nil {
		fmt.Fprintf(os.Stderr, "generating %d rows into %s (once)\n", n, dir)
		tmp := dir + ".tmp"
		os.RemoveAll(tmp)
		cmd := exec.Command(c.recal, "gen", "--rows", strconv.FormatInt(n, 10), "--seed", "7", "--layout", "reference", "--output", tmp)
		cmd.Stderr = os.Stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("recal gen: %w", err)
		}
		if err := os.Rename(tmp, dir); err != nil {
			return err
		}
	}
	capCSV, err := os.ReadFile(filepath.Join(dir, "capacity.csv"))
	if err != nil {
		return err
	}
	var pool []string
	for i, l := range strings.Split(strings.TrimRight(string(capCSV), "\n"), "\n") {
		f := strings.Split(l, ",")
		if i == 0 || len(f) > 2 && f[2] == "" {
			pool = append(pool, l)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "capacity-pool.csv"), []byte(strings.Join(pool, "\n")+"\n"), 0o644); err != nil {
		return err
	}
	p, ok := policy.ShippedSource("castro-tum-2018")
	if !ok {
		return fmt.Errorf("no shipped castro-tum-2018")
	}
	y := strings.Replace(string(p), "id: castro-tum-2018", "id: castro-tum-2018-one-lead", 1)
	y = strings.Replace(y, "juvenile_min_days: 30", "juvenile_min_days: 10", 1)
	if err := os.WriteFile(filepath.Join(dir, "policy.yaml"), []byte(y), 0o644); err != nil {
		return err
	}
	a, _ := civil.ParseDate(asOf)
	var hol []string
	y0, _, _ := civil.CivilFromDays(a)
	for yr := y0 - 1; yr <= y0+2; yr++ {
		for _, d := range schedule.FederalHolidays(yr) {
			hol = append(hol, civil.FormatDate(d))
		}
	}
	sort.Strings(hol)
	return os.WriteFile(filepath.Join(dir, "holidays.csv"), []byte("day\n"+strings.Join(hol, "\n")+"\n"), 0o644)
}

// upload copies a prepared data set into a fresh bucket on the S3 server.
func upload(srv *s3servertest.Server, dir string, n int64) (string, error) {
	for _, kv := range srv.EnvList() {
		k, v, _ := strings.Cut(kv, "=")
		os.Setenv(k, v)
	}
	ctx := context.Background()
	bucket := fmt.Sprintf("bench-%d", n)
	st, err := s3store.New(ctx, bucket, "in", s3store.Options{Endpoint: srv.Endpoint, Region: "us-east-1"})
	if err != nil {
		return "", err
	}
	if err := st.CreateBucket(ctx); err != nil {
		return "", err
	}
	src := local.New(dir)
	objs, err := src.List(ctx, "")
	if err != nil {
		return "", err
	}
	for _, o := range objs {
		if !strings.HasPrefix(o.Key, "export/") && o.Key != "capacity-roomy.csv" && o.Key != "closures.csv" {
			continue
		}
		r, err := src.Open(ctx, o.Key)
		if err != nil {
			return "", err
		}
		err = storage.Put(ctx, st, o.Key, readerOf(r, o.Size))
		r.Close()
		if err != nil {
			return "", fmt.Errorf("upload %s: %w", o.Key, err)
		}
	}
	return bucket, nil
}

func readerOf(r storage.ReaderAt, size int64) io.Reader { return io.NewSectionReader(r, 0, size) }
