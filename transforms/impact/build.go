package impact

import (
	"math"
	"sort"
	"strconv"
	"strings"
	"unicode"

	"github.com/recal-project/recal/transforms/cases"
	"github.com/recal-project/recal/transforms/civil"
	"github.com/recal-project/recal/transforms/policy"
	"github.com/recal-project/recal/transforms/reference"
	"github.com/recal-project/recal/transforms/schedule"
)

// Builder accumulates a run's outcomes, one case at a time, and builds its
// Impact. Its state is counts and day histograms keyed by small codes, so
// it stays small however many cases pass through. A Builder is not safe
// for concurrent use.
type Builder struct {
	ref         *reference.Data
	pol         *policy.Policy
	cal         *schedule.Calendar
	p           schedule.Params
	first, last int32 // the window of offered slots

	// cells holds the recalendared cases by court, docket and tier (a
	// dense index: one map lookup per case was most of the report stage
	// at 10M rows); nil where there is none.
	cells       [][cases.NumDockets][]*cell
	sessions    map[sessionKey]struct{}
	lastSession sessionKey
	// closedCourt and closedRule count remain-closed cases.
	closedCourt map[uint16]int64
	closedRule  []int64
	closedBoth  map[[2]uint16]int64 // court, rule
	lang, nat   []demand            // by code index (0: unknown)
	closure     [len(cases.ClosureCodes)]demand
	years       [len(yearBuckets)]demand
	weeks       map[int32]*[cases.NumDockets]int64
	rejects     map[string]int64
}

// cell holds the recalendared cases of one court, docket and tier.
type cell struct {
	assigned, overflow int64
	// days[i] counts hearings i days after the as-of date.
	days []int64
}

type sessionKey struct {
	court  uint16
	docket cases.Docket
	day    int32
	start  int
	ij     string
}

type demand struct{ assigned, overflow, closed int64 }

// yearBuckets bound the years-closed breakdown: [from, next from).
var yearBuckets = [...]struct {
	from  uint8
	code  string
	label string
}{
	{0, "0", "less than 1 year"},
	{1, "1", "1 year"},
	{2, "2-4", "2 to 4 years"},
	{5, "5-9", "5 to 9 years"},
	{10, "10+", "10 years or more"},
}

// closureLabels describe the administrative-closure codes (contract §1.1).
var closureLabels = map[string]string{
	"A": "A: administrative closing – other",
	"B": "B: administrative closing – failure to appear",
	"K": "K: administrative closure",
	"M": "M: in-court prosecutorial discretion – administrative closure",
	"Y": "Y: prosecutorial discretion – administrative close",
}

// NewBuilder returns a Builder for one run: the reference data, policy,
// calendar and scheduling parameters the run used.
func NewBuilder(ref *reference.Data, pol *policy.Policy, cal *schedule.Calendar, p schedule.Params) *Builder {
	return &Builder{
		ref: ref, pol: pol, cal: cal, p: p,
		first: p.AsOf + int32(p.MinNoticeDays), last: p.AsOf + int32(p.HorizonDays),
		sessions:    map[sessionKey]struct{}{},
		closedCourt: map[uint16]int64{}, closedRule: make([]int64, len(pol.RuleIDs)), closedBoth: map[[2]uint16]int64{},
		lang: make([]demand, len(ref.Languages.Codes)+1), nat: make([]demand, len(ref.Nationalities.Codes)+1),
		weeks: map[int32]*[cases.NumDockets]int64{}, rejects: map[string]int64{},
	}
}

func (b *Builder) cell(c *cases.Case) *cell {
	if int(c.Court) >= len(b.cells) {
		b.cells = append(b.cells, make([][cases.NumDockets][]*cell, int(c.Court)+1-len(b.cells))...)
	}
	tiers := &b.cells[c.Court][c.Docket]
	if int(c.Tier) >= len(*tiers) {
		*tiers = append(*tiers, make([]*cell, int(c.Tier)+1-len(*tiers))...)
	}
	x := (*tiers)[c.Tier]
	if x == nil {
		x = &cell{}
		(*tiers)[c.Tier] = x
	}
	return x
}

