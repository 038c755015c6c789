// Package schedule assigns recalendared cases to hearing slots under each
// court's capacity calendar (contract §1.3) and keeps the invariants of
// contract §3: capacity, business days, notice, own court and docket,
// priority order, and overflow for what does not fit.
package schedule

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/recal-project/recal/transforms/cases"
	"github.com/recal-project/recal/transforms/civil"
	"github.com/recal-project/recal/transforms/reference"
)

// Errors wrapped by ParseError.
var (
	ErrHeader    = errors.New("missing column")
	ErrField     = errors.New("bad value")
	ErrOverlap   = errors.New("overlapping effective ranges for the same session")
	ErrDuplicate = errors.New("duplicate row")
)

// ParseError is an error in a capacity calendar or closures file, in the
// manner of encoding/csv.ParseError.
type ParseError struct {
	File string
	Line int
	// Row is set for a Parquet calendar: Line is then the 0-based row.
	Row    bool
	Column string
	Err    error
}

func (e *ParseError) Error() string {
	where := fmt.Sprintf("%s line %d", e.File, e.Line)
	if e.Row {
		where = fmt.Sprintf("%s row %d", e.File, e.Line)
		if e.Line < 0 {
			where = e.File
		}
	}
	if e.Column == "" {
		return fmt.Sprintf("%s: %v", where, e.Err)
	}
	return fmt.Sprintf("%s column %s: %v", where, e.Column, e.Err)
}

func (e *ParseError) Unwrap() error { return e.Err }

// Session is one recurring session of the capacity calendar.
type Session struct {
	Court   uint16
	Docket  cases.Docket
	IJ      string // "" = court-wide pool
	Weekday time.Weekday
	// Start is minutes after midnight.
	Start int
	Slots int
	// From and To bound the effective range (days since epoch, inclusive);
	// To is MaxInt32 when open-ended.
	From, To int32
	Line     int
}

// StartString renders Start as HH:MM.
func (s *Session) StartString() string { return Clock(s.Start) }

// clocks holds every HH:MM of a day: the writers render a time for every
// assignment, and a lookup allocates nothing.
var clocks = func() (t [24 * 60]string) {
	for i := range t {
		t[i] = fmt.Sprintf("%02d:%02d", i/60, i%60)
	}
	return t
}()

// Clock renders minutes after midnight (0..1439) as HH:MM.
func Clock(minutes int) string { return clocks[minutes] }

// ParseClock parses HH:MM into minutes after midnight, as the capacity
// calendar's session_start and the outputs' hearing_time write it.
func ParseClock(s string) (int, bool) {
	if len(s) != 5 || s[2] != ':' {
		return 0, false
	}
	h, err1 := strconv.Atoi(s[:2])
	m, err2 := strconv.Atoi(s[3:])
	if err1 != nil || err2 != nil || h > 23 || m > 59 || h < 0 || m < 0 {
		return 0, false
	}
	return h*60 + m, true
}

// Calendar is a parsed capacity calendar with its closures.
type Calendar struct {
	// sessions[court][docket] lists that docket's sessions.
	sessions map[uint16]*[cases.NumDockets][]Session
	// closedCode[court] holds closure days, closedAllCode the "*"
	// closures, each with its reason's release code; closureWhy holds the
	// distinct reasons, by code (ReleaseReason).
	closedCode    map[uint16]map[int32]Release
	closedAllCode map[int32]Release
	closureIdx    map[string]Release
	closureWhy    []string
}

// NewCalendar returns an empty calendar.
func NewCalendar() *Calendar {
	return &Calendar{sessions: map[uint16]*[cases.NumDockets][]Session{},
		closedCode: map[uint16]map[int32]Release{}, closedAllCode: map[int32]Release{}, closureIdx: map[string]Release{}}
}

var weekdays = map[string]time.Weekday{"MON": time.Monday, "TUE": time.Tuesday, "WED": time.Wednesday, "THU": time.Thursday, "FRI": time.Friday}

type csvRows struct {
	file string
	cr   *csv.Reader
	cols map[string]int
	rec  []string
	line int
}

func newCSV(file string, data []byte, required ...string) (*csvRows, error) {
	cr := csv.NewReader(bytes.NewReader(data))
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	h, err := cr.Read()
	if err != nil {
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			return nil, &ParseError{File: file, Line: pe.Line, Err: pe.Err}
		}
		return nil, &ParseError{File: file, Line: 1, Err: fmt.Errorf("%w: no header", ErrHeader)}
	}
	cols := map[string]int{}
	for i, n := range h {
		cols[strings.ToLower(strings.TrimSpace(strings.TrimPrefix(n, "\ufeff")))] = i
	}
	for _, r := range required {
		if _, ok := cols[r]; !ok {
			return nil, &ParseError{File: file, Line: 1, Column: r, Err: ErrHeader}
		}
	}
	return &csvRows{file: file, cr: cr, cols: cols}, nil
}

