// Package manifest defines manifest.json (contract §2): the run's inputs,
// outputs, hashes and counts. Everything except the Timing key is a pure
// function of the inputs, so two runs of the same job give equal manifests
// but for Timing.
package manifest

import (
	"encoding/json"
	"fmt"

	"github.com/recal-project/recal/pipeline/sink"
	"github.com/recal-project/recal/transforms/observed"
)

// SchemaVersion is the manifest format's version.
const SchemaVersion = 1

// Manifest is manifest.json.
type Manifest struct {
	SchemaVersion int    `json:"schema_version"`
	RunID         string `json:"run_id"`
	ToolVersion   string `json:"tool_version"`
	AsOf          string `json:"as_of"`
	Policy        Policy `json:"policy"`
	Capacity      Hashed `json:"capacity"`
	// CapacitySource (an addition) says where the calendar came from when
	// a capacity.json beside it describes it: observed from an EOIR
	// release by recal import-eoir. Absent otherwise.
	CapacitySource *CapacitySource `json:"capacity_source,omitempty"`
	Closures       Hashed          `json:"closures"`
	Reference      Hashed          `json:"reference_data"`
	Inputs         []Input         `json:"inputs"`
	Outputs        []sink.Object   `json:"outputs"`
	Counts         Counts          `json:"counts"`
	Conservation   Conservation    `json:"conservation"`
	Shard          Shard           `json:"shard"`
	// Job holds the settings the run was given (an addition): what
	// `recal merge` needs to reload the policy, calendar and reference
	// data of a sharded run. Absent in manifests of older versions.
	Job *Job `json:"job,omitempty"`
	// RejectsByCode and RemainClosedByRule break the counts down.
	RejectsByCode      map[string]int64 `json:"rejects_by_code"`
	RemainClosedByRule map[string]int64 `json:"remain_closed_by_rule"`
	OverflowByReason   map[string]int64 `json:"overflow_by_reason"`
	// DataQuality counts malformed optional values treated as unknown.
	DataQuality map[string]int64 `json:"data_quality"`
	// Decoders counts input objects by the library that decoded them.
	Decoders map[string]int `json:"decoders"`
	// Changes, with `recal run --previous`, counts tonight's hearings
	// against the previous run's (an addition; absent without --previous).
	Changes *Changes `json:"changes,omitempty"`
	// QuarantinedObjects lists the input objects --on-corrupt=quarantine
	// skipped (their inputs entries say why); absent when there are none.
	QuarantinedObjects []string `json:"quarantined_objects,omitempty"`
	// Quarantine says how much of the input those objects were, against
	// the limit the run allowed (an addition; absent when none was
	// quarantined).
	Quarantine *Quarantine `json:"quarantine,omitempty"`
	Timing     Timing      `json:"timing"`
}

// Quarantine measures what --on-corrupt=quarantine dropped: objects, and
// rows as their footers declare them (an object whose footer could not be
// read counts as an object and as 0 rows).
type Quarantine struct {
	Objects      int     `json:"objects"`
	InputObjects int     `json:"input_objects"`
	FooterRows   int64   `json:"footer_rows"`
	InputFooter  int64   `json:"input_footer_rows"`
	ObjectsShare float64 `json:"objects_fraction"`
	RowsShare    float64 `json:"rows_fraction"`
	Limit        float64 `json:"limit"`
}

// Policy identifies the policy applied.
type Policy struct {
	ID     string `json:"id"`
	SHA256 string `json:"sha256"`
	// The scheduling parameters the policy set (additions): with them the
	// invariants of contract §3 can be checked from the outputs alone.
	MinNoticeDays      int `json:"min_notice_days"`
	JuvenileNoticeDays int `json:"juvenile_notice_days"`
	HorizonDays        int `json:"horizon_days"`
}

// CapacitySource is the capacity.json that describes the run's calendar
// (its URI and sha256), with what it says.
type CapacitySource struct {
	URI    string `json:"uri"`
	SHA256 string `json:"sha256"`
	observed.Report
}

// Hashed names an input file by location and content hash.
type Hashed struct {
	URI    string `json:"uri,omitempty"`
	SHA256 string `json:"sha256,omitempty"`
}

// Input is one input object.
type Input struct {
	Key  string `json:"key"`
	Size int64  `json:"size"`
	ETag string `json:"etag"`
	// Rows is the number of rows read from the object (0 if quarantined).
	Rows int64 `json:"rows"`
	// Quarantined, when set, is why --on-corrupt=quarantine skipped the
	// object (the error's first line; never a value from a row).
	Quarantined string `json:"quarantined,omitempty"`
}

// Counts are the row outcomes of contract §2.
type Counts struct {
	InputRows    int64 `json:"input_rows"`
	Assigned     int64 `json:"assigned"`
	RemainClosed int64 `json:"remain_closed"`
	Overflow     int64 `json:"overflow"`
	Rejected     int64 `json:"rejected"`
}

