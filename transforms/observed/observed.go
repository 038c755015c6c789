// Package observed derives a capacity calendar (contract §1.3) from the
// hearing settings a court has made: the calendar a policy office does not
// have, read off the public release's tbl_schedule. It is the courts' past
// pattern, not their future staffing: the method and what it can and
// cannot say are in docs/eoir-import.md, "Capacity observed from the
// release".
//
// A session is one court, judge, date and start time. Two ways of turning
// sessions into capacity rows:
//
//   - Share (Derive): a recurring session, one court, judge, weekday and
//     start seen in at least a quarter of the window's weeks, offers
//     Share of its median number of master settings to recalendared cases,
//     from the day after the release, open-ended.
//   - Headroom (Headroom): each future session already on the books offers
//     what is left of a cap, on its date only.
package observed

import (
	"cmp"
	"math"
	"slices"
	"strings"

	"github.com/recal-project/recal/transforms/cases"
	"github.com/recal-project/recal/transforms/civil"
)

// Report is capacity.json: how the calendar beside it was observed, and
// what each court sits. recal import-eoir writes it beside capacity.csv;
// recal run reads it when it sits beside the --capacity file it describes.
type Report struct {
	// Method is "share" (recurring sessions, Share of their median) or
	// "headroom" (future sessions, SessionCap less what is set).
	Method string `json:"method"`
	// ReleaseDate is the release's date; ReleaseDateFrom says where it
	// came from ("--release-date", or "the latest COMP_DATE of
	// B_TblProceeding").
	ReleaseDate     string `json:"release_date"`
	ReleaseDateFrom string `json:"release_date_from"`
	// Window is the observation window (share mode): Weeks weeks up to
	// the release date.
	WindowFrom string  `json:"window_from"`
	WindowTo   string  `json:"window_to"`
	Weeks      int     `json:"weeks"`
	Share      float64 `json:"share,omitempty"`
	SessionCap int     `json:"session_cap,omitempty"`
	// Session says what one session is.
	Session string `json:"session"`
	// MasterSettings counts the master settings (CAL_TYPE M) observed in
	// the window.
	MasterSettings int64 `json:"master_settings"`
	// Rows is capacity.csv's rows; CapacitySHA256 its sha256, so that a
	// run can tell this report describes its calendar.
	Rows           int    `json:"rows"`
	CapacitySHA256 string `json:"capacity_sha256"`
	// UnknownCourts counts the rows left out for a court not in the
	// reference data (nor the crosswalk).
	UnknownCourts map[string]int `json:"unknown_courts,omitempty"`
	// Courts are the per-court figures, by code.
	Courts []Court `json:"courts"`
}

// Setting is one hearing setting of tbl_schedule, typed.
type Setting struct {
	// Court and Judge are BASE_CITY_CODE and IJ_CODE.
	Court, Judge string
	// Day is ADJ_DATE (days since 1970); Start ADJ_TIME_START in minutes
	// after midnight.
	Day   int32
	Start int
	// Master: CAL_TYPE M. Detained: SCHEDULE_TYPE MD (a detained master).
	// Juvenile: the case is a juvenile's.
	Master, Detained, Juvenile bool
}

// session is one court, judge, date and start.
type session struct {
	court, judge string
	day          int32
	start        int
}

// tally counts a session's master settings and how many were detained or
// juveniles'.
type tally struct {
	masters, detained, juvenile int
}

// Observer gathers the master settings of a window and the settings of
// the sessions after the release date. The zero value is not ready: use
// New.
type Observer struct {
	// From and To bound the observation window (days, inclusive);
	// settings after To are future ones.
	From, To int32
	past     map[session]*tally
	future   map[session]*tally
	// Masters counts the master settings in the window.
	Masters int64
}

// New returns an observer of the weeks weeks up to and including
// releaseDay.
func New(releaseDay int32, weeks int) *Observer {
	return &Observer{From: releaseDay - int32(7*weeks) + 1, To: releaseDay, past: map[session]*tally{}, future: map[session]*tally{}}
}

// Add counts one setting: a master setting in the window, or one after
// it (the headroom mode counts what is already set). Others (individual
// calendars, settings before the window) are ignored.
func (o *Observer) Add(s Setting) {
	if !s.Master || s.Day < o.From {
		return
	}
	m := o.past
	if s.Day > o.To {
		m = o.future
	} else {
		o.Masters++
	}
	k := session{s.Court, s.Judge, s.Day, s.Start}
	t := m[k]
	if t == nil {
		t = &tally{}
		m[k] = t
	}
	t.masters++
	if s.Detained {
		t.detained++
	}
	if s.Juvenile {
		t.juvenile++
	}
}

