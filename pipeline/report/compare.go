package report

import (
	"fmt"
	"sort"
	"strings"

	"github.com/recal-project/recal/transforms/impact"
)

func scenarioName(s impact.Scenario) string { return s.Run.Policy.ID }

// compareDoc builds the side-by-side document of a comparison.
func compareDoc(c *impact.Comparison, d disclosure) *document {
	names := make([]string, len(c.Scenarios))
	for i, s := range c.Scenarios {
		names[i] = scenarioName(s)
	}
	asOf := map[string]bool{}
	for _, s := range c.Scenarios {
		asOf[s.Run.AsOf] = true
	}
	dates := make([]string, 0, len(asOf))
	for a := range asOf {
		dates = append(dates, a)
	}
	sort.Strings(dates)
	sub := "policies " + strings.Join(names, " vs ") + " · as of " + strings.Join(dates, ", ")
	doc := &document{
		title:    "Recalendaring scenarios compared: " + strings.Join(names, " vs "),
		subtitle: "Reference scenario: " + names[0] + ". Deltas are each scenario minus the reference. As of " + strings.Join(dates, ", ") + ".",
		facts:    compareFacts(c, d),
	}
	ch := compareCharts(c, d, sub)
	rules := table{caption: "Remain closed, by scenario and rule", head: []string{"Scenario", "Rule", "Cases", "Rationale"}, left: map[int]bool{0: true, 1: true, 3: true}}
	for _, s := range c.Scenarios {
		for _, r := range s.RemainClosedByRule {
			rules.rows = append(rules.rows, []string{scenarioName(s), r.RuleID, d.count(r.Cases), r.Rationale})
		}
	}
	doc.sections = append(doc.sections,
		section{id: "overall", title: "Side by side", charts: []*chart{ch.totals}, tables: []table{overallTable(c, names, d)}},
		section{id: "calendar", title: "When the hearings fall", charts: []*chart{ch.weekly, ch.days}},
		section{id: "courts", title: "Where", charts: []*chart{ch.courts}, tables: []table{
			compareTable("By docket", "Docket", c.ByDocket, names, d),
			compareTable("By circuit", "Circuit", c.ByCircuit, names, d),
			compareTable("By court", "Court", c.ByCourt, names, d),
		}},
		section{id: "closed", title: "Who stays closed", charts: []*chart{ch.closed}, tables: []table{rules}},
		section{id: "people", title: "Interpreter demand", tables: []table{languageTable(c, names, d)}},
	)
	doc.notes = []string{suppressionNote(d), "Aggregates only: no row, A-number or name is in this report."}
	for _, s := range c.Scenarios {
		doc.notes = append(doc.notes, fmt.Sprintf("%s: run %s, tool %s, as of %s, policy sha256 %s, export fingerprint %s.",
			s.Run.Policy.ID, s.Run.RunID, s.Run.ToolVersion, s.Run.AsOf, short(s.Run.Policy.SHA256), short(s.Run.InputsSHA256)))
	}
	return doc
}

// compareFacts are the comparison's headline figures: whether the inputs
// and capacity were the same, and each scenario's totals and deltas.
func compareFacts(c *impact.Comparison, d disclosure) [][2]string {
	doc := &document{}
	if !c.SameInputs {
		doc.facts = append(doc.facts, [2]string{"Warning", "the scenarios did not read the same export, as-of date or reference data: differences are not the policies' alone"})
	} else {
		doc.facts = append(doc.facts, [2]string{"Inputs", "same export, as-of date and reference data in every scenario"})
	}
	if !c.SameCapacity {
		doc.facts = append(doc.facts, [2]string{"Capacity", "the scenarios used different capacity calendars or closures"})
	}
	for _, s := range c.Scenarios {
		fact := fmt.Sprintf("%s recalendared (%s), %s remain closed (%s)", d.count(s.Totals.Recalendared), signed(s.Delta.Recalendared),
			d.count(s.Totals.RemainClosed), signed(s.Delta.RemainClosed))
		doc.facts = append(doc.facts, [2]string{s.Run.Policy.ID + ": " + s.Run.Policy.Title, fact})
	}

	return doc.facts
}

