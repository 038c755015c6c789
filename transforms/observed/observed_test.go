package observed

import (
	"fmt"
	"testing"

	"github.com/recal-project/recal/transforms/cases"
	"github.com/recal-project/recal/transforms/civil"
)

// TestDeriveByHand derives both modes' calendars from a small set of
// settings and compares them with the calendar worked out by hand in the
// comments.
func TestDeriveByHand(t *testing.T) {
	release := civil.DaysFromCivil(2026, 3, 31) // a Tuesday
	monday := civil.DaysFromCivil(2026, 2, 9)   // the window's first Monday (8 weeks: Feb 4 - Mar 31)
	o := New(release, 8)
	add := func(court, judge string, day int32, start, n int, detained, juvenile int) {
		for i := range n {
			o.Add(Setting{Court: court, Judge: judge, Day: day, Start: start, Master: true, Detained: i < detained, Juvenile: i < juvenile})
		}
	}
	// NYC, judge A, Mondays 08:30, every week: 20, 22, ..., 34 settings.
	// Median (26+28)/2 = 27; 10% is 2.7, rounded: 3 slots.
	for k := range 8 {
		add("NYC", "A", monday+int32(7*k), 510, 20+2*k, 0, 0)
	}
	// NYC, judge B, Wednesdays 13:00, one week only: not recurring (1 of 8 < a quarter).
	add("NYC", "B", monday+2, 780, 10, 0, 0)
	// NYC, judge B, Thursdays 09:00, two weeks (a quarter): 4 and 5,
	// median 4.5, 0.45 rounds to 0: no row, but the court's figures count it.
	add("NYC", "B", monday+3, 540, 4, 0, 0)
	add("NYC", "B", monday+10, 540, 5, 0, 0)
	// HOU, judge C, Tuesdays 08:30, four weeks of 30 detained masters: DETAINED, 3 slots.
	for k := range 4 {
		add("HOU", "C", monday+1+int32(7*k), 510, 30, 30, 0)
	}
	// HOU, judge D, Fridays 08:30, three weeks of 15, 10 of them juveniles':
	// JUVENILE; 1.5 rounds half up to 2.
	for k := range 3 {
		add("HOU", "D", monday+4+int32(7*k), 510, 15, 0, 10)
	}
	// Ignored: a Saturday session every week, individual settings, and
	// settings before the window.
	for k := range 8 {
		add("HOU", "E", monday+5+int32(7*k), 510, 40, 0, 0)
		o.Add(Setting{Court: "NYC", Judge: "A", Day: monday + int32(7*k), Start: 600, Master: false})
	}
	add("NYC", "A", monday-7, 510, 99, 0, 0)
	// Future sessions on the books: NYC A on Monday April 6 (25 set) and
	// April 13 (35 set); HOU C on Tuesday April 7 (12 set, all detained).
	add("NYC", "A", release+6, 510, 25, 0, 0)
	add("NYC", "A", release+13, 510, 35, 0, 0)
	add("HOU", "C", release+7, 510, 12, 12, 0)

	rows, courts := o.Derive(0.10)
	from := release + 1
	want := []Row{
		{"HOU", cases.Detained, "C", 1, 510, 3, from, -1},
		{"HOU", cases.Juvenile, "D", 4, 510, 2, from, -1},
		{"NYC", cases.NonDetained, "A", 0, 510, 3, from, -1},
	}
	if fmt.Sprint(rows) != fmt.Sprint(want) {
		t.Errorf("share mode:\n got %v\nwant %v", rows, want)
	}
	// Courts: HOU sits C four of eight weeks and D three (0.875 a week),
	// two judges, sizes 30×4 and 15×3 (median 30), 5 slots; NYC sits A
	// every week and B's Thursday two weeks (1.25), two judges, sizes
	// 20..34 and 4, 5 (median of ten: (24+26)/2 = 25), 3 slots. B's one-off Wednesday is not
	// recurring and not counted.
	wantCourts := []Court{{"HOU", 0.88, 2, 30, 5, 4*30 + 3*15 + 7*40 /* the eighth Saturday falls after the release */}, {"NYC", 1.25, 2, 25, 3, 216 + 10 + 9}}
	if fmt.Sprint(courts) != fmt.Sprint(wantCourts) {
		t.Errorf("share mode courts:\n got %v\nwant %v", courts, wantCourts)
	}

	rows, courts = o.Headroom(30)
	want = []Row{
		{"HOU", cases.Detained, "C", 1, 510, 18, release + 7, release + 7},
		{"NYC", cases.NonDetained, "A", 0, 510, 5, release + 6, release + 6},
		{"NYC", cases.NonDetained, "A", 0, 510, 0, release + 13, release + 13}, // 35 set: never below 0
	}
	if fmt.Sprint(rows) != fmt.Sprint(want) {
		t.Errorf("headroom mode:\n got %v\nwant %v", rows, want)
	}
	wantCourts = []Court{{"HOU", 1, 1, 12, 18, 12}, {"NYC", 1, 1, 30, 5, 60}}
	if fmt.Sprint(courts) != fmt.Sprint(wantCourts) {
		t.Errorf("headroom mode courts:\n got %v\nwant %v", courts, wantCourts)
	}
}

func TestParseStart(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int
		ok   bool
	}{
		{"0830", 510, true}, {"830", 510, true}, {"08:30", 510, true}, {"8:30", 510, true}, {"08:30:00", 510, true},
		{"08:30:00.000", 510, true}, {"2025-04-04 08:30:00.000", 510, true}, {"1900-01-01 13:00:00", 780, true},
		{"2025-04-04T13:00:00", 780, true}, {"1:00 PM", 780, true}, {"12:15AM", 15, true}, {" 1300 ", 780, true},
		{"", 0, false}, {"25:00", 0, false}, {"0860", 0, false}, {"8", 0, false}, {"abcd", 0, false}, {"08:3", 0, false}, {"12345", 0, false},
	} {
		got, ok := ParseStart(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("ParseStart(%q) = %d, %v; want %d, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func FuzzParseStart(f *testing.F) {
	for _, s := range []string{"0830", "08:30:00", "2025-04-04 08:30:00.000", "1:00 PM"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if m, ok := ParseStart(s); ok && (m < 0 || m >= 24*60) {
			t.Fatalf("ParseStart(%q) = %d", s, m)
		}
	})
}