// Row is one capacity row (contract §1.3).
type Row struct {
	Court  string
	Docket cases.Docket
	Judge  string
	// Weekday is 0 for Monday to 4 for Friday.
	Weekday int
	Start   int
	Slots   int
	// From and To are effective_from and effective_to (To < 0: open).
	From, To int32
}

// Court summarises what a court sits, as observed.
type Court struct {
	Code string `json:"base_city_code"`
	// SessionsPerWeek is its recurring master sessions a week (share
	// mode) or its future sessions a week on the books (headroom).
	SessionsPerWeek float64 `json:"sessions_per_week"`
	// Judges is the judges sitting those sessions.
	Judges int `json:"judges"`
	// MedianSession is the median master settings of a session in the
	// window.
	MedianSession float64 `json:"median_session_settings"`
	// Slots is what the court offers recalendared cases a week (share)
	// or in all (headroom).
	Slots int `json:"slots"`
	// MasterSettings counts the master settings observed: in the window
	// (share mode; every session, recurring or not) or on the books
	// after it (headroom).
	MasterSettings int64 `json:"master_settings"`
}

// recurring is one court, judge, weekday and start of the window.
type recurring struct {
	court, judge string
	weekday      int
	start        int
}

// Derive is the share mode: each recurring session (seen in at least a
// quarter of the window's weeks) becomes one row offering share of its
// median session size, rounded half up, from the day after the window;
// a row whose share rounds to 0 is left out. Rows come sorted by court,
// docket, judge, weekday and start.
func (o *Observer) Derive(share float64) ([]Row, []Court) {
	weeks := int(o.To-o.From+1) / 7
	type seen struct {
		sizes              []int
		weeks              map[int32]bool
		detained, juvenile int
	}
	groups := map[recurring]*seen{}
	for k, t := range o.past {
		r := recurring{k.court, k.judge, monday0(k.day), k.start}
		g := groups[r]
		if g == nil {
			g = &seen{weeks: map[int32]bool{}}
			groups[r] = g
		}
		g.sizes = append(g.sizes, t.masters)
		g.weeks[(k.day-o.From)/7] = true
		g.detained += t.detained
		g.juvenile += t.juvenile
	}
	var rows []Row
	courts := map[string]*courtTally{}
	tallyOf := func(court string) *courtTally {
		ct := courts[court]
		if ct == nil {
			ct = &courtTally{judges: map[string]bool{}}
			courts[court] = ct
		}
		return ct
	}
	for k, t := range o.past {
		tallyOf(k.court).settings += int64(t.masters)
	}
	for r, g := range groups {
		if r.weekday > 4 || 4*len(g.weeks) < weeks {
			continue // a weekend session, or not recurring
		}
		median := medianOf(g.sizes)
		total := 0
		for _, n := range g.sizes {
			total += n
		}
		docket := docketOf(total, g.detained, g.juvenile)
		slots := int(math.Floor(share*median + 0.5))
		ct := tallyOf(r.court)
		ct.sessions += float64(len(g.weeks)) / float64(max(weeks, 1))
		ct.judges[r.judge] = true
		ct.sizes = append(ct.sizes, g.sizes...)
		if slots <= 0 {
			continue
		}
		ct.slots += slots
		rows = append(rows, Row{Court: r.court, Docket: docket, Judge: r.judge, Weekday: r.weekday, Start: r.start, Slots: slots, From: o.To + 1, To: -1})
	}
	sortRows(rows)
	return rows, summarise(courts)
}

// Headroom is the headroom mode: each future session on the books offers
// cap less the settings already made for it (never below 0), on its date
// only. Sessions on a weekend are left out (the calendar has none).
func (o *Observer) Headroom(cap int) ([]Row, []Court) {
	var rows []Row
	courts := map[string]*courtTally{}
	weeks := map[string]map[int32]bool{}
	for k, t := range o.future {
		wd := monday0(k.day)
		if wd > 4 {
			continue
		}
		slots := max(0, cap-t.masters)
		ct := courts[k.court]
		if ct == nil {
			ct = &courtTally{judges: map[string]bool{}}
			courts[k.court] = ct
			weeks[k.court] = map[int32]bool{}
		}
		ct.sessions++
		ct.judges[k.judge] = true
		ct.sizes = append(ct.sizes, t.masters)
		ct.slots += slots
		ct.settings += int64(t.masters)
		weeks[k.court][(k.day-o.To-1)/7] = true
		rows = append(rows, Row{Court: k.court, Docket: docketOf(t.masters, t.detained, t.juvenile), Judge: k.judge, Weekday: wd, Start: k.start,
			Slots: slots, From: k.day, To: k.day})
	}
	for c, ct := range courts {
		ct.sessions /= float64(max(1, len(weeks[c])))
	}
	sortRows(rows)
	return rows, summarise(courts)
}