func (b *Builder) demands(c *cases.Case) [4]*demand {
	return [4]*demand{at(b.lang, c.Lang), at(b.nat, c.Nat), &b.closure[c.Closure], &b.years[yearBucket(c.YearsClosed)]}
}

// at returns ds[i], or the unknown row for an index outside the table.
func at(ds []demand, i uint16) *demand {
	if int(i) < len(ds) {
		return &ds[i]
	}
	return &ds[0]
}

func yearBucket(y uint8) int {
	i := len(yearBuckets) - 1
	for i > 0 && y < yearBuckets[i].from {
		i--
	}
	return i
}

// Assigned records a case heard on day in session s.
func (b *Builder) Assigned(c *cases.Case, day int32, s *schedule.Session) {
	x := b.cell(c)
	x.assigned++
	if x.days == nil {
		x.days = make([]int64, b.p.HorizonDays+1)
	}
	if i := int(day - b.p.AsOf); i >= 0 && i < len(x.days) {
		x.days[i]++
	}
	// Assignments arrive grouped by session; skip the map for repeats.
	if k := (sessionKey{c.Court, c.Docket, day, s.Start, s.IJ}); k != b.lastSession {
		b.sessions[k] = struct{}{}
		b.lastSession = k
	}
	wk := day - int32((schedule.Weekday(day)+6)%7)
	w := b.weeks[wk]
	if w == nil {
		w = &[cases.NumDockets]int64{}
		b.weeks[wk] = w
	}
	w[c.Docket]++
	for _, d := range b.demands(c) {
		d.assigned++
	}
}

// Overflowed records a recalendared case with no slot inside the horizon.
func (b *Builder) Overflowed(c *cases.Case) {
	b.cell(c).overflow++
	for _, d := range b.demands(c) {
		d.overflow++
	}
}

// Closed records a case that remains closed.
func (b *Builder) Closed(c *cases.Case) {
	b.closedCourt[c.Court]++
	b.closedBoth[[2]uint16{c.Court, c.Rule}]++
	if int(c.Rule) < len(b.closedRule) {
		b.closedRule[c.Rule]++
	}
	for _, d := range b.demands(c) {
		d.closed++
	}
}

// Rejected records a rejected row by its error code.
func (b *Builder) Rejected(code string) { b.rejects[code]++ }

// Options are a report's settings.
type Options struct {
	// BaselinePending is the pending caseload the backlog increase is
	// measured against (nil: none given).
	BaselinePending *int64
	// DataQuality counts malformed optional values by column.
	DataQuality map[string]int64
}

// acc sums cells and capacity into Figures.
type acc struct {
	assigned, overflow, closed int64
	days                       []int64
	slots, sessOffered         int64
	sessUsed                   int64
}

func (a *acc) add(x *cell) {
	a.assigned += x.assigned
	a.overflow += x.overflow
	if x.days != nil {
		if a.days == nil {
			a.days = make([]int64, len(x.days))
		}
		for i, n := range x.days {
			a.days[i] += n
		}
	}
}

// merge adds another group's sums, capacity included.
func (a *acc) merge(o *acc) {
	a.add(&cell{assigned: o.assigned, overflow: o.overflow, days: o.days})
	a.closed += o.closed
	a.slots += o.slots
	a.sessOffered += o.sessOffered
	a.sessUsed += o.sessUsed
}

// figures renders the sums; withClosed and withCapacity say whether the
// grouping attributes remain-closed cases and capacity.
func (a *acc) figures(withClosed, withCapacity bool, windowDays int32) Figures {
	f := Figures{Recalendared: a.assigned + a.overflow, Assigned: a.assigned, Overflow: a.overflow, SlotsUsed: a.assigned}
	if withClosed {
		in := f.Recalendared + a.closed
		f.CasesIn, f.RemainClosed = &in, ptr(a.closed)
	}
	if withCapacity {
		f.SlotsOffered, f.SessionsOffered, f.JudgeSessions = ptr(a.slots), ptr(a.sessOffered), ptr(a.sessUsed)
		if a.slots > 0 {
			f.Utilization = ptr(round(float64(a.assigned)/float64(a.slots), 4))
			weekly := float64(a.slots) * 7 / float64(windowDays)
			f.WeeklyCapacity = ptr(round(weekly, 2))
			f.WeeksToAbsorb = ptr(round(float64(f.Recalendared)/weekly, 1))
		}
	}
	f.DaysToHearing = quantiles(a.days)
	return f
}

