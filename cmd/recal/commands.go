package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/recal-project/recal/pipeline/claim"
	"github.com/recal-project/recal/pipeline/collect"
	"github.com/recal-project/recal/pipeline/gen"
	"github.com/recal-project/recal/pipeline/job"
	"github.com/recal-project/recal/pipeline/location"
	"github.com/recal-project/recal/pipeline/nightly"
	"github.com/recal-project/recal/pipeline/progress"
	"github.com/recal-project/recal/pipeline/refdata"
	"github.com/recal-project/recal/pipeline/report"
	"github.com/recal-project/recal/pipeline/storage/s3store"
	"github.com/recal-project/recal/pipeline/sysexit"
	"github.com/recal-project/recal/transforms/civil"
)

func classify(err error) int { return sysexit.Code(err) }

// flagAdder is the part of a flag set the helpers below use.
type flagAdder interface {
	StringVar(*string, string, string, string)
	BoolVar(*bool, string, bool, string)
}

func commonFlags(fs flagAdder, cfg *job.Config, insecure *bool) {
	fs.StringVar(&cfg.Courts, "courts", "", "courts reference CSV replacing the embedded EOIR base-city table")
	fs.StringVar(&cfg.HearingLocations, "hearing-locations", "", "hearing-locations reference CSV replacing the embedded EOIR table")
	storeFlags(fs, &cfg.TempDir, insecure)
}

// storeFlags adds --tmpdir and --s3-insecure-skip-verify, which every
// command that writes to a store has.
func storeFlags(fs flagAdder, tmp *string, insecure *bool) {
	fs.StringVar(tmp, "tmpdir", "", "directory for temporary files (default $TMPDIR)")
	fs.BoolVar(insecure, "s3-insecure-skip-verify", false, "disable TLS certificate verification for S3 (never in production)")
}

// locations is the location options of the flags.
func locations(insecure bool) location.Options {
	return location.Options{S3: s3store.Options{InsecureSkipVerify: insecure}}
}

const runHelp = `Usage: recal run --input URI --capacity URI [--closures URI] --policy ID --as-of YYYY-MM-DD --output URI [flags]

Reads every Parquet object under --input, validates each row (contract §1.1),
selects and prioritises cases under the policy, assigns hearing slots under the
capacity calendar, and writes assignments/, remain_closed/, overflow/, rejects/,
reports/, manifest.json and _SUCCESS under --output.

--policy is a shipped policy id (castro-tum-2018, castro-tum-circuit-split,
cruz-valdez-2021-pd, docket-rule-2024, full-reversal) or a YAML policy file
(docs/policy.md). The policy is checked completely before any data is read.

--explain IDNPROCEEDING reads the export and prints why that case gets its
outcome (each rule consulted, what it gave, the values it read) and writes
nothing; it needs --input, --policy and --as-of only.

It also writes reports/impact.{json,csv,md,html}: the run's impact figures
(docs/reports.md). --baseline-pending measures the backlog increase against a
pending caseload; --suppress-below sets the small-cell threshold of the .md
and .html (default 11; 0 turns it off).

Sharding (docs/operations.md): --shard-index I --shard-count N runs one of N
processes, each scheduling the courts that hash to I; then 'recal merge'
joins them into the output a single process would write. The index defaults
to JOB_COMPLETION_INDEX (Kubernetes Indexed Job) or AWS_BATCH_JOB_ARRAY_INDEX
(AWS Batch array job); the count to AWS_BATCH_JOB_ARRAY_SIZE, else it must be
given (--shard-count or RECAL_SHARD_COUNT).

Nightly: --previous names the last committed run; its hearings stand where they
still can, and changes/ lists NEW, UNCHANGED, MOVED and RELEASED hearings.
--as-of today and {as_of} / {as_of-N} in URIs let a scheduler pass fixed
arguments (docs/operations.md, "Nightly runs").

URIs are local paths, file://… or s3://bucket/prefix; S3 uses the standard AWS
chain (AWS_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, profiles,
AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL with path-style addressing).

Examples:
  recal run --input testdata/sample/export --capacity testdata/sample/capacity.csv \
    --closures testdata/sample/closures.csv --policy castro-tum-2018 \
    --as-of 2026-01-15 --output out/sample
  AWS_ENDPOINT_URL_S3=http://127.0.0.1:9000 recal run --input s3://exports/2026-01-15 \
    --capacity s3://exports/capacity.csv --policy castro-tum-2018 \
    --as-of 2026-01-15 --output s3://recal/runs/2026-01-15
  recal run --input testdata/sample/export --policy docket-rule-2024 \
    --as-of 2026-01-15 --explain 20000042
  recal run --input s3://exports/2026-01-16 --capacity s3://exports/capacity.csv \
    --policy castro-tum-2018 --as-of 2026-01-16 \
    --previous s3://recal/runs/2026-01-15 --output s3://recal/runs/2026-01-16
`

