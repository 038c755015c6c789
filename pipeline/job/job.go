// Package job runs recal's batch jobs: `run` (read → validate → select →
// schedule → write) and `validate` (read and check, write nothing).
package job

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/recal-project/recal/pipeline/location"
	"github.com/recal-project/recal/pipeline/refdata"
	"github.com/recal-project/recal/pipeline/source"
	"github.com/recal-project/recal/pipeline/storage"
	"github.com/recal-project/recal/pipeline/sysexit"
	"github.com/recal-project/recal/transforms/cases"
	"github.com/recal-project/recal/transforms/civil"
	"github.com/recal-project/recal/transforms/export"
	"github.com/recal-project/recal/transforms/policy"
	"github.com/recal-project/recal/transforms/reference"
	"github.com/recal-project/recal/transforms/schedule"
	"github.com/recal-project/recal/transforms/validate"
)

// Version is the tool version recorded in manifests (set by the build).
var Version = "dev"

// Config is a run's configuration (flags and RECAL_* variables).
type Config struct {
	Input, Capacity, Closures, Output string
	Policy                            string
	AsOf                              string
	Workers                           int
	ShardIndex, ShardCount            int
	Force                             bool
	OnCorrupt                         string
	// QuarantineLimit is the largest share of the input, in objects and in
	// rows by footer, that OnCorrupt "quarantine" may drop before the run
	// fails instead (0: DefaultQuarantineLimit).
	QuarantineLimit float64
	// ClaimStale is how long another run's claim on the output may go
	// without a heartbeat before this run takes it over (0:
	// claim.DefaultStale).
	ClaimStale time.Duration
	// claimHeartbeat is how often the claim is rewritten (0: 30 s), and
	// afterClaim runs once the output is claimed: for tests.
	claimHeartbeat time.Duration
	afterClaim     func()
	// ReleaseLimit and InputFloor are the release guard of a run with
	// Previous (nil: DefaultReleaseLimit, DefaultInputFloor).
	ReleaseLimit, InputFloor *float64
	// Previous is the last committed run (--previous): its standing
	// hearings are kept where they still can be, and changes/ says what
	// changed. PreviousPolicyChange accepts a previous run of another
	// policy.
	Previous                 string
	PreviousPolicyChange     bool
	Courts, HearingLocations string
	TempDir                  string
	// SuppressBelow is the disclosure threshold of the publication reports
	// (impact.md, impact.html): 0 means report.DefaultSuppressBelow and a
	// negative value turns suppression off. BaselinePending the pending caseload the
	// backlog increase is measured against (nil: none).
	SuppressBelow   int
	BaselinePending *int64
	Locations       location.Options
	Log             *slog.Logger
	// Progress, when set, is updated as the run goes (for a display or
	// metrics).
	Progress *Progress
}

// ParseAsOf parses the as-of date.
func ParseAsOf(s string) (int32, error) {
	if s == "" {
		return 0, sysexit.Errorf(sysexit.ErrUsage, "--as-of is required (YYYY-MM-DD)")
	}
	d, ok := civil.ParseDate(s)
	if !ok || len(s) != 10 {
		return 0, sysexit.Errorf(sysexit.ErrUsage, "--as-of %q is not a date (YYYY-MM-DD)", s)
	}
	return d, nil
}

// DefaultPolicy is the policy `validate` evaluates when none is given.
const DefaultPolicy = "castro-tum-2018"

// LoadPolicy resolves --policy: the id of a shipped policy, or the URI of
// a YAML policy file (a local path, file://… or s3://…). A policy is
// checked completely here, before any data is read.
func LoadPolicy(ctx context.Context, idOrFile string, o location.Options) (*policy.Policy, error) {
	if idOrFile == "" {
		return nil, sysexit.Errorf(sysexit.ErrUsage, "--policy is required (a policy file, or a shipped id: %s)", strings.Join(policy.Shipped(), ", "))
	}
	if _, ok := policy.ShippedSource(idOrFile); ok {
		return policy.LoadShipped(idOrFile)
	}
	if !strings.ContainsAny(idOrFile, "/\\") && !strings.HasSuffix(idOrFile, ".yaml") && !strings.HasSuffix(idOrFile, ".yml") {
		return nil, sysexit.Errorf(sysexit.ErrConfig, "policy %q: no shipped policy has that id (shipped: %s); a policy file needs a path or a .yaml name",
			idOrFile, strings.Join(policy.Shipped(), ", "))
	}
	b, err := location.ReadFile(ctx, idOrFile, o)
	if err != nil {
		if errors.Is(err, storage.ErrNotExist) {
			return nil, sysexit.With(sysexit.ErrConfig, fmt.Errorf("policy %s: no such file", idOrFile))
		}
		return nil, err
	}
	return policy.Load(idOrFile, b)
}

