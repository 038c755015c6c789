package policy

import (
	"testing"

	"github.com/recal-project/recal/transforms/civil"
	"github.com/recal-project/recal/transforms/export"
	"github.com/recal-project/recal/transforms/reference"
)

// row describes one hand-made export row; empty fields are null.
type row struct {
	court, hloc, custody, otherComp, priority, outcome, motionDec string
	comp, osc, entry, birth, e28                                  string // YYYY-MM-DD
	crim, agg                                                     *bool
	apps                                                          []string
	appsNull                                                      bool
}

var (
	yes = func() *bool { b := true; return &b }()
	no  = func() *bool { b := false; return &b }()
)

// batchOf builds a batch holding the rows, as the reader would after
// normalisation.
func batchOf(t testing.TB, rows ...row) *export.Batch {
	t.Helper()
	b := export.NewBatch(len(rows))
	b.Key = "hand.parquet"
	setS := func(c *export.Strings, i int, v string) {
		if v != "" {
			c.V[i], c.S[i] = v, export.Valid
		}
	}
	setD := func(c *export.Dates, i int, v string) {
		if v == "" {
			return
		}
		d, ok := civil.ParseDate(v)
		if !ok {
			t.Fatalf("bad date %q", v)
		}
		c.V[i], c.S[i] = d, export.Valid
	}
	setB := func(c *export.Bools, i int, v *bool) {
		if v != nil {
			c.V[i], c.S[i] = *v, export.Valid
		}
	}
	for i, r := range rows {
		b.IDNCase.V[i], b.IDNCase.S[i] = int64(100+i), export.Valid
		b.IDNProceeding.V[i], b.IDNProceeding.S[i] = int64(1000+i), export.Valid
		if r.court == "" {
			r.court = "NYC"
		}
		if r.otherComp == "" {
			r.otherComp = "A"
		}
		if r.comp == "" {
			r.comp = "2019-06-01"
		}
		if r.osc == "" {
			r.osc = "2017-03-01"
		}
		setS(&b.BaseCityCode, i, r.court)
		setS(&b.HearingLocCode, i, r.hloc)
		setS(&b.Custody, i, r.custody)
		setS(&b.OtherComp, i, r.otherComp)
		setS(&b.CasePriorityCode, i, r.priority)
		setS(&b.ApplicationOutcome, i, r.outcome)
		setS(&b.RecalMotionDec, i, r.motionDec)
		setD(&b.CompDate, i, r.comp)
		setD(&b.OSCDate, i, r.osc)
		setD(&b.DateOfEntry, i, r.entry)
		setD(&b.CBirthdate, i, r.birth)
		setD(&b.E28Date, i, r.e28)
		setB(&b.CrimInd, i, r.crim)
		setB(&b.AggravateFelon, i, r.agg)
		l := &b.PendingApplications
		if !r.appsNull {
			l.Values = append(l.Values, r.apps...)
			l.S[i] = export.Valid
		}
		l.Offsets[i+1] = int32(len(l.Values))
	}
	return b
}

func refData(t testing.TB) *reference.Data {
	t.Helper()
	ref, err := reference.Default()
	if err != nil {
		t.Fatal(err)
	}
	return ref
}

func day(t testing.TB, s string) int32 {
	t.Helper()
	d, ok := civil.ParseDate(s)
	if !ok {
		t.Fatalf("bad date %q", s)
	}
	return d
}