// runFlags are recal run's flags that are not job.Config fields.
type runFlags struct {
	insecure, debug          bool
	push                     *pusher
	explain, baseline        *int64
	cpuProfile, memProfile   *string
	releaseLimit, inputFloor *float64
}

// runFlagSet defines recal run's flags over cfg.
func runFlagSet(stderr io.Writer, cfg *job.Config) (*flag.FlagSet, *runFlags) {
	rf := &runFlags{}
	fs := flagSet("run", runHelp, stderr)
	fs.StringVar(&cfg.Input, "input", "", "URI of the closed-case export (a prefix of Parquet objects)")
	fs.StringVar(&cfg.Capacity, "capacity", "", "URI of the capacity calendar (CSV or Parquet)")
	fs.StringVar(&cfg.Closures, "closures", "", "URI of the court closures CSV (optional)")
	fs.StringVar(&cfg.Policy, "policy", "", "shipped policy id or policy file URI")
	fs.StringVar(&cfg.AsOf, "as-of", "", "as-of date YYYY-MM-DD, or today (UTC); notice and ages count from it, and {as_of} / {as_of-N} in URIs become it / N days before it")
	fs.StringVar(&cfg.Output, "output", "", "URI of the output prefix")
	fs.IntVar(&cfg.Workers, "workers", runtime.GOMAXPROCS(0), "concurrent objects, courts and writers")
	fs.IntVar(&cfg.ShardIndex, "shard-index", 0, "this shard's index, 0 to N-1 (default $JOB_COMPLETION_INDEX or $AWS_BATCH_JOB_ARRAY_INDEX)")
	fs.IntVar(&cfg.ShardCount, "shard-count", 1, "number of shards N (default $AWS_BATCH_JOB_ARRAY_SIZE, else 1)")
	fs.BoolVar(&cfg.Force, "force", false, "replace an existing output of other inputs, and take over another run's claim on it (docs/contract-additions.md)")
	fs.DurationVar(&cfg.ClaimStale, "claim-stale", claim.DefaultStale, "take over another run's claim on the output once it has had no heartbeat for this long (its run died)")
	fs.StringVar(&cfg.Previous, "previous", "", "URI of the last committed run: its hearings stand where they still can, and changes/ says what changed (nightly runs)")
	fs.BoolVar(&cfg.PreviousPolicyChange, "previous-policy-change", false, "accept a --previous run of another policy (the change is intended)")
	fs.StringVar(&cfg.OnCorrupt, "on-corrupt", "fail", "what a corrupt input object does: fail (exit 65) or quarantine (skip it, list it in the manifest and the report, count none of its rows)")
	rf.releaseLimit = fs.Float64("release-limit", nightly.DefaultReleaseLimit, "with --previous, the largest share of the previous run's hearings that may be released because their cases left the export (LEFT_EXPORT); more fails the run (exit 65, nothing committed)")
	rf.inputFloor = fs.Float64("input-floor", nightly.DefaultInputFloor, "with --previous, the smallest share of the previous run's input rows tonight's export must hold; fewer fails the run (exit 65, nothing committed); 0 turns it off")
	fs.Float64Var(&cfg.QuarantineLimit, "quarantine-limit", collect.DefaultQuarantineLimit, "with --on-corrupt=quarantine, the largest share of the input (in objects, and in rows by footer) that may be dropped; more fails the run (exit 65, nothing committed), as does dropping every row")
	fs.BoolVar(&rf.debug, "debug", false, "debug logging")
	rf.push = pushFlags(fs)
	rf.explain = fs.Int64("explain", 0, "print why the case with this idnproceeding gets its outcome, and write nothing")
	fs.IntVar(&cfg.SuppressBelow, "suppress-below", report.DefaultSuppressBelow, "in impact.md and impact.html, replace counts from 1 to N-1 with \"<N\" (0: off)")
	rf.baseline = fs.Int64("baseline-pending", 0, "pending caseload to measure the backlog increase against, e.g. 3600000 (0: none)")
	rf.cpuProfile = fs.String("cpuprofile", "", "write a pprof CPU profile of the run to this file (for docs/performance.md)")
	rf.memProfile = fs.String("memprofile", "", "write a pprof heap profile at the end of the run to this file")
	commonFlags(fs, cfg, &rf.insecure)
	return fs, rf
}

