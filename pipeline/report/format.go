package report

import (
	"strconv"
	"strings"
)

// disclosure applies --suppress-below: a count from 1 to below-1 is
// replaced by a marker, and so is every figure derived from it.
type disclosure struct{ below int64 }

// hide reports whether a count is a small cell.
func (d disclosure) hide(n int64) bool { return d.below > 1 && n > 0 && n < d.below }

// marker is what replaces a small cell.
func (d disclosure) marker() string { return "<" + strconv.FormatInt(d.below, 10) }

// count renders a count, or the marker.
func (d disclosure) count(n int64) string {
	if d.hide(n) {
		return d.marker()
	}
	return Commas(n)
}

// countp renders an optional count ("–" when not applicable).
func (d disclosure) countp(n *int64) string {
	if n == nil {
		return "–"
	}
	return d.count(*n)
}

// dependent renders s, or the marker when the count it derives from is a
// small cell.
func (d disclosure) dependent(base int64, s string) string {
	if d.hide(base) {
		return d.marker()
	}
	return s
}

// delta renders v - ref with its sign, or the marker when either count is
// a small cell (the difference would reveal it).
func (d disclosure) delta(v, ref int64) string {
	if d.hide(v) || d.hide(ref) {
		return d.marker()
	}
	return signed(v - ref)
}

// Commas renders n with thousands separators (1,234,567), as the reports
// write counts.
func Commas(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// signed renders a delta with its sign.
func signed(n int64) string {
	if n > 0 {
		return "+" + Commas(n)
	}
	return Commas(n)
}

func pct(x float64) string { return strconv.FormatFloat(x*100, 'f', 1, 64) + "%" }

func fixed(x *float64, places int) string {
	if x == nil {
		return "–"
	}
	return strconv.FormatFloat(*x, 'f', places, 64)
}

func days(x *int) string {
	if x == nil {
		return "–"
	}
	return strconv.Itoa(*x)
}

func orZero(n *int64) int64 {
	if n == nil {
		return 0
	}
	return *n
}