// monday0 is d's weekday, 0 for Monday to 6 for Sunday.
func monday0(d int32) int { return (int(civil.Weekday(d)) + 6) % 7 }

// docketOf is a session's docket: DETAINED when most of its settings are
// detained masters, JUVENILE when most are juveniles', else NON_DETAINED.
func docketOf(total, detained, juvenile int) cases.Docket {
	switch {
	case 2*detained > total:
		return cases.Detained
	case 2*juvenile > total:
		return cases.Juvenile
	}
	return cases.NonDetained
}

type courtTally struct {
	sessions float64
	judges   map[string]bool
	sizes    []int
	slots    int
	settings int64
}

func summarise(courts map[string]*courtTally) []Court {
	var out []Court
	for code, ct := range courts {
		out = append(out, Court{Code: code, SessionsPerWeek: math.Round(ct.sessions*100) / 100, Judges: len(ct.judges), MedianSession: medianOf(ct.sizes),
			Slots: ct.slots, MasterSettings: ct.settings})
	}
	slices.SortFunc(out, func(a, b Court) int { return cmp.Compare(a.Code, b.Code) })
	return out
}

// medianOf is the median of ns (the mean of the middle two for an even
// count; 0 for none).
func medianOf(ns []int) float64 {
	if len(ns) == 0 {
		return 0
	}
	s := slices.Clone(ns)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return float64(s[len(s)/2])
	}
	return float64(s[len(s)/2-1]+s[len(s)/2]) / 2
}

func sortRows(rows []Row) {
	slices.SortFunc(rows, func(a, b Row) int {
		return cmp.Or(cmp.Compare(a.Court, b.Court), cmp.Compare(a.Docket, b.Docket), cmp.Compare(a.Judge, b.Judge),
			cmp.Compare(a.Weekday, b.Weekday), cmp.Compare(a.Start, b.Start), cmp.Compare(a.From, b.From))
	})
}

// ParseStart parses ADJ_TIME_START as releases write it: "0830" (or
// "830"), "08:30", "08:30:00" (with fractions), a full timestamp
// ("2025-04-04 08:30:00.000", the time part counts), and any of these
// with AM or PM. It returns minutes after midnight.
func ParseStart(s string) (int, bool) {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, ' '); i >= 0 && strings.Count(s[:i], "-") == 2 { // a timestamp: its time
		s = s[i+1:]
	} else if i := strings.IndexByte(s, 'T'); i == 10 {
		s = s[i+1:]
	}
	pm, am := false, false
	if u := strings.ToUpper(s); strings.HasSuffix(u, "AM") || strings.HasSuffix(u, "PM") {
		pm, am = strings.HasSuffix(u, "PM"), strings.HasSuffix(u, "AM")
		s = strings.TrimSpace(s[:len(s)-2])
	}
	var h, m int
	var ok bool
	if i := strings.IndexByte(s, ':'); i >= 0 {
		rest := s[i+1:]
		if j := strings.IndexByte(rest, ':'); j >= 0 {
			rest = rest[:j] // seconds ignored
		}
		h, ok = number(s[:i])
		if !ok || len(rest) != 2 {
			return 0, false
		}
		if m, ok = number(rest); !ok {
			return 0, false
		}
	} else {
		if len(s) < 3 || len(s) > 4 {
			return 0, false
		}
		if h, ok = number(s[:len(s)-2]); !ok {
			return 0, false
		}
		if m, ok = number(s[len(s)-2:]); !ok {
			return 0, false
		}
	}
	switch {
	case pm && h < 12:
		h += 12
	case am && h == 12:
		h = 0
	}
	if h > 23 || m > 59 || (am || pm) && h > 23 {
		return 0, false
	}
	return h*60 + m, true
}

// number parses 1 or 2 decimal digits.
func number(s string) (int, bool) {
	if len(s) == 0 || len(s) > 2 {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		n = 10*n + int(s[i]-'0')
	}
	return n, true
}