func cmdRun(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	job.Version = version() // what manifests record and run ids hash
	var cfg job.Config
	fs, rf := runFlagSet(stderr, &cfg)
	push, explain, baseline := rf.push, rf.explain, rf.baseline // pointers: set by parse
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := shardDefaults(fs, &cfg, os.LookupEnv); err != nil {
		return err
	}
	if err := job.ResolveDates(&cfg, time.Now()); err != nil {
		return err
	}
	stop, err := startCPUProfile(*rf.cpuProfile)
	if err != nil {
		return err
	}
	defer stop()
	if *rf.memProfile != "" {
		defer func() {
			if f, err := os.Create(*rf.memProfile); err == nil {
				pprof.Lookup("allocs").WriteTo(f, 0)
				f.Close()
			}
		}()
	}
	if cfg.SuppressBelow == 0 {
		cfg.SuppressBelow = -1 // off
	}
	if *baseline < 0 || cfg.SuppressBelow < -1 {
		return sysexit.Errorf(sysexit.ErrUsage, "--baseline-pending and --suppress-below must not be negative")
	}
	if *baseline > 0 {
		cfg.BaselinePending = baseline
	}
	cfg.ReleaseLimit, cfg.InputFloor = rf.releaseLimit, rf.inputFloor
	cfg.Locations = locations(rf.insecure)
	cfg.Log = newLogger(stderr, rf.debug)
	if *explain != 0 {
		return job.Explain(ctx, cfg, *explain, stdout)
	}
	cfg.Progress = &progress.Progress{}
	var disp *display
	if isTerminal(stderr) {
		disp = newDisplay(stderr, cfg.Progress, 250*time.Millisecond)
		cfg.Log = newLoggerTo(disp, true, rf.debug)
	}
	res, err := job.Run(ctx, cfg)
	if disp != nil {
		disp.Close() // before anything else is printed
	}
	var grouping [][2]string
	if cfg.ShardCount > 1 {
		grouping = [][2]string{{"shard", strconv.Itoa(cfg.ShardIndex)}}
	}
	push.send(ctx, cfg.Log, grouping, res, cfg.Progress, err)
	if err != nil {
		return err
	}
	printRun(stdout, cfg, res)
	return nil
}

