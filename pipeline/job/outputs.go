package job

import (
	"cmp"
	"context"
	"fmt"
	"path"
	"slices"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"golang.org/x/sync/errgroup"

	"github.com/recal-project/recal/pipeline/datasets"
	"github.com/recal-project/recal/pipeline/nightly"
	"github.com/recal-project/recal/pipeline/sink"
	"github.com/recal-project/recal/transforms/schedule"
)

// outputWriter writes a run's data objects: one job per court's
// assignments, remain_closed, overflow, changes (with --previous) and
// rejects, run side by side.
type outputWriter struct {
	r      *runState
	so     sink.Options
	judges []string
}

// writeJob is one file of a dataset to write.
type writeJob struct {
	key  string
	rows int
	run  func(ctx context.Context) (sink.Object, error)
}

// writeOutputs writes the data objects, sorted by key. It releases
// plan.Groups: nothing reads a court's assignments after they are written.
func (r *runState) writeOutputs(ctx context.Context) ([]sink.Object, error) {
	w := &outputWriter{r: r, so: sink.Options{TempDir: r.cfg.TempDir, RunTag: r.m.RunID, Mem: r.mem}, judges: r.col.Judges.Codes()}
	var jobs []writeJob
	for _, ci := range r.plan.Courts {
		jobs = append(jobs, w.assignments(ci)...)
	}
	jobs = append(jobs, w.remainClosed()...)
	jobs = append(jobs, w.overflow()...)
	if r.changes != nil {
		jobs = append(jobs, w.changes()...)
	}
	jobs = append(jobs, w.rejects()...)
	// Each court's assignments are released once written (the jobs hold
	// the only references): memory falls as the stage goes on.
	r.plan.Groups = nil
	return w.runAll(ctx, jobs)
}

// dataset splits n rows of a dataset into one job per file (sink.Split).
func (w *outputWriter) dataset(dir string, sc *arrow.Schema, n int, fill sink.FillFunc) []writeJob {
	var jobs []writeJob
	for _, p := range sink.Split(dir, w.r.cfg.ShardIndex, n, w.so) {
		jobs = append(jobs, writeJob{p.Key, p.To - p.From, func(ctx context.Context) (sink.Object, error) {
			return sink.WriteFile(ctx, w.r.out, p.Key, sc, p.From, p.To, fill, w.so)
		}})
	}
	return jobs
}