// inputs lists the export objects under the input URI.
func inputs(ctx context.Context, cfg *Config) (storage.Store, []storage.ObjectInfo, error) {
	st, err := location.Open(ctx, cfg.Input, cfg.Locations)
	if err != nil {
		return nil, nil, err
	}
	objs, err := listInputs(ctx, st, cfg.Input)
	return st, objs, err
}

// listInputs lists the export objects of st, skipping hidden and marker
// files, sorted by key whatever order the store lists them in.
func listInputs(ctx context.Context, st storage.Store, uri string) ([]storage.ObjectInfo, error) {
	all, err := st.List(ctx, "")
	if err != nil {
		return nil, err
	}
	var objs []storage.ObjectInfo
	for _, o := range all {
		base := o.Key[strings.LastIndexByte(o.Key, '/')+1:]
		if strings.HasPrefix(base, ".") || strings.HasPrefix(base, "_") {
			continue // hidden and marker files (_SUCCESS, .crc …), as Spark and Hive skip them
		}
		objs = append(objs, o)
	}
	// Object order decides "the first idnproceeding wins"; never trust a
	// store's listing order.
	sort.Slice(objs, func(i, j int) bool { return objs[i].Key < objs[j].Key })
	if len(objs) == 0 {
		return nil, sysexit.Errorf(sysexit.ErrNoInput, "input %s: no objects", uri)
	}
	return objs, nil
}

