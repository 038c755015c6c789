package eoirtest

import (
	"bufio"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"time"

	"github.com/recal-project/recal/pipeline/refdata"
	"github.com/recal-project/recal/transforms/civil"
	calendar "github.com/recal-project/recal/transforms/schedule"
)

// NationalVersion changes whenever National writes other bytes for the
// same arguments: caches of its releases (make bench's) are keyed by it.
const NationalVersion = 3

// NationalSizes are the sizes of a release of the national shape. Zero
// fields take the 2025-2026 releases' proportions (domain.md, "Scale and
// shape of the public release") to Proceedings.
type NationalSizes struct {
	// Proceedings is B_TblProceeding's rows (16.8M in the 2026 release).
	Proceedings int64
	// Cases is A_TblCase's rows (default Proceedings/4.2: about 4M).
	Cases int64
	// Schedule is tbl_schedule's rows (default 2.68 a proceeding: 45M).
	Schedule int64
	// Motions and Custody are tbl_Court_Motions' and
	// tbl_CustodyHistory's rows (defaults 0.1 and 0.15 a proceeding).
	Motions, Custody int64
	// Judges is the number of immigration judges sitting (default 550,
	// scaled down with Proceedings below the national size).
	Judges int
	// ReleaseDate is the release's last day (default 2026-03-31); the
	// schedule holds settings up to 26 weeks after it.
	ReleaseDate time.Time
}

// NationalFacts are what National wrote, for tests and the bench.
type NationalFacts struct {
	Cases, Proceedings, Schedule, Motions, Custody int64
	// Closed counts the cases whose latest proceeding National closed
	// administratively; ReopenedByHearing and ReopenedByMotion those it
	// gave a later hearing setting or a granted motion to recalendar.
	Closed, ReopenedByHearing, ReopenedByMotion int64
	// Dirty counts the rows written with the release's dirt, by kind.
	Dirty map[string]int64
	// Judges and Sessions are the judges sitting and the sessions of the
	// schedule (masters and individual calendars).
	Judges, Sessions int
	// TopTenShare is the share of the pending (not closed) cases the ten
	// largest courts hold.
	TopTenShare float64
}

// Dirt rates of National, per row: assumed, not measured (the release's
// READMEs say the dirt is there, not how often; deportationdata/eoir
// repairs ~71 shifted rows of 16.8M proceedings).
const (
	rateNUL     = 1e-4 // a field padded or broken by a NUL byte
	rateNullKey = 1e-5 // an empty IDNCASE
	rateShifted = 5e-6 // a tab inside a field: one field too many
	rateStray   = 1e-4 // a code outside its lookup table (custody X, lower case)
	rateLatin1  = 1e-4 // a Windows-1252 byte in a text field
)

// National writes a release of the national shape into dir: tab-delimited,
// the real tables' column lists (domain.md), court sizes as uneven as the
// real ones (Zipf: the ten largest courts hold about half the cases), and a
// tbl_schedule of real-looking sessions: each judge sits master calendars
// (CAL_TYPE M, 20-30 settings, now and then a "mega master" of over 100) on
// fixed weekdays and start times, and individual calendars (CAL_TYPE I) on
// others, week after week up to 26 weeks past the release date, federal
// holidays skipped, with noise (a judge's week off, a one-off session); detained
// and juvenile dockets have their own judges' sessions (SCHEDULE_TYPE MD,
// juveniles' CASEPRIORITY_CODE UC). About a tenth of the cases end
// administratively closed, of which some are reopened by a later setting
// or a granted motion. The dirt the release has (NUL bytes, empty keys,
// shifted rows, stray codes, Windows-1252 bytes) comes at the rates above.
// The same sizes, courts and seed give the same bytes.
func National(dir string, sz NationalSizes, courts []string, seed uint64) (*NationalFacts, error) {
	g, err := newNational(sz, courts, seed)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	for _, t := range []struct {
		name string
		fn   func(w *bufio.Writer)
	}{
		{"B_TblProceeding.csv", g.proceedings},
		{"A_TblCase.csv", g.casesTable},
		{"tbl_schedule.csv", g.schedule},
		{"tbl_Court_Motions.csv", g.motions},
		{"tbl_CustodyHistory.csv", g.custody},
	} {
		if err := writeTable(filepath.Join(dir, t.name), t.fn); err != nil {
			return nil, err
		}
	}
	return &g.facts, nil
}