func (c *csvRows) next() (bool, error) {
	rec, err := c.cr.Read()
	if err == io.EOF {
		return false, nil
	}
	if err != nil {
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			return false, &ParseError{File: c.file, Line: pe.Line, Err: pe.Err}
		}
		return false, &ParseError{File: c.file, Line: c.line + 1, Err: err}
	}
	c.rec = rec
	c.line, _ = c.cr.FieldPos(0)
	return true, nil
}

func (c *csvRows) get(col string) string {
	i, ok := c.cols[col]
	if !ok || i >= len(c.rec) {
		return ""
	}
	return strings.TrimSpace(c.rec[i])
}

func (c *csvRows) errf(col, format string, a ...any) error {
	return &ParseError{File: c.file, Line: c.line, Column: col, Err: fmt.Errorf("%w: %s", ErrField, fmt.Sprintf(format, a...))}
}

// ParseCapacity parses a capacity calendar CSV (contract §1.3). Values are
// described in errors by their column and the rule they break; calendar
// values are not personal data.
func (cal *Calendar) ParseCapacity(file string, data []byte, ref *reference.Data) error {
	c, err := newCSV(file, data, "base_city_code", "docket", "ij_code", "weekday", "session_start", "slots", "effective_from", "effective_to")
	if err != nil {
		return err
	}
	for {
		ok, err := c.next()
		if err != nil {
			return err
		}
		if !ok {
			break
		}
		s, err := parseSession(c, ref)
		if err != nil {
			return err
		}
		if err := cal.add(file, s); err != nil {
			return err
		}
	}
	for _, ds := range cal.sessions {
		for d := range ds {
			sort.SliceStable(ds[d], func(i, j int) bool {
				a, b := &ds[d][i], &ds[d][j]
				if a.Start != b.Start {
					return a.Start < b.Start
				}
				return a.IJ < b.IJ
			})
		}
	}
	return nil
}

// parseSession parses the capacity row c is on.
func parseSession(c *csvRows, ref *reference.Data) (Session, error) {
	s := Session{Line: c.line}
	ci := ref.CourtIndex(c.get("base_city_code"))
	if ci < 0 {
		return s, c.errf("base_city_code", "%q is not a court in the reference data", c.get("base_city_code"))
	}
	s.Court = uint16(ci)
	d, ok := cases.ParseDocket(strings.ToUpper(c.get("docket")))
	if !ok {
		return s, c.errf("docket", "%q is not DETAINED, NON_DETAINED or JUVENILE", c.get("docket"))
	}
	s.Docket = d
	s.IJ = c.get("ij_code")
	wd, ok := weekdays[strings.ToUpper(c.get("weekday"))]
	if !ok {
		return s, c.errf("weekday", "%q is not MON..FRI", c.get("weekday"))
	}
	s.Weekday = wd
	st := c.get("session_start")
	if s.Start, ok = ParseClock(st); !ok {
		return s, c.errf("session_start", "%q is not HH:MM", st)
	}
	n, err := strconv.Atoi(c.get("slots"))
	if err != nil || n < 0 || n > 100000 {
		return s, c.errf("slots", "%q is not a whole number from 0 to 100000", c.get("slots"))
	}
	s.Slots = n
	from, ok := civil.ParseDate(c.get("effective_from"))
	if !ok || len(c.get("effective_from")) != 10 {
		return s, c.errf("effective_from", "%q is not a date (YYYY-MM-DD)", c.get("effective_from"))
	}
	s.From, s.To = from, 1<<31-1
	if t := c.get("effective_to"); t != "" {
		to, ok := civil.ParseDate(t)
		if !ok || len(t) != 10 {
			return s, c.errf("effective_to", "%q is not a date (YYYY-MM-DD)", t)
		}
		if to < from {
			return s, c.errf("effective_to", "%s is before effective_from %s", t, c.get("effective_from"))
		}
		s.To = to
	}
	return s, nil
}

// add adds session s of file, refusing one that overlaps a session
// already defined for its court, docket, judge, weekday and start.
func (cal *Calendar) add(file string, s Session) error {
	ds := cal.sessions[s.Court]
	if ds == nil {
		ds = &[cases.NumDockets][]Session{}
		cal.sessions[s.Court] = ds
	}
	for _, o := range ds[s.Docket] {
		if o.IJ == s.IJ && o.Weekday == s.Weekday && o.Start == s.Start && o.From <= s.To && s.From <= o.To {
			return &ParseError{File: file, Line: s.Line, Column: "effective_from",
				Err: fmt.Errorf("%w: line %d already defines this court, docket, judge, weekday and start", ErrOverlap, o.Line)}
		}
	}
	ds[s.Docket] = append(ds[s.Docket], s)
	return nil
}

