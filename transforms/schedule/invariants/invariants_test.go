package invariants

import (
	"strings"
	"testing"
)

// valid is a small schedule that keeps every invariant: court NYC,
// non-detained docket, a Monday pool session of 2 slots and a Tuesday
// session of judge J1 with 1 slot; as of Wed 2026-01-07 with a 10-day lead
// and a 14-day horizon (to 2026-01-21). Mon 2026-01-19 is MLK Day.
func valid() Input {
	return Input{
		AsOf: "2026-01-07", MinNoticeDays: 10, HorizonDays: 14,
		Sessions: []Session{
			{Court: "NYC", Docket: "NON_DETAINED", Weekday: "MON", Start: "09:00", Slots: 2, From: "2025-01-01"},
			{Court: "NYC", Docket: "NON_DETAINED", IJ: "J1", Weekday: "TUE", Start: "13:00", Slots: 1, From: "2025-01-01"},
		},
		Cases: []Case{
			// Tue 01-20: J1's own case, though lower priority than case 2.
			{ID: 1, Court: "NYC", Docket: "NON_DETAINED", Tier: 2, Score: 1, CaseIJ: "J1", Earliest: "2026-01-17", Date: "2026-01-20", Time: "13:00", SessionIJ: "J1"},
			// Nothing else is open in the horizon (Mon 01-19 is a holiday).
			{ID: 2, Court: "NYC", Docket: "NON_DETAINED", Tier: 1, Score: 5, Earliest: "2026-01-17", Overflow: true, Reason: "NO_SLOT_IN_HORIZON", Projected: "2026-01-26"},
			{ID: 3, Court: "NYC", Docket: "NON_DETAINED", Tier: 1, Score: 4, Earliest: "2026-01-17", Overflow: true, Reason: "NO_SLOT_IN_HORIZON", Projected: "2026-01-26"},
		},
	}
}

func TestValidSchedule(t *testing.T) {
	if err := Check(valid()); err != nil {
		t.Fatal(err)
	}
}

// TestViolations: each mutation breaks one invariant and must be caught.
func TestViolations(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(in *Input)
		want   string
	}{
		{"over capacity", func(in *Input) {
			in.Sessions[1].Slots = 1
			in.Cases[1] = Case{ID: 2, Court: "NYC", Docket: "NON_DETAINED", Tier: 1, Score: 5, Earliest: "2026-01-17", Date: "2026-01-20", Time: "13:00", SessionIJ: "J1"}
		}, "§3.1"},
		{"weekend", func(in *Input) {
			in.Sessions = append(in.Sessions, Session{Court: "NYC", Docket: "NON_DETAINED", Weekday: "MON", Start: "10:00", Slots: 1, From: "2025-01-01"})
			in.Cases[0].Date, in.Cases[0].Time, in.Cases[0].SessionIJ = "2026-01-18", "10:00", ""
		}, "§3.2"},
		{"federal holiday (MLK day)", func(in *Input) {
			in.Cases[0].Date, in.Cases[0].Time, in.Cases[0].SessionIJ = "2026-01-19", "09:00", ""
		}, "§3.2"},
		{"listed closure", func(in *Input) {
			in.Closures = []Closure{{Court: "*", Date: "2026-01-20"}}
		}, "§3.2"},
		{"before its earliest day", func(in *Input) { in.Cases[0].Earliest = "2026-01-21" }, "§3.3"},
		{"earliest below the notice floor", func(in *Input) { in.Cases[0].Earliest = "2026-01-16"; in.Cases[0].Date = "2026-01-20" }, "before as_of + 10 days"},
		{"wrong docket", func(in *Input) { in.Cases[0].Docket = "DETAINED" }, "§3.4: case 1"},
		{"session not in force", func(in *Input) { in.Sessions[1].To = "2026-01-10" }, "no such session"},
		{"judge session to another case first", func(in *Input) {
			in.Cases[0].CaseIJ = ""
			in.Cases = append(in.Cases, Case{ID: 4, Court: "NYC", Docket: "NON_DETAINED", Tier: 3, Score: 0, CaseIJ: "J1", Earliest: "2026-01-17", Overflow: true, Reason: "NO_SLOT_IN_HORIZON", Projected: "2026-01-27"})
		}, "§3.4: judge J1"},
		{"priority: a lower-priority case took an open slot", func(in *Input) {
			in.Cases[0].CaseIJ = "" // the judge's slot went to the pool: open to case 2
		}, "§3.5: case 2"},
		{"priority: same judge, wrong order", func(in *Input) {
			in.Cases[1].CaseIJ = "J1"
		}, "§3.5: case 2"},
		{"overflow with a slot free", func(in *Input) {
			in.Sessions = append(in.Sessions, Session{Court: "NYC", Docket: "NON_DETAINED", Weekday: "WED", Start: "09:00", Slots: 3, From: "2025-01-01"})
		}, "overflowed though a slot was free on 2026-01-21"},
		{"projection inside the horizon", func(in *Input) { in.Cases[1].Projected = "2026-01-20" }, "§3.6: case 2 projected"},
		{"projection out of priority order", func(in *Input) { in.Cases[1].Projected = "2026-02-02" }, "§3.6: case 3 projected"},
		{"no capacity claimed wrongly", func(in *Input) { in.Cases[1].Reason, in.Cases[1].Projected = "NO_CAPACITY", "" }, "is NO_CAPACITY"},
		{"assigned after the horizon", func(in *Input) { in.Cases[0].Date = "2026-01-27" }, "after the horizon"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := valid()
			tc.mutate(&in)
			err := Check(in)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want a violation containing %q", err, tc.want)
			}
		})
	}
}

func TestHolidays(t *testing.T) {
	for _, d := range []string{"2021-12-24", "2022-06-20", "2023-01-02", "2021-06-18", "2026-07-03", "2027-12-31", "2026-11-26", "2026-05-25"} {
		if !holiday(date(d)) {
			t.Errorf("%s is an observed federal holiday", d)
		}
	}
	for _, d := range []string{"2020-06-19", "2021-12-25", "2026-07-04", "2026-11-27"} {
		if holiday(date(d)) {
			t.Errorf("%s is not an observed federal holiday", d)
		}
	}
}