// printRun is recal run's summary on stdout: what it committed and where.
func printRun(stdout io.Writer, cfg job.Config, res *job.Result) {
	c := res.Manifest.Counts
	if res.ManifestKey != "manifest.json" { // a shard's commit, under _shards/
		if res.AlreadyComplete {
			fmt.Fprintf(stdout, "recal run %s shard %d of %d: already committed; nothing to do\n", res.Manifest.RunID, cfg.ShardIndex, cfg.ShardCount)
		}
		fmt.Fprintf(stdout, "recal run %s shard %d of %d committed (policy %s, as of %s)\n", res.Manifest.RunID, cfg.ShardIndex, cfg.ShardCount, res.Manifest.Policy.ID, res.Manifest.AsOf)
		fmt.Fprintf(stdout, "  this shard's rows %d = assigned %d + remain closed %d + overflow %d + rejected %d\n",
			c.InputRows, c.Assigned, c.RemainClosed, c.Overflow, c.Rejected)
		fmt.Fprintf(stdout, "shard manifest: %s\n", joinOut(res.Output, res.ManifestKey))
		fmt.Fprintf(stdout, "when every shard has committed: recal merge --output %s --shard-count %d\n", res.Output, cfg.ShardCount)
		return
	}
	if res.AlreadyComplete {
		fmt.Fprintf(stdout, "recal run %s: already complete under %s (same inputs, policy, calendar, as-of date and recal version); nothing to do\n", res.Manifest.RunID, res.Output)
	}
	fmt.Fprintf(stdout, "recal run %s complete (policy %s, as of %s)\n", res.Manifest.RunID, res.Manifest.Policy.ID, res.Manifest.AsOf)
	fmt.Fprintf(stdout, "  input rows %d = assigned %d + remain closed %d + overflow %d + rejected %d\n",
		c.InputRows, c.Assigned, c.RemainClosed, c.Overflow, c.Rejected)
	dirs := []string{"assignments/", "remain_closed/", "overflow/", "rejects/"}
	if ch := res.Manifest.Changes; ch != nil {
		fmt.Fprintf(stdout, "  tonight, against run %s: %d new hearings, %d moved, %d released; %d unchanged\n", ch.PreviousRunID, ch.New, ch.Moved, ch.Released, ch.Unchanged)
		if g := ch.Guard; g != nil {
			fmt.Fprintf(stdout, "  release guard: %.1f%% of the previous run's hearings left the export (limit %g); input %.1f%% of its rows (floor %g)\n",
				100*g.ReleaseShare, g.ReleaseLimit, 100*g.InputShare, g.InputFloor)
		}
		dirs = append(dirs, "changes/")
	}
	if q := res.Manifest.Quarantine; q != nil {
		fmt.Fprintf(stdout, "  quarantined %d of %d objects (%.1f%%), %s of %s rows by footer (%.1f%%; limit %g): the manifest's inputs say why\n",
			q.Objects, q.InputObjects, 100*q.ObjectsShare, report.Commas(q.FooterRows), report.Commas(q.InputFooter), 100*q.RowsShare, q.Limit)
	}
	fmt.Fprintf(stdout, "outputs under %s:\n", res.Output)
	for _, d := range append(dirs, "reports/impact.json", "reports/impact.csv", "reports/impact.md", "manifest.json", "_SUCCESS") {
		fmt.Fprintf(stdout, "  %s\n", joinOut(res.Output, d))
	}
	fmt.Fprintf(stdout, "impact report (open in a browser): %s\n", joinOut(res.Output, "reports/impact.html"))
}

// shardDefaults fills --shard-index and --shard-count, when neither the
// flag nor its RECAL_ variable set them, from the array-job engines'
// variables: JOB_COMPLETION_INDEX (Kubernetes Indexed Job: the count is
// not in the pod's environment, so it must be given), and
// AWS_BATCH_JOB_ARRAY_INDEX / AWS_BATCH_JOB_ARRAY_SIZE (AWS Batch).
func shardDefaults(fs *flag.FlagSet, cfg *job.Config, env func(string) (string, bool)) error {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	num := func(name string) (int, bool, error) {
		v, ok := env(name)
		if !ok || v == "" {
			return 0, false, nil
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return 0, false, sysexit.Errorf(sysexit.ErrUsage, "%s=%q is not a shard number", name, v)
		}
		return n, true, nil
	}
	from := ""
	if !set["shard-index"] {
		for _, name := range []string{"JOB_COMPLETION_INDEX", "AWS_BATCH_JOB_ARRAY_INDEX"} {
			n, ok, err := num(name)
			if err != nil {
				return err
			}
			if ok {
				cfg.ShardIndex, from = n, name
				break
			}
		}
	}
	if !set["shard-count"] {
		n, ok, err := num("AWS_BATCH_JOB_ARRAY_SIZE")
		if err != nil {
			return err
		}
		if ok {
			cfg.ShardCount = n
		}
	}
	if from != "" && cfg.ShardIndex >= max(1, cfg.ShardCount) {
		return sysexit.Errorf(sysexit.ErrUsage, "shard index %d (from %s) needs --shard-count or RECAL_SHARD_COUNT above it (the count is %d)", cfg.ShardIndex, from, cfg.ShardCount)
	}
	return nil
}

