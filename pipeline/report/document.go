package report

import (
	"fmt"
	"sort"
	"strconv"

	"github.com/recal-project/recal/transforms/impact"
)

// A document is what impact.md and impact.html both render: sections of
// tables and charts, with small cells already suppressed. Building it once
// keeps the two formats saying the same thing.
type document struct {
	title    string
	subtitle string
	// facts are the headline figures, label → value.
	facts    [][2]string
	sections []section
	notes    []string
}

type section struct {
	id     string
	title  string
	intro  string
	charts []*chart
	tables []table
}

type table struct {
	caption string
	head    []string
	rows    [][]string
	// left marks left-aligned (text) columns; the rest are numbers.
	left map[int]bool
}

// topN bounds the language and nationality tables of md/html (impact.json
// and impact.csv are complete).
const topN = 30

func figureHead(first string, withClosed bool) []string {
	h := []string{first}
	if withClosed {
		h = append(h, "Cases in")
	}
	h = append(h, "Recalendared", "Assigned", "Overflow")
	if withClosed {
		h = append(h, "Remain closed")
	}
	return append(h, "Slots offered", "Slots used %", "Judge-sessions", "Weeks to absorb", "Days to hearing: first", "median", "90th pct")
}

func figureRow(first string, f impact.Figures, d disclosure, withClosed bool) []string {
	r := []string{first}
	if withClosed {
		r = append(r, d.countp(f.CasesIn))
	}
	r = append(r, d.count(f.Recalendared), d.count(f.Assigned), d.count(f.Overflow))
	if withClosed {
		r = append(r, d.countp(f.RemainClosed))
	}
	util := "–"
	if f.Utilization != nil {
		util = pct(*f.Utilization)
	}
	sess := "–"
	if f.JudgeSessions != nil {
		sess = Commas(*f.JudgeSessions)
	}
	slots := "–"
	if f.SlotsOffered != nil {
		slots = Commas(*f.SlotsOffered)
	}
	return append(r, slots, d.dependent(f.Assigned, util), sess,
		d.dependent(f.Recalendared, fixed(f.WeeksToAbsorb, 1)),
		d.dependent(f.Assigned, days(f.DaysToHearing.First)), d.dependent(f.Assigned, days(f.DaysToHearing.Median)),
		d.dependent(f.Assigned, days(f.DaysToHearing.P90)))
}

func groupTable(caption, first string, gs []impact.Group, d disclosure, withClosed bool) table {
	t := table{caption: caption, head: figureHead(first, withClosed), left: map[int]bool{0: true}}
	for _, g := range gs {
		label := g.Label
		if g.Court != "" && g.Docket == "" {
			label = g.Label + " (" + g.Court + ")"
		}
		t.rows = append(t.rows, figureRow(label, g.Figures, d, withClosed))
	}
	return t
}

func demandTable(caption, first string, ds []impact.Demand, d disclosure, limit int) table {
	t := table{caption: caption, head: []string{first, "Cases in", "Recalendared", "Share of recalendared", "Assigned", "Overflow", "Remain closed"}, left: map[int]bool{0: true}}
	var rest impact.Demand
	restN := 0
	for i, x := range ds {
		if limit > 0 && i >= limit {
			rest.CasesIn += x.CasesIn
			rest.Recalendared += x.Recalendared
			rest.Assigned += x.Assigned
			rest.Overflow += x.Overflow
			rest.RemainClosed += x.RemainClosed
			rest.Share += x.Share
			restN++
			continue
		}
		label := x.Label
		if x.Code != impact.UnknownCode && x.Code != "" && label != x.Code {
			label = x.Code + " – " + x.Label
		}
		t.rows = append(t.rows, demandRow(label, x, d))
	}
	if restN > 0 {
		t.rows = append(t.rows, demandRow(fmt.Sprintf("%d others", restN), rest, d))
	}
	return t
}

func demandRow(label string, x impact.Demand, d disclosure) []string {
	return []string{label, d.count(x.CasesIn), d.count(x.Recalendared), d.dependent(x.Recalendared, pct(x.Share)),
		d.count(x.Assigned), d.count(x.Overflow), d.count(x.RemainClosed)}
}

func subtitle(imp *impact.Impact) string {
	return "policy " + imp.Run.Policy.ID + " · as of " + imp.Run.AsOf
}