func sha(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// rejectRec is a rejected row; rows are identified by position, never by
// content.
type rejectRec struct {
	object  int
	row     int64
	idnProc int64
	hasID   bool
	reject  validate.Reject
}

// quarantined is an object skipped by --on-corrupt=quarantine.
type quarantined struct {
	object int
	err    error
}

// collected is everything the read stage keeps.
type collected struct {
	mu sync.Mutex
	// cases is sized once from the footers' row counts; each batch fills
	// the range of its rows (its object's offset plus its first row), so
	// the cases are in export order however the workers interleave
	// (rejected rows leave zero records, dropped at the end). Joining
	// per-batch slices instead cost a second copy of every case into fresh
	// memory: 5.6 s of page faults at 10M rows.
	cases []cases.Case
	// free returns the memory of cases (an off-heap slab, cases.NewSlab).
	free    func()
	rejects []rejectRec
	// quarantined lists the objects --on-corrupt=quarantine skipped, in
	// input order; none of their rows is counted.
	quarantined []quarantined
	quality     validate.Quality
	rows        int64
	// footer is each object's row count by its footer (0 where the footer
	// could not be read).
	footer []int64
	// objRows counts each object's rows (0 for a quarantined object): the
	// rows this run owns (all of them unless sharded).
	objRows []int64
	judges  *cases.Judges
	// shard is the run's share of the courts (nil: unsharded).
	shard *shardPlan
	// prev, with --previous, learns in dedupe which standing hearings'
	// cases are among the valid rows.
	prev *previous
}

// footerRows returns the objects' declared row counts, reading footers a
// few at a time (one small ranged read each). With quarantine, an object
// whose footer is unreadable (a data error, not a storage one) counts 0
// rows and its error is returned in bad[i].
func footerRows(ctx context.Context, st storage.Store, objs []storage.ObjectInfo, quarantine bool) (rows []int64, bad []error, err error) {
	rows, bad = make([]int64, len(objs)), make([]error, len(objs))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(8)
	for i, o := range objs {
		g.Go(func() error {
			n, err := source.FooterRows(gctx, st, o)
			if err != nil && quarantine && source.IsDataError(err) {
				bad[i] = err
				return nil
			}
			rows[i] = n
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, nil, err
	}
	return rows, bad, nil
}

func collect(ctx context.Context, st storage.Store, objs []storage.ObjectInfo, ref *reference.Data, pol *policy.Policy, asOf int32, workers int, quarantine bool, shard *shardPlan, prog *Progress) (*collected, []source.ObjectStats, error) {
	rows, bad, err := footerRows(ctx, st, objs, quarantine)
	if err != nil {
		return nil, nil, err
	}
	k := newCollector(objs, rows, bad, ref, pol, asOf, shard, prog)
	opts := source.Options{Workers: workers}
	if quarantine {
		// Objects whose footer was unreadable are not opened again.
		footerBad := slices.Clone(bad)
		opts.Skip = func(i int) bool { return footerBad[i] != nil }
		opts.Quarantine = k.quarantine
	}
	prog.startRead(len(objs))
	stats, err := source.Read(ctx, st, objs, opts, k.batch)
	k.finish(stats)
	if err != nil {
		k.out.free()
		return nil, nil, err
	}
	return k.out, stats, nil
}

// collector is the read stage's state: the rows, rejects and quality of
// each object are kept per object until the end, so that a quarantined
// object's already-delivered batches can be dropped.
type collector struct {
	out  *collected
	objs []storage.ObjectInfo
	// rows are the footers' row counts; object i's rows go to
	// out.cases[start[i]:start[i+1]], row by row: the slab is in export
	// order whatever order the workers finish in.
	rows, start []int64
	// bad[i] is why object i was quarantined (nil: it was not).
	bad        []error
	objRows    []int64 // rows this run owns (all unless sharded)
	readRows   []int64 // every row, for progress
	objQuality []validate.Quality
	ref        *reference.Data
	pol        *policy.Policy
	asOf       int32
	shard      *shardPlan
	val        *validate.Validator
	prog       *Progress
}

func newCollector(objs []storage.ObjectInfo, rows []int64, bad []error, ref *reference.Data, pol *policy.Policy, asOf int32, shard *shardPlan, prog *Progress) *collector {
	start := make([]int64, len(objs)+1)
	for i, n := range rows {
		start[i+1] = start[i] + n
	}
	slab, free := cases.NewSlab(int(start[len(objs)]))
	return &collector{
		out:  &collected{judges: cases.NewJudges(), cases: slab, free: free, shard: shard, footer: rows},
		objs: objs, rows: rows, start: start, bad: bad,
		objRows: make([]int64, len(objs)), readRows: make([]int64, len(objs)), objQuality: make([]validate.Quality, len(objs)),
		ref: ref, pol: pol, asOf: asOf, shard: shard, val: validate.New(ref, asOf), prog: prog,
	}
}

// quarantine is source.Options.Quarantine: a data error quarantines
// object i (its delivered records are cleared); anything else fails the
// run.
func (k *collector) quarantine(i int, err error) bool {
	if !source.IsDataError(err) {
		return false
	}
	clear(k.out.cases[k.start[i]:k.start[i+1]])
	k.out.mu.Lock()
	if k.bad[i] == nil {
		k.bad[i] = err
	}
	k.out.mu.Unlock()
	return true
}

// batch is the source.BatchFunc: it validates and decides each row of b
// into the object's range of the slab.
func (k *collector) batch(ctx context.Context, b *export.Batch) error {
	off := k.start[b.Object] + b.Row0
	if b.Row0 < 0 || off+int64(b.N) > k.start[b.Object+1] {
		return &source.ObjectError{Key: b.Key, Err: fmt.Errorf("%w: more rows than its footer declares (%d)", source.ErrRowCount, k.rows[b.Object])}
	}
	ev := k.pol.NewEvaluator(k.ref, k.asOf)
	judges := map[string]uint32{} // this batch's judges, to lock the shared table once per code
	var q, foreignQ validate.Quality
	owned := int64(b.N)
	cs := k.out.cases[off : off : off+int64(b.N)]
	var rj []rejectRec
	for i := 0; i < b.N; i++ {
		row := b.Row0 + int64(i)
		qq := &q
		mine := true
		if k.shard != nil {
			court := -1
			if b.BaseCityCode.S[i] == export.Valid {
				court = k.ref.CourtIndex(b.BaseCityCode.V[i])
			}
			if mine = k.shard.ownsRow(court); !mine {
				qq = &foreignQ
				owned--
			}
		}
		if r, ok := k.val.Row(b, i, qq); !ok {
			if mine {
				rj = append(rj, rejectRec{object: b.Object, row: row, idnProc: b.IDNProceeding.V[i],
					hasID: b.IDNProceeding.S[i] == export.Valid, reject: r})
			}
			continue
		}
		c := cases.Case{
			IDNCase: b.IDNCase.V[i], IDNProceeding: b.IDNProceeding.V[i],
			Ord: cases.Ord(b.Object, row), Court: uint16(k.ref.CourtIndex(b.BaseCityCode.V[i])),
		}
		if mine {
			if err := k.decide(ev, b, i, &c, judges); err != nil {
				return err
			}
		} // else kept only for deduplication: another shard's case
		cs = append(cs, c)
	}
	k.out.mu.Lock()
	k.out.rejects = append(k.out.rejects, rj...)
	k.objQuality[b.Object].Add(&q)
	k.objRows[b.Object] += owned
	k.readRows[b.Object] += int64(b.N)
	done := k.readRows[b.Object] == k.rows[b.Object]
	k.out.mu.Unlock()
	k.prog.readRows(b.N)
	if done {
		k.prog.readObject(k.objs[b.Object].Size)
	}
	return nil
}

// decide fills a valid row's case record: judge, language, nationality,
// closure, years closed, and the policy's decision.
func (k *collector) decide(ev *policy.Evaluator, b *export.Batch, i int, c *cases.Case, judges map[string]uint32) error {
	if b.IJCode.S[i] == export.Valid {
		code := b.IJCode.V[i]
		j, ok := judges[code]
		if !ok {
			j = k.out.judges.Intern(code)
			judges[code] = j
		}
		c.IJ = j
	}
	if b.Lang.S[i] == export.Valid {
		c.Lang = k.ref.Languages.Index(b.Lang.V[i])
	}
	if b.Nat.S[i] == export.Valid {
		c.Nat = k.ref.Nationalities.Index(b.Nat.V[i])
	}
	c.Closure = uint8(max(0, cases.ClosureIndex(b.OtherComp.V[i])))
	c.YearsClosed = cases.YearsBetween(b.CompDate.V[i], k.asOf)
	return ev.Decide(b, i, c)
}

// finish adds up the objects that were read, drops what quarantined
// objects delivered, and drops the records that rejected rows left empty.
func (k *collector) finish(stats []source.ObjectStats) {
	out := k.out
	out.objRows = k.objRows
	for i := range k.objs {
		if k.bad[i] != nil {
			k.objRows[i] = 0
			out.quarantined = append(out.quarantined, quarantined{object: i, err: k.bad[i]})
			if stats != nil {
				stats[i].Rows, stats[i].Quarantined = 0, k.bad[i]
			}
			continue
		}
		out.rows += k.objRows[i]
		out.quality.Add(&k.objQuality[i])
	}
	if len(out.quarantined) > 0 {
		kept := out.rejects[:0]
		for _, r := range out.rejects {
			if k.bad[r.object] == nil {
				kept = append(kept, r)
			}
		}
		out.rejects = kept
	}
	// A valid case's idnproceeding is positive.
	kept := out.cases[:0]
	for i := range out.cases {
		if out.cases[i].IDNProceeding != 0 {
			kept = append(kept, out.cases[i])
		}
	}
	out.cases = kept
}

// dedupe applies "the first idnproceeding wins, ordered by object key then
// row" and turns later duplicates into rejects. It leaves cases sorted by
// (idnproceeding, ord).
func (c *collected) dedupe() {
	if !c.dedupeRuns() {
		slices.SortFunc(c.cases, func(a, b cases.Case) int {
			if a.IDNProceeding != b.IDNProceeding {
				return cmp.Compare(a.IDNProceeding, b.IDNProceeding)
			}
			return cmp.Compare(a.Ord, b.Ord)
		})
		c.dropAdjacentDuplicates()
	}
	if c.prev != nil {
		c.prev.markPresent(c.cases)
	}
	if c.shard != nil {
		// Every shard's valid rows took part in deduplication; now only
		// this shard's courts stay.
		kept := c.cases[:0]
		for i := range c.cases {
			if c.shard.own[c.cases[i].Court] {
				kept = append(kept, c.cases[i])
			}
		}
		c.cases = kept
	}
	sort.Slice(c.rejects, func(i, j int) bool {
		a, b := &c.rejects[i], &c.rejects[j]
		if a.object != b.object {
			return a.object < b.object
		}
		return a.row < b.row
	})
}

// dedupeRuns deduplicates without sorting when the cases are ascending
// runs of idnproceeding whose ranges do not overlap (exports are usually
// written in id order, object by object): then equal ids can only be
// neighbours. It reports false, changing nothing, otherwise. Sorting 10M
// nearly sorted records cost 1.6 s on one core.
func (c *collected) dedupeRuns() bool {
	type run struct{ lo, hi int64 }
	var runs []run
	for i := range c.cases {
		id := c.cases[i].IDNProceeding
		if i == 0 || id < c.cases[i-1].IDNProceeding {
			if len(runs) == 4096 {
				return false
			}
			runs = append(runs, run{id, id})
		}
		runs[len(runs)-1].hi = id
	}
	slices.SortFunc(runs, func(a, b run) int { return cmp.Compare(a.lo, b.lo) })
	for k := 1; k < len(runs); k++ {
		if runs[k].lo <= runs[k-1].hi {
			return false
		}
	}
	c.dropAdjacentDuplicates()
	return true
}

// dropAdjacentDuplicates keeps, of neighbouring cases with one
// idnproceeding, the first in input order (the lowest Ord) and rejects the
// others as duplicates.
func (c *collected) dropAdjacentDuplicates() {
	reject := func(x *cases.Case) {
		if c.shard != nil && !c.shard.own[x.Court] {
			return // another shard's row: that shard rejects it
		}
		c.rejects = append(c.rejects, rejectRec{object: int(x.Ord >> 40), row: x.Ord & (1<<40 - 1), idnProc: x.IDNProceeding, hasID: true,
			reject: validate.Reject{Code: validate.DuplicateProceeding, Column: "idnproceeding"}})
	}
	kept := c.cases[:0]
	for i := range c.cases {
		x := c.cases[i]
		if n := len(kept); n > 0 && kept[n-1].IDNProceeding == x.IDNProceeding {
			if x.Ord < kept[n-1].Ord {
				reject(&kept[n-1])
				kept[n-1] = x
			} else {
				reject(&x)
			}
			continue
		}
		kept = append(kept, x)
	}
	c.cases = kept
}

// stageTimer records stage durations for logs and the manifest's timing.
type stageTimer struct {
	log     *slog.Logger
	prog    *Progress
	seconds map[string]float64
	start   time.Time
	stage   string
}

func newStageTimer(log *slog.Logger) *stageTimer {
	return &stageTimer{log: log, seconds: map[string]float64{}}
}

func (t *stageTimer) begin(stage string) {
	t.end()
	t.stage, t.start = stage, time.Now()
	t.prog.setStage(stage)
	t.log.Info("stage start", "stage", stage)
}

func (t *stageTimer) end(attrs ...any) {
	if t.stage == "" {
		return
	}
	d := time.Since(t.start)
	t.seconds[t.stage] = d.Seconds()
	t.log.Info("stage done", append([]any{"stage", t.stage, "seconds", d.Seconds()}, attrs...)...)
	t.stage = ""
}

func logger(cfg *Config) *slog.Logger {
	if cfg.Log != nil {
		return cfg.Log
	}
	return slog.New(slog.NewJSONHandler(os.Stderr, nil))
}

// setup is what a job loads and checks before it reads any data.
type setup struct {
	asOf                int32
	pol                 *policy.Policy
	ref                 *reference.Data
	cal                 *schedule.Calendar
	capBytes, closBytes []byte
	in                  storage.Store
	objs                []storage.ObjectInfo
}

// load checks the configuration and reads the small inputs: as-of date,
// policy, reference data, capacity calendar, closures, and the listing of
// the export. For `run` (strict) the as-of date, policy and capacity are
// required; `validate` defaults the as-of date to today (UTC) and the
// policy to DefaultPolicy, and checks the calendar only when given.
func load(ctx context.Context, cfg *Config, strict bool) (*setup, error) {
	su := &setup{}
	var err error
	if !strict && cfg.AsOf == "" {
		y, mo, d := time.Now().UTC().Date()
		su.asOf = civil.DaysFromCivil(y, int(mo), d)
	} else if su.asOf, err = ParseAsOf(cfg.AsOf); err != nil {
		return nil, err
	}
	pol := cfg.Policy
	if !strict && pol == "" {
		pol = DefaultPolicy
	}
	if su.pol, err = LoadPolicy(ctx, pol, cfg.Locations); err != nil {
		return nil, err
	}
	if su.asOf < su.pol.Effective {
		logger(cfg).Warn("the as-of date precedes the policy's effective date; evaluating it as a what-if",
			"policy", su.pol.ID, "effective", civil.FormatDate(su.pol.Effective), "as_of", civil.FormatDate(su.asOf))
	}
	if su.ref, err = refdata.Load(refdata.Paths{Courts: cfg.Courts, HearingLocations: cfg.HearingLocations}); err != nil {
		return nil, err
	}
	su.cal = schedule.NewCalendar()
	if cfg.Capacity != "" {
		if su.capBytes, err = location.ReadFile(ctx, cfg.Capacity, cfg.Locations); err != nil {
			return nil, err
		}
		if err := parseCapacity(su.cal, cfg.Capacity, su.capBytes, su.ref); err != nil {
			return nil, err
		}
	}
	if cfg.Closures != "" {
		if su.closBytes, err = location.ReadFile(ctx, cfg.Closures, cfg.Locations); err != nil {
			return nil, err
		}
		if err := su.cal.ParseClosures(cfg.Closures, su.closBytes, su.ref); err != nil {
			return nil, err
		}
	}
	if cfg.Input == "" { // recal merge: the shards listed the export
		return su, nil
	}
	if su.in, su.objs, err = inputs(ctx, cfg); err != nil {
		return nil, err
	}
	return su, nil
}
