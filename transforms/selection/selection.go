// Package selection decides, for each valid case, whether it is
// recalendared, under which rule, in which priority tier, with which score
// and on which docket.
//
// Until the declarative policy engine (issue 3) lands, the only policy is
// Interim: one fixed rule set modelled on Matter of Castro-Tum (every closed
// case recalendared; detained first, then criminal or aggravated-felony
// charges, then the rest; oldest closure first). `recal run --help` and the
// README say so.
package selection

import (
	"github.com/recal-project/recal/pipeline/refdata"
	"github.com/recal-project/recal/pipeline/source"
	"github.com/recal-project/recal/transforms/cases"
)

// NotSelected is the rule id of a case that matches neither an exempt nor a
// recalendar rule (contract §1.4).
const NotSelected = "NOT_SELECTED"

// Policy is a compiled selection policy.
type Policy struct {
	ID, Title string
	// SHA256 identifies the policy's definition for the manifest.
	SHA256 string
	// MinNoticeDays is the notice lead (INA 239(b)(1): 10).
	MinNoticeDays int
	// JuvenileNoticeDays is the lead for juvenile cases (≥ MinNoticeDays).
	JuvenileNoticeDays int
	// HorizonDays bounds scheduling: after as_of + HorizonDays, overflow.
	HorizonDays int
	// RuleIDs and Rationale are indexed by cases.Case.Rule.
	RuleIDs, Rationale []string
	// TierRuleIDs is indexed by cases.Case.TierRule.
	TierRuleIDs []string
	// Decide fills c's selection fields from row i of b.
	Decide func(b *source.Batch, i int, env *Env, c *cases.Case)
}

// Env is what decisions may consult besides the row.
type Env struct {
	Ref  *refdata.Data
	AsOf int32
}

// Derived fields of contract §1.4 shared by every policy.

// Detained reports custody D.
func Detained(b *source.Batch, i int) bool {
	return b.Custody.S[i] == source.Valid && b.Custody.V[i] == "D"
}

// Juvenile reports a child at the as-of date or an unaccompanied-child
// priority code.
func Juvenile(b *source.Batch, i int, asOf int32) bool {
	if b.CasePriorityCode.S[i] == source.Valid && b.CasePriorityCode.V[i] == "UC" {
		return true
	}
	return b.CBirthdate.S[i] == source.Valid && AgeAt(b.CBirthdate.V[i], asOf) < 18
}

// AgeAt returns whole years from birth to asOf (days since epoch).
func AgeAt(birth, asOf int32) int {
	by, bm, bd := source.CivilFromDays(birth)
	ay, am, ad := source.CivilFromDays(asOf)
	age := ay - by
	if am < bm || (am == bm && ad < bd) {
		age--
	}
	return age
}

// YearsClosed is (as_of − comp_date) in years of 365.25 days.
func YearsClosed(b *source.Batch, i int, asOf int32) float64 {
	return float64(asOf-b.CompDate.V[i]) / 365.25
}

func flagSet(f *source.Bools, i int) bool { return f.S[i] == source.Valid && f.V[i] }

// Interim is the built-in rule set used until the policy engine lands.
func Interim() *Policy {
	return &Policy{
		ID:                 "interim-castro-tum-2018",
		Title:              "Interim built-in rules (Matter of Castro-Tum, 27 I&N Dec. 271 (A.G. 2018)): every closed case recalendared",
		SHA256:             "built-in:interim-castro-tum-2018:v1",
		MinNoticeDays:      10,
		JuvenileNoticeDays: 30,
		HorizonDays:        365,
		RuleIDs:            []string{NotSelected, "recalendar-all"},
		Rationale: []string{
			"matched no exempt or recalendar rule",
			"Castro-Tum: immigration judges lack general authority to close cases; closed cases are recalendared on motion",
		},
		TierRuleIDs: []string{"detained", "criminal-charge", "all-others"},
		Decide: func(b *source.Batch, i int, env *Env, c *cases.Case) {
			c.Recalendar = true
			c.Rule = 1
			c.Juvenile = Juvenile(b, i, env.AsOf)
			switch {
			case Detained(b, i):
				c.Tier, c.TierRule, c.Docket = 1, 0, cases.Detained
			case flagSet(&b.CrimInd, i) || flagSet(&b.AggravateFelon, i):
				c.Tier, c.TierRule = 2, 1
			default:
				c.Tier, c.TierRule = 3, 2
			}
			if c.Tier != 1 {
				c.Docket = cases.NonDetained
				if c.Juvenile {
					c.Docket = cases.Juvenile
				}
			}
			c.Score = YearsClosed(b, i, env.AsOf)
		},
	}
}
