package nightly

import (
	"fmt"

	"github.com/recal-project/recal/pipeline/manifest"
	"github.com/recal-project/recal/pipeline/report"
	"github.com/recal-project/recal/pipeline/sysexit"
)

// The release guard's defaults (--release-limit, --input-floor): an
// ordinary night loses a few percent of its cases to resolutions; an
// export job that failed upstream loses them all, or half.
const (
	DefaultReleaseLimit = 0.10
	DefaultInputFloor   = 0.80
)

// ErrReleaseGuard is wrapped when a nightly run would release more of the
// previous run's hearings for LEFT_EXPORT than --release-limit allows, or
// reads fewer rows than --input-floor of the previous run's: an export
// that came empty or half would otherwise release hearings already noticed
// to respondents and counsel. The run commits nothing (exit 65).
var ErrReleaseGuard = sysexit.Sentinel(sysexit.ErrData, "release guard")

// GuardError is the release guard's refusal, with the measures that made
// it (for the message, and for the pushed metrics of a failed night).
type GuardError struct {
	Guard manifest.Guard
	// Release and Input report which measure was past its threshold.
	Release, Input bool
}

func (e *GuardError) Error() string {
	g := e.Guard
	msg := "release guard: tonight's run would"
	if e.Release {
		msg += fmt.Sprintf(" release %s of the previous run's %s hearings (%.1f%%) because their cases are not among tonight's valid rows (LEFT_EXPORT), more than --release-limit %g",
			report.Commas(g.LeftExport), report.Commas(g.PreviousAssigned), 100*g.ReleaseShare, g.ReleaseLimit)
	}
	if e.Release && e.Input {
		msg += ", and"
	}
	if e.Input {
		msg += fmt.Sprintf(" read %s input rows, %.1f%% of the previous run's %s, below --input-floor %g",
			report.Commas(g.InputRows), 100*g.InputShare, report.Commas(g.PreviousInputRows), g.InputFloor)
	}
	return msg + "; nothing committed. If the export is meant to be so (cases resolved, not lost upstream), raise --release-limit or lower --input-floor for this run"
}

func (e *GuardError) Unwrap() error { return ErrReleaseGuard }

// guard measures tonight against the previous run: how many of its
// hearings' cases are absent from tonight's valid rows (whole run, every
// shard alike), and tonight's input rows (those read, quarantined objects
// aside) against its input rows. limit and floor are the thresholds
// (nil: the defaults).
func (p *Previous) Guard(inputRows int64, limit, floor *float64) (*manifest.Guard, error) {
	g := &manifest.Guard{PreviousAssigned: int64(len(p.standing)), PreviousInputRows: p.m.Counts.InputRows,
		ReleaseLimit: DefaultReleaseLimit, InputFloor: DefaultInputFloor}
	if limit != nil {
		g.ReleaseLimit = *limit
	}
	if floor != nil {
		g.InputFloor = *floor
	}
	for i := range p.standing {
		if !p.standing[i].present {
			g.LeftExport++
		}
	}
	g.InputRows = inputRows
	if g.PreviousAssigned > 0 {
		g.ReleaseShare = float64(g.LeftExport) / float64(g.PreviousAssigned)
	}
	g.InputShare = 1
	if g.PreviousInputRows > 0 {
		g.InputShare = float64(g.InputRows) / float64(g.PreviousInputRows)
	}
	e := &GuardError{Guard: *g, Release: g.ReleaseShare > g.ReleaseLimit, Input: g.InputShare < g.InputFloor}
	if e.Release || e.Input {
		return g, e
	}
	return g, nil
}

// CheckGuardSettings refuses thresholds outside 0..1.
func CheckGuardSettings(limit, floor *float64) error {
	for _, f := range []struct {
		name string
		v    *float64
	}{{"--release-limit", limit}, {"--input-floor", floor}} {
		if f.v != nil && (*f.v < 0 || *f.v > 1) {
			return fmt.Errorf("%s %g: want a share from 0 to 1 (0.1 is 10%%)", f.name, *f.v)
		}
	}
	return nil
}
