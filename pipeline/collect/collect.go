// Package collect is the read stage of a run: it reads the export's
// objects, validates every row, evaluates the policy on the valid ones and
// keeps the case records the scheduler needs, with the rejects, the data
// quality and what quarantine skipped.
package collect

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sort"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/apache/arrow/go/v15/arrow/memory"

	"github.com/recal-project/recal/pipeline/progress"
	"github.com/recal-project/recal/pipeline/shard"
	"github.com/recal-project/recal/pipeline/source"
	"github.com/recal-project/recal/pipeline/storage"
	"github.com/recal-project/recal/transforms/cases"
	"github.com/recal-project/recal/transforms/export"
	"github.com/recal-project/recal/transforms/idsort"
	"github.com/recal-project/recal/transforms/policy"
	"github.com/recal-project/recal/transforms/reference"
	"github.com/recal-project/recal/transforms/validate"
)

// Reject is a rejected row; rows are identified by position, never by
// content.
type Reject struct {
	// Object indexes the input objects; Row is the row within it.
	Object int
	Row    int64
	// IDNProc is the row's idnproceeding, when it has one (HasID).
	IDNProc int64
	HasID   bool
	Reject  validate.Reject
}

// Quarantined is an object skipped by --on-corrupt=quarantine.
type Quarantined struct {
	Object int
	Err    error
}

// Collected is everything the read stage keeps.
type Collected struct {
	mu sync.Mutex
	// Cases is sized once from the footers' row counts; each batch fills
	// the range of its rows (its object's offset plus its first row), so
	// the cases are in export order however the workers interleave
	// (rejected rows leave zero records, dropped at the end). Joining
	// per-batch slices instead cost a second copy of every case into fresh
	// memory: 5.6 s of page faults at 10M rows.
	Cases []cases.Case
	// Free returns the memory of Cases (an off-heap slab, cases.NewSlab).
	Free    func()
	Rejects []Reject
	// Quarantined lists the objects --on-corrupt=quarantine skipped, in
	// input order; none of their rows is counted.
	Quarantined []Quarantined
	Quality     validate.Quality
	// Rows counts the rows this run owns (all of them unless sharded),
	// quarantined objects aside.
	Rows int64
	// Footer is each object's row count by its footer (0 where the footer
	// could not be read).
	Footer []int64
	// ObjRows counts each object's rows (0 for a quarantined object): the
	// rows this run owns.
	ObjRows []int64
	Judges  *cases.Judges
	// Shard is the run's share of the courts (nil: unsharded).
	Shard *shard.Plan
	// workers bounds Dedupe's sorting goroutines.
	workers int
}