// quantiles returns the first, median and 90th-percentile day of a
// histogram (nearest rank).
func quantiles(h []int64) Quantiles {
	var n int64
	for _, c := range h {
		n += c
	}
	if n == 0 {
		return Quantiles{}
	}
	rank := func(p float64) int {
		k := int64(math.Ceil(p * float64(n)))
		k = max(k, 1)
		var seen int64
		for d, c := range h {
			seen += c
			if seen >= k {
				return d
			}
		}
		return len(h) - 1
	}
	return Quantiles{First: ptr(rank(0)), Median: ptr(rank(0.5)), P90: ptr(rank(0.9))}
}

func ptr[T any](v T) *T { return &v }

func round(x float64, places int) float64 {
	p := math.Pow(10, float64(places))
	return math.Round(x*p) / p
}

// Build returns the Impact. run identifies the run; its policy fields are
// filled from the Builder's policy.
func (b *Builder) Build(run Run, opt Options) *Impact {
	imp := &Impact{Kind: Kind, SchemaVersion: SchemaVersion, Run: run}
	imp.Run.Policy = Policy{ID: b.pol.ID, Title: b.pol.Title, Effective: civil.FormatDate(b.pol.Effective), SHA256: b.pol.SHA256}
	imp.Parameters = Parameters{
		MinNoticeDays: b.p.MinNoticeDays, JuvenileNoticeDays: b.p.JuvenileNoticeDays, HorizonDays: b.p.HorizonDays,
		FirstHearingDay: civil.FormatDate(b.first), LastHearingDay: civil.FormatDate(b.last),
	}
	t := b.tally()
	imp.Overall = t.overall.figures(true, true, t.windowDays)
	t.courtsAndCircuits(b, imp)
	t.docketsAndTiers(b, imp)
	t.courtDockets(b, imp)
	b.outcomes(imp, &t.overall, opt)
	b.demand(imp)
	imp.DaysToHearing = b.histogram(t.byDocket)
	imp.DataQuality = opt.DataQuality
	if imp.DataQuality == nil {
		imp.DataQuality = map[string]int64{}
	}
	return imp
}

// courtDocket is one court's docket.
type courtDocket struct {
	court  uint16
	docket cases.Docket
}

// tally is the builder's cells added up: by court, docket, tier and court
// × docket, with each group's capacity in the window.
type tally struct {
	windowDays              int32
	capSlots, capSess, used map[courtDocket]int64
	courts                  []uint16 // every court with sessions or cases, ascending
	overall                 acc
	byCourt                 map[uint16]*acc
	byCD                    map[courtDocket]*acc
	byDocket                [cases.NumDockets]acc
	byTier                  map[uint8]*acc
}

// addCap adds court-docket k's capacity to a.
func (t *tally) addCap(a *acc, k courtDocket) {
	a.slots += t.capSlots[k]
	a.sessOffered += t.capSess[k]
	a.sessUsed += t.used[k]
}

// tally adds the cells up.
func (b *Builder) tally() *tally {
	t := &tally{windowDays: b.last - b.first + 1, capSlots: map[courtDocket]int64{}, capSess: map[courtDocket]int64{}, used: map[courtDocket]int64{},
		byCourt: map[uint16]*acc{}, byCD: map[courtDocket]*acc{}, byTier: map[uint8]*acc{}}
	t.courts = b.capacity(t)
	for _, c := range t.courts {
		a := &acc{closed: b.closedCourt[c]}
		t.byCourt[c] = a
		t.overall.closed += a.closed
		for d := cases.Docket(0); d < cases.NumDockets; d++ {
			t.addCap(a, courtDocket{c, d})
			t.addCap(&t.overall, courtDocket{c, d})
		}
	}
	// In court, docket, tier order, as the index holds them.
	for court, ds := range b.cells {
		for d, tiers := range ds {
			for tier, x := range tiers {
				if x != nil {
					t.add(uint16(court), cases.Docket(d), uint8(tier), x)
				}
			}
		}
	}
	for k := range t.capSlots {
		if t.byCD[k] == nil {
			a := &acc{}
			t.addCap(a, k)
			t.byCD[k] = a
		}
	}
	return t
}