// suppressionNote says what --suppress-below did.
func suppressionNote(d disclosure) string {
	if d.below <= 1 {
		return "Disclosure control is off (--suppress-below 0): every count is exact. Do not publish without review."
	}
	return fmt.Sprintf("Disclosure control: counts from 1 to %d, and the percentages, quantiles and durations computed from them, are shown as %q; charts do not draw them. Zeros and totals are exact. Suppression is primary only: a suppressed cell can sometimes be derived from a total and the other cells of its row or column. impact.json and impact.csv hold exact counts for analysts and are not for publication.",
		d.below-1, d.marker())
}

// impactDoc builds the single-run document.
func impactDoc(imp *impact.Impact, d disclosure) *document {
	doc := &document{
		title:    fmt.Sprintf("Recalendaring impact: %s", imp.Run.Policy.Title),
		subtitle: fmt.Sprintf("Policy %s (effective %s) · as of %s · run %s", imp.Run.Policy.ID, imp.Run.Policy.Effective, imp.Run.AsOf, imp.Run.RunID),
	}
	doc.facts = impactFacts(imp, d)
	doc.sections = append(doc.sections, chartSections(imp, d)...)
	doc.sections = append(doc.sections, tableSections(imp, d)...)
	if q, ok := qualitySection(imp, d); ok {
		doc.sections = append(doc.sections, q)
	}
	doc.notes = impactNotes(imp, d)
	return doc
}

// impactFacts are the headline figures (with --previous, tonight's changes
// and the release guard first).
func impactFacts(imp *impact.Impact, d disclosure) [][2]string {
	t := imp.Totals
	doc := &document{}
	backlog := "not computed (no --baseline-pending)"
	if imp.Backlog.BaselinePending != nil && imp.Backlog.IncreasePct != nil {
		backlog = fmt.Sprintf("+%s cases on a baseline of %s pending (+%s%%)", d.count(imp.Backlog.Added), Commas(*imp.Backlog.BaselinePending),
			d.dependent(imp.Backlog.Added, strconv.FormatFloat(*imp.Backlog.IncreasePct, 'f', 2, 64)))
	}
	o := imp.Overall
	doc.facts = [][2]string{
		{"Closed cases examined", d.count(t.InputRows)},
		{"Recalendared", d.count(t.Recalendared)},
		{"… with a hearing inside the horizon", d.count(t.Assigned)},
		{"… overflow (no slot inside the horizon)", d.count(t.Overflow)},
		{"Remain closed", d.count(t.RemainClosed)},
		{"Rejected rows", d.count(t.Rejected)},
		{"Active backlog increase", backlog},
		{"Days from as-of to hearing (first / median / 90th pct)", d.dependent(o.Assigned, days(o.DaysToHearing.First)+" / "+days(o.DaysToHearing.Median)+" / "+days(o.DaysToHearing.P90))},
		{"Slots used of offered in the window", d.dependent(o.Assigned, Commas(o.SlotsUsed)+" of "+Commas(orZero(o.SlotsOffered)))},
		{"Judge-sessions consumed", Commas(orZero(o.JudgeSessions))},
		{"Scheduling window", fmt.Sprintf("%s to %s (notice %d days, %d for juveniles; horizon %d days)", imp.Parameters.FirstHearingDay, imp.Parameters.LastHearingDay,
			imp.Parameters.MinNoticeDays, imp.Parameters.JuvenileNoticeDays, imp.Parameters.HorizonDays)},
	}
	if ch := imp.Run.Changes; ch != nil {
		doc.facts = append([][2]string{{"Tonight, against run " + ch.PreviousRunID,
			fmt.Sprintf("%s new hearings, %s moved, %s released; %s stand unchanged", d.count(ch.New), d.count(ch.Moved), d.count(ch.Released), d.count(ch.Unchanged))}}, doc.facts...)
		if g := ch.Guard; g != nil {
			doc.facts = append([][2]string{doc.facts[0], {"Release guard",
				fmt.Sprintf("%s of the previous run's hearings left the export (limit %s); tonight's input is %s of its rows (floor %s)",
					pct(g.ReleaseShare), pct(g.ReleaseLimit), pct(g.InputShare), pct(g.InputFloor))}}, doc.facts[1:]...)
		}
	}
	return doc.facts
}