const mergeHelp = `Usage: recal merge --output URI --shard-count N [flags]

Completes a sharded run: checks that all N shards of 'recal run --shard-index I
--shard-count N' committed the same job under --output (same inputs, policy,
calendar, as-of date and recal version; a missing or failed shard is named),
joins their remain_closed, overflow and rejects in the order one process writes
them, adds up their counts and impact figures, and writes reports/,
manifest.json and _SUCCESS. The data files and reports equal those of a
single-process run of the job, byte for byte. Rerunning a committed merge does
nothing. The policy, calendar and reference data are reloaded from the URIs the
shards were given (recorded in their manifests) and checked against their
hashes, so give shards absolute paths or s3:// URIs.

Examples:
  recal merge --output s3://recal/runs/2026-01-15 --shard-count 5
  RECAL_SHARD_COUNT=5 recal merge --output s3://recal/runs/2026-01-15
`

func cmdMerge(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	job.Version = version() // the shards' version must be this one
	var mc job.MergeConfig
	var insecure, debugLog bool
	fs := flagSet("merge", mergeHelp, stderr)
	fs.StringVar(&mc.Output, "output", "", "URI of the sharded run's output prefix")
	fs.IntVar(&mc.ShardCount, "shard-count", 0, "number of shards the run had")
	fs.BoolVar(&mc.Force, "force", false, "replace a committed run of another job under --output, and take over another run's claim on it")
	fs.DurationVar(&mc.ClaimStale, "claim-stale", claim.DefaultStale, "take over another run's claim on the output once it has had no heartbeat for this long (its run died)")
	fs.IntVar(&mc.Workers, "workers", runtime.GOMAXPROCS(0), "datasets merged at once")
	storeFlags(fs, &mc.TempDir, &insecure)
	fs.BoolVar(&debugLog, "debug", false, "debug logging")
	push := pushFlags(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	mc.Locations = locations(insecure)
	mc.Log = newLogger(stderr, debugLog)
	res, err := job.Merge(ctx, mc)
	push.send(ctx, mc.Log, [][2]string{{"step", "merge"}}, res, nil, err)
	if err != nil {
		return err
	}
	m, c := res.Manifest, res.Manifest.Counts
	if res.AlreadyComplete {
		fmt.Fprintf(stdout, "recal merge %s: already complete under %s; nothing to do\n", m.RunID, res.Output)
	}
	fmt.Fprintf(stdout, "recal merge %s complete: %d shards (policy %s, as of %s)\n", m.RunID, m.Shard.Count, m.Policy.ID, m.AsOf)
	fmt.Fprintf(stdout, "  input rows %d = assigned %d + remain closed %d + overflow %d + rejected %d\n",
		c.InputRows, c.Assigned, c.RemainClosed, c.Overflow, c.Rejected)
	fmt.Fprintf(stdout, "manifest: %s\nimpact report: %s\n", joinOut(res.Output, "manifest.json"), joinOut(res.Output, "reports/impact.html"))
	return nil
}

const reportHelp = `Usage: recal report --run URI [--compare URI ...] --output DIR_OR_URI [flags]
       recal report --compare RUN_A RUN_B [RUN_C ...] --output DIR_OR_URI [flags]

Renders impact reports from committed runs' outputs alone (their manifest and
reports/impact.json, checked against the manifest's sha256).

With one run it writes impact.json, impact.csv, impact.md and impact.html
under --output (to re-render with another --baseline-pending or
--suppress-below). With several it writes comparison.json, comparison.md and
comparison.html: the same figures side by side, with deltas against the first
run (the reference scenario). Formats: docs/reports.md.

impact.md, impact.html and the comparison documents are meant for publication:
counts from 1 to N-1 are shown as "<N" (--suppress-below, default 11).
impact.json and impact.csv are exact, for analysts (--suppress-data applies
the threshold to impact.csv as well).

Examples:
  recal report --run out/castro --output out/castro-report --baseline-pending 3600000
  recal report --compare out/castro out/cruz-valdez out/full-reversal --output out/compare
`

// stringList is a repeatable flag.
type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ",") }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }

// spreadCompare lets --compare take several URIs: the arguments that
// follow it up to the next flag are each a --compare value.
func spreadCompare(args []string) []string {
	var out []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		out = append(out, a)
		if a != "--compare" && a != "-compare" {
			continue
		}
		if i+1 < len(args) {
			out = append(out, args[i+1])
			i++
		}
		for i+1 < len(args) && !strings.HasPrefix(args[i+1], "-") {
			out = append(out, "--compare", args[i+1])
			i++
		}
	}
	return out
}