// Changes counts the rows of changes/: how tonight's assignments relate
// to the previous run's. Every assignment tonight is NEW, UNCHANGED or
// MOVED; every assignment of the previous run is UNCHANGED, MOVED or
// RELEASED.
type Changes struct {
	// Previous is the previous run: its location and run id, and how many
	// hearings it had assigned.
	Previous         string `json:"previous"`
	PreviousRunID    string `json:"previous_run_id"`
	PreviousAssigned int64  `json:"previous_assigned"`
	// PolicyChanged reports that the previous run had another policy
	// (--previous-policy-change).
	PolicyChanged bool `json:"policy_changed"`
	// Partial is true in a shard's manifest: its counts are its courts'
	// share, and previous_assigned is the whole previous run's.
	Partial   bool  `json:"partial,omitempty"`
	New       int64 `json:"new"`
	Unchanged int64 `json:"unchanged"`
	Moved     int64 `json:"moved"`
	Released  int64 `json:"released"`
	// MovedByReason and ReleasedByReason say why standing hearings were
	// released (a moved hearing was released, then rescheduled).
	MovedByReason    map[string]int64 `json:"moved_by_reason"`
	ReleasedByReason map[string]int64 `json:"released_by_reason"`
	// Check is the extended conservation check, as text.
	Check string `json:"check"`
	// Guard is how close the night came to the release guard's limits
	// (an addition).
	Guard *Guard `json:"guard,omitempty"`
}

// Guard is the release guard of a nightly run: the share of the previous
// run's hearings whose case is not among tonight's valid rows (released
// LEFT_EXPORT), against its limit, and tonight's input rows as a share of
// the previous run's, against its floor. The counts are the whole run's,
// in a shard too (every shard reads every row).
type Guard struct {
	LeftExport        int64   `json:"left_export"`
	PreviousAssigned  int64   `json:"previous_assigned"`
	ReleaseShare      float64 `json:"release_share"`
	ReleaseLimit      float64 `json:"release_limit"`
	InputRows         int64   `json:"input_rows"`
	PreviousInputRows int64   `json:"previous_input_rows"`
	InputShare        float64 `json:"input_share"`
	InputFloor        float64 `json:"input_floor"`
}

// Conservation records the check input_rows == the sum of the outcomes.
type Conservation struct {
	Holds bool   `json:"holds"`
	Check string `json:"check"`
}

// Shard identifies the shard that wrote the manifest.
type Shard struct {
	Index int `json:"index"`
	Count int `json:"count"`
}

// Job is the settings of a run as given (URIs as passed, not resolved).
type Job struct {
	Input            string `json:"input"`
	Capacity         string `json:"capacity"`
	Closures         string `json:"closures,omitempty"`
	Policy           string `json:"policy"`
	Previous         string `json:"previous,omitempty"`
	Courts           string `json:"courts,omitempty"`
	HearingLocations string `json:"hearing_locations,omitempty"`
	// SuppressBelow is the reports' small-cell threshold (0: off).
	SuppressBelow   int    `json:"suppress_below"`
	BaselinePending *int64 `json:"baseline_pending,omitempty"`
	OnCorrupt       string `json:"on_corrupt"`
}

// Timing holds every wall-clock value of the run (the only
// non-deterministic part of the manifest).
type Timing struct {
	StartedAt  string             `json:"started_at"`
	FinishedAt string             `json:"finished_at"`
	Seconds    map[string]float64 `json:"seconds_by_stage"`
}

// Check verifies conservation and fills Conservation.
func (m *Manifest) Check() error {
	c := m.Counts
	sum := c.Assigned + c.RemainClosed + c.Overflow + c.Rejected
	m.Conservation = Conservation{
		Holds: sum == c.InputRows,
		Check: fmt.Sprintf("input_rows %d == assigned %d + remain_closed %d + overflow %d + rejected %d (= %d)",
			c.InputRows, c.Assigned, c.RemainClosed, c.Overflow, c.Rejected, sum),
	}
	if len(m.Inputs) > 0 {
		var read int64
		for _, in := range m.Inputs {
			read += in.Rows
		}
		if read != c.InputRows {
			return fmt.Errorf("conservation check failed: the inputs list %d rows read, input_rows is %d", read, c.InputRows)
		}
	}
	if ch := m.Changes; ch != nil {
		ch.Check = fmt.Sprintf("assigned %d == new %d + unchanged %d + moved %d; previous_assigned %d == unchanged %d + moved %d + released %d",
			c.Assigned, ch.New, ch.Unchanged, ch.Moved, ch.PreviousAssigned, ch.Unchanged, ch.Moved, ch.Released)
		if ch.New+ch.Unchanged+ch.Moved != c.Assigned {
			return fmt.Errorf("conservation check failed: changes: %s", ch.Check)
		}
		// A shard sees only its share of the previous run's hearings: the
		// second half is checked on the whole run (single process, merge).
		if !ch.Partial && ch.Unchanged+ch.Moved+ch.Released != ch.PreviousAssigned {
			return fmt.Errorf("conservation check failed: changes: %s", ch.Check)
		}
	}
	if d := c.InputRows - sum; d > 0 {
		return fmt.Errorf("conservation check failed: %d rows unaccounted for: %s", d, m.Conservation.Check)
	} else if d < 0 {
		return fmt.Errorf("conservation check failed: %d more output rows than input rows: %s", -d, m.Conservation.Check)
	}
	return nil
}

// Marshal renders the manifest as indented JSON (map keys sorted by
// encoding/json, so the bytes are deterministic).
func (m *Manifest) Marshal() ([]byte, error) {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// Parse reads a manifest.
func Parse(b []byte) (*Manifest, error) {
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("parse manifest: %w", err)
	}
	return &m, nil
}
