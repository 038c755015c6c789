package runcheck

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/recal-project/recal/pipeline/manifest"
)

// tally holds what the impact report's figures must equal, counted from
// the Parquet outputs as read by parquet-go.
type tally struct {
	assigned, overflow, closed map[string]int64 // by court
	days                       map[string][]int // by court: days as-of → hearing
	all                        []int
	weeks                      map[string]int64 // by Monday
	closedByRule, rejects      map[string]int64
	closedCourtRule            map[string]map[string]int64
}

func newTally() *tally {
	return &tally{assigned: map[string]int64{}, overflow: map[string]int64{}, closed: map[string]int64{}, days: map[string][]int{},
		weeks: map[string]int64{}, closedByRule: map[string]int64{}, rejects: map[string]int64{}, closedCourtRule: map[string]map[string]int64{}}
}

func (y *tally) add(key string, cols map[string][]any, n int) {
	for i := 0; i < n; i++ {
		switch {
		case strings.HasPrefix(key, "assignments/"):
			court := cols["base_city_code"][i].(string)
			y.assigned[court]++
			d := int(cols["hearing_date"][i].(int32))
			y.days[court] = append(y.days[court], d) // as-of applied later
			y.all = append(y.all, d)
			day := time.Unix(int64(d)*86400, 0).UTC()
			monday := day.AddDate(0, 0, -((int(day.Weekday()) + 6) % 7))
			y.weeks[monday.Format(time.DateOnly)]++
		case strings.HasPrefix(key, "overflow/"):
			y.overflow[cols["base_city_code"][i].(string)]++
		case strings.HasPrefix(key, "remain_closed/"):
			court, rule := cols["base_city_code"][i].(string), cols["rule_id"][i].(string)
			y.closed[court]++
			y.closedByRule[rule]++
			if y.closedCourtRule[court] == nil {
				y.closedCourtRule[court] = map[string]int64{}
			}
			y.closedCourtRule[court][rule]++
		case strings.HasPrefix(key, "rejects/"):
			y.rejects[cols["error_code"][i].(string)]++
		}
	}
}

// impactFile is the part of impact.json checked here, declared apart from
// the pipeline's own types.
type impactFile struct {
	Kind string `json:"kind"`
	Run  struct {
		RunID string `json:"run_id"`
		AsOf  string `json:"as_of"`
	} `json:"run"`
	Totals struct {
		InputRows    int64 `json:"input_rows"`
		Assigned     int64 `json:"assigned"`
		Overflow     int64 `json:"overflow"`
		RemainClosed int64 `json:"remain_closed"`
		Rejected     int64 `json:"rejected"`
	} `json:"totals"`
	Overall figures `json:"overall"`
	ByCourt []struct {
		Court string           `json:"base_city_code"`
		Rules map[string]int64 `json:"remain_closed_by_rule"`
		figures
	} `json:"by_court"`
	RemainClosedByRule []struct {
		RuleID string `json:"rule_id"`
		Cases  int64  `json:"cases"`
	} `json:"remain_closed_by_rule"`
	RejectedByCode []struct {
		Code string `json:"code"`
		Rows int64  `json:"rows"`
	} `json:"rejected_by_code"`
	HearingsPerWeek []struct {
		WeekStart string `json:"week_start"`
		Total     int64  `json:"total"`
	} `json:"hearings_per_week"`
}

type figures struct {
	Assigned      int64  `json:"assigned"`
	Overflow      int64  `json:"overflow"`
	RemainClosed  *int64 `json:"remain_closed"`
	SlotsUsed     int64  `json:"slots_used"`
	DaysToHearing struct {
		First  *int `json:"first"`
		Median *int `json:"median"`
		P90    *int `json:"p90"`
	} `json:"days_to_hearing"`
}

// nearestRank returns the p-quantile of sorted xs by the nearest-rank rule.
func nearestRank(xs []int, p float64) int {
	k := int(math.Ceil(p * float64(len(xs))))
	return xs[max(k, 1)-1]
}

