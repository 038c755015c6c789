// Package impact computes a run's impact figures — what policy offices ask
// of a recalendaring scenario: how many cases come back, where, how soon
// the courts can hear them, what capacity they use and what they add to the
// backlog — and compares scenarios.
//
// An Impact is aggregates only: counts, capacities and day quantiles by
// court, circuit, docket, tier, rule, language, nationality and closure.
// It never holds a row, an A-number, a name or a code that is not in the
// reference tables. Its JSON form, reports/impact.json, is documented in
// docs/reports.md; Kind and SchemaVersion version it.
package impact

import "github.com/recal-project/recal/transforms/observed"

// Kind and SchemaVersion identify impact.json's format.
const (
	Kind          = "recal.impact"
	SchemaVersion = 1
)

// Impact is the content of reports/impact.json.
type Impact struct {
	Kind          string     `json:"kind"`
	SchemaVersion int        `json:"schema_version"`
	Run           Run        `json:"run"`
	Parameters    Parameters `json:"parameters"`
	Totals        Totals     `json:"totals"`
	Backlog       Backlog    `json:"backlog"`
	// Overall holds the figures of all courts and dockets together.
	Overall Figures `json:"overall"`
	// ByCircuit groups courts by the federal circuit of the court's state.
	ByCircuit []Group `json:"by_circuit"`
	ByCourt   []Group `json:"by_court"`
	ByDocket  []Group `json:"by_docket"`
	ByTier    []Group `json:"by_tier"`
	// ByCourtDocket holds one group per court and docket that has cases or
	// capacity (the rows of impact.csv).
	ByCourtDocket      []Group     `json:"by_court_docket"`
	RemainClosedByRule []RuleCount `json:"remain_closed_by_rule"`
	RejectedByCode     []CodeCount `json:"rejected_by_code"`
	// ByLanguage is interpreter demand; ByNationality, ByClosure and
	// ByYearsClosed break cases down as EOIR statistics do.
	ByLanguage      []Demand  `json:"by_language"`
	ByNationality   []Demand  `json:"by_nationality"`
	ByClosure       []Demand  `json:"by_closure_code"`
	ByYearsClosed   []Demand  `json:"by_years_closed"`
	HearingsPerWeek []Week    `json:"hearings_per_week"`
	DaysToHearing   Histogram `json:"days_to_hearing"`
	// DataQuality counts malformed optional values treated as unknown, by
	// column.
	DataQuality map[string]int64 `json:"data_quality"`
}

// Run identifies the run the figures describe.
type Run struct {
	RunID       string `json:"run_id"`
	ToolVersion string `json:"tool_version"`
	AsOf        string `json:"as_of"`
	Policy      Policy `json:"policy"`
	// InputObjects is the number of export objects read.
	InputObjects   int    `json:"input_objects"`
	CapacitySHA256 string `json:"capacity_sha256"`
	// CapacitySource, when the calendar was observed from an EOIR release
	// (recal import-eoir's capacity.json beside it), says how.
	CapacitySource  *observed.Report `json:"capacity_source,omitempty"`
	ClosuresSHA256  string           `json:"closures_sha256,omitempty"`
	ReferenceSHA256 string           `json:"reference_sha256"`
	// InputsSHA256 fingerprints the export (every object's key, size and
	// etag): two runs with equal values read the same export.
	InputsSHA256 string `json:"inputs_sha256"`
	ShardIndex   int    `json:"shard_index"`
	ShardCount   int    `json:"shard_count"`
	// QuarantinedObjects lists the export objects --on-corrupt=quarantine
	// skipped: none of their rows is in any figure.
	QuarantinedObjects []string `json:"quarantined_objects,omitempty"`
	// Quarantine says how many rows, by their footers, those objects held,
	// and the share the run allowed (absent when none was quarantined).
	Quarantine *Quarantine `json:"quarantine,omitempty"`
	// Changes, for a run with --previous, compares tonight's hearings with
	// the previous run's (absent otherwise).
	Changes *Changes `json:"changes,omitempty"`
}

// Quarantine is the share of the input --on-corrupt=quarantine dropped.
type Quarantine struct {
	FooterRows      int64   `json:"footer_rows"`
	InputFooterRows int64   `json:"input_footer_rows"`
	Limit           float64 `json:"limit"`
}

// Changes is "tonight: N new hearings, M moved, K released", against the
// previous run, with why hearings moved or were released.
type Changes struct {
	PreviousRunID string        `json:"previous_run_id"`
	New           int64         `json:"new"`
	Unchanged     int64         `json:"unchanged"`
	Moved         int64         `json:"moved"`
	Released      int64         `json:"released"`
	Reasons       []ChangeCount `json:"reasons"`
	// Guard is how close the night came to the release guard's
	// thresholds (absent in runs before it).
	Guard *Guard `json:"guard,omitempty"`
}

// Guard is the release guard of a nightly run: the share of the previous
// run's hearings released because their cases left the export, against
// its limit; tonight's input rows as a share of the previous run's,
// against its floor.
type Guard struct {
	ReleaseShare float64 `json:"release_share"`
	ReleaseLimit float64 `json:"release_limit"`
	InputShare   float64 `json:"input_share"`
	InputFloor   float64 `json:"input_floor"`
}

// ChangeCount counts the hearings moved or released for one reason.
type ChangeCount struct {
	Change string `json:"change"`
	Reason string `json:"reason"`
	Count  int64  `json:"count"`
}

// Policy identifies the policy applied.
type Policy struct {
	ID        string `json:"id"`
	Title     string `json:"title"`
	Effective string `json:"effective"`
	SHA256    string `json:"sha256"`
}