// add adds one cell to every grouping it belongs to.
func (t *tally) add(court uint16, d cases.Docket, tier uint8, x *cell) {
	t.overall.add(x)
	t.byCourt[court].add(x)
	t.byDocket[d].add(x)
	tt := t.byTier[tier]
	if tt == nil {
		tt = &acc{}
		t.byTier[tier] = tt
	}
	tt.add(x)
	ck := courtDocket{court, d}
	a := t.byCD[ck]
	if a == nil {
		a = &acc{}
		t.addCap(a, ck)
		t.byCD[ck] = a
	}
	a.add(x)
}

// capacity fills the capacity of every court and docket that has sessions
// in the window, and returns every court with sessions or cases.
func (b *Builder) capacity(t *tally) []uint16 {
	courtSet := map[uint16]bool{}
	for _, c := range b.cal.Courts() {
		courtSet[c] = true
		for d := cases.Docket(0); d < cases.NumDockets; d++ {
			s, n := b.cal.Offered(c, d, b.first, b.last)
			if n > 0 {
				t.capSlots[courtDocket{c, d}], t.capSess[courtDocket{c, d}] = s, n
			}
		}
	}
	for k := range b.sessions {
		t.used[courtDocket{k.court, k.docket}]++
	}
	for court, ds := range b.cells {
		for _, tiers := range ds {
			for _, x := range tiers {
				if x != nil {
					courtSet[uint16(court)] = true
				}
			}
		}
	}
	for c := range b.closedCourt {
		courtSet[c] = true
	}
	courts := make([]uint16, 0, len(courtSet))
	for c := range courtSet {
		courts = append(courts, c)
	}
	sort.Slice(courts, func(i, j int) bool { return courts[i] < courts[j] })
	return courts
}

// courtsAndCircuits fills ByCourt and ByCircuit (with the cases that remain
// closed, by rule).
func (t *tally) courtsAndCircuits(b *Builder, imp *Impact) {
	circuits := map[string]*acc{}
	circuitRules := map[string]map[string]int64{}
	for _, c := range t.courts {
		court := b.ref.Courts[c]
		a := t.byCourt[c]
		var rules map[string]int64
		for r, id := range b.pol.RuleIDs {
			if n := b.closedBoth[[2]uint16{c, uint16(r)}]; n > 0 {
				if rules == nil {
					rules = map[string]int64{}
				}
				rules[id] = n
				if circuitRules[court.Circuit] == nil {
					circuitRules[court.Circuit] = map[string]int64{}
				}
				circuitRules[court.Circuit][id] += n
			}
		}
		imp.ByCourt = append(imp.ByCourt, Group{Key: court.Code, Label: CourtLabel(court), Court: court.Code, State: court.State, Circuit: court.Circuit,
			Figures: a.figures(true, true, t.windowDays), RemainClosedByRule: rules})
		ca := circuits[court.Circuit]
		if ca == nil {
			ca = &acc{}
			circuits[court.Circuit] = ca
		}
		ca.merge(a)
	}
	circuitKeys := make([]string, 0, len(circuits))
	for k := range circuits {
		circuitKeys = append(circuitKeys, k)
	}
	sort.Slice(circuitKeys, func(i, j int) bool { return circuitOrder(circuitKeys[i]) < circuitOrder(circuitKeys[j]) })
	for _, k := range circuitKeys {
		imp.ByCircuit = append(imp.ByCircuit, Group{Key: k, Label: CircuitLabel(k), Circuit: k, Figures: circuits[k].figures(true, true, t.windowDays), RemainClosedByRule: circuitRules[k]})
	}
}

