// Package policy loads, checks and evaluates recalendaring policies
// (contract §1.4): a YAML file whose rules are CEL expressions over the
// export's columns and recal's derived fields.
//
// A policy is checked completely when it is loaded — YAML syntax, unknown
// and missing keys, values, duplicate rule ids, expression syntax, unknown
// fields and types — so that a bad policy fails before any data is read,
// with every problem located by file, line and column. Evaluation then
// gives every valid case exactly one outcome: the first matching exempt
// rule (the case remains closed), else the first matching recalendar rule
// (with a tier, a score and a docket), else NOT_SELECTED (remains closed).
//
// The file format, the fields and the null semantics are documented in
// docs/policy.md.
package policy

import (
	"slices"

	"github.com/google/cel-go/cel"

	"github.com/recal-project/recal/transforms/cases"
)

// Reserved rule ids.
const (
	// NotSelected is the rule id of a case that matches neither an exempt
	// nor a recalendar rule (contract §1.4).
	NotSelected = "NOT_SELECTED"
	// DefaultTier is the tier rule id of a recalendared case that matches
	// no tier rule; its tier is one after the last listed tier.
	DefaultTier = "DEFAULT_TIER"
)

// INANoticeFloor is the least notice lead a policy may set: INA 239(b)(1)
// forbids a hearing earlier than 10 days after service of the notice.
const INANoticeFloor = 10

// Policy is a loaded and compiled policy. It is safe for concurrent use;
// evaluate it through an Evaluator per goroutine.
type Policy struct {
	ID, Title string
	// Rationale is the policy's own free-text rationale.
	Rationale string
	// Effective is the date the modelled decision took effect (days since
	// 1970-01-01).
	Effective int32
	// Source names the definition: the file name, or "shipped:<id>".
	Source string
	// SHA256 is the hex sha256 of the definition's bytes.
	SHA256 string
	// MinNoticeDays is the notice lead (INA 239(b)(1): at least 10).
	MinNoticeDays int
	// JuvenileNoticeDays is the lead for juvenile cases (≥ MinNoticeDays).
	JuvenileNoticeDays int
	// HorizonDays bounds scheduling: after as_of + HorizonDays, overflow.
	HorizonDays int
	// RuleIDs and Rationale are indexed by cases.Case.Rule: 0 is
	// NOT_SELECTED, then the exempt rules, then the recalendar rules.
	RuleIDs, RuleRationale []string
	// NumExempt is the number of exempt rules (RuleIDs[1:1+NumExempt]).
	NumExempt int
	// TierRuleIDs is indexed by cases.Case.TierRule; tier = index + 1. The
	// last entry is DEFAULT_TIER.
	TierRuleIDs []string

	exempt, recalendar, tiers []*rule
	dockets                   []*rule
	score                     *expr
}

// rule is a compiled rule.
type rule struct {
	id, rationale string
	docket        cases.Docket // docket rules only
	when          *expr
}

// expr is a compiled expression with its place in the file.
type expr struct {
	src  string
	path string
	line int
	prg  cel.Program
	// fast is the closure form (see fast.go), nil when not covered.
	fast node
	// fields lists the fields the expression reads, in first-use order.
	fields []string
}

// Reads reports whether an expression of the policy reads field name (an
// export column's name or a derived field's; docs/policy.md).
func (p *Policy) Reads(name string) bool {
	exprs := []*expr{p.score}
	for _, rs := range [][]*rule{p.exempt, p.recalendar, p.tiers, p.dockets} {
		for _, r := range rs {
			exprs = append(exprs, r.when)
		}
	}
	for _, x := range exprs {
		if x != nil && slices.Contains(x.fields, name) {
			return true
		}
	}
	return false
}

// Recalendars reports whether rule index r (cases.Case.Rule) recalendars.
func (p *Policy) Recalendars(r uint16) bool { return int(r) > p.NumExempt }
