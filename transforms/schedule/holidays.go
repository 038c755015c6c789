package schedule

import (
	"time"

	"github.com/recal-project/recal/transforms/civil"
)

// FederalHolidays returns the observed dates (days since epoch) of the
// federal holidays of 5 U.S.C. 6103 in year y: a fixed-date holiday on a
// Saturday is observed the Friday before, on a Sunday the Monday after.
// Juneteenth is a holiday from 2021 on.
func FederalHolidays(y int) []int32 {
	fixed := func(m time.Month, d int) int32 {
		t := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
		switch t.Weekday() {
		case time.Saturday:
			t = t.AddDate(0, 0, -1)
		case time.Sunday:
			t = t.AddDate(0, 0, 1)
		}
		return days(t)
	}
	nth := func(m time.Month, wd time.Weekday, n int) int32 {
		t := time.Date(y, m, 1, 0, 0, 0, 0, time.UTC)
		for t.Weekday() != wd {
			t = t.AddDate(0, 0, 1)
		}
		return days(t.AddDate(0, 0, 7*(n-1)))
	}
	last := func(m time.Month, wd time.Weekday) int32 {
		t := time.Date(y, m+1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, -1)
		for t.Weekday() != wd {
			t = t.AddDate(0, 0, -1)
		}
		return days(t)
	}
	out := []int32{
		fixed(time.January, 1),
		nth(time.January, time.Monday, 3),
		nth(time.February, time.Monday, 3),
		last(time.May, time.Monday),
		fixed(time.July, 4),
		nth(time.September, time.Monday, 1),
		nth(time.October, time.Monday, 2),
		fixed(time.November, 11),
		nth(time.November, time.Thursday, 4),
		fixed(time.December, 25),
	}
	if y >= 2021 {
		out = append(out, fixed(time.June, 19))
	}
	return out
}

func days(t time.Time) int32 { return int32(t.Unix() / 86400) }

// Weekday of a day number (civil.Weekday).
func Weekday(d int32) time.Weekday { return civil.Weekday(d) }
