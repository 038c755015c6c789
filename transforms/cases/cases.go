// Package cases holds the compact per-case record that travels from
// selection to scheduling and the writers: sort keys and codes, not whole
// rows, so that millions of cases fit in memory.
package cases

import "fmt"

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
	// IJ is the case's last judge (interned), "" when unknown.
	IJ string
	// Court indexes refdata.Data.Courts.
	Court uint16
	// Rule indexes the policy's rule ids (the exempt or recalendar rule,
	// or NOT_SELECTED); TierRule its tier rule ids.
	Rule, TierRule uint16
	Tier           uint8
	Docket         Docket
	Recalendar     bool
	// Juvenile marks cases that need the policy's juvenile notice lead.
	Juvenile bool
}

// Ord packs an object index and row number.
func Ord(object int, row int64) int64 { return int64(object)<<40 | row }

// Less is the scheduling priority order (contract §3.5): tier ascending,
// score descending, idnproceeding ascending.
func Less(a, b *Case) bool {
	if a.Tier != b.Tier {
		return a.Tier < b.Tier
	}
	if a.Score != b.Score {
		return a.Score > b.Score
	}
	return a.IDNProceeding < b.IDNProceeding
}
