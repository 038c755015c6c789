package collect

import (
	"fmt"

	"github.com/recal-project/recal/pipeline/manifest"
	"github.com/recal-project/recal/pipeline/report"
	"github.com/recal-project/recal/pipeline/source"
	"github.com/recal-project/recal/pipeline/storage"
	"github.com/recal-project/recal/pipeline/sysexit"
)

// DefaultQuarantineLimit is the largest share of the input, in objects and
// in rows by footer, that --on-corrupt=quarantine may drop unless
// --quarantine-limit says otherwise: the odd bad object of a large export,
// not a reader gap or a broken export job.
const DefaultQuarantineLimit = 0.05

// ErrQuarantineLimit is wrapped when quarantine would drop more of the input
// than the limit allows, or all of it: the run fails (exit 65) and commits
// nothing, since an empty or much thinned schedule would be taken for a
// true one.
var ErrQuarantineLimit = sysexit.Sentinel(sysexit.ErrData, "quarantine limit exceeded")

// quarantineShare measures the objects collect quarantined against the
// whole input and checks them against limit (0: DefaultQuarantineLimit).
// It returns nil, nil when nothing was quarantined.
func (c *Collected) QuarantineShare(objs []storage.ObjectInfo, limit float64) (*manifest.Quarantine, error) {
	if len(c.Quarantined) == 0 {
		return nil, nil
	}
	if limit <= 0 {
		limit = DefaultQuarantineLimit
	}
	q := &manifest.Quarantine{Objects: len(c.Quarantined), InputObjects: len(objs), Limit: limit}
	for _, n := range c.Footer {
		q.InputFooter += n
	}
	for _, o := range c.Quarantined {
		q.FooterRows += c.Footer[o.Object]
	}
	q.ObjectsShare = float64(q.Objects) / float64(q.InputObjects)
	if q.InputFooter > 0 {
		q.RowsShare = float64(q.FooterRows) / float64(q.InputFooter)
	}
	first := c.Quarantined[0]
	example := fmt.Sprintf("first: %s: %s", objs[first.Object].Key, source.Reason(first.Err))
	switch {
	case q.Objects == q.InputObjects || q.InputFooter == q.FooterRows:
		return q, fmt.Errorf("%w: no row would be left after quarantine (%d of %d objects, %s of %s rows by footer), which would commit an empty schedule; nothing committed (%s)",
			ErrQuarantineLimit, q.Objects, q.InputObjects, report.Commas(q.FooterRows), report.Commas(q.InputFooter), example)
	case q.ObjectsShare > limit || q.RowsShare > limit:
		return q, fmt.Errorf("%w: quarantine would drop %d of %d objects (%.1f%%) and %s of %s rows by footer (%.1f%%), more than --quarantine-limit %g; nothing committed; raise the limit if the loss is meant (%s)",
			ErrQuarantineLimit, q.Objects, q.InputObjects, 100*q.ObjectsShare, report.Commas(q.FooterRows), report.Commas(q.InputFooter), 100*q.RowsShare, limit, example)
	}
	return q, nil
}

// KeptFooterRows is the input's rows by footer, quarantined objects aside:
// what the nightly release guard compares with the previous run's input.
func (c *Collected) KeptFooterRows() int64 {
	skipped := make(map[int]bool, len(c.Quarantined))
	for _, q := range c.Quarantined {
		skipped[q.Object] = true
	}
	var n int64
	for i, rows := range c.Footer {
		if !skipped[i] {
			n += rows
		}
	}
	return n
}