// docketsAndTiers fills ByDocket and ByTier.
func (t *tally) docketsAndTiers(b *Builder, imp *Impact) {
	for d := cases.Docket(0); d < cases.NumDockets; d++ {
		a := &t.byDocket[d]
		for _, c := range t.courts {
			t.addCap(a, courtDocket{c, d})
		}
		imp.ByDocket = append(imp.ByDocket, Group{Key: d.String(), Label: DocketLabel(d.String()), Docket: d.String(), Figures: a.figures(false, true, t.windowDays)})
	}
	tiers := make([]uint8, 0, len(t.byTier))
	for tier := range t.byTier {
		tiers = append(tiers, tier)
	}
	sort.Slice(tiers, func(i, j int) bool { return tiers[i] < tiers[j] })
	for _, tier := range tiers {
		rule := ""
		if int(tier)-1 < len(b.pol.TierRuleIDs) {
			rule = b.pol.TierRuleIDs[tier-1]
		}
		imp.ByTier = append(imp.ByTier, Group{Key: strconv.Itoa(int(tier)), Label: "Tier " + strconv.Itoa(int(tier)) + " (" + rule + ")",
			Figures: t.byTier[tier].figures(false, false, t.windowDays)})
	}
}

// courtDockets fills ByCourtDocket, in court then docket order.
func (t *tally) courtDockets(b *Builder, imp *Impact) {
	keys := make([]courtDocket, 0, len(t.byCD))
	for k := range t.byCD {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].court != keys[j].court {
			return keys[i].court < keys[j].court
		}
		return keys[i].docket < keys[j].docket
	})
	for _, k := range keys {
		court := b.ref.Courts[k.court]
		imp.ByCourtDocket = append(imp.ByCourtDocket, Group{Key: court.Code + "/" + k.docket.String(), Label: CourtLabel(court) + " – " + DocketLabel(k.docket.String()),
			Court: court.Code, State: court.State, Circuit: court.Circuit, Docket: k.docket.String(), Figures: t.byCD[k].figures(false, true, t.windowDays)})
	}
}

// outcomes fills the cases that remain closed by rule (the exempt rules in
// policy order, then NOT_SELECTED), the rejects by code, the totals and
// the backlog.
func (b *Builder) outcomes(imp *Impact, overall *acc, opt Options) {
	for r := 1; r <= b.pol.NumExempt; r++ {
		imp.RemainClosedByRule = append(imp.RemainClosedByRule, RuleCount{RuleID: b.pol.RuleIDs[r], Rationale: b.pol.RuleRationale[r], Cases: b.closedRule[r]})
	}
	imp.RemainClosedByRule = append(imp.RemainClosedByRule, RuleCount{RuleID: b.pol.RuleIDs[0], Rationale: b.pol.RuleRationale[0], Cases: b.closedRule[0]})
	var rejected int64
	codes := make([]string, 0, len(b.rejects))
	for c, n := range b.rejects {
		codes = append(codes, c)
		rejected += n
	}
	sort.Strings(codes)
	for _, c := range codes {
		imp.RejectedByCode = append(imp.RejectedByCode, CodeCount{Code: c, Rows: b.rejects[c]})
	}
	recal := overall.assigned + overall.overflow
	imp.Totals = Totals{InputRows: recal + overall.closed + rejected, ValidCases: recal + overall.closed, Recalendared: recal,
		Assigned: overall.assigned, Overflow: overall.overflow, RemainClosed: overall.closed, Rejected: rejected}
	imp.Backlog = Backlog{BaselinePending: opt.BaselinePending, Added: recal}
	if opt.BaselinePending != nil && *opt.BaselinePending > 0 {
		imp.Backlog.IncreasePct = ptr(round(float64(recal)*100/float64(*opt.BaselinePending), 4))
	}
}

// demand fills the language, nationality, closure and years-closed demand
// of the recalendared cases, and the hearings per week of the window.
func (b *Builder) demand(imp *Impact) {
	recal := imp.Totals.Recalendared
	imp.ByLanguage = codeDemand(b.lang, b.ref.Languages, recal)
	imp.ByNationality = codeDemand(b.nat, b.ref.Nationalities, recal)
	for i, code := range cases.ClosureCodes {
		imp.ByClosure = append(imp.ByClosure, b.closure[i].row(code, closureLabels[code], recal))
	}
	for i, yb := range yearBuckets {
		imp.ByYearsClosed = append(imp.ByYearsClosed, b.years[i].row(yb.code, yb.label, recal))
	}
	for wk := b.first - int32((schedule.Weekday(b.first)+6)%7); wk <= b.last; wk += 7 {
		w := Week{WeekStart: civil.FormatDate(wk)}
		if n := b.weeks[wk]; n != nil {
			w.Detained, w.NonDetained, w.Juvenile = n[cases.Detained], n[cases.NonDetained], n[cases.Juvenile]
			w.Total = w.Detained + w.NonDetained + w.Juvenile
		}
		imp.HearingsPerWeek = append(imp.HearingsPerWeek, w)
	}
}