// footerRows returns the objects' declared row counts, reading footers a
// few at a time (one small ranged read each). With quarantine, an object
// whose footer is unreadable (a data error, not a storage one) counts 0
// rows and its error is returned in bad[i].
func footerRows(ctx context.Context, st source.Opener, objs []storage.ObjectInfo, quarantine bool) (rows []int64, bad []error, err error) {
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

// Options are what Read needs besides the objects.
type Options struct {
	Ref    *reference.Data
	Policy *policy.Policy
	AsOf   int32
	// Workers bounds the objects decoded at once.
	Workers int
	// Quarantine skips objects with data errors (--on-corrupt=quarantine)
	// instead of failing.
	Quarantine bool
	// Shard is the run's share of the courts (nil: unsharded).
	Shard *shard.Plan
	// Progress, when set, counts the rows and objects read.
	Progress *progress.Progress
	// Mem allocates the decoder's arrow buffers (nil: arrow's Go
	// allocator).
	Mem memory.Allocator
}

// Read reads, validates and decides every row of objs: the valid rows'
// case records, in export order, and the rejected rows. The caller frees
// the records (Collected.Free) when done. The returned stats describe
// each object.
func Read(ctx context.Context, st source.Opener, objs []storage.ObjectInfo, o Options) (*Collected, []source.ObjectStats, error) {
	return read(ctx, st, objs, o, unread(o.Policy))
}

// read is Read leaving out the columns un names (nil: none).
func read(ctx context.Context, st source.Opener, objs []storage.ObjectInfo, o Options, un func(int) bool) (*Collected, []source.ObjectStats, error) {
	rows, bad, err := footerRows(ctx, st, objs, o.Quarantine)
	if err != nil {
		return nil, nil, err
	}
	k := newCollector(objs, rows, bad, &o)
	opts := source.Options{Workers: o.Workers, Mem: o.Mem, Unread: un}
	if o.Quarantine {
		// Objects whose footer was unreadable are not opened again.
		footerBad := slices.Clone(bad)
		opts.Skip = func(i int) bool { return footerBad[i] != nil }
		opts.Quarantine = k.quarantine
	}
	o.Progress.StartRead(len(objs))
	stats, err := source.Read(ctx, st, objs, opts, k.batch)
	k.finish(stats)
	if err != nil {
		k.out.Free()
		return nil, nil, err
	}
	return k.out, stats, nil
}

// policyOnly are the export columns nothing but a policy's expressions
// reads: not validation, not the case records, not a derived field.
// (TestUnreadColumns checks that leaving them out changes nothing.)
var policyOnly = []string{"case_type", "recal_motion_dec", "pending_applications", "application_outcome"}

// unread says which columns a run of pol need not decode: the policy-only
// columns its expressions do not name. Without them a 10M-row read took
// 6.8 s instead of 6.0 (pending_applications is a list).
func unread(pol *policy.Policy) func(int) bool {
	skip := make([]bool, len(export.Columns))
	for c, col := range export.Columns {
		skip[c] = slices.Contains(policyOnly, col.Name) && (pol == nil || !pol.Reads(col.Name))
	}
	return func(c int) bool { return skip[c] }
}

// collector is the read stage's state: the rows, rejects and quality of
// each object are kept per object until the end, so that a quarantined
// object's already-delivered batches can be dropped.
type collector struct {
	out  *Collected
	objs []storage.ObjectInfo
	// rows are the footers' row counts; object i's rows go to
	// out.Cases[start[i]:start[i+1]], row by row: the slab is in export
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
	shard      *shard.Plan
	val        *validate.Validator
	prog       *progress.Progress
}

func newCollector(objs []storage.ObjectInfo, rows []int64, bad []error, o *Options) *collector {
	start := make([]int64, len(objs)+1)
	for i, n := range rows {
		start[i+1] = start[i] + n
	}
	slab, free := cases.NewSlab(int(start[len(objs)]))
	return &collector{
		out:  &Collected{Judges: cases.NewJudges(), Cases: slab, Free: free, Shard: o.Shard, Footer: rows, workers: o.Workers},
		objs: objs, rows: rows, start: start, bad: bad,
		objRows: make([]int64, len(objs)), readRows: make([]int64, len(objs)), objQuality: make([]validate.Quality, len(objs)),
		ref: o.Ref, pol: o.Policy, asOf: o.AsOf, shard: o.Shard, val: validate.New(o.Ref, o.AsOf), prog: o.Progress,
	}
}

// quarantine is source.Options.Quarantine: a data error quarantines
// object i (its delivered records are cleared); anything else fails the
// run.
func (k *collector) quarantine(i int, err error) bool {
	if !source.IsDataError(err) {
		return false
	}
	clear(k.out.Cases[k.start[i]:k.start[i+1]])
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
	cs := k.out.Cases[off : off : off+int64(b.N)]
	var rj []Reject
	for i := 0; i < b.N; i++ {
		row := b.Row0 + int64(i)
		qq := &q
		mine := true
		if k.shard != nil {
			court := -1
			if b.BaseCityCode.S[i] == export.Valid {
				court = k.ref.CourtIndex(b.BaseCityCode.V[i])
			}
			if mine = k.shard.OwnsRow(court); !mine {
				qq = &foreignQ
				owned--
			}
		}
		if r, ok := k.val.Row(b, i, qq); !ok {
			if mine {
				rj = append(rj, Reject{Object: b.Object, Row: row, IDNProc: b.IDNProceeding.V[i],
					HasID: b.IDNProceeding.S[i] == export.Valid, Reject: r})
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
	k.out.Rejects = append(k.out.Rejects, rj...)
	k.objQuality[b.Object].Add(&q)
	k.objRows[b.Object] += owned
	k.readRows[b.Object] += int64(b.N)
	done := k.readRows[b.Object] == k.rows[b.Object]
	k.out.mu.Unlock()
	k.prog.ReadRows(b.N)
	if done {
		k.prog.ReadObject(k.objs[b.Object].Size)
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
			j = k.out.Judges.Intern(code)
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
	out.ObjRows = k.objRows
	for i := range k.objs {
		if k.bad[i] != nil {
			k.objRows[i] = 0
			out.Quarantined = append(out.Quarantined, Quarantined{Object: i, Err: k.bad[i]})
			if stats != nil {
				stats[i].Rows, stats[i].Quarantined = 0, k.bad[i]
			}
			continue
		}
		out.Rows += k.objRows[i]
		out.Quality.Add(&k.objQuality[i])
	}
	if len(out.Quarantined) > 0 {
		kept := out.Rejects[:0]
		for _, r := range out.Rejects {
			if k.bad[r.Object] == nil {
				kept = append(kept, r)
			}
		}
		out.Rejects = kept
	}
	// A valid case's idnproceeding is positive.
	kept := out.Cases[:0]
	for i := range out.Cases {
		if out.Cases[i].IDNProceeding != 0 {
			kept = append(kept, out.Cases[i])
		}
	}
	out.Cases = kept
}

// Dedupe applies "the first idnproceeding wins, ordered by object key then
// row" and turns later duplicates into rejects. It leaves the cases sorted
// by (idnproceeding, ord). present, when not nil, sees every shard's
// deduplicated cases before a sharded run keeps its own courts' (the
// nightly run marks its standing hearings there).
func (c *Collected) Dedupe(present func([]cases.Case)) {
	if !c.dedupeRuns() {
		// A multi-threaded writer's objects interleave their ids: 10M
		// records took 2.4 s to sort on one core, 1.05 s by bucket.
		idsort.Sort(c.Cases, func(x *cases.Case) int64 { return x.IDNProceeding }, byIDOrd, c.workers)
		c.dropAdjacentDuplicates()
	}
	if present != nil {
		present(c.Cases)
	}
	if c.Shard != nil {
		// Every shard's valid rows took part in deduplication; now only
		// this shard's courts stay.
		kept := c.Cases[:0]
		for i := range c.Cases {
			if c.Shard.OwnsCourt(c.Cases[i].Court) {
				kept = append(kept, c.Cases[i])
			}
		}
		c.Cases = kept
	}
	sort.Slice(c.Rejects, func(i, j int) bool {
		a, b := &c.Rejects[i], &c.Rejects[j]
		if a.Object != b.Object {
			return a.Object < b.Object
		}
		return a.Row < b.Row
	})
}

// byIDOrd is the deduplication order: idnproceeding, then export order.
func byIDOrd(a, b cases.Case) int {
	if a.IDNProceeding != b.IDNProceeding {
		return cmp.Compare(a.IDNProceeding, b.IDNProceeding)
	}
	return cmp.Compare(a.Ord, b.Ord)
}

// dedupeRuns deduplicates without sorting when the cases are ascending
// runs of idnproceeding whose ranges do not overlap (exports are usually
// written in id order, object by object): then equal ids can only be
// neighbours. It reports false, changing nothing, otherwise. Sorting 10M
// nearly sorted records cost 1.6 s on one core.
func (c *Collected) dedupeRuns() bool {
	type run struct{ lo, hi int64 }
	var runs []run
	for i := range c.Cases {
		id := c.Cases[i].IDNProceeding
		if i == 0 || id < c.Cases[i-1].IDNProceeding {
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
func (c *Collected) dropAdjacentDuplicates() {
	reject := func(x *cases.Case) {
		if c.Shard != nil && !c.Shard.OwnsCourt(x.Court) {
			return // another shard's row: that shard rejects it
		}
		c.Rejects = append(c.Rejects, Reject{Object: int(x.Ord >> 40), Row: x.Ord & (1<<40 - 1), IDNProc: x.IDNProceeding, HasID: true,
			Reject: validate.Reject{Code: validate.DuplicateProceeding, Column: "idnproceeding"}})
	}
	kept := c.Cases[:0]
	for i := range c.Cases {
		x := c.Cases[i]
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
	c.Cases = kept
}