// overallTable is the overall figures side by side: one row per measure,
// one column per scenario and one per delta.
func overallTable(c *impact.Comparison, names []string, d disclosure) table {
	head := []string{"Measure"}
	for i, n := range names {
		head = append(head, n)
		if i > 0 {
			head = append(head, "Δ "+n)
		}
	}
	overall := table{caption: "Overall", head: head, left: map[int]bool{0: true}}
	type measure struct {
		name  string
		get   func(s impact.Scenario) (int64, bool)
		count bool // a count of cases (suppressible)
	}
	measures := []measure{
		{"Closed cases examined", func(s impact.Scenario) (int64, bool) { return s.Totals.InputRows, true }, true},
		{"Recalendared", func(s impact.Scenario) (int64, bool) { return s.Totals.Recalendared, true }, true},
		{"Assigned inside the horizon", func(s impact.Scenario) (int64, bool) { return s.Totals.Assigned, true }, true},
		{"Overflow", func(s impact.Scenario) (int64, bool) { return s.Totals.Overflow, true }, true},
		{"Remain closed", func(s impact.Scenario) (int64, bool) { return s.Totals.RemainClosed, true }, true},
		{"Rejected rows", func(s impact.Scenario) (int64, bool) { return s.Totals.Rejected, true }, true},
		{"Slots offered in window", func(s impact.Scenario) (int64, bool) { return orZero(s.Overall.SlotsOffered), true }, false},
		{"Judge-sessions consumed", func(s impact.Scenario) (int64, bool) { return orZero(s.Overall.JudgeSessions), true }, false},
		{"Days to hearing, median", func(s impact.Scenario) (int64, bool) { return intp(s.Overall.DaysToHearing.Median) }, false},
		{"Days to hearing, 90th pct", func(s impact.Scenario) (int64, bool) { return intp(s.Overall.DaysToHearing.P90) }, false},
		{"Backlog increase", func(s impact.Scenario) (int64, bool) { return s.Backlog.Added, true }, true},
	}
	for _, m := range measures {
		row := []string{m.name}
		ref, refOK := m.get(c.Scenarios[0])
		for i, s := range c.Scenarios {
			v, ok := m.get(s)
			cell := "–"
			if ok {
				cell = Commas(v)
				if m.count {
					cell = d.count(v)
				}
			}
			row = append(row, cell)
			if i > 0 {
				delta := "–"
				if ok && refOK {
					delta = signed(v - ref)
					if m.count {
						delta = d.delta(v, ref)
					}
				}
				row = append(row, delta)
			}
		}
		overall.rows = append(overall.rows, row)
	}

	return overall
}

// comparisonCharts are the comparison's charts.
type comparisonCharts struct {
	totals, weekly, days, courts, closed *chart
}

func compareCharts(c *impact.Comparison, d disclosure, sub string) comparisonCharts {
	return comparisonCharts{totals: totalsChart(c, d, sub), weekly: weeklyChart(c, d, sub), days: daysChart(c, d, sub),
		courts: courtsChart(c, d, sub), closed: closedChart(c, d, sub)}
}

func totalsChart(c *impact.Comparison, d disclosure, sub string) *chart {
	totals := &chart{id: "chart-totals", title: "Outcomes by scenario", subtitle: sub, xLabel: "cases", yLabel: "outcome", kind: "hbar"}
	totals.cats = []string{"Recalendared", "Assigned inside the horizon", "Overflow", "Remain closed"}
	for _, s := range c.Scenarios {
		sr := series{name: scenarioName(s)}
		for _, v := range []int64{s.Totals.Recalendared, s.Totals.Assigned, s.Totals.Overflow, s.Totals.RemainClosed} {
			sr.values = append(sr.values, float64(v))
			sr.hidden = append(sr.hidden, d.hide(v))
		}
		totals.series = append(totals.series, sr)
	}
	return totals
}

func weeklyChart(c *impact.Comparison, d disclosure, sub string) *chart {
	weekly := &chart{id: "chart-weekly", title: "Hearings per week, all dockets", subtitle: sub, xLabel: "week starting (Monday)", yLabel: "hearings per week", kind: "line"}
	weekIdx := map[string]int{}
	for _, s := range c.Scenarios {
		for _, w := range s.HearingsPerWeek {
			if _, ok := weekIdx[w.WeekStart]; !ok {
				weekIdx[w.WeekStart] = 0
				weekly.cats = append(weekly.cats, w.WeekStart)
			}
		}
	}
	sort.Strings(weekly.cats)
	for i, w := range weekly.cats {
		weekIdx[w] = i
	}
	for _, s := range c.Scenarios {
		sr := series{name: scenarioName(s), values: make([]float64, len(weekly.cats)), hidden: make([]bool, len(weekly.cats))}
		for _, w := range s.HearingsPerWeek {
			sr.values[weekIdx[w.WeekStart]] = float64(w.Total)
			sr.hidden[weekIdx[w.WeekStart]] = d.hide(w.Total)
		}
		weekly.series = append(weekly.series, sr)
	}
	weekly.labelEvery = max(1, (len(weekly.cats)+5)/6)
	return weekly
}