func cmdReport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var cfg report.Config
	var insecure bool
	var compare stringList
	fs := flagSet("report", reportHelp, stderr)
	fs.StringVar(&cfg.Run, "run", "", "URI of a committed run (the reference scenario when comparing)")
	fs.Var(&compare, "compare", "URI of a run to compare (repeatable, or several after one --compare)")
	fs.StringVar(&cfg.Output, "output", "", "directory or URI to write the report files to")
	fs.IntVar(&cfg.SuppressBelow, "suppress-below", report.DefaultSuppressBelow, "in the .md and .html, replace counts from 1 to N-1 with \"<N\" (0: off)")
	fs.BoolVar(&cfg.SuppressData, "suppress-data", false, "apply --suppress-below to impact.csv too")
	baseline := fs.Int64("baseline-pending", 0, "pending caseload to measure the backlog increase against (0: keep the run's)")
	fs.BoolVar(&insecure, "s3-insecure-skip-verify", false, "disable TLS certificate verification for S3 (never in production)")
	if err := parse(fs, spreadCompare(args)); err != nil {
		return err
	}
	if *baseline < 0 || cfg.SuppressBelow < 0 {
		return sysexit.Errorf(sysexit.ErrUsage, "--baseline-pending and --suppress-below must not be negative")
	}
	if *baseline > 0 {
		cfg.BaselinePending = baseline
	}
	cfg.Compare = compare
	if cfg.Run == "" && len(cfg.Compare) >= 2 {
		cfg.Run, cfg.Compare = cfg.Compare[0], cfg.Compare[1:]
	}
	if cfg.Run == "" {
		return sysexit.Errorf(sysexit.ErrUsage, "--run (or two or more --compare runs) is required")
	}
	cfg.Locations = locations(insecure)
	objs, out, err := report.Command(ctx, cfg)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "recal report: %d files under %s\n", len(objs), out)
	for _, o := range objs {
		fmt.Fprintf(stdout, "  %s (%d bytes)\n", joinOut(out, o.Key), o.Bytes)
	}
	return nil
}

func joinOut(base, rel string) string {
	if strings.HasSuffix(base, "/") {
		return base + rel
	}
	return base + "/" + rel
}

const validateHelp = `Usage: recal validate --input URI [--capacity URI] [--closures URI] [--policy ID_OR_FILE] [--as-of YYYY-MM-DD]
       recal validate --policy ID_OR_FILE

Reads and checks the inputs and writes nothing: the export (every object,
every row), and optionally the capacity calendar, closures and policy
(default castro-tum-2018). Prints counts, the first rejects and how many
valid cases each policy rule decides. With --policy alone it checks only the
policy. Exit 0 when everything is readable (rows may still be rejected, as in
a run), 65 for unreadable input, 78 for a bad policy, with every problem's
file, line and column.

Examples:
  recal validate --input testdata/sample/export --capacity testdata/sample/capacity.csv --as-of 2026-01-15
  recal validate --policy my-policy.yaml
`