// chartSections are the calendar, courts and who-stays-closed sections.
func chartSections(imp *impact.Impact, d disclosure) []section {
	sub := subtitle(imp)
	return []section{
		{id: "calendar", title: "When the hearings fall", charts: []*chart{weeklyHearings(imp, d, sub), daysToHearing(imp, d, sub)}},
		courtsSection(imp, d, sub),
		closedSection(imp, d, sub),
	}
}

// courtsSection is the courts' capacity chart; with a calendar observed
// from an EOIR release, also where it came from and what each court sits.
func courtsSection(imp *impact.Impact, d disclosure, sub string) section {
	sec := section{id: "courts", title: "Where: courts and their capacity", charts: []*chart{courtCapacity(imp, d, sub)},
		intro: "Slots offered are the capacity calendar's slots for recalendared cases between the first and last hearing day of the window; weeks to absorb divide a group's recalendared cases by its average weekly slots in the window."}
	src := imp.Run.CapacitySource
	if src == nil {
		return sec
	}
	how := fmt.Sprintf("share %g of each recurring master calendar's median size over the %d weeks %s to %s", src.Share, src.Weeks, src.WindowFrom, src.WindowTo)
	unit := "slots a week"
	if src.Method == "headroom" {
		how = fmt.Sprintf("headroom under a cap of %d settings in each session already on the books", src.SessionCap)
		unit = "slots in all"
	}
	sec.intro = fmt.Sprintf("The capacity calendar was observed from the EOIR release of %s (recal import-eoir; release date: %s): %s. It is the courts' past pattern, not their future staffing. ",
		src.ReleaseDate, src.ReleaseDateFrom, how) + sec.intro
	t := table{caption: "Capacity observed from the release, by court", head: []string{"Court", "Sessions a week", "Judges", "Median master calendar", "Slots (" + unit + ")"},
		left: map[int]bool{0: true}}
	for _, c := range src.Courts {
		t.rows = append(t.rows, []string{c.Code, fmt.Sprintf("%.2f", c.SessionsPerWeek), Commas(int64(c.Judges)), fmt.Sprintf("%g", c.MedianSession), Commas(int64(c.Slots))})
	}
	sec.tables = []table{t}
	return sec
}

// dockets are the dockets the charts stack, in order.
var dockets = []string{"DETAINED", "NON_DETAINED", "JUVENILE"}

// weeklyHearings is the hearings per week, stacked by docket.
func weeklyHearings(imp *impact.Impact, d disclosure, sub string) *chart {
	weeks := &chart{id: "chart-weekly", title: "Hearings per week by docket", subtitle: sub, xLabel: "week starting (Monday)", yLabel: "hearings per week", kind: "stacked"}
	dk := dockets
	sr := make([]series, len(dk))
	for i, k := range dk {
		sr[i].name = impact.DocketLabel(k)
	}
	hiddenWeeks := 0
	for _, w := range imp.HearingsPerWeek {
		weeks.cats = append(weeks.cats, w.WeekStart)
		for i, v := range []int64{w.Detained, w.NonDetained, w.Juvenile} {
			sr[i].values = append(sr[i].values, float64(v))
			sr[i].hidden = append(sr[i].hidden, d.hide(v))
			if d.hide(v) {
				hiddenWeeks++
			}
		}
	}
	weeks.series = sr
	weeks.labelEvery = max(1, (len(weeks.cats)+5)/6)
	if hiddenWeeks > 0 {
		weeks.note = fmt.Sprintf("%d week × docket values below %d are not drawn.", hiddenWeeks, d.below)
	}

	return weeks
}

// courtCapacity is the recalendared cases and slots offered, by court.
func courtCapacity(imp *impact.Impact, d disclosure, sub string) *chart {
	courts := append([]impact.Group(nil), imp.ByCourt...)
	sort.SliceStable(courts, func(i, j int) bool { return courts[i].Recalendared > courts[j].Recalendared })
	courtChart := &chart{id: "chart-courts", title: "Recalendared cases and slots offered, by court", subtitle: sub,
		xLabel: "cases / slots in the scheduling window", yLabel: "court", kind: "hbar"}
	rec := series{name: "recalendared cases"}
	slots := series{name: "slots offered in window"}
	for _, g := range courts {
		if g.Recalendared == 0 && orZero(g.SlotsOffered) == 0 {
			continue
		}
		courtChart.cats = append(courtChart.cats, g.Label+" ("+g.Court+")")
		rec.values = append(rec.values, float64(g.Recalendared))
		rec.hidden = append(rec.hidden, d.hide(g.Recalendared))
		slots.values = append(slots.values, float64(orZero(g.SlotsOffered)))
		slots.hidden = append(slots.hidden, false)
	}
	courtChart.series = []series{rec, slots}

	return courtChart
}

