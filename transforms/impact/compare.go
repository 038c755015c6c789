package impact

import "sort"

// ComparisonKind identifies comparison.json's format (versioned with
// SchemaVersion).
const ComparisonKind = "recal.impact-comparison"

// Comparison sets scenarios side by side: the same figures for each run,
// with deltas against the first (the reference scenario).
type Comparison struct {
	Kind          string `json:"kind"`
	SchemaVersion int    `json:"schema_version"`
	// Scenarios are the runs compared, in the order given; the first is
	// the reference of every delta.
	Scenarios []Scenario `json:"scenarios"`
	// SameInputs reports that every scenario read the same export, as-of
	// date and reference data; when false the differences are not only the
	// policy's.
	SameInputs bool `json:"same_inputs"`
	// SameCapacity reports that every scenario used the same calendar and
	// closures.
	SameCapacity bool `json:"same_capacity"`
	// ByDocket, ByCircuit and ByCourt hold one row per group with each
	// scenario's figures (null where the scenario has no such group).
	ByDocket  []CompareRow `json:"by_docket"`
	ByCircuit []CompareRow `json:"by_circuit"`
	ByCourt   []CompareRow `json:"by_court"`
	// ByLanguage compares interpreter demand.
	ByLanguage []DemandRow `json:"by_language"`
}

// Scenario is one compared run: its identity, totals, overall figures and
// the breakdowns that differ in shape between policies.
type Scenario struct {
	Run                Run         `json:"run"`
	Parameters         Parameters  `json:"parameters"`
	Totals             Totals      `json:"totals"`
	Backlog            Backlog     `json:"backlog"`
	Overall            Figures     `json:"overall"`
	ByTier             []Group     `json:"by_tier"`
	RemainClosedByRule []RuleCount `json:"remain_closed_by_rule"`
	HearingsPerWeek    []Week      `json:"hearings_per_week"`
	DaysToHearing      Histogram   `json:"days_to_hearing"`
	// Delta is this scenario's totals minus the reference's.
	Delta Delta `json:"delta_vs_reference"`
}

// Delta is the difference of a scenario's headline figures from the
// reference scenario's.
type Delta struct {
	Recalendared int64 `json:"recalendared"`
	Assigned     int64 `json:"assigned"`
	Overflow     int64 `json:"overflow"`
	RemainClosed int64 `json:"remain_closed"`
	JudgeSession int64 `json:"judge_sessions"`
	// MedianDays is the change of the median days to hearing (null when
	// either scenario has no assigned case).
	MedianDays *int `json:"median_days_to_hearing"`
}

// CompareRow is one group across scenarios.
type CompareRow struct {
	Key    string     `json:"key"`
	Label  string     `json:"label"`
	Values []*Figures `json:"values"`
}

// DemandRow is one code's demand across scenarios.
type DemandRow struct {
	Code   string    `json:"code"`
	Label  string    `json:"label"`
	Values []*Demand `json:"values"`
}

// Compare builds the comparison of runs; runs[0] is the reference.
func Compare(runs []*Impact) *Comparison {
	c := &Comparison{Kind: ComparisonKind, SchemaVersion: SchemaVersion, SameInputs: true, SameCapacity: true}
	if len(runs) == 0 {
		return c
	}
	ref := runs[0]
	for _, r := range runs {
		s := Scenario{Run: r.Run, Parameters: r.Parameters, Totals: r.Totals, Backlog: r.Backlog, Overall: r.Overall,
			ByTier: r.ByTier, RemainClosedByRule: r.RemainClosedByRule, HearingsPerWeek: r.HearingsPerWeek, DaysToHearing: r.DaysToHearing}
		s.Delta = Delta{
			Recalendared: r.Totals.Recalendared - ref.Totals.Recalendared, Assigned: r.Totals.Assigned - ref.Totals.Assigned,
			Overflow: r.Totals.Overflow - ref.Totals.Overflow, RemainClosed: r.Totals.RemainClosed - ref.Totals.RemainClosed,
			JudgeSession: deref(r.Overall.JudgeSessions) - deref(ref.Overall.JudgeSessions),
		}
		if a, b := r.Overall.DaysToHearing.Median, ref.Overall.DaysToHearing.Median; a != nil && b != nil {
			s.Delta.MedianDays = ptr(*a - *b)
		}
		c.Scenarios = append(c.Scenarios, s)
		if r.Run.InputsSHA256 != ref.Run.InputsSHA256 || r.Run.AsOf != ref.Run.AsOf || r.Run.ReferenceSHA256 != ref.Run.ReferenceSHA256 {
			c.SameInputs = false
		}
		if r.Run.CapacitySHA256 != ref.Run.CapacitySHA256 || r.Run.ClosuresSHA256 != ref.Run.ClosuresSHA256 {
			c.SameCapacity = false
		}
	}
	c.ByDocket = compareGroups(runs, func(i *Impact) []Group { return i.ByDocket })
	c.ByCircuit = compareGroups(runs, func(i *Impact) []Group { return i.ByCircuit })
	sort.SliceStable(c.ByCircuit, func(i, j int) bool { return circuitOrder(c.ByCircuit[i].Key) < circuitOrder(c.ByCircuit[j].Key) })
	c.ByCourt = compareGroups(runs, func(i *Impact) []Group { return i.ByCourt })
	sort.SliceStable(c.ByCourt, func(i, j int) bool { return c.ByCourt[i].Key < c.ByCourt[j].Key })

	idx := map[string]int{}
	for si, r := range runs {
		for _, d := range r.ByLanguage {
			i, ok := idx[d.Code]
			if !ok {
				i = len(c.ByLanguage)
				idx[d.Code] = i
				c.ByLanguage = append(c.ByLanguage, DemandRow{Code: d.Code, Label: d.Label, Values: make([]*Demand, len(runs))})
			}
			c.ByLanguage[i].Values[si] = ptr(d)
		}
	}
	// Most recalendared in the reference first, then in any scenario.
	most := func(r DemandRow) int64 {
		var m int64
		for _, v := range r.Values {
			if v != nil {
				m = max(m, v.Recalendared)
			}
		}
		return m
	}
	sort.SliceStable(c.ByLanguage, func(i, j int) bool {
		a, b := c.ByLanguage[i], c.ByLanguage[j]
		if ma, mb := most(a), most(b); ma != mb {
			return ma > mb
		}
		return a.Code < b.Code
	})
	return c
}

func compareGroups(runs []*Impact, get func(*Impact) []Group) []CompareRow {
	var rows []CompareRow
	idx := map[string]int{}
	for si, r := range runs {
		for _, g := range get(r) {
			i, ok := idx[g.Key]
			if !ok {
				i = len(rows)
				idx[g.Key] = i
				rows = append(rows, CompareRow{Key: g.Key, Label: g.Label, Values: make([]*Figures, len(runs))})
			}
			f := g.Figures
			rows[i].Values[si] = &f
		}
	}
	return rows
}

func deref(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}

// WithBaseline returns a copy of imp whose backlog is measured against
// baseline (nil: none).
func WithBaseline(imp *Impact, baseline *int64) *Impact {
	c := *imp
	c.Backlog = Backlog{BaselinePending: baseline, Added: imp.Backlog.Added}
	if baseline != nil && *baseline > 0 {
		c.Backlog.IncreasePct = ptr(round(float64(c.Backlog.Added)*100/float64(*baseline), 4))
	}
	return &c
}
