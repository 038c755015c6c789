package schedule

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/recal-project/recal/transforms/civil"
	"github.com/recal-project/recal/transforms/reference"
)

func TestFederalHolidaysObserved(t *testing.T) {
	tests := []struct{ day, what string }{
		{"2021-12-24", "Christmas 2021 on a Saturday → Friday"},
		{"2021-12-31", "New Year's Day 2022 on a Saturday → Friday Dec 31"},
		{"2022-06-20", "Juneteenth 2022 on a Sunday → Monday"},
		{"2023-01-02", "New Year's Day 2023 on a Sunday → Monday"},
		{"2020-07-03", "Independence Day 2020 on a Saturday → Friday"},
		{"2026-07-03", "Independence Day 2026 on a Saturday → Friday"},
		{"2015-01-19", "MLK Day 2015"},
		{"2024-05-27", "Memorial Day 2024"},
		{"2035-11-22", "Thanksgiving 2035"},
	}
	cal := NewCalendar()
	for _, tt := range tests {
		d, _ := civil.ParseDate(tt.day)
		if cal.Open(0, d) {
			t.Errorf("%s open; want closed (%s)", tt.day, tt.what)
		}
	}
	for _, open := range []string{"2021-12-27", "2022-06-17", "2019-06-19", "2026-07-06"} {
		d, _ := civil.ParseDate(open)
		if !cal.Open(0, d) {
			t.Errorf("%s closed; want open", open)
		}
	}
	for y := 2015; y <= 2035; y++ {
		n := len(FederalHolidays(y))
		want := 10
		if y >= 2021 {
			want = 11
		}
		if n != want {
			t.Errorf("%d: %d holidays, want %d", y, n, want)
		}
		for _, d := range FederalHolidays(y) {
			if wd := Weekday(d); wd == time.Saturday || wd == time.Sunday {
				t.Errorf("%d: observed holiday %s on a weekend", y, civil.FormatDate(d))
			}
		}
	}
}

func TestParseCapacityErrors(t *testing.T) {
	ref, err := reference.Default()
	if err != nil {
		t.Fatal(err)
	}
	const h = "base_city_code,docket,ij_code,weekday,session_start,slots,effective_from,effective_to\n"
	tests := []struct{ name, body, want string }{
		{"missing column", "base_city_code,docket\n", "cap.csv line 1 column ij_code: missing column"},
		{"bad court", h + "ZZQ,DETAINED,,MON,09:00,5,2026-01-01,\n", `cap.csv line 2 column base_city_code: bad value: "ZZQ" is not a court`},
		{"bad docket", h + "ATL,CUSTODY,,MON,09:00,5,2026-01-01,\n", "line 2 column docket"},
		{"weekend", h + "ATL,DETAINED,,SAT,09:00,5,2026-01-01,\n", `line 2 column weekday: bad value: "SAT" is not MON..FRI`},
		{"bad time", h + "ATL,DETAINED,,MON,9am,5,2026-01-01,\n", "line 2 column session_start"},
		{"negative slots", h + "ATL,DETAINED,,MON,09:00,-3,2026-01-01,\n", "line 2 column slots"},
		{"bad date", h + "ATL,DETAINED,,MON,09:00,3,2026-13-01,\n", "line 2 column effective_from"},
		{"to before from", h + "ATL,DETAINED,,MON,09:00,3,2026-05-01,2026-04-01\n", "line 2 column effective_to"},
		{"overlap", h + "ATL,DETAINED,,MON,09:00,3,2026-01-01,\nATL,DETAINED,,MON,09:00,4,2026-06-01,\n", "line 3 column effective_from: overlapping effective ranges for the same session: line 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := NewCalendar().ParseCapacity("cap.csv", []byte(tt.body), ref)
			var pe *ParseError
			if !errors.As(err, &pe) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want ParseError containing %q", err, tt.want)
			}
		})
	}
	ok := h + "ATL,DETAINED,,MON,09:00,3,2026-01-01,2026-05-31\nATL,DETAINED,,MON,09:00,4,2026-06-01,\n"
	if err := NewCalendar().ParseCapacity("cap.csv", []byte(ok), ref); err != nil {
		t.Fatalf("adjacent ranges rejected: %v", err)
	}
}

func FuzzParseCapacity(f *testing.F) {
	ref, err := reference.Default()
	if err != nil {
		f.Fatal(err)
	}
	f.Add("base_city_code,docket,ij_code,weekday,session_start,slots,effective_from,effective_to\nATL,DETAINED,,MON,09:00,3,2026-01-01,\n")
	f.Add("base_city_code,docket\n\"unterminated")
	f.Fuzz(func(t *testing.T, s string) {
		err := NewCalendar().ParseCapacity("f.csv", []byte(s), ref)
		var pe *ParseError
		if err != nil && !errors.As(err, &pe) {
			t.Fatalf("error is not a ParseError: %v", err)
		}
	})
}

// TestHolidayTable: the precomputed table answers as FederalHolidays does
// for every day of twenty-one centuries, and past its range too.
func TestHolidayTable(t *testing.T) {
	want := map[int32]bool{}
	for y := 1949; y <= 4051; y++ {
		for _, d := range FederalHolidays(y) {
			want[d] = true
		}
	}
	from, to := civil.DaysFromCivil(1950, 1, 1), civil.DaysFromCivil(4050, 12, 31)
	n := 0
	for d := from; d <= to; d++ {
		if isHoliday(d) != want[d] {
			t.Fatalf("%s: table says %v", civil.FormatDate(d), isHoliday(d))
		}
		if want[d] {
			n++
		}
	}
	if n < 2100*10 {
		t.Fatalf("%d holidays in 2100 years", n)
	}
}
