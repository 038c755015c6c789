// Package civil converts between calendar dates and days since 1970-01-01
// (the unit of every date recal holds), and parses and formats them as ISO
// 8601. It is a leaf: pure functions, no I/O.
package civil

import (
	"time"
)

// DaysFromCivil returns days since 1970-01-01 for a proleptic Gregorian date
// (Howard Hinnant's algorithm; exact for all int32 day counts).
func DaysFromCivil(y, m, d int) int32 {
	if m <= 2 {
		y--
	}
	era := y
	if era < 0 {
		era -= 399
	}
	era /= 400
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return int32(era*146097 + doe - 719468)
}

// CivilFromDays is the inverse of DaysFromCivil.
func CivilFromDays(z int32) (y, m, d int) {
	zz := int(z) + 719468
	era := zz
	if era < 0 {
		era -= 146096
	}
	era /= 146097
	doe := zz - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y = yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d = doy - (153*mp+2)/5 + 1
	if mp < 10 {
		m = mp + 3
	} else {
		m = mp - 9
	}
	if m <= 2 {
		y++
	}
	return
}

// FormatDate renders days since epoch as YYYY-MM-DD.
func FormatDate(days int32) string {
	y, m, d := CivilFromDays(days)
	return time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC).Format(time.DateOnly)
}

// ParseDate parses "YYYY-MM-DD" into days since 1970-01-01, optionally
// followed by "T" or " " and a time of day (ignored: the date is taken as
// written).
func ParseDate(s string) (int32, bool) {
	if len(s) < 10 || s[4] != '-' || s[7] != '-' {
		return 0, false
	}
	y, ok1 := digits(s[0:4])
	m, ok2 := digits(s[5:7])
	d, ok3 := digits(s[8:10])
	if !ok1 || !ok2 || !ok3 || m < 1 || m > 12 || d < 1 || d > daysIn(y, m) {
		return 0, false
	}
	if len(s) > 10 {
		rest := s[10:]
		if rest[0] != 'T' && rest[0] != ' ' {
			return 0, false
		}
		if !plausibleTime(rest[1:]) {
			return 0, false
		}
	}
	return DaysFromCivil(y, m, d), true
}

func plausibleTime(t string) bool {
	if len(t) < 5 || t[2] != ':' {
		return false
	}
	h, ok1 := digits(t[0:2])
	mi, ok2 := digits(t[3:5])
	return ok1 && ok2 && h < 24 && mi < 60
}

func digits(s string) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

func daysIn(y, m int) int {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// Weekday of a day number (1970-01-01 was a Thursday).
func Weekday(d int32) time.Weekday {
	return time.Weekday((int64(d)%7 + 7 + 4) % 7)
}
