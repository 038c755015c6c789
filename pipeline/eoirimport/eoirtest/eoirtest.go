// Package eoirtest holds a small EOIR release for tests: release-shaped
// tables with the real column names and codes (domain.md §1) and the dirty
// rows real releases have.
package eoirtest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// ProceedingRows is the number of data rows of the fixture's
// B_TblProceeding.
var ProceedingRows = int64(len(proceedings) - 1)

// Crosswalk is a court crosswalk for the fixture (OLD → NYC), as CSV.
const Crosswalk = "old_code,new_code,note\nOLD,NYC,retired (test)\n"

// Release-shaped tables: the real column lists (domain.md §1, a subset of
// B_TblProceeding's and A_TblCase's columns, in the release's order), with
// the dirty rows real releases have.
const proceedingHeader = "IDNPROCEEDING\tIDNCASE\tOSC_DATE\tINPUT_DATE\tBASE_CITY_CODE\tHEARING_LOC_CODE\tIJ_CODE\tTRANS_IN_DATE\tHEARING_DATE\tDEC_TYPE\tDEC_CODE\tOTHER_COMP\tCOMP_DATE\tABSENTIA\tCUSTODY\tCASE_TYPE\tNAT\tLANG\tCRIM_IND\tAGGRAVATE_FELON"

func proc(id, caseID, osc, court, otherComp, comp string) string {
	return strings.Join([]string{id, caseID, osc, "2010-01-02 00:00:00.000", court, court + "X", "IJ1", "", "", "", "", otherComp, comp, "N", "R", "RMV", "MX", "SP", "N", "0"}, "\t")
}

var proceedings = []string{
	proceedingHeader,
	// 1: closed (A), nothing after: still closed.
	proc("101", "1", "2009-05-01 00:00:00.000", "NYC", "A", "2016-03-04 20:28:05.430"),
	// 2: closed, then a later proceeding: not still closed.
	proc("201", "2", "2009-05-01", "NYC", "Y", "2015-01-01"),
	proc("202", "2", "2017-05-01", "NYC", "", ""),
	// 3: closed, then a hearing set after the closure.
	proc("301", "3", "2009-05-01", "LOS", "K", "2018-06-01"),
	// 4: closed, then a motion to recalendar granted.
	proc("401", "4", "2009-05-01", "LOS", "M", "2018-06-01"),
	// 5: closed, a motion to recalendar denied: still closed, motion kept.
	proc("501", "5", "2009-05-01", "HOU", "B", "2014-02-03"),
	// 6: closed, a motion pending: still closed, motion date, no decision.
	proc("601", "6", "2009-05-01", "HOU", "Y", "2014-02-03"),
	// 7: change of venue, not a closure.
	proc("701", "7", "2009-05-01", "HOU", "C", "2014-02-03"),
	// 8: closure code without a completion date: not closed.
	proc("801", "8", "2009-05-01", "HOU", "Y", ""),
	// 9: a retired court code, mapped by the crosswalk.
	proc("901", "9", "2009-05-01", "OLD", "A", "2014-02-03"),
	// 10: a court code nobody knows: rejected.
	proc("1001", "10", "2009-05-01", "ZZZ", "A", "2014-02-03"),
	// A shifted row (a stray tab): rejected with its line.
	proc("1101", "11", "2009-05-01", "NYC", "A", "2014-02-03") + "\textra",
	// A case id that is not a number: rejected.
	proc("1201", "abc", "2009-05-01", "NYC", "A", "2014-02-03"),
	// 13: a closed proceeding read before an older one of the same case.
	proc("1302", "13", "2010-05-01", "NYC", "A", "2019-02-03"),
	proc("1301", "13", "2009-05-01", "NYC", "", ""),
	// 14: ids written as decimals, as some releases do; a bad OSC date.
	proc("1401.0", "14.0", "not a date", "NYC", "A", "2019-02-03"),
	// Proceeding 501 again (line 18), at another court: rejected, the
	// first row wins.
	proc("501", "5", "2009-05-01", "NYC", "B", "2014-02-03"),
	// 15: codes with stray spaces, as shifted exports leave them.
	proc("1501", "15", "2009-05-01", " NYC ", "A ", "2014-02-03"),
}

