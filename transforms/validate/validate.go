// Package validate applies the row rules of contract §1.1: a row is either
// valid or rejected with an error code and a message that never contains a
// value from the row (no PII can pass through it). Malformed optional values
// do not reject a row; they are counted per column as data-quality issues.
package validate

import (
	"fmt"

	"github.com/recal-project/recal/transforms/civil"
	"github.com/recal-project/recal/transforms/export"
	"github.com/recal-project/recal/transforms/reference"
)

// Code is a reject reason.
type Code uint8

// Reject reasons. Their String forms are the error_code values written to
// rejects/ (contract §2), documented in docs/contract-additions.md.
const (
	OK Code = iota
	MissingRequired
	MalformedRequired
	DateOutOfRange
	CompBeforeOSC
	NonPositiveID
	NotClosureCode
	UnknownCourt
	DuplicateProceeding
	numCodes
)

var codeNames = [...]string{
	OK:                  "OK",
	MissingRequired:     "MISSING_REQUIRED",
	MalformedRequired:   "MALFORMED_REQUIRED",
	DateOutOfRange:      "DATE_OUT_OF_RANGE",
	CompBeforeOSC:       "COMP_BEFORE_OSC",
	NonPositiveID:       "NONPOSITIVE_ID",
	NotClosureCode:      "NOT_A_CLOSURE_CODE",
	UnknownCourt:        "UNKNOWN_COURT",
	DuplicateProceeding: "DUPLICATE_IDNPROCEEDING",
}

func (c Code) String() string {
	if int(c) < len(codeNames) {
		return codeNames[c]
	}
	return fmt.Sprintf("Code(%d)", c)
}

// Reject is the outcome of a failed row check: the reason and the column
// it concerns (no value).
type Reject struct {
	Code   Code
	Column string
}

// Message renders the PII-free explanation written to rejects/.
func (r Reject) Message() string {
	switch r.Code {
	case MissingRequired:
		return fmt.Sprintf("required column %s is null", r.Column)
	case MalformedRequired:
		return fmt.Sprintf("required column %s holds a value that is not a valid %s", r.Column, kindOf(r.Column))
	case DateOutOfRange:
		return fmt.Sprintf("%s is before 1950-01-01 or after the as-of date", r.Column)
	case CompBeforeOSC:
		return "comp_date is before osc_date"
	case NonPositiveID:
		return fmt.Sprintf("%s is not a positive integer", r.Column)
	case NotClosureCode:
		return "other_comp is not an administrative-closure code (A, B, Y, K, M)"
	case UnknownCourt:
		return "base_city_code is not a court in the reference data"
	case DuplicateProceeding:
		return "idnproceeding already seen in an earlier row (ordered by object key, then row)"
	}
	return r.Code.String()
}

func kindOf(col string) string {
	for _, c := range export.Columns {
		if c.Name == col {
			return c.Kind.String()
		}
	}
	return "value"
}

// ClosureCodes are the OTHER_COMP values of administrative closure.
var ClosureCodes = map[string]bool{"A": true, "B": true, "Y": true, "K": true, "M": true}

// Validator checks rows against the reference data and an as-of date.
type Validator struct {
	ref     *reference.Data
	asOf    int32
	minDate int32
}

// New returns a Validator; asOf is in days since epoch.
func New(ref *reference.Data, asOf int32) *Validator {
	return &Validator{ref: ref, asOf: asOf, minDate: civil.DaysFromCivil(1950, 1, 1)}
}

// Quality counts malformed optional cells per column (by Columns index).
type Quality [32]int64

// Add merges q2 into q.
func (q *Quality) Add(q2 *Quality) {
	for i := range q {
		q[i] += q2[i]
	}
}

// Map returns the non-zero counts by column name.
func (q *Quality) Map() map[string]int64 {
	m := map[string]int64{}
	for i, c := range export.Columns {
		if q[i] > 0 {
			m[c.Name] = q[i]
		}
	}
	return m
}

// Custody codes of tblLookupCustodyStatus.
var custodyCodes = map[string]bool{"D": true, "R": true, "N": true}

