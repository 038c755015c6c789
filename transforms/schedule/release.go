package schedule

import (
	"fmt"
	"time"
)

// Release says why a standing hearing was released (contract §3.7's
// reasons), as a code: records hold it instead of a string. Codes from
// closureReleases on name a closure's reason in the calendar that made
// them (Calendar.ReleaseReason).
type Release uint16

// The release reasons.
const (
	// NotReleased: there was no standing hearing, or it was kept.
	NotReleased Release = iota
	// CourtChanged: the case is tonight at another court.
	CourtChanged
	// DocketChanged: the case is tonight on another docket.
	DocketChanged
	// HearingDatePassed: the hearing's day is before the as-of date.
	HearingDatePassed
	// OutsideHorizon: the hearing's day is after the last schedulable day.
	OutsideHorizon
	// Weekend and Holiday: the court does not sit that day.
	Weekend
	Holiday
	// Closure: a listed closure without a reason.
	Closure
	// SessionGone: tonight's calendar has no such session that day.
	SessionGone
	// CapacityCut: the session's slots went to higher-priority standing
	// hearings.
	CapacityCut
	// closureReleases is the first code of a closure with its reason.
	closureReleases
)

var releaseNames = [closureReleases]string{"", "COURT_CHANGED", "DOCKET_CHANGED", "HEARING_DATE_PASSED", "OUTSIDE_HORIZON",
	"WEEKEND", "HOLIDAY", "CLOSURE", "SESSION_GONE", "CAPACITY_CUT"}

// maxClosureReasons bounds the distinct closure reasons a calendar holds,
// so that each has a Release code.
const maxClosureReasons = 1<<16 - int(closureReleases)

// ReleaseReason is r as the outputs write it: "" for NotReleased, the
// reason's name, or "CLOSURE: " and the closure's reason.
func (cal *Calendar) ReleaseReason(r Release) string {
	if r < closureReleases {
		return releaseNames[r]
	}
	if i := int(r - closureReleases); i < len(cal.closureWhy) {
		return "CLOSURE: " + cal.closureWhy[i]
	}
	panic(fmt.Sprintf("schedule: release code %d is not of this calendar", r))
}

// closureCode returns the code of a closure reason, adding it.
func (cal *Calendar) closureCode(why string) (Release, error) {
	if why == "" {
		return Closure, nil
	}
	if r, ok := cal.closureIdx[why]; ok {
		return r, nil
	}
	if len(cal.closureWhy) >= maxClosureReasons {
		return 0, fmt.Errorf("more than %d distinct closure reasons", maxClosureReasons)
	}
	r := closureReleases + Release(len(cal.closureWhy))
	cal.closureIdx[why] = r
	cal.closureWhy = append(cal.closureWhy, why)
	return r, nil
}

// closedRelease is why a standing hearing on day d cannot stand because
// the court does not sit (NotReleased: it sits): Weekend, Holiday, or the
// closure's code (ReleaseReason renders it "CLOSURE: <reason>").
func (cal *Calendar) closedRelease(court uint16, d int32) Release {
	switch Weekday(d) {
	case time.Saturday, time.Sunday:
		return Weekend
	}
	if cal.isHoliday(d) {
		return Holiday
	}
	if r, ok := cal.closedCode[court][d]; ok {
		return r
	}
	if r, ok := cal.closedAllCode[d]; ok {
		return r
	}
	return NotReleased
}