// ParseClosures parses a closures CSV: base_city_code (or *), date, reason.
func (cal *Calendar) ParseClosures(file string, data []byte, ref *reference.Data) error {
	c, err := newCSV(file, data, "base_city_code", "date")
	if err != nil {
		return err
	}
	for {
		ok, err := c.next()
		if err != nil {
			return err
		}
		if !ok {
			return nil
		}
		ds := c.get("date")
		d, ok := civil.ParseDate(ds)
		if !ok || len(ds) != 10 {
			return c.errf("date", "%q is not a date (YYYY-MM-DD)", ds)
		}
		reason := c.get("reason")
		if reason == "" {
			reason = "closure"
		}
		rc, err := cal.closureCode(reason)
		if err != nil {
			return c.errf("reason", "%v", err)
		}
		code := c.get("base_city_code")
		if code == "*" {
			cal.closedAllCode[d] = rc
			continue
		}
		ci := ref.CourtIndex(code)
		if ci < 0 {
			return c.errf("base_city_code", "%q is not a court in the reference data (or *)", code)
		}
		m := cal.closedCode[uint16(ci)]
		if m == nil {
			m = map[int32]Release{}
			cal.closedCode[uint16(ci)] = m
		}
		m[d] = rc
	}
}

// Sessions returns the sessions of a court's docket, by start then judge.
func (cal *Calendar) Sessions(court uint16, d cases.Docket) []Session {
	ds := cal.sessions[court]
	if ds == nil {
		return nil
	}
	return ds[d]
}

// Open reports whether a court sits on day d: a weekday, not a federal
// holiday (observed), not a listed closure.
func (cal *Calendar) Open(court uint16, d int32) bool {
	wd := Weekday(d)
	if wd == time.Saturday || wd == time.Sunday {
		return false
	}
	if cal.isHoliday(d) {
		return false
	}
	if _, ok := cal.closedAllCode[d]; ok {
		return false
	}
	if _, ok := cal.closedCode[court][d]; ok {
		return false
	}
	return true
}

func (cal *Calendar) isHoliday(d int32) bool { return isHoliday(d) }

// The federal holidays of holidayFirstYear to holidayLastYear, as one bit
// a day from holidayFrom (about 90 KB, built once, in milliseconds): a
// lookup instead of computing a year's holidays (with time.Date) whenever
// a day is asked about. Projecting the overflow of millions of cases asks
// about days years past the horizon (a big court's, centuries: New York's
// to 2871 at 10M rows on the bench's overflowing calendar); computing
// them there took a fifth of a 1M-row run's CPU.
const (
	holidayFirstYear = 1900
	holidayLastYear  = 3999
)

var (
	holidayOnce sync.Once
	holidayFrom int32
	holidayDays int32
	holidayBits []uint64
)

// isHoliday reports whether d is an observed federal holiday.
func isHoliday(d int32) bool {
	holidayOnce.Do(func() {
		holidayFrom = civil.DaysFromCivil(holidayFirstYear, 1, 1) - 1 // Dec 31 of the year before can be one
		days := civil.DaysFromCivil(holidayLastYear+1, 1, 1) - holidayFrom
		holidayDays = days
		holidayBits = make([]uint64, days/64+1)
		for y := holidayFirstYear; y <= holidayLastYear+1; y++ {
			for _, x := range FederalHolidays(y) {
				if i := x - holidayFrom; i >= 0 && i < days {
					holidayBits[i/64] |= 1 << (i % 64)
				}
			}
		}
	})
	i := d - holidayFrom
	if i < 0 || i >= holidayDays {
		y, _, _ := civil.CivilFromDays(d) // far outside: compute (observed dates can fall in the neighbouring year)
		return slices.Contains(FederalHolidays(y), d) || slices.Contains(FederalHolidays(y+1), d)
	}
	return holidayBits[i/64]&(1<<(i%64)) != 0
}

// Offered counts the capacity a court's docket offers on days [from, to]:
// the slots and the session occurrences (a recurring session on one open
// day) that have at least one slot.
func (cal *Calendar) Offered(court uint16, docket cases.Docket, from, to int32) (slots, sessions int64) {
	ss := cal.Sessions(court, docket)
	if len(ss) == 0 {
		return 0, 0
	}
	for d := from; d <= to; d++ {
		wd := Weekday(d)
		open := -1 // unknown until a session needs it
		for i := range ss {
			s := &ss[i]
			if s.Weekday != wd || d < s.From || d > s.To || s.Slots == 0 {
				continue
			}
			if open < 0 {
				open = 0
				if cal.Open(court, d) {
					open = 1
				}
			}
			if open == 1 {
				slots += int64(s.Slots)
				sessions++
			}
		}
	}
	return slots, sessions
}

// Courts returns the courts that have sessions, in ascending order.
func (cal *Calendar) Courts() []uint16 {
	cs := make([]uint16, 0, len(cal.sessions))
	for c := range cal.sessions {
		cs = append(cs, c)
	}
	sort.Slice(cs, func(i, j int) bool { return cs[i] < cs[j] })
	return cs
}
