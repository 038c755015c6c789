// Package stillclosed decides, from EOIR's public case data, which
// proceedings are still administratively closed: the "still closed" test of
// domain.md §1, each rule with its source in docs/eoir-import.md.
//
//  1. Per case, the latest proceeding: the highest IDNPROCEEDING (ids are
//     assigned as proceedings are created, so a later proceeding has a
//     higher id; an inference, the release does not say so).
//  2. It is closed when OTHER_COMP is an administrative-closure code (A, B,
//     Y, K, M) and COMP_DATE is a date.
//  3. It is no longer closed when, after COMP_DATE, the case has a hearing
//     setting (tbl_schedule ADJ_DATE) or a motion to recalendar (REC_TYPE C
//     or CL) that was granted (DEC G).
//  4. The latest motion to recalendar received after COMP_DATE that was
//     not granted gives recal_motion_date (MOTION_RECD_DATE) and
//     recal_motion_dec (DEC; empty = not yet decided).
//
// The package holds the rules over typed values; reading the tables is
// pipeline/eoir's job.
package stillclosed

// ClosureCodes are the OTHER_COMP values of an administrative closure
// (contract §1.1, domain.md §1).
var ClosureCodes = map[string]bool{"A": true, "B": true, "Y": true, "K": true, "M": true}

// RecalendarMotion reports whether a REC_TYPE is a motion to recalendar:
// C (deportationdata/eoir's "to_recalendar") or CL ("motion to calendar,
// case off-calendar").
func RecalendarMotion(recType string) bool { return recType == "C" || recType == "CL" }

// Granted reports whether a motion decision is a grant.
func Granted(dec string) bool { return dec == "G" }

// Latest is rules 1 and 2 for one case: its latest proceeding, and
// whether that one is closed. It is small (16 bytes), for a map over every
// case of a release. Dates are days since 1970-01-01.
type Latest struct {
	// Proceeding is the latest proceeding's IDNPROCEEDING.
	Proceeding int64
	// CompDate is its COMP_DATE; Closed reports rule 2.
	CompDate int32
	Closed   bool
}

// AddProceeding applies rules 1 and 2 to a proceeding of the case: it
// keeps the highest id, and whether that one is closed. hasComp reports
// whether COMP_DATE is a date.
func (l *Latest) AddProceeding(id int64, otherComp string, compDate int32, hasComp bool) {
	l.AddClassified(id, ClosureCodes[otherComp], compDate, hasComp)
}

// AddClassified is AddProceeding with OTHER_COMP already classified:
// closure reports whether it is in ClosureCodes.
func (l *Latest) AddClassified(id int64, closure bool, compDate int32, hasComp bool) {
	if id <= l.Proceeding {
		return
	}
	*l = Latest{Proceeding: id, Closed: closure && hasComp, CompDate: compDate}
}

// Case is what the test tracks for a case whose latest proceeding is
// closed: rules 3 and 4 on top of Latest.
type Case struct {
	Latest
	// Reopened reports rule 3: a hearing set or a granted motion to
	// recalendar after CompDate. Why says which.
	Reopened bool
	Why      string
	// MotionDate and MotionDec are rule 4's motion (HasMotion false: none).
	HasMotion  bool
	MotionDate int32
	MotionDec  string
}

// Setting applies rule 3 to a hearing setting of the case dated day.
func (c *Case) Setting(day int32) {
	if c.Closed && !c.Reopened && day > c.CompDate {
		c.Reopened, c.Why = true, "HEARING_SET_AFTER_CLOSURE"
	}
}

// Motion applies rules 3 and 4 to a motion of the case: its REC_TYPE,
// decision and the date it was received (hasDate false: none).
func (c *Case) Motion(recType, dec string, received int32, hasDate bool) {
	if !c.Closed || !RecalendarMotion(recType) || !hasDate || received < c.CompDate {
		return
	}
	if Granted(dec) {
		if !c.Reopened {
			c.Reopened, c.Why = true, "RECALENDAR_MOTION_GRANTED"
		}
		return
	}
	if !c.HasMotion || received > c.MotionDate || (received == c.MotionDate && dec > c.MotionDec) {
		c.HasMotion, c.MotionDate, c.MotionDec = true, received, dec
	}
}

// StillClosed reports the outcome: closed and not reopened.
func (c *Case) StillClosed() bool { return c.Closed && !c.Reopened }

// CurrentCustody is the custody a tbl_CustodyHistory record gives (""
// when its CUSTODY is not a custody code): its CUSTODY, except that a
// detention with a release date (DATRELEASED) is R, released. The latest
// record of a case (the highest IDNCUSTODY) is its current custody; like
// rule 1, taking the highest id as the latest is an inference.
func CurrentCustody(custody string, released bool) string {
	switch custody {
	case "D":
		if released {
			return "R"
		}
		return "D"
	case "N", "R":
		return custody
	}
	return ""
}