func daysChart(c *impact.Comparison, d disclosure, sub string) *chart {
	days := &chart{id: "chart-days", title: "Days from as-of date to hearing, by scenario", subtitle: sub, xLabel: "days after the as-of date", yLabel: "hearings", kind: "grouped"}
	bucketIdx := map[[2]int]int{}
	var buckets [][2]int
	for _, s := range c.Scenarios {
		for _, b := range s.DaysToHearing.Buckets {
			k := [2]int{b.From, b.To}
			if _, ok := bucketIdx[k]; !ok {
				bucketIdx[k] = 0
				buckets = append(buckets, k)
			}
		}
	}
	sort.Slice(buckets, func(i, j int) bool {
		return buckets[i][0] < buckets[j][0] || buckets[i][0] == buckets[j][0] && buckets[i][1] < buckets[j][1]
	})
	for i, k := range buckets {
		bucketIdx[k] = i
		days.cats = append(days.cats, fmt.Sprintf("%d–%d", k[0], k[1]))
	}
	for _, s := range c.Scenarios {
		sr := series{name: scenarioName(s), values: make([]float64, len(buckets)), hidden: make([]bool, len(buckets))}
		for _, b := range s.DaysToHearing.Buckets {
			i := bucketIdx[[2]int{b.From, b.To}]
			sr.values[i] = float64(b.Total)
			sr.hidden[i] = d.hide(b.Total)
		}
		days.series = append(days.series, sr)
	}
	days.labelEvery = max(1, (len(days.cats)+7)/8)
	return days
}

func courtsChart(c *impact.Comparison, d disclosure, sub string) *chart {
	courts := &chart{id: "chart-courts", title: "Recalendared cases by court and scenario (largest 25 courts)", subtitle: sub, xLabel: "recalendared cases", yLabel: "court", kind: "hbar"}
	rows := append([]impact.CompareRow(nil), c.ByCourt...)
	maxRec := func(r impact.CompareRow) int64 {
		var m int64
		for _, v := range r.Values {
			if v != nil {
				m = max(m, v.Recalendared)
			}
		}
		return m
	}
	sort.SliceStable(rows, func(i, j int) bool { return maxRec(rows[i]) > maxRec(rows[j]) })
	if len(rows) > 25 {
		rows = rows[:25]
	}
	for _, r := range rows {
		courts.cats = append(courts.cats, r.Label+" ("+r.Key+")")
	}
	for si, s := range c.Scenarios {
		sr := series{name: scenarioName(s)}
		for _, r := range rows {
			var v int64
			if f := r.Values[si]; f != nil {
				v = f.Recalendared
			}
			sr.values = append(sr.values, float64(v))
			sr.hidden = append(sr.hidden, d.hide(v))
		}
		courts.series = append(courts.series, sr)
	}
	return courts
}

func closedChart(c *impact.Comparison, d disclosure, sub string) *chart {
	closed := &chart{id: "chart-closed", title: "Cases that remain closed, by scenario and rule", subtitle: sub, xLabel: "cases", yLabel: "scenario: rule", kind: "hbar"}
	cs := series{name: "cases"}
	for _, s := range c.Scenarios {
		for _, r := range s.RemainClosedByRule {
			closed.cats = append(closed.cats, scenarioName(s)+": "+r.RuleID)
			cs.values = append(cs.values, float64(r.Cases))
			cs.hidden = append(cs.hidden, d.hide(r.Cases))
		}
	}
	closed.series = []series{cs}
	return closed
}

// languageTable is the recalendared cases by language (top topN), per
// scenario with deltas: interpreter demand.
func languageTable(c *impact.Comparison, names []string, d disclosure) table {
	langHead := []string{"Language"}
	for i, n := range names {
		langHead = append(langHead, n)
		if i > 0 {
			langHead = append(langHead, "Δ "+n)
		}
	}
	lang := table{caption: fmt.Sprintf("Recalendared cases by language (top %d): interpreter demand", topN), head: langHead, left: map[int]bool{0: true}}
	for i, r := range c.ByLanguage {
		if i >= topN {
			break
		}
		label := r.Label
		if r.Code != impact.UnknownCode {
			label = r.Code + " – " + r.Label
		}
		row := []string{label}
		var ref int64
		if r.Values[0] != nil {
			ref = r.Values[0].Recalendared
		}
		for si := range c.Scenarios {
			var v int64
			if r.Values[si] != nil {
				v = r.Values[si].Recalendared
			}
			row = append(row, d.count(v))
			if si > 0 {
				row = append(row, d.delta(v, ref))
			}
		}
		lang.rows = append(lang.rows, row)
	}
	return lang
}

func intp(p *int) (int64, bool) {
	if p == nil {
		return 0, false
	}
	return int64(*p), true
}

// compareTable lists recalendared, assigned and median days per scenario.
func compareTable(caption, first string, rows []impact.CompareRow, names []string, d disclosure) table {
	head := []string{first}
	for i, n := range names {
		head = append(head, n+" recalendared")
		if i > 0 {
			head = append(head, "Δ")
		}
		head = append(head, n+" median days")
	}
	t := table{caption: caption, head: head, left: map[int]bool{0: true}}
	for _, r := range rows {
		row := []string{r.Label}
		var ref int64
		if r.Values[0] != nil {
			ref = r.Values[0].Recalendared
		}
		for si := range names {
			f := r.Values[si]
			var v int64
			med := "–"
			if f != nil {
				v = f.Recalendared
				med = d.dependent(f.Assigned, days(f.DaysToHearing.Median))
			}
			row = append(row, d.count(v))
			if si > 0 {
				row = append(row, d.delta(v, ref))
			}
			row = append(row, med)
		}
		t.rows = append(t.rows, row)
	}
	return t
}