func writeTable(path string, fn func(w *bufio.Writer)) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	fn(w)
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// natCase is one case: its court, kind and fate.
type natCase struct {
	court    uint16
	kind     uint8 // kindOther, kindDetained, kindJuvenile
	closed   bool
	reopen   uint8 // 0, reopenHearing, reopenMotion
	procs    uint8 // proceedings
	closedOn int32 // days from the epoch: its latest proceeding's COMP_DATE
}

const (
	kindOther uint8 = iota
	kindDetained
	kindJuvenile
	numKinds
)

const (
	reopenHearing uint8 = 1 + iota
	reopenMotion
)

// natJudge is one judge of a court and the sessions they sit each week.
type natJudge struct {
	code  string
	court uint16
	slots []natSlot
}

// natSlot is a weekly session: weekday (0 Monday), start (minutes), kind
// of docket, master or individual.
type natSlot struct {
	weekday, start int
	kind           uint8
	master         bool
}

type national struct {
	sz      NationalSizes
	courts  []string
	rng     *rand.Rand
	cases   []natCase // by IDNCASE-1
	byCourt [][numKinds][]int32
	judges  []natJudge
	epoch   time.Time
	release int32 // days from epoch
	days    []string
	facts   NationalFacts
	weeks   int
}

func newNational(sz NationalSizes, courts []string, seed uint64) (*national, error) {
	if sz.Proceedings <= 0 || len(courts) == 0 {
		return nil, fmt.Errorf("eoirtest: National needs proceedings and courts")
	}
	if sz.Cases == 0 {
		sz.Cases = max(1, int64(float64(sz.Proceedings)/4.2))
	}
	if sz.Schedule == 0 {
		sz.Schedule = int64(2.68 * float64(sz.Proceedings))
	}
	if sz.Motions == 0 {
		sz.Motions = sz.Proceedings / 10
	}
	if sz.Custody == 0 {
		sz.Custody = sz.Proceedings * 15 / 100
	}
	if sz.Judges == 0 {
		sz.Judges = max(len(courts), int(550*math.Min(1, float64(sz.Proceedings)/16.8e6)))
	}
	if sz.ReleaseDate.IsZero() {
		sz.ReleaseDate = time.Date(2026, 3, 31, 0, 0, 0, 0, time.UTC)
	}
	g := &national{sz: sz, courts: courts, rng: rand.New(rand.NewPCG(seed, 0xeb1a)), epoch: time.Date(1995, 1, 1, 0, 0, 0, 0, time.UTC),
		facts: NationalFacts{Dirty: map[string]int64{}}}
	g.release = int32(sz.ReleaseDate.Sub(g.epoch).Hours() / 24)
	for d := 0; d <= int(g.release)+200; d++ {
		t := g.epoch.AddDate(0, 0, d)
		g.days = append(g.days, fmt.Sprintf("%04d-%02d-%02d 00:00:00.000", t.Year(), t.Month(), t.Day()))
	}
	g.makeCases()
	g.makeJudges()
	return g, nil
}

// ReferenceCourts returns the court codes of recal's reference data, in
// its order: the courts National draws from in tests and the bench.
func ReferenceCourts() ([]string, error) {
	ref, err := refdata.Load(refdata.Paths{})
	if err != nil {
		return nil, err
	}
	courts := make([]string, len(ref.Courts))
	for i, c := range ref.Courts {
		courts[i] = c.Code
	}
	return courts, nil
}

// courtWeights are Zipf weights over the courts whose ten largest hold
// about half of the total (s = 0.9 over the reference data's 95 codes).
func courtWeights(n int) []float64 {
	w := make([]float64, n)
	for i := range w {
		w[i] = 1 / math.Pow(float64(i+1), 0.9)
	}
	return w
}