// daysToHearing is the days from the as-of date to the hearing, by docket.
func daysToHearing(imp *impact.Impact, d disclosure, sub string) *chart {
	dk := dockets
	hist := &chart{id: "chart-days", title: "Days from as-of date to hearing", subtitle: sub,
		xLabel: fmt.Sprintf("days after %s (buckets of %d days)", imp.Run.AsOf, imp.DaysToHearing.BucketDays), yLabel: "hearings", kind: "stacked"}
	hs := make([]series, len(dk))
	for i, k := range dk {
		hs[i].name = impact.DocketLabel(k)
	}
	for _, k := range imp.DaysToHearing.Buckets {
		hist.cats = append(hist.cats, fmt.Sprintf("%d–%d", k.From, k.To))
		for i, v := range []int64{k.Detained, k.NonDetained, k.Juvenile} {
			hs[i].values = append(hs[i].values, float64(v))
			hs[i].hidden = append(hs[i].hidden, d.hide(v))
		}
	}
	hist.series = hs
	hist.labelEvery = max(1, (len(hist.cats)+7)/8)

	return hist
}

// closedSection is who stays closed, by policy rule.
func closedSection(imp *impact.Impact, d disclosure, sub string) section {
	t := imp.Totals
	closed := &chart{id: "chart-closed", title: "Cases that remain closed, by policy rule", subtitle: sub, xLabel: "cases", yLabel: "rule", kind: "hbar"}
	cs := series{name: "cases"}
	for _, r := range imp.RemainClosedByRule {
		closed.cats = append(closed.cats, r.RuleID)
		cs.values = append(cs.values, float64(r.Cases))
		cs.hidden = append(cs.hidden, d.hide(r.Cases))
	}
	closed.series = []series{cs}
	sec := section{id: "closed", title: "Who stays closed", charts: []*chart{closed}}
	if !cs.drawable() {
		sec.charts = nil
		sec.intro = "No case remains closed under this policy: every valid case is recalendared."
		if t.RemainClosed > 0 {
			sec.intro = "Every rule's count is below the disclosure threshold; see the table below."
		}
	}

	return sec
}

// tableSections are the figures, outcomes, changes and demand sections.
func tableSections(imp *impact.Impact, d disclosure) []section {
	doc := &document{}
	overall := groupTable("All courts", "Scope", []impact.Group{{Label: "All courts and dockets", Figures: imp.Overall}}, d, true)
	doc.sections = append(doc.sections, section{id: "figures", title: "Figures", tables: []table{
		overall,
		groupTable("By docket", "Docket", imp.ByDocket, d, false),
		groupTable("By priority tier", "Tier", imp.ByTier, d, false),
		groupTable("By circuit (of the court's state)", "Circuit", imp.ByCircuit, d, true),
		groupTable("By court", "Court", imp.ByCourt, d, true),
	}})

	rules := table{caption: "Remain closed, by rule", head: []string{"Rule", "Cases", "Rationale"}, left: map[int]bool{0: true, 2: true}}
	for _, r := range imp.RemainClosedByRule {
		rules.rows = append(rules.rows, []string{r.RuleID, d.count(r.Cases), r.Rationale})
	}
	rej := table{caption: "Rejected rows, by error code", head: []string{"Error code", "Rows"}, left: map[int]bool{0: true}}
	for _, r := range imp.RejectedByCode {
		rej.rows = append(rej.rows, []string{r.Code, d.count(r.Rows)})
	}
	doc.sections = append(doc.sections, section{id: "outcomes", title: "Remain closed and rejected", tables: []table{rules, rej}})
	if ch := imp.Run.Changes; ch != nil {
		ct := table{caption: "Hearings moved or released since the previous run, by reason", head: []string{"Change", "Reason", "Hearings"}, left: map[int]bool{0: true, 1: true}}
		for _, r := range ch.Reasons {
			ct.rows = append(ct.rows, []string{r.Change, r.Reason, d.count(r.Count)})
		}
		doc.sections = append(doc.sections, section{id: "changes", title: "Changes since the previous run",
			intro:  fmt.Sprintf("Run %s. A hearing already noticed stands unless its case left the export or is no longer selected, or its slot is gone; a released case still selected is rescheduled (moved).", ch.PreviousRunID),
			tables: []table{ct}})
	}
	doc.sections = append(doc.sections, section{id: "people", title: "Languages, nationalities and closures",
		intro: "Language demand is interpreter demand: assigned cases need an interpreter in that language at their hearing.",
		tables: []table{
			demandTable(fmt.Sprintf("By language (top %d)", topN), "Language", imp.ByLanguage, d, topN),
			demandTable(fmt.Sprintf("By nationality (top %d)", topN), "Nationality", imp.ByNationality, d, topN),
			demandTable("By closure code (other_comp)", "Closure", imp.ByClosure, d, 0),
			demandTable("By years closed (comp_date to as-of)", "Years closed", imp.ByYearsClosed, d, 0),
		}})
	return doc.sections
}