// runAll runs the jobs, at most cfg.Workers at once, the largest first:
// when most cases overflow, the overflow's files are most of the work, and
// started last they left the other workers idle at the end. Files are
// independent, so the order changes no byte.
func (w *outputWriter) runAll(ctx context.Context, jobs []writeJob) ([]sink.Object, error) {
	slices.SortStableFunc(jobs, func(a, b writeJob) int { return cmp.Compare(b.rows, a.rows) })
	results := make([]sink.Object, len(jobs))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(max(1, w.r.cfg.Workers))
	for i := range jobs {
		g.Go(func() error {
			if err := gctx.Err(); err != nil {
				return err
			}
			obj, err := jobs[i].run(gctx)
			if err != nil {
				return fmt.Errorf("write %s: %w", path.Dir(jobs[i].key), err)
			}
			w.r.cfg.Progress.Wrote(1, obj.Bytes)
			results[i] = obj
			jobs[i] = writeJob{}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	slices.SortFunc(results, func(a, b sink.Object) int { return cmp.Compare(a.Key, b.Key) })
	return results, nil
}

func (w *outputWriter) court(i uint16) string { return w.r.su.ref.Courts[i].Code }

// assignments writes court ci's assignments in place (hive partition).
func (w *outputWriter) assignments(ci uint16) []writeJob {
	as := w.r.plan.Groups[ci]
	dir := "assignments/base_city_code=" + w.court(ci)
	pol, prev, params, pl := w.r.su.pol, w.r.prev, w.r.params, w.r.plan
	sessions := pl.Sessions(ci)
	return w.dataset(dir, datasets.Assignments, len(as), func(b *array.RecordBuilder, from, to int) {
		// Typed builders taken once per chunk, not per value.
		idc, idp := b.Field(0).(*array.Int64Builder), b.Field(1).(*array.Int64Builder)
		court, docket := b.Field(2).(*array.StringBuilder), b.Field(3).(*array.StringBuilder)
		date, tm, ij := b.Field(4).(*array.Date32Builder), b.Field(5).(*array.StringBuilder), b.Field(6).(*array.StringBuilder)
		tier, score := b.Field(7).(*array.Int32Builder), b.Field(8).(*array.Float64Builder)
		rule, tierRule, polID := b.Field(9).(*array.StringBuilder), b.Field(10).(*array.StringBuilder), b.Field(11).(*array.StringBuilder)
		earliest, caseIJ := b.Field(12).(*array.Date32Builder), b.Field(13).(*array.StringBuilder)
		for _, a := range as[from:to] {
			c := pl.Case(a.Case)
			s := &sessions[c.Docket][a.Session]
			idc.Append(c.IDNCase)
			idp.Append(c.IDNProceeding)
			court.Append(w.court(c.Court))
			docket.Append(c.Docket.String())
			date.Append(arrow.Date32(a.Date))
			tm.Append(s.StartString())
			appendOptString(ij, s.IJ)
			tier.Append(int32(c.Tier))
			score.Append(c.Score)
			rule.Append(pol.RuleIDs[c.Rule])
			tierRule.Append(pol.TierRuleIDs[c.TierRule])
			polID.Append(pol.ID)
			if a.Standing { // the lead it met when first scheduled
				earliest.Append(arrow.Date32(prev.Earliest(c)))
			} else {
				earliest.Append(arrow.Date32(params.Earliest(c)))
			}
			appendOptString(caseIJ, w.judges[c.IJ])
		}
	})
}

func (w *outputWriter) remainClosed() []writeJob {
	cs, pol := w.r.plan.Closed, w.r.su.pol
	return w.dataset(w.r.stage+"remain_closed", datasets.RemainClosed, len(cs), func(b *array.RecordBuilder, from, to int) {
		idc, idp, court := b.Field(0).(*array.Int64Builder), b.Field(1).(*array.Int64Builder), b.Field(2).(*array.StringBuilder)
		rule, rationale := b.Field(3).(*array.StringBuilder), b.Field(4).(*array.StringBuilder)
		for i := range cs[from:to] {
			c := &cs[from+i]
			idc.Append(c.IDNCase)
			idp.Append(c.IDNProceeding)
			court.Append(w.court(c.Court))
			rule.Append(pol.RuleIDs[c.Rule])
			rationale.Append(pol.RuleRationale[c.Rule])
		}
	})
}

func (w *outputWriter) overflow() []writeJob {
	ov, pol, params, pl := &w.r.plan.Overflow, w.r.su.pol, w.r.params, w.r.plan
	return w.dataset(w.r.stage+"overflow", datasets.Overflow, ov.Len(), func(b *array.RecordBuilder, from, to int) {
		idc, idp := b.Field(0).(*array.Int64Builder), b.Field(1).(*array.Int64Builder)
		court, docket := b.Field(2).(*array.StringBuilder), b.Field(3).(*array.StringBuilder)
		tier, score, rule := b.Field(4).(*array.Int32Builder), b.Field(5).(*array.Float64Builder), b.Field(6).(*array.StringBuilder)
		projected, reason := b.Field(7).(*array.Date32Builder), b.Field(8).(*array.StringBuilder)
		earliest, caseIJ := b.Field(9).(*array.Date32Builder), b.Field(10).(*array.StringBuilder)
		for o := range ov.Range(from, to) {
			c := pl.Case(o.Case)
			idc.Append(c.IDNCase)
			idp.Append(c.IDNProceeding)
			court.Append(w.court(c.Court))
			docket.Append(c.Docket.String())
			tier.Append(int32(c.Tier))
			score.Append(c.Score)
			rule.Append(pol.RuleIDs[c.Rule])
			if o.HasProjection {
				projected.Append(arrow.Date32(o.Projected))
			} else {
				projected.AppendNull()
			}
			reason.Append(o.Reason.String())
			earliest.Append(arrow.Date32(params.Earliest(c)))
			appendOptString(caseIJ, w.judges[c.IJ])
		}
	})
}

func (w *outputWriter) changes() []writeJob {
	changes, nCourts := w.r.changes, len(w.r.su.ref.Courts)
	return w.dataset(w.r.stage+"changes", datasets.Changes, len(changes.Rows), func(b *array.RecordBuilder, from, to int) {
		idp, court, kind := b.Field(0).(*array.Int64Builder), b.Field(1).(*array.StringBuilder), b.Field(2).(*array.StringBuilder)
		reason := b.Field(7).(*array.StringBuilder)
		when := func(day int32, minute int16, d, t array.Builder) {
			if minute < 0 {
				d.AppendNull()
				t.AppendNull()
				return
			}
			d.(*array.Date32Builder).Append(arrow.Date32(day))
			t.(*array.StringBuilder).Append(schedule.Clock(int(minute)))
		}
		for _, x := range changes.Rows[from:to] {
			idp.Append(x.IDNProc)
			if int(x.Court) < nCourts {
				court.Append(w.court(x.Court))
			} else {
				court.AppendNull()
			}
			kind.Append(nightly.Kinds[x.Kind])
			when(x.PrevDate, x.PrevTime, b.Field(3), b.Field(4))
			when(x.NewDate, x.NewTime, b.Field(5), b.Field(6))
			appendOptString(reason, changes.Reasons[x.Reason])
		}
	})
}

func (w *outputWriter) rejects() []writeJob {
	rj, objs := w.r.col.Rejects, w.r.su.objs
	return w.dataset(w.r.stage+"rejects", datasets.Rejects, len(rj), func(b *array.RecordBuilder, from, to int) {
		for _, r := range rj[from:to] {
			b.Field(0).(*array.StringBuilder).Append(objs[r.Object].Key)
			b.Field(1).(*array.Int64Builder).Append(r.Row)
			if r.HasID {
				b.Field(2).(*array.Int64Builder).Append(r.IDNProc)
			} else {
				b.Field(2).AppendNull()
			}
			b.Field(3).(*array.StringBuilder).Append(r.Reject.Code.String())
			b.Field(4).(*array.StringBuilder).Append(r.Reject.Message())
		}
	})
}