// histogram buckets days-to-hearing by docket: weeks for horizons up to
// 120 days, else 30-day buckets.
func (b *Builder) histogram(byDocket [cases.NumDockets]acc) Histogram {
	w := 30
	if b.p.HorizonDays <= 120 {
		w = 7
	}
	h := Histogram{BucketDays: w}
	for from := b.p.MinNoticeDays / w * w; from <= b.p.HorizonDays; from += w {
		k := Bucket{From: from, To: min(from+w-1, b.p.HorizonDays)}
		for d := range byDocket {
			days := byDocket[d].days
			var n int64
			for i := k.From; i <= k.To && i < len(days); i++ {
				n += days[i]
			}
			switch cases.Docket(d) {
			case cases.Detained:
				k.Detained = n
			case cases.NonDetained:
				k.NonDetained = n
			case cases.Juvenile:
				k.Juvenile = n
			}
			k.Total += n
		}
		h.Buckets = append(h.Buckets, k)
	}
	return h
}

func (d demand) row(code, label string, recalendared int64) Demand {
	r := Demand{Code: code, Label: label, Assigned: d.assigned, Overflow: d.overflow, RemainClosed: d.closed,
		Recalendared: d.assigned + d.overflow, CasesIn: d.assigned + d.overflow + d.closed}
	if recalendared > 0 {
		r.Share = round(float64(r.Recalendared)/float64(recalendared), 4)
	}
	return r
}

// UnknownCode is the code of the row that counts null values and values
// that are not in the reference table (which are never echoed: a stray
// value could be anything, an A-number included).
const UnknownCode = "unknown"

// codeDemand lists demand by code (codes with cases only), most
// recalendared first.
func codeDemand(m []demand, t *reference.CodeTable, recalendared int64) []Demand {
	var out []Demand
	for k, d := range m {
		if d == (demand{}) {
			continue
		}
		code, label := UnknownCode, "null or not in the EOIR table"
		if k > 0 {
			code = t.Codes[k-1]
			label = t.Description(code)
		}
		out = append(out, d.row(code, label, recalendared))
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Recalendared != out[j].Recalendared {
			return out[i].Recalendared > out[j].Recalendared
		}
		if out[i].CasesIn != out[j].CasesIn {
			return out[i].CasesIn > out[j].CasesIn
		}
		return out[i].Code < out[j].Code
	})
	return out
}

// CourtLabel names a court for readers by its city and state ("Atlanta,
// GA"): EOIR's court names are mostly the generic "IMMIGRATION COURT".
func CourtLabel(c reference.Court) string {
	if c.City == "" {
		if c.Name != "" {
			return c.Name
		}
		return c.Code
	}
	words := strings.Fields(strings.ToLower(c.City))
	for i, w := range words {
		r := []rune(w)
		r[0] = unicode.ToUpper(r[0])
		words[i] = string(r)
	}
	s := strings.Join(words, " ")
	if c.State != "" {
		s += ", " + c.State
	}
	return s
}

// DocketLabel is a docket's name for readers.
func DocketLabel(d string) string {
	switch d {
	case "DETAINED":
		return "Detained"
	case "NON_DETAINED":
		return "Non-detained"
	case "JUVENILE":
		return "Juvenile"
	}
	return d
}

// CircuitLabel names a federal circuit ("" is unknown).
func CircuitLabel(c string) string {
	switch c {
	case "":
		return "Circuit unknown"
	case "DC":
		return "D.C. Circuit"
	case "1":
		return "1st Circuit"
	case "2":
		return "2nd Circuit"
	case "3":
		return "3rd Circuit"
	}
	return c + "th Circuit"
}

func circuitOrder(c string) int {
	if n, err := strconv.Atoi(c); err == nil {
		return n
	}
	if c == "DC" {
		return 12
	}
	return 13
}