func checkDays(t testing.TB, what string, got figures, days []int, asOf int) {
	t.Helper()
	if len(days) == 0 {
		if got.DaysToHearing.Median != nil {
			t.Fatalf("impact.json %s: days to hearing %v with no assignment", what, *got.DaysToHearing.Median)
		}
		return
	}
	xs := make([]int, len(days))
	for i, d := range days {
		xs[i] = d - asOf
	}
	slices.Sort(xs)
	want := [3]int{xs[0], nearestRank(xs, 0.5), nearestRank(xs, 0.9)}
	q := got.DaysToHearing
	if q.First == nil || q.Median == nil || q.P90 == nil || [3]int{*q.First, *q.Median, *q.P90} != want {
		t.Fatalf("impact.json %s: days to hearing %+v, the assignments give first/median/p90 %v", what, q, want)
	}
}

// checkImpact compares reports/impact.json with the counts and day
// quantiles recomputed from the Parquet outputs.
func checkImpact(t testing.TB, out string, m *manifest.Manifest, y *tally) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(out, "reports", "impact.json"))
	if err != nil {
		t.Fatalf("impact report: %v", err)
	}
	var imp impactFile
	if err := json.Unmarshal(b, &imp); err != nil {
		t.Fatalf("impact.json: %v", err)
	}
	if imp.Kind != "recal.impact" || imp.Run.RunID != m.RunID || imp.Run.AsOf != m.AsOf {
		t.Fatalf("impact.json: kind %q run %+v, manifest run %s as of %s", imp.Kind, imp.Run, m.RunID, m.AsOf)
	}
	c := m.Counts
	tt := imp.Totals
	if tt.InputRows != c.InputRows || tt.Assigned != c.Assigned || tt.Overflow != c.Overflow || tt.RemainClosed != c.RemainClosed || tt.Rejected != c.Rejected {
		t.Fatalf("impact.json totals %+v, manifest counts %+v", tt, c)
	}
	asOf, _ := time.Parse(time.DateOnly, m.AsOf)
	a := int(asOf.Unix() / 86400)
	checkDays(t, "overall", imp.Overall, y.all, a)
	seen := map[string]bool{}
	for _, g := range imp.ByCourt {
		seen[g.Court] = true
		if g.Assigned != y.assigned[g.Court] || g.Overflow != y.overflow[g.Court] || g.RemainClosed == nil || *g.RemainClosed != y.closed[g.Court] || g.SlotsUsed != g.Assigned {
			t.Fatalf("impact.json court %s: assigned %d overflow %d remain_closed %v; outputs have %d, %d, %d",
				g.Court, g.Assigned, g.Overflow, g.RemainClosed, y.assigned[g.Court], y.overflow[g.Court], y.closed[g.Court])
		}
		checkDays(t, "court "+g.Court, g.figures, y.days[g.Court], a)
		sameCounts(t, "court "+g.Court+": remain closed by rule", g.Rules, y.closedCourtRule[g.Court])
	}
	for _, m := range []map[string]int64{y.assigned, y.overflow, y.closed} {
		for court := range m {
			if !seen[court] {
				t.Fatalf("impact.json has no by_court row for %s, which has cases", court)
			}
		}
	}
	rules := map[string]int64{}
	for _, r := range imp.RemainClosedByRule {
		if r.Cases > 0 {
			rules[r.RuleID] = r.Cases
		}
	}
	sameCounts(t, "remain closed by rule", rules, y.closedByRule)
	rej := map[string]int64{}
	for _, r := range imp.RejectedByCode {
		rej[r.Code] = r.Rows
	}
	sameCounts(t, "rejects by code", rej, y.rejects)
	weeks := map[string]int64{}
	for _, w := range imp.HearingsPerWeek {
		if w.Total > 0 {
			weeks[w.WeekStart] = w.Total
		}
	}
	sameCounts(t, "hearings per week", weeks, y.weeks)
}

// sameCounts fails unless impact.json's counts equal the outputs' (maps
// print with sorted keys; nil and empty are alike).
func sameCounts(t testing.TB, what string, report, outputs map[string]int64) {
	t.Helper()
	if fmt.Sprint(report) != fmt.Sprint(outputs) {
		t.Fatalf("impact.json %s %v, outputs %v", what, report, outputs)
	}
}
