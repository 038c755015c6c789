package job

import (
	"context"
	"fmt"
	"sort"

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

// writeJob is one dataset (or one court's assignments) to write.
type writeJob struct {
	name string
	run  func(ctx context.Context) ([]sink.Object, error)
}

// writeOutputs writes the data objects, sorted by key. It releases
// plan.Groups: nothing reads a court's assignments after they are written.
func (r *runState) writeOutputs(ctx context.Context) ([]sink.Object, error) {
	w := &outputWriter{r: r, so: sink.Options{TempDir: r.cfg.TempDir, RunTag: r.m.RunID}, judges: r.col.Judges.Codes()}
	var jobs []writeJob
	for _, ci := range r.plan.Courts {
		jobs = append(jobs, w.assignments(ci))
	}
	jobs = append(jobs, w.remainClosed(), w.overflow())
	if r.changes != nil {
		jobs = append(jobs, w.changes())
	}
	jobs = append(jobs, w.rejects())
	// Each court's assignments are released once written (the jobs hold
	// the only references): memory falls as the stage goes on.
	r.plan.Groups = nil
	return w.runAll(ctx, jobs)
}

// runAll runs the jobs, at most cfg.Workers at once.
func (w *outputWriter) runAll(ctx context.Context, jobs []writeJob) ([]sink.Object, error) {
	results := make([][]sink.Object, len(jobs))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(max(1, w.r.cfg.Workers))
	for i := range jobs {
		g.Go(func() error {
			if err := gctx.Err(); err != nil {
				return err
			}
			objs, err := jobs[i].run(gctx)
			if err != nil {
				return fmt.Errorf("write %s: %w", jobs[i].name, err)
			}
			var n int64
			for _, o := range objs {
				n += o.Bytes
			}
			w.r.cfg.Progress.Wrote(len(objs), n)
			results[i] = objs
			jobs[i] = writeJob{}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	var all []sink.Object
	for _, objs := range results {
		all = append(all, objs...)
	}
	sort.Slice(all, func(i, j int) bool { return all[i].Key < all[j].Key })
	return all, nil
}

func (w *outputWriter) court(i uint16) string { return w.r.su.ref.Courts[i].Code }

// assignments writes court ci's assignments in place (hive partition).
func (w *outputWriter) assignments(ci uint16) writeJob {
	as := w.r.plan.Groups[ci]
	dir := "assignments/base_city_code=" + w.court(ci)
	pol, prev, params := w.r.su.pol, w.r.prev, w.r.params
	return writeJob{dir, func(ctx context.Context) ([]sink.Object, error) {
		return sink.WriteParts(ctx, w.r.out, dir, w.r.cfg.ShardIndex, datasets.Assignments, len(as), func(b *array.RecordBuilder, from, to int) {
			// Typed builders taken once per chunk, not per value.
			idc, idp := b.Field(0).(*array.Int64Builder), b.Field(1).(*array.Int64Builder)
			court, docket := b.Field(2).(*array.StringBuilder), b.Field(3).(*array.StringBuilder)
			date, tm, ij := b.Field(4).(*array.Date32Builder), b.Field(5).(*array.StringBuilder), b.Field(6).(*array.StringBuilder)
			tier, score := b.Field(7).(*array.Int32Builder), b.Field(8).(*array.Float64Builder)
			rule, tierRule, polID := b.Field(9).(*array.StringBuilder), b.Field(10).(*array.StringBuilder), b.Field(11).(*array.StringBuilder)
			earliest, caseIJ := b.Field(12).(*array.Date32Builder), b.Field(13).(*array.StringBuilder)
			for _, a := range as[from:to] {
				c := a.Case
				idc.Append(c.IDNCase)
				idp.Append(c.IDNProceeding)
				court.Append(w.court(c.Court))
				docket.Append(c.Docket.String())
				date.Append(arrow.Date32(a.Date))
				tm.Append(a.Session.StartString())
				appendOptString(ij, a.Session.IJ)
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
		}, w.so)
	}}
}

func (w *outputWriter) remainClosed() writeJob {
	cs, pol := w.r.plan.Closed, w.r.su.pol
	return writeJob{"remain_closed", func(ctx context.Context) ([]sink.Object, error) {
		return sink.WriteParts(ctx, w.r.out, w.r.stage+"remain_closed", w.r.cfg.ShardIndex, datasets.RemainClosed, len(cs), func(b *array.RecordBuilder, from, to int) {
			for i := range cs[from:to] {
				c := &cs[from+i]
				b.Field(0).(*array.Int64Builder).Append(c.IDNCase)
				b.Field(1).(*array.Int64Builder).Append(c.IDNProceeding)
				b.Field(2).(*array.StringBuilder).Append(w.court(c.Court))
				b.Field(3).(*array.StringBuilder).Append(pol.RuleIDs[c.Rule])
				b.Field(4).(*array.StringBuilder).Append(pol.RuleRationale[c.Rule])
			}
		}, w.so)
	}}
}

func (w *outputWriter) overflow() writeJob {
	ov, pol, params := w.r.plan.Overflow, w.r.su.pol, w.r.params
	return writeJob{"overflow", func(ctx context.Context) ([]sink.Object, error) {
		return sink.WriteParts(ctx, w.r.out, w.r.stage+"overflow", w.r.cfg.ShardIndex, datasets.Overflow, len(ov), func(b *array.RecordBuilder, from, to int) {
			for _, o := range ov[from:to] {
				c := o.Case
				b.Field(0).(*array.Int64Builder).Append(c.IDNCase)
				b.Field(1).(*array.Int64Builder).Append(c.IDNProceeding)
				b.Field(2).(*array.StringBuilder).Append(w.court(c.Court))
				b.Field(3).(*array.StringBuilder).Append(c.Docket.String())
				b.Field(4).(*array.Int32Builder).Append(int32(c.Tier))
				b.Field(5).(*array.Float64Builder).Append(c.Score)
				b.Field(6).(*array.StringBuilder).Append(pol.RuleIDs[c.Rule])
				if o.HasProjection {
					b.Field(7).(*array.Date32Builder).Append(arrow.Date32(o.Projected))
				} else {
					b.Field(7).AppendNull()
				}
				b.Field(8).(*array.StringBuilder).Append(o.Reason.String())
				b.Field(9).(*array.Date32Builder).Append(arrow.Date32(params.Earliest(c)))
				appendOptString(b.Field(10).(*array.StringBuilder), w.judges[c.IJ])
			}
		}, w.so)
	}}
}

func (w *outputWriter) changes() writeJob {
	changes, nCourts := w.r.changes, len(w.r.su.ref.Courts)
	return writeJob{"changes", func(ctx context.Context) ([]sink.Object, error) {
		return sink.WriteParts(ctx, w.r.out, w.r.stage+"changes", w.r.cfg.ShardIndex, datasets.Changes, len(changes.Rows), func(b *array.RecordBuilder, from, to int) {
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
		}, w.so)
	}}
}

func (w *outputWriter) rejects() writeJob {
	rj, objs := w.r.col.Rejects, w.r.su.objs
	return writeJob{"rejects", func(ctx context.Context) ([]sink.Object, error) {
		return sink.WriteParts(ctx, w.r.out, w.r.stage+"rejects", w.r.cfg.ShardIndex, datasets.Rejects, len(rj), func(b *array.RecordBuilder, from, to int) {
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
		}, w.so)
	}}
}