func cmdValidate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var cfg job.Config
	var insecure bool
	fs := flagSet("validate", validateHelp, stderr)
	fs.StringVar(&cfg.Input, "input", "", "URI of the closed-case export")
	fs.StringVar(&cfg.Capacity, "capacity", "", "URI of the capacity calendar, CSV or Parquet (optional)")
	fs.StringVar(&cfg.Closures, "closures", "", "URI of the closures CSV (optional)")
	fs.StringVar(&cfg.Policy, "policy", "", "policy id to check (optional)")
	fs.StringVar(&cfg.AsOf, "as-of", "", "as-of date YYYY-MM-DD (default today, UTC)")
	fs.IntVar(&cfg.Workers, "workers", runtime.GOMAXPROCS(0), "concurrent objects")
	commonFlags(fs, &cfg, &insecure)
	if err := parse(fs, args); err != nil {
		return err
	}
	cfg.Locations = locations(insecure)
	cfg.Log = newLogger(stderr, false)
	res, err := job.Validate(ctx, cfg)
	if err != nil {
		return err
	}
	p := res.Policy
	fmt.Fprintf(stdout, "policy %s (%s, sha256 %s): ok\n", p.ID, p.Source, p.SHA256)
	fmt.Fprintf(stdout, "  %d exempt and %d recalendar rules, %d tiers; notice %d days (juvenile %d); horizon %d days; effective %s\n",
		p.NumExempt, len(p.RuleIDs)-1-p.NumExempt, len(p.TierRuleIDs)-1, p.MinNoticeDays, p.JuvenileNoticeDays, p.HorizonDays, civil.FormatDate(p.Effective))
	if cfg.Input == "" {
		return nil
	}
	fmt.Fprintf(stdout, "objects %d, rows %d, valid %d, rejected %d\n", res.Objects, res.Rows, res.Rows-res.Rejected, res.Rejected)
	for _, k := range slices.Sorted(maps.Keys(res.ByCode)) {
		fmt.Fprintf(stdout, "  rejected %-24s %d\n", k, res.ByCode[k])
	}
	for _, k := range slices.Sorted(maps.Keys(res.Quality)) {
		fmt.Fprintf(stdout, "  unknown (malformed) %-18s %d\n", k, res.Quality[k])
	}
	fmt.Fprintln(stdout, "valid cases by deciding rule:")
	for i, id := range p.RuleIDs {
		if n := res.Outcomes[id]; n > 0 {
			verb := "remain closed"
			if p.Recalendars(uint16(i)) {
				verb = "recalendared"
			}
			fmt.Fprintf(stdout, "  %-13s %-36s %d\n", verb, id, n)
		}
	}
	if len(res.First) > 0 {
		fmt.Fprintln(stdout, "first rejects:")
		for _, l := range res.First {
			fmt.Fprintf(stdout, "  %s\n", l)
		}
	}
	return nil
}

const genHelp = `Usage: recal gen --rows N --seed S --output DIR_OR_URI [--objects K]

Writes a seeded, deterministic synthetic export under OUTPUT/export/ (Parquet
objects with different codecs and physical layouts), and a matching
OUTPUT/capacity.csv and OUTPUT/closures.csv. Same rows and seed, same bytes.

Examples:
  recal gen --rows 20000 --seed 1 --output testdata/sample
  recal gen --rows 1000000 --seed 7 --output s3://bench/1m
`

func cmdGen(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var o gen.Options
	var rows int64
	var seed uint64
	var out, tmp string
	var insecure bool
	fs := flagSet("gen", genHelp, stderr)
	fs.Int64Var(&rows, "rows", 0, "number of export rows")
	fs.Uint64Var(&seed, "seed", 1, "random seed")
	fs.StringVar(&out, "output", "", "output directory or URI")
	fs.IntVar(&o.Objects, "objects", 0, "number of export objects (default: one per 500k rows, at least 4)")
	fs.Float64Var(&o.BadRowRate, "bad-rows", 0.005, "share of deliberately invalid rows")
	fs.IntVar(&o.Workers, "workers", runtime.GOMAXPROCS(0), "objects written at once")
	fs.StringVar(&tmp, "tmpdir", "", "directory for temporary files")
	fs.StringVar(&o.Layout, "layout", "", "write every object in one writer layout (reference, legacy-db, spark, pandas) instead of all of them")
	fs.BoolVar(&insecure, "s3-insecure-skip-verify", false, "disable TLS verification for S3")
	if err := parse(fs, args); err != nil {
		return err
	}
	if rows <= 0 || out == "" {
		return sysexit.Errorf(sysexit.ErrUsage, "--rows (positive) and --output are required")
	}
	o.Rows, o.Seed, o.TempDir = rows, seed, tmp
	st, err := location.Open(ctx, out, locations(insecure))
	if err != nil {
		return err
	}
	if s3, ok := st.(*s3store.Store); ok {
		if err := s3.CreateBucket(ctx); err != nil {
			return err
		}
	}
	ref, err := refdata.Load(refdata.Paths{})
	if err != nil {
		return err
	}
	res, err := gen.Generate(ctx, st, ref, o)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %d rows in %d objects over %d courts under %s\n", res.Rows, len(res.Objects), res.Courts, st)
	fmt.Fprintf(stdout, "  %s\n  %s\n  %s\n", joinOut(out, "export/"), joinOut(out, "capacity.csv"), joinOut(out, "closures.csv"))
	return nil
}

// startCPUProfile starts a pprof CPU profile into path ("" does nothing)
// and returns the function that ends it.
func startCPUProfile(path string) (stop func(), err error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, sysexit.With(sysexit.ErrIO, err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, sysexit.With(sysexit.ErrInternal, err)
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}