// qualitySection is the data-quality section: malformed optional values
// and quarantined objects (ok is false when there is neither).
func qualitySection(imp *impact.Impact, d disclosure) (section, bool) {
	dq := table{caption: "Data quality: malformed optional values treated as unknown", head: []string{"Column", "Values"}, left: map[int]bool{0: true}}
	cols := make([]string, 0, len(imp.DataQuality))
	for c := range imp.DataQuality {
		cols = append(cols, c)
	}
	sort.Strings(cols)
	for _, c := range cols {
		dq.rows = append(dq.rows, []string{c, d.count(imp.DataQuality[c])})
	}
	var tables []table
	if len(dq.rows) > 0 {
		tables = append(tables, dq)
	}
	intro := ""
	if q := imp.Run.QuarantinedObjects; len(q) > 0 {
		qt := table{caption: "Quarantined export objects (--on-corrupt=quarantine): not read; none of their rows is counted anywhere in this report", head: []string{"Object"}, left: map[int]bool{0: true}}
		for _, k := range q {
			qt.rows = append(qt.rows, []string{k})
		}
		tables = append(tables, qt)
		intro = fmt.Sprintf("%d of %d export objects could not be read and were quarantined; the figures cover the other %d.", len(q), imp.Run.InputObjects, imp.Run.InputObjects-len(q))
		if s := imp.Run.Quarantine; s != nil {
			intro = fmt.Sprintf("%d of %d export objects (%s), holding %s of %s rows by their footers (%s), could not be read and were quarantined (the run allows %s); the figures cover the rest.",
				len(q), imp.Run.InputObjects, pct(float64(len(q))/float64(imp.Run.InputObjects)), Commas(s.FooterRows), Commas(s.InputFooterRows),
				pct(share(s.FooterRows, s.InputFooterRows)), strconv.FormatFloat(100*s.Limit, 'f', -1, 64)+"%")
		}
	}
	return section{id: "quality", title: "Data quality", intro: intro, tables: tables}, len(tables) > 0
}

// impactNotes are the report's notes: disclosure, PII, conservation,
// reproducibility.
func impactNotes(imp *impact.Impact, d disclosure) []string {
	t := imp.Totals
	return []string{
		suppressionNote(d),
		"Aggregates only: no row, A-number or name is in this report. Language and nationality codes not in the EOIR tables are counted as \"unknown\" and never shown.",
		fmt.Sprintf("Conservation: %s rows in = %s assigned + %s overflow + %s remain closed + %s rejected.", Commas(t.InputRows), Commas(t.Assigned), Commas(t.Overflow), Commas(t.RemainClosed), Commas(t.Rejected)),
		fmt.Sprintf("Reproducible: run %s, tool %s, policy sha256 %s, capacity sha256 %s, reference sha256 %s, export fingerprint %s (%d objects).",
			imp.Run.RunID, imp.Run.ToolVersion, short(imp.Run.Policy.SHA256), short(imp.Run.CapacitySHA256), short(imp.Run.ReferenceSHA256), short(imp.Run.InputsSHA256), imp.Run.InputObjects),
	}
}

func short(s string) string {
	if len(s) > 12 {
		return s[:12]
	}
	return s
}

// share is x/of, 0 when of is 0.
func share(x, of int64) float64 {
	if of == 0 {
		return 0
	}
	return float64(x) / float64(of)
}