// Row checks row i of b. For a valid row it also normalises malformed or
// unknown optional values to Null in place and counts them in q.
func (v *Validator) Row(b *export.Batch, i int, q *Quality) (Reject, bool) {
	// Required columns: present and well-formed.
	for _, c := range requiredCols {
		switch st := c.state(b, i); st {
		case export.Null:
			return Reject{MissingRequired, c.name}, false
		case export.Malformed:
			return Reject{MalformedRequired, c.name}, false
		}
	}
	if b.IDNCase.V[i] <= 0 {
		return Reject{NonPositiveID, "idncase"}, false
	}
	if b.IDNProceeding.V[i] <= 0 {
		return Reject{NonPositiveID, "idnproceeding"}, false
	}
	osc, comp := b.OSCDate.V[i], b.CompDate.V[i]
	if osc < v.minDate || osc > v.asOf {
		return Reject{DateOutOfRange, "osc_date"}, false
	}
	if comp < v.minDate || comp > v.asOf {
		return Reject{DateOutOfRange, "comp_date"}, false
	}
	if comp < osc {
		return Reject{CompBeforeOSC, "comp_date"}, false
	}
	if !ClosureCodes[b.OtherComp.V[i]] {
		return Reject{NotClosureCode, "other_comp"}, false
	}
	if v.ref.CourtIndex(b.BaseCityCode.V[i]) < 0 {
		return Reject{UnknownCourt, "base_city_code"}, false
	}
	// Optional columns: malformed → unknown, counted.
	for _, ci := range optionalCols {
		if f := export.Columns[ci].Field(b); stateOf(f, i) == export.Malformed {
			setNull(f, i)
			q[ci]++
		}
	}
	if b.Custody.S[i] == export.Valid && !custodyCodes[b.Custody.V[i]] {
		b.Custody.S[i] = export.Null
		q[custodyCol]++
	}
	// ij_code is the one free-text column recal copies into an output
	// beside the assignments (overflow.case_ij_code): anything that is not
	// a judge code (1 to 6 letters or digits) is unknown, so that a name or
	// an A-number typed into it never travels.
	if b.IJCode.S[i] == export.Valid && !isJudgeCode(b.IJCode.V[i]) {
		b.IJCode.S[i] = export.Null
		q[ijCol]++
	}
	if b.CBirthdate.S[i] == export.Valid && (b.CBirthdate.V[i] > v.asOf || b.CBirthdate.V[i] < v.asOf-130*366) {
		b.CBirthdate.S[i] = export.Null
		q[birthCol]++
	}
	return Reject{}, true
}

type reqCol struct {
	name  string
	state func(b *export.Batch, i int) export.State
}

var requiredCols = func() []reqCol {
	var out []reqCol
	for _, c := range export.Columns {
		if c.Required {
			c := c
			out = append(out, reqCol{c.Name, func(b *export.Batch, i int) export.State { return stateOf(c.Field(b), i) }})
		}
	}
	return out
}()

var custodyCol, birthCol, ijCol = colIndex("custody"), colIndex("c_birthdate"), colIndex("ij_code")

// optionalCols are the indices of the optional columns, which Row checks
// for every row (indexing avoids copying a Column per row and column).
var optionalCols = func() []int {
	var out []int
	for i := range export.Columns {
		if !export.Columns[i].Required {
			out = append(out, i)
		}
	}
	return out
}()

// isJudgeCode reports whether s looks like an EOIR judge code: 1 to 6
// ASCII letters or digits. A-numbers (8 or 9 digits, with or without "A")
// and names (spaces) do not.
func isJudgeCode(s string) bool {
	if len(s) == 0 || len(s) > 6 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}

func colIndex(name string) int {
	for i, c := range export.Columns {
		if c.Name == name {
			return i
		}
	}
	panic("validate: no column " + name)
}

func stateOf(f any, i int) export.State {
	switch c := f.(type) {
	case *export.Int64s:
		return c.S[i]
	case *export.Strings:
		return c.S[i]
	case *export.Dates:
		return c.S[i]
	case *export.Bools:
		return c.S[i]
	case *export.Lists:
		return c.S[i]
	}
	return export.Null
}

func setNull(f any, i int) {
	switch c := f.(type) {
	case *export.Int64s:
		c.S[i] = export.Null
	case *export.Strings:
		c.S[i] = export.Null
	case *export.Dates:
		c.S[i] = export.Null
	case *export.Bools:
		c.S[i] = export.Null
	case *export.Lists:
		c.S[i] = export.Null
	}
}
