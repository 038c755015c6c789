// Package cases holds the compact per-case record that travels from
// selection to scheduling and the writers: sort keys and codes, not whole
// rows, so that millions of cases fit in memory.
package cases

import (
	"cmp"
	"fmt"
	"sync"
)

// Docket is a hearing docket (contract §1.3).
type Docket uint8

// The dockets of the capacity calendar.
const (
	Detained Docket = iota
	NonDetained
	Juvenile
	NumDockets
)

var docketNames = [...]string{"DETAINED", "NON_DETAINED", "JUVENILE"}

func (d Docket) String() string {
	if int(d) < len(docketNames) {
		return docketNames[d]
	}
	return fmt.Sprintf("Docket(%d)", d)
}

// ParseDocket parses DETAINED, NON_DETAINED or JUVENILE.
func ParseDocket(s string) (Docket, bool) {
	for i, n := range docketNames {
		if n == s {
			return Docket(i), true
		}
	}
	return 0, false
}

// Case is one valid input row after selection.
type Case struct {
	IDNCase       int64
	IDNProceeding int64
	// Ord orders rows by input position: object index << 40 | row.
	Ord   int64
	Score float64
	// IJ is the case's last judge, an index into the run's Judges (0 when
	// unknown). An index, not a string, keeps Case free of pointers, so
	// that the garbage collector never scans the millions of them.
	IJ uint32
	// Court indexes reference.Data.Courts.
	Court uint16
	// Rule indexes the policy's rule ids (the exempt or recalendar rule,
	// or NOT_SELECTED); TierRule its tier rule ids.
	Rule, TierRule uint16
	Tier           uint8
	Docket         Docket
	Recalendar     bool
	// Juvenile marks cases that need the policy's juvenile notice lead.
	Juvenile bool

	// What impact reports break counts down by, as small codes so the
	// record stays compact: Lang and Nat index the reference language and
	// nationality tables (reference.CodeTable.Index; 0 = null or not a known
	// code), Closure indexes ClosureCodes, and YearsClosed is whole years
	// from comp_date to the as-of date (capped at 255).
	Lang, Nat   uint16
	Closure     uint8
	YearsClosed uint8
	// Prev is 1 + the index of the case's standing hearing in the run's
	// previous-run table (`recal run --previous`), 0 when it has none. It
	// fills what was padding: Case stays 56 bytes.
	Prev int32
}

// ClosureCodes are the administrative-closure codes of other_comp
// (contract §1.1), in the order Case.Closure indexes them.
var ClosureCodes = [...]string{"A", "B", "K", "M", "Y"}

// ClosureIndex returns code's index in ClosureCodes, or -1.
func ClosureIndex(code string) int {
	for i, c := range ClosureCodes {
		if c == code {
			return i
		}
	}
	return -1
}

// YearsBetween returns whole years (of 365.25 days) from day a to day b,
// clamped to [0, 255].
func YearsBetween(a, b int32) uint8 {
	y := int64(b-a) * 100 / 36525
	return uint8(max(0, min(255, y)))
}

// Compare is the scheduling priority order (contract §3.5), as a three-way
// comparison for slices.SortFunc: tier ascending, score descending,
// idnproceeding ascending — a total order once idnproceeding is unique.
func Compare(a, b *Case) int {
	switch {
	case a.Tier != b.Tier:
		return cmp.Compare(a.Tier, b.Tier)
	case a.Score != b.Score:
		return cmp.Compare(b.Score, a.Score)
	}
	return cmp.Compare(a.IDNProceeding, b.IDNProceeding)
}

// Ord packs an object index and row number.
func Ord(object int, row int64) int64 { return int64(object)<<40 | row }

// Judges interns judge codes for Case.IJ. It is safe for concurrent use.
// Indices depend on the order codes arrive in, so they are only compared
// for equality and turned back into codes, never ordered.
type Judges struct {
	mu    sync.RWMutex
	idx   map[string]uint32
	codes []string
}

// NewJudges returns an empty table; index 0 is the empty code.
func NewJudges() *Judges { return &Judges{idx: map[string]uint32{"": 0}, codes: []string{""}} }

// Intern returns code's index, adding it if needed ("" is 0).
func (j *Judges) Intern(code string) uint32 {
	j.mu.RLock()
	i, ok := j.idx[code]
	j.mu.RUnlock()
	if ok {
		return i
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if i, ok := j.idx[code]; ok {
		return i
	}
	i = uint32(len(j.codes))
	j.idx[code] = i
	j.codes = append(j.codes, code)
	return i
}

// Lookup returns code's index if it was interned.
func (j *Judges) Lookup(code string) (uint32, bool) {
	if j == nil {
		return 0, false
	}
	j.mu.RLock()
	defer j.mu.RUnlock()
	i, ok := j.idx[code]
	return i, ok
}

// Codes returns a snapshot of the table: Codes()[i] is index i's code.
func (j *Judges) Codes() []string {
	j.mu.RLock()
	defer j.mu.RUnlock()
	return append([]string(nil), j.codes...)
}

// Code returns the code of index i ("" for 0 or an unknown index).
func (j *Judges) Code(i uint32) string {
	if j == nil {
		return ""
	}
	j.mu.RLock()
	defer j.mu.RUnlock()
	if int(i) < len(j.codes) {
		return j.codes[i]
	}
	return ""
}
