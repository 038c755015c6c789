package eoirimport_test

import (
	"context"
	"testing"

	"github.com/recal-project/recal/pipeline/eoirimport"
	"github.com/recal-project/recal/pipeline/eoirimport/eoirtest"
)

// TestImportNational imports a small release of the national shape, dirt
// included: every kind of dirt is a reject with its code or cleaned (NUL
// bytes), and the still-closed cases are the closed ones less the
// reopened and those whose rows the dirt cost.
func TestImportNational(t *testing.T) {
	courts, err := eoirtest.ReferenceCourts()
	if err != nil {
		t.Fatal(err)
	}
	rel := t.TempDir()
	facts, err := eoirtest.National(rel, eoirtest.NationalSizes{Proceedings: 300_000}, courts, 1)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := eoirimport.Import(context.Background(), eoirimport.Config{Release: rel, Output: t.TempDir(), TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if facts.TopTenShare < 0.4 || facts.TopTenShare > 0.6 {
		t.Errorf("the ten largest courts hold %.2f of the pending cases, want about half", facts.TopTenShare)
	}
	c := rep.Cases
	// The dirt can cost a case its latest proceeding's row (a shifted or
	// keyless row), or a reopened one its setting or motion: at most one
	// case per dirty row.
	dirt := facts.Dirty["B_TblProceeding shifted row"] + facts.Dirty["null IDNCASE"] + facts.Dirty["tbl_schedule shifted row"] + facts.Dirty["tbl_Court_Motions shifted row"]
	within := func(got, want int64) bool { return got <= want+dirt && got >= want-dirt }
	if !within(c.Closed, facts.Closed) || !within(c.Reopened["HEARING_SET_AFTER_CLOSURE"], facts.ReopenedByHearing) ||
		!within(c.Reopened["RECALENDAR_MOTION_GRANTED"], facts.ReopenedByMotion) {
		t.Errorf("closed %d, reopened %v; the generator closed %d and reopened %d by a hearing, %d by a motion (dirt %d)",
			c.Closed, c.Reopened, facts.Closed, facts.ReopenedByHearing, facts.ReopenedByMotion, dirt)
	}
	if want := facts.Closed - facts.ReopenedByHearing - facts.ReopenedByMotion; !within(c.StillClosed, want) {
		t.Errorf("%d still closed, want %d less at most %d", c.StillClosed, want, dirt)
	}
	shifted := facts.Dirty["B_TblProceeding shifted row"] + facts.Dirty["tbl_schedule shifted row"] + facts.Dirty["A_TblCase shifted row"] +
		facts.Dirty["tbl_Court_Motions shifted row"] + facts.Dirty["tbl_CustodyHistory shifted row"]
	if rep.RejectsByCode["FIELD_COUNT"] != shifted || shifted == 0 {
		t.Errorf("FIELD_COUNT rejects %d, shifted rows written %d", rep.RejectsByCode["FIELD_COUNT"], shifted)
	}
	for table, dirt := range map[string][2]int64{
		"A_TblCase":       {facts.Dirty["A_TblCase NUL"], facts.Dirty["Windows-1252"]},
		"B_TblProceeding": {facts.Dirty["B_TblProceeding NUL"], 0},
	} {
		if tr := rep.Tables[table]; tr.NULFields != dirt[0] || tr.Recoded != dirt[1] || dirt[0] == 0 {
			t.Errorf("%s: %d NUL fields and %d recoded lines, the generator wrote %d and %d", table, tr.NULFields, tr.Recoded, dirt[0], dirt[1])
		}
	}
}