// Parameters are the scheduling window and the report's own settings.
type Parameters struct {
	MinNoticeDays      int `json:"min_notice_days"`
	JuvenileNoticeDays int `json:"juvenile_notice_days"`
	HorizonDays        int `json:"horizon_days"`
	// FirstHearingDay and LastHearingDay bound the window in which slots
	// are offered: as_of + min_notice_days through as_of + horizon_days.
	FirstHearingDay string `json:"first_hearing_day"`
	LastHearingDay  string `json:"last_hearing_day"`
	// SuppressBelow is the disclosure threshold applied to this document:
	// counts from 1 to SuppressBelow-1 are replaced by a marker. 0 in
	// impact.json, which is exact.
	SuppressBelow int `json:"suppress_below"`
}

// Totals are the run's row outcomes (they equal the manifest's counts).
type Totals struct {
	InputRows    int64 `json:"input_rows"`
	ValidCases   int64 `json:"valid_cases"`
	Recalendared int64 `json:"recalendared"`
	Assigned     int64 `json:"assigned"`
	Overflow     int64 `json:"overflow"`
	RemainClosed int64 `json:"remain_closed"`
	Rejected     int64 `json:"rejected"`
}

// Backlog is the increase of the active backlog: every recalendared case
// (assigned or overflow) returns to the pending caseload.
type Backlog struct {
	// BaselinePending is the pending caseload supplied with
	// --baseline-pending; null when none was given.
	BaselinePending *int64 `json:"baseline_pending"`
	Added           int64  `json:"added"`
	// IncreasePct is Added / BaselinePending × 100, rounded to 4 decimals.
	IncreasePct *float64 `json:"increase_pct"`
}

// Figures are the measures of one group of cases. A pointer is null where
// the measure does not apply to the grouping (remain-closed cases have no
// docket or tier; capacity has no tier).
type Figures struct {
	CasesIn      *int64 `json:"cases_in"`
	RemainClosed *int64 `json:"remain_closed"`
	Recalendared int64  `json:"recalendared"`
	Assigned     int64  `json:"assigned"`
	Overflow     int64  `json:"overflow"`
	// SlotsOffered and SessionsOffered are the capacity inside the window;
	// SlotsUsed equals Assigned.
	SlotsOffered    *int64   `json:"slots_offered"`
	SlotsUsed       int64    `json:"slots_used"`
	Utilization     *float64 `json:"utilization"`
	SessionsOffered *int64   `json:"sessions_offered"`
	// JudgeSessions counts the sessions (court, day, start, judge or pool)
	// that hold at least one assigned case.
	JudgeSessions *int64 `json:"judge_sessions"`
	// WeeklyCapacity is SlotsOffered per week of the window; WeeksToAbsorb
	// is Recalendared / WeeklyCapacity (null when there is no capacity).
	WeeklyCapacity *float64  `json:"weekly_capacity"`
	WeeksToAbsorb  *float64  `json:"weeks_to_absorb"`
	DaysToHearing  Quantiles `json:"days_to_hearing"`
}

// Quantiles are days from the as-of date to the hearing of assigned cases
// (nearest-rank); null when the group has no assigned case.
type Quantiles struct {
	First  *int `json:"first"`
	Median *int `json:"median"`
	P90    *int `json:"p90"`
}

// Group is one row of a breakdown.
type Group struct {
	Key   string `json:"key"`
	Label string `json:"label"`
	// Court and docket identification, where the group has them.
	Court   string `json:"base_city_code,omitempty"`
	State   string `json:"state,omitempty"`
	Circuit string `json:"circuit,omitempty"`
	Docket  string `json:"docket,omitempty"`
	Figures
	// RemainClosedByRule breaks remain_closed down by rule id (court and
	// circuit groups; rules with no case are left out).
	RemainClosedByRule map[string]int64 `json:"remain_closed_by_rule,omitempty"`
}

// RuleCount is the number of cases one policy rule keeps closed.
type RuleCount struct {
	RuleID    string `json:"rule_id"`
	Rationale string `json:"rationale"`
	Cases     int64  `json:"cases"`
}

// CodeCount is the number of rejected rows with one error code.
type CodeCount struct {
	Code string `json:"code"`
	Rows int64  `json:"rows"`
}

// Demand breaks valid cases down by one attribute.
type Demand struct {
	Code         string `json:"code"`
	Label        string `json:"label"`
	CasesIn      int64  `json:"cases_in"`
	Recalendared int64  `json:"recalendared"`
	Assigned     int64  `json:"assigned"`
	Overflow     int64  `json:"overflow"`
	RemainClosed int64  `json:"remain_closed"`
	// Share is this row's part of all recalendared cases, 0..1.
	Share float64 `json:"share_of_recalendared"`
}

// Week counts hearings assigned in one week (Monday to Sunday).
type Week struct {
	WeekStart   string `json:"week_start"`
	Detained    int64  `json:"detained"`
	NonDetained int64  `json:"non_detained"`
	Juvenile    int64  `json:"juvenile"`
	Total       int64  `json:"total"`
}

// Histogram is the distribution of days from as-of to hearing.
type Histogram struct {
	BucketDays int      `json:"bucket_days"`
	Buckets    []Bucket `json:"buckets"`
}

// Bucket counts hearings From..To days (inclusive) after the as-of date.
type Bucket struct {
	From        int   `json:"from"`
	To          int   `json:"to"`
	Detained    int64 `json:"detained"`
	NonDetained int64 `json:"non_detained"`
	Juvenile    int64 `json:"juvenile"`
	Total       int64 `json:"total"`
}