// A_TblCase, pipe-delimited and in Windows-1252 (one city with an é).
var casesTable = []string{
	"IDNCASE|NAT|LANG|CUSTODY|CASE_TYPE|SITE_TYPE|ALIEN_CITY|LATEST_HEARING|DATE_OF_ENTRY|C_BIRTHDATE|CASEPRIORITY_CODE|E_28_DATE",
	"1|GT|SP|D|RMV||Bogot\xe1|2015-01-01|2008-01-01|1990-07-01||2012-03-04",
	"5|HO|SP|R|RMV||Houston|||2010-01-01|UC|",
	"6|MX|SP|N|RMV||Houston||||| ",
	"9|MX|SP|N|RMV||Houston|||||",
}

// tbl_CustodyHistory: the highest IDNCUSTODY of a case is its current
// custody, a detention with a release date is R.
var custody = []string{
	"IDNCUSTODY\tIDNCASE\tCUSTODY\tDATDETAINED\tDATRELEASED",
	"1\t1\tD\t2010-01-01 00:00:00.000\t2011-01-01 00:00:00.000",
	"7\t1\tD\t2020-01-01 00:00:00.000\t", // case 1: detained again
	"4\t6\tN\t\t",                        // case 6: never detained
	"5\t9\tQ\t\t",                        // case 9: a stray code, ignored
	"8\t13\tD\t2019-01-01\t",             // case 13: detained ...
	"2\t13\tR\t2012-01-01\t2012-02-01",   // ... an older record
	"x\t1\tR\t\t",                        // line 8: a bad id
	"9\t15\tD\t2015-01-01\t2016-01-01",   // case 15: released
}

var schedule = []string{
	"IDNSCHEDULE\tIDNPROCEEDING\tIDNCASE\tCAL_TYPE\tADJ_DATE\tADJ_TIME_START",
	"1\t101\t1\tM\t2015-01-01 00:00:00.000\t0900", // before case 1's closure: no effect
	"2\t301\t3\tM\t2019-01-01\t0900",              // after case 3's closure
}

var motions = []string{
	"IDNMOTION\tIDNPROCEEDING\tIDNCASE\tREC_TYPE\tDEC\tCOMP_DATE\tMOTION_RECD_DATE",
	"1\t401\t4\tC\tG\t2019-02-01\t2019-01-01",
	"2\t501\t5\tCL\tD\t2016-02-01\t2016-01-01",
	"3\t501\t5\tAC\tG\t2013-02-01\t2013-01-01", // not a motion to recalendar
	"4\t601\t6\tC\t\t\t2020-05-06",
	"5\t101\t1\tC\tG\t2015-01-01\t2015-01-01", // granted before case 1's closure: no effect
}

// WriteRelease writes the fixture release into a new temporary folder
// and returns it: B_TblProceeding (tab), A_TblCase (pipe, one
// Windows-1252 line), tbl_schedule, tbl_Court_Motions and
// tbl_CustodyHistory, CRLF line ends. Of its 15 cases (13 readable), 6
// are still closed (1, 5, 6, 9 with the crosswalk OLD → NYC, 13, 15);
// its dirty rows give one reject each of UNKNOWN_COURT, FIELD_COUNT,
// MALFORMED_REQUIRED and DUPLICATE_IDNPROCEEDING, and two of
// NONPOSITIVE_ID.
func WriteRelease(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	for name, lines := range map[string][]string{
		"B_TblProceeding.csv": proceedings, "A_TblCase.tsv": casesTable, "tbl_schedule.csv": schedule, "tbl_Court_Motions.csv": motions,
		"tbl_CustodyHistory.csv": custody,
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(strings.Join(lines, "\r\n")+"\r\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}