func (g *national) pickWeighted(cum []float64) int {
	x := g.rng.Float64() * cum[len(cum)-1]
	lo, hi := 0, len(cum)-1
	for lo < hi {
		mid := (lo + hi) / 2
		if cum[mid] < x {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return lo
}

func cumulative(w []float64) []float64 {
	c := make([]float64, len(w))
	s := 0.0
	for i, x := range w {
		s += x
		c[i] = s
	}
	return c
}

// bigCourts are the largest courts by pending cases (TRAC, March 2025:
// Miami, New York, Orlando, Dallas first), in order: National gives them
// the largest Zipf weights, the other courts the rest in the order given.
var bigCourts = []string{"MIA", "NYC", "ORL", "DAL", "HOU", "LOS", "SFR", "CHI", "ATL", "NEW", "SNA", "WAS", "ARL", "BOS", "PHO", "DEN", "SEA", "SND", "LVG", "CHL"}

// rankedWeights returns each court's weight: the big courts ranked first.
func rankedWeights(courts []string) []float64 {
	rank := make([]int, len(courts))
	next := 0
	at := map[string]int{}
	for i, c := range courts {
		at[c] = i
		rank[i] = -1
	}
	for _, c := range bigCourts {
		if i, ok := at[c]; ok {
			rank[i] = next
			next++
		}
	}
	for i := range rank {
		if rank[i] < 0 {
			rank[i] = next
			next++
		}
	}
	zipf := courtWeights(len(courts))
	w := make([]float64, len(courts))
	for i, r := range rank {
		w[i] = zipf[r]
	}
	return w
}

func (g *national) makeCases() {
	n := g.sz.Cases
	g.cases = make([]natCase, n)
	g.byCourt = make([][numKinds][]int32, len(g.courts))
	cum := cumulative(rankedWeights(g.courts))
	// Proceedings per case: 1 + a geometric draw, scaled to the total.
	per := float64(g.sz.Proceedings) / float64(n)
	left := g.sz.Proceedings
	for i := range g.cases {
		c := &g.cases[i]
		c.court = uint16(g.pickWeighted(cum))
		switch r := g.rng.Float64(); {
		case r < 0.06:
			c.kind = kindDetained
		case r < 0.11:
			c.kind = kindJuvenile
		}
		k := int64(1)
		if remaining := int64(len(g.cases) - i - 1); remaining > 0 {
			k = max(1, min(int64(math.Round(per*(0.25+1.5*g.rng.Float64()))), left-remaining, 250))
		} else {
			k = max(1, min(left, 250))
		}
		c.procs = uint8(k)
		left -= k
		if g.rng.Float64() < 0.116 {
			c.closed = true
			c.closedOn = g.release - 30 - int32(g.rng.IntN(13*365))
			switch r := g.rng.Float64(); {
			case r < 0.08:
				c.reopen = reopenHearing
				g.facts.ReopenedByHearing++
			case r < 0.13:
				c.reopen = reopenMotion
				g.facts.ReopenedByMotion++
			}
			g.facts.Closed++
		}
		if !c.closed { // closed cases get settings only as their fate says (schedule)
			g.byCourt[c.court][c.kind] = append(g.byCourt[c.court][c.kind], int32(i))
		}
	}
	g.facts.Cases = n
	sizes := make([]int, len(g.courts))
	pending := 0
	for ci := range g.byCourt {
		for _, l := range g.byCourt[ci] {
			sizes[ci] += len(l)
			pending += len(l)
		}
	}
	sort.Sort(sort.Reverse(sort.IntSlice(sizes)))
	top := 0
	for _, n := range sizes[:min(10, len(sizes))] {
		top += n
	}
	g.facts.TopTenShare = float64(top) / float64(max(pending, 1))
}

// makeJudges gives each court judges in proportion to its cases (at
// least one), each with a week of sessions: two or three master
// calendars and two individual ones, at 08:30 or 13:00; in a court with
// three judges or more one judge sits a juvenile docket, and in courts
// with detained cases one sits a detained docket.
func (g *national) makeJudges() {
	total := 0
	for _, k := range g.byCourt {
		for _, l := range k {
			total += len(l)
		}
	}
	for ci := range g.courts {
		n := 0
		for _, l := range g.byCourt[ci] {
			n += len(l)
		}
		nj := max(1, int(math.Round(float64(g.sz.Judges)*float64(n)/float64(max(total, 1)))))
		for j := range nj {
			jd := natJudge{code: fmt.Sprintf("%s%02d", g.courts[ci][:min(3, len(g.courts[ci]))], j+1), court: uint16(ci)}
			kind := kindOther
			switch {
			case j == 1 && nj >= 3:
				kind = kindJuvenile
			case j == nj-1 && nj >= 2 && len(g.byCourt[ci][kindDetained]) > 0:
				kind = kindDetained
			}
			days := g.rng.Perm(5)
			masters := 2 + g.rng.IntN(2)
			for d, wd := range days {
				start := 8*60 + 30
				if g.rng.IntN(3) == 0 {
					start = 13 * 60
				}
				jd.slots = append(jd.slots, natSlot{weekday: wd, start: start, kind: kind, master: d < masters})
				if d >= masters+2 {
					break
				}
			}
			g.judges = append(g.judges, jd)
		}
	}
	g.facts.Judges = len(g.judges)
}

// row assembles one tab-delimited line of n fields so far.
type row struct {
	b []byte
	n int
}

func (r *row) s(f string) *row {
	if r.n > 0 {
		r.b = append(r.b, '\t')
	}
	r.n++
	r.b = append(r.b, f...)
	return r
}

func (r *row) i(v int64) *row {
	if r.n > 0 {
		r.b = append(r.b, '\t')
	}
	r.n++
	r.b = strconv.AppendInt(r.b, v, 10)
	return r
}

// end finishes the line, with the dirt of its table at the given rates.
func (g *national) end(w *bufio.Writer, r *row, table string) {
	switch x := g.rng.Float64(); {
	case x < rateShifted:
		r.b = append(r.b, '\t') // one field too many
		g.facts.Dirty[table+" shifted row"]++
	case x < rateShifted+rateNUL:
		if i := indexTab(r.b, 2); i > 0 {
			r.b = append(r.b[:i], append([]byte{0}, r.b[i:]...)...) // a NUL at the end of the second field
			g.facts.Dirty[table+" NUL"]++
		}
	}
	r.b = append(r.b, '\n')
	w.Write(r.b)
	r.b, r.n = r.b[:0], 0
}

// indexTab returns the index of the n-th tab of b (-1: none).
func indexTab(b []byte, n int) int {
	for i, c := range b {
		if c == '\t' {
			n--
			if n == 0 {
				return i
			}
		}
	}
	return -1
}

func (g *national) day(d int32) string {
	return g.days[max(0, min(int(d), len(g.days)-1))]
}

func (g *national) pick(s []string) string { return s[g.rng.IntN(len(s))] }

// idnCase is a case's IDNCASE, now and then empty (a null key).
func (g *national) idnCase(i int64) string {
	if g.rng.Float64() < rateNullKey {
		g.facts.Dirty["null IDNCASE"]++
		return ""
	}
	return strconv.FormatInt(i+1, 10)
}

const nationalProcHeader = "IDNPROCEEDING\tIDNCASE\tOSC_DATE\tINPUT_DATE\tBASE_CITY_CODE\tHEARING_LOC_CODE\tIJ_CODE\tTRANS_IN_DATE\tPREV_HEARING_LOC\tPREV_HEARING_BASE\tPREV_IJ_CODE\tHEARING_DATE\tHEARING_TIME\tDEC_TYPE\tDEC_CODE\tDEPORTED_1\tDEPORTED_2\tOTHER_COMP\tAPPEAL_RSVD\tAPPEAL_NOT_FILED\tCOMP_DATE\tABSENTIA\tVENUE_CHG_GRANTED\tTRANSFER_TO\tTRANSFER_STATUS\tCUSTODY\tCASE_TYPE\tNAT\tLANG\tSCHEDULED_HEAR_LOC\tCRIM_IND\tIHP\tAGGRAVATE_FELON\tDATE_DETAINED\tDATE_RELEASED"

var (
	natClosures  = []string{"A", "A", "A", "A", "Y", "B", "K", "M"}
	natCompleted = []string{"C", "T", "T", "F", "X", "P", "O", "W"}
	natNats      = []string{"MX", "GT", "HO", "ES", "CH", "IN", "EC", "VE", "CU", "HA", "BR", "NI", "CO", "PE", "RO"}
	natLangs     = []string{"SP", "SP", "SP", "ENG", "MAN", "PUN", "POR", "CRE", "QUE", "RUS", "ARA", "HIN"}
)

func (g *national) judgeOf(court uint16) string {
	return fmt.Sprintf("%s%02d", g.courts[court][:min(3, len(g.courts[court]))], 1+g.rng.IntN(3))
}

func (g *national) proceedings(w *bufio.Writer) {
	w.WriteString(nationalProcHeader + "\n")
	var r row
	idp := int64(1000)
	for ci := range g.cases {
		c := &g.cases[ci]
		court := g.courts[c.court]
		start := g.release - 400 - int32(g.rng.IntN(20*365))
		if c.closed {
			start = min(start, c.closedOn-200)
		}
		for p := range int(c.procs) {
			idp++
			last := p == int(c.procs)-1
			osc := min(start+int32(p*40), g.release-60)
			if c.closed {
				osc = min(osc, c.closedOn-30) // the closing proceeding began before it closed
			}
			other, comp := g.pick(natCompleted), g.day(min(osc+30, g.release))
			if ci == 0 && p == 0 {
				comp = g.day(g.release) // the release's last completion: it dates the release
			}
			switch {
			case last && c.closed:
				other, comp = g.pick(natClosures), g.day(c.closedOn)
			case last:
				other, comp = "", ""
			}
			custody := [...]string{"N", "D", "R"}[g.rng.IntN(3)]
			if c.kind == kindDetained {
				custody = "D"
			}
			if g.rng.Float64() < rateStray {
				custody = "X"
				g.facts.Dirty["stray CUSTODY"]++
			}
			yn := "N"
			if g.rng.IntN(12) == 0 {
				yn = "Y"
			}
			r.i(idp).s(g.idnCase(int64(ci))).s(g.day(osc)).s(g.day(osc + 5)).s(court).s(court + "X").s(g.judgeOf(c.court)).
				s("").s("").s("").s("").s("").s("").s("").s("").s("").s("").s(other).s("").s("").s(comp).s(yn).s("").s("").s("").
				s(custody).s("RMV").s(g.pick(natNats)).s(g.pick(natLangs)).s("").s(yn).s("").s([...]string{"0", "0", "0", "1"}[g.rng.IntN(4)]).s("").s("")
			g.end(w, &r, "B_TblProceeding")
			g.facts.Proceedings++
		}
	}
}

func (g *national) casesTable(w *bufio.Writer) {
	w.WriteString("IDNCASE\tNAT\tLANG\tCUSTODY\tCASE_TYPE\tSITE_TYPE\tALIEN_CITY\tALIEN_STATE\tALIEN_ZIPCODE\tUPDATED_ZIPCODE\tUPDATED_CITY\tLATEST_HEARING\tLATEST_TIME\tLATEST_CAL_TYPE\tUP_BOND_DATE\tUP_BOND_RSN\tCORRECTIONAL_FAC\tRELEASE_MONTH\tRELEASE_YEAR\tINMATE_HOUSING\tDATE_OF_ENTRY\tC_ASY_TYPE\tC_BIRTHDATE\tC_RELEASE_DATE\tUPDATE_SITE\tLATEST_REPLICATED\tCASEPRIORITY_CODE\tDCO_LOCATION\tE_28_DATE\tATTY_NBR\n")
	var r row
	for ci := range g.cases {
		c := &g.cases[ci]
		city := "Houston"
		if g.rng.Float64() < rateLatin1 {
			city = "Bogot\xe1" // Windows-1252
			g.facts.Dirty["Windows-1252"]++
		}
		birth := g.release - int32(365*(20+g.rng.IntN(40)))
		prio := ""
		if c.kind == kindJuvenile {
			birth = g.release - int32(365*(6+g.rng.IntN(11)))
			prio = "UC"
		}
		custody := "N"
		if c.kind == kindDetained {
			custody = "D"
		}
		r.s(g.idnCase(int64(ci))).s(g.pick(natNats)).s(g.pick(natLangs)).s(custody).s("RMV").s("").s(city).s("TX").s("77001").s("").s("").
			s(g.day(g.release - int32(g.rng.IntN(2000)))).s("0900").s("M").s("").s("").s("").s("").s("").s("").
			s(g.day(birth + int32(365*(5+g.rng.IntN(10))))).s("").s(g.day(birth)).s("").s("").s("").s(prio).s("").s("").s("")
		g.end(w, &r, "A_TblCase")
	}
}

const nationalScheduleHeader = "IDNSCHEDULE\tIDNPROCEEDING\tIDNCASE\tLANG\tHEARING_LOC_CODE\tBASE_CITY_CODE\tIJ_CODE\tINTERPRETER_CODE\tCAL_TYPE\tADJ_DATE\tADJ_TIME_START\tADJ_TIME_STOP\tADJ_RSN\tADJ_MEDIUM\tADJ_MSG\tADJ_ELAP_DAYS\tLNGSESSNID\tSCHEDULE_TYPE\tNOTICE_CODE\tBLNCLOCKOVERRIDE\tEOIRAttorneyID"

// schedule writes the weekly sessions of every judge, oldest week first,
// up to 26 weeks past the release date (the settings already made), with
// as many weeks of history as the size asks; then one setting after its
// closure for each case reopened by a hearing.
func (g *national) schedule(w *bufio.Writer) {
	w.WriteString(nationalScheduleHeader + "\n")
	perWeek := 0.0
	for _, j := range g.judges {
		for _, s := range j.slots {
			if s.master {
				perWeek += 27
			} else {
				perWeek += 4
			}
		}
	}
	weeks := max(53, int(float64(g.sz.Schedule)/perWeek)) // at least 26 weeks of history and 26 on the books
	g.weeks = weeks
	monday := g.release - int32((int(g.release)+g.epochWeekday())%7) + 26*7 - int32(weeks-1)*7
	var r row
	ids := int64(0)
	session := int64(500000)
	holidays := g.holidays()
	for wk := range weeks {
		for ji := range g.judges {
			j := &g.judges[ji]
			if g.rng.IntN(50) == 0 {
				continue // the judge's week off: a cancelled week
			}
			slots := j.slots
			if g.rng.IntN(100) == 0 { // a one-off master session
				slots = append(slices.Clone(slots), natSlot{weekday: g.rng.IntN(5), start: 10 * 60, kind: kindOther, master: true})
			}
			for _, s := range slots {
				day := monday + int32(wk*7+s.weekday)
				if day > g.release+26*7 || holidays[day] {
					continue
				}
				session++
				n := 2 + g.rng.IntN(5)
				if s.master {
					n = 20 + g.rng.IntN(11)
					if g.rng.IntN(40) == 0 {
						n = 100 + g.rng.IntN(60) // a mega master
					}
				}
				g.facts.Sessions++
				for range n {
					ci, ok := g.sessionCase(j.court, s.kind)
					if !ok {
						break
					}
					ids++
					g.setting(&r, ids, ci, j, s, day, session)
					g.end(w, &r, "tbl_schedule")
				}
			}
		}
	}
	for ci := range g.cases {
		c := &g.cases[ci]
		if c.reopen != reopenHearing {
			continue
		}
		ids++
		j := g.courtJudge(c.court)
		s := j.slots[0]
		day := c.closedOn + 30 + int32(g.rng.IntN(int(g.release-c.closedOn)+150))
		g.setting(&r, ids, int32(ci), j, s, day, 0)
		g.end(w, &r, "tbl_schedule")
	}
	g.facts.Schedule = ids
}

// holidays are the federal holidays (calendar.FederalHolidays) of the
// schedule's years, as days from the generator's epoch: no court sits.
func (g *national) holidays() map[int32]bool {
	off := civil.DaysFromCivil(g.epoch.Year(), int(g.epoch.Month()), g.epoch.Day())
	h := map[int32]bool{}
	for y := g.epoch.Year(); y <= g.sz.ReleaseDate.Year()+1; y++ {
		for _, d := range calendar.FederalHolidays(y) {
			h[d-off] = true
		}
	}
	return h
}

func (g *national) epochWeekday() int {
	return (int(g.epoch.Weekday()) + 6) % 7 // 0: Monday
}

// sessionCase draws a case of the court's docket kind for a setting
// (falling back to any kind when the court has none of it).
func (g *national) sessionCase(court uint16, kind uint8) (int32, bool) {
	l := g.byCourt[court][kind]
	if len(l) == 0 {
		l = g.byCourt[court][kindOther]
	}
	if len(l) == 0 {
		return 0, false
	}
	return l[g.rng.IntN(len(l))], true
}

func (g *national) courtJudge(court uint16) *natJudge {
	for i := range g.judges {
		if g.judges[i].court == court {
			return &g.judges[i]
		}
	}
	return &g.judges[0]
}

// setting writes one hearing setting of case ci in judge j's session s on day.
func (g *national) setting(r *row, id int64, ci int32, j *natJudge, s natSlot, day int32, session int64) {
	court := g.courts[j.court]
	cal, typ := "I", "II"
	if s.master {
		cal, typ = "M", [...]string{"MM", "MR", "MR"}[g.rng.IntN(3)]
		if s.kind == kindDetained {
			typ = "MD"
		}
	} else if s.kind == kindDetained {
		typ = "ID"
	}
	start := fmt.Sprintf("%02d%02d", s.start/60, s.start%60)
	sess := ""
	if session > 0 {
		sess = strconv.FormatInt(session, 10)
	}
	r.i(id).s("").s(g.idnCase(int64(ci))).s(g.pick(natLangs)).s(court + "X").s(court).s(j.code).s("").s(cal).s(g.day(day)).s(start).
		s(fmt.Sprintf("%02d%02d", s.start/60+3, s.start%60)).s("").s("P").s("").s("").s(sess).s(typ).s("").s("0").s("")
}

func (g *national) motions(w *bufio.Writer) {
	w.WriteString("IDNMOTION\tIDNPROCEEDING\tIDNCASE\tREC_TYPE\tDEC\tCOMP_DATE\tMOTION_RECD_DATE\tSTRFILINGPARTY\n")
	var r row
	id := int64(0)
	emit := func(ci int64, typ, dec string, day int32) {
		id++
		r.i(id).s("").s(g.idnCase(ci)).s(typ).s(dec).s("").s(g.day(day)).s("G")
		g.end(w, &r, "tbl_Court_Motions")
	}
	for ci := range g.cases {
		c := &g.cases[ci]
		switch {
		case c.reopen == reopenMotion:
			emit(int64(ci), "C", "G", c.closedOn+60+int32(g.rng.IntN(int(g.release-c.closedOn))))
		case c.closed && g.rng.IntN(5) == 0: // a motion to recalendar pending or denied
			emit(int64(ci), [...]string{"C", "CL"}[g.rng.IntN(2)], [...]string{"", "D"}[g.rng.IntN(2)], c.closedOn+60+int32(g.rng.IntN(int(g.release-c.closedOn))))
		}
	}
	for id < g.sz.Motions {
		ci := g.rng.Int64N(int64(len(g.cases)))
		day := g.release - int32(g.rng.IntN(7000))
		if c := &g.cases[ci]; c.closed {
			day = min(day, c.closedOn-10) // before the closure: no effect on it
		}
		emit(ci, [...]string{"AC", "RS", "CV", "OT"}[g.rng.IntN(4)], [...]string{"G", "D", "", "M"}[g.rng.IntN(4)], day)
	}
	g.facts.Motions = id
}

func (g *national) custody(w *bufio.Writer) {
	w.WriteString("IDNCUSTODY\tIDNCASE\tCUSTODY\tCHARGE\tCHG_STATUS\tDATDETAINED\tDATRELEASED\n")
	var r row
	for id := int64(1); id <= g.sz.Custody; id++ {
		ci := g.rng.Int64N(int64(len(g.cases)))
		custody := [...]string{"D", "R", "N"}[g.rng.IntN(3)]
		if g.cases[ci].kind == kindDetained {
			custody = "D"
		}
		det := g.release - int32(g.rng.IntN(7000))
		rel := ""
		if custody != "D" {
			rel = g.day(det + int32(g.rng.IntN(300)))
		}
		r.i(id).s(g.idnCase(ci)).s(custody).s("").s("").s(g.day(det)).s(rel)
		g.end(w, &r, "tbl_CustodyHistory")
	}
	g.facts.Custody = g.sz.Custody
}
