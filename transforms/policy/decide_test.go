package policy

import (
	"bytes"
	"strings"
	"testing"

	"github.com/recal-project/recal/transforms/cases"
)

type outcome struct {
	rule, tier string // tier "" when not recalendared
	docket     cases.Docket
}

func decide(t *testing.T, p *Policy, asOf string, r row) (outcome, cases.Case) {
	t.Helper()
	b := batchOf(t, r)
	ev := p.NewEvaluator(refData(t), day(t, asOf))
	var c cases.Case
	if err := ev.Decide(b, 0, &c); err != nil {
		t.Fatal(err)
	}
	if c.Recalendar != p.Recalendars(c.Rule) {
		t.Fatalf("Recalendar %v disagrees with rule %s", c.Recalendar, p.RuleIDs[c.Rule])
	}
	o := outcome{rule: p.RuleIDs[c.Rule]}
	if c.Recalendar {
		o.tier, o.docket = p.TierRuleIDs[c.TierRule], c.Docket
		if int(c.Tier) != int(c.TierRule)+1 {
			t.Fatalf("tier %d for tier rule %d", c.Tier, c.TierRule)
		}
	}
	return o, c
}

// TestShippedRules checks each shipped policy rule by rule on hand-made
// rows whose outcome follows from the policy's text.
func TestShippedRules(t *testing.T) {
	const asOf = "2026-01-15"
	nd, det, juv := cases.NonDetained, cases.Detained, cases.Juvenile
	tests := []struct {
		policy, name, asOf string
		row                row
		want               outcome
	}{
		// castro-tum-2018: everything recalendared; detained, then charges, then the rest.
		{"castro-tum-2018", "detained", "", row{custody: "D"}, outcome{"recalendar-on-motion", "detained", det}},
		{"castro-tum-2018", "criminal charge", "", row{custody: "N", crim: yes}, outcome{"recalendar-on-motion", "criminal-charges", nd}},
		{"castro-tum-2018", "aggravated felony, crim_ind unknown", "", row{agg: yes}, outcome{"recalendar-on-motion", "criminal-charges", nd}},
		{"castro-tum-2018", "crim_ind unknown, no felony: not a charge", "", row{agg: no}, outcome{"recalendar-on-motion", "all-others", nd}},
		{"castro-tum-2018", "unaccompanied child", "", row{custody: "R", priority: "UC"}, outcome{"recalendar-on-motion", "all-others", juv}},
		{"castro-tum-2018", "child by birth date", "", row{birth: "2014-02-01"}, outcome{"recalendar-on-motion", "all-others", juv}},
		{"castro-tum-2018", "18 on the day: adult", "", row{birth: "2008-01-15"}, outcome{"recalendar-on-motion", "all-others", nd}},
		{"castro-tum-2018", "unknown birth date: adult docket", "", row{}, outcome{"recalendar-on-motion", "all-others", nd}},
		{"castro-tum-2018", "detained child: detained docket first", "", row{custody: "D", priority: "UC"}, outcome{"recalendar-on-motion", "detained", det}},
		{"castro-tum-2018", "PD closure also recalendared", "", row{otherComp: "Y"}, outcome{"recalendar-on-motion", "all-others", nd}},

		// castro-tum-circuit-split: 4th, 7th and (from 2021-05-05) 3rd keep their closures.
		{"castro-tum-circuit-split", "4th circuit court", "", row{court: "BAL"}, outcome{"fourth-circuit-zuniga-romero", "", 0}},
		{"castro-tum-circuit-split", "7th circuit court", "", row{court: "CHI"}, outcome{"seventh-circuit-meza-morales", "", 0}},
		{"castro-tum-circuit-split", "3rd circuit after Arcos Sanchez", "2021-05-05", row{court: "PHI", comp: "2019-01-01"}, outcome{"third-circuit-arcos-sanchez", "", 0}},
		{"castro-tum-circuit-split", "3rd circuit before Arcos Sanchez", "2021-05-04", row{court: "PHI", comp: "2019-01-01"}, outcome{"recalendar-on-motion", "all-others", nd}},
		{"castro-tum-circuit-split", "6th circuit follows Castro-Tum", "", row{court: "DET", crim: yes}, outcome{"recalendar-on-motion", "criminal-charges", nd}},
		{"castro-tum-circuit-split", "2nd circuit", "", row{court: "NYC", custody: "D"}, outcome{"recalendar-on-motion", "detained", det}},
		{"castro-tum-circuit-split", "hearing location's circuit governs", "", row{court: "NYC", hloc: "CCF"}, outcome{"fourth-circuit-zuniga-romero", "", 0}},

		// cruz-valdez-2021-pd: PD closures stay; only enforcement priorities come back.
		{"cruz-valdez-2021-pd", "PD closure Y with a charge stays closed", "", row{otherComp: "Y", crim: yes}, outcome{"prosecutorial-discretion-closure", "", 0}},
		{"cruz-valdez-2021-pd", "in-court PD closure M", "", row{otherComp: "M", agg: yes}, outcome{"prosecutorial-discretion-closure", "", 0}},
		{"cruz-valdez-2021-pd", "aggravated felony", "", row{agg: yes, crim: no}, outcome{"public-safety-priority", "aggravated-felony", nd}},
		{"cruz-valdez-2021-pd", "criminal charge, FTA closure", "", row{otherComp: "B", crim: yes}, outcome{"public-safety-priority", "criminal-charge", nd}},
		{"cruz-valdez-2021-pd", "entry after 2020-11-01", "", row{entry: "2021-03-01", comp: "2022-01-01", osc: "2021-06-01"}, outcome{"border-security-priority", "recent-border-entry", nd}},
		{"cruz-valdez-2021-pd", "entry on 2020-11-01 is not after", "", row{entry: "2020-11-01"}, outcome{NotSelected, "", 0}},
		{"cruz-valdez-2021-pd", "nothing known: not a priority", "", row{}, outcome{NotSelected, "", 0}},
		{"cruz-valdez-2021-pd", "detained priority", "", row{custody: "D", crim: yes}, outcome{"public-safety-priority", "detained", det}},
		{"cruz-valdez-2021-pd", "6th circuit before the 2024 rule", "2022-01-15", row{court: "DET"}, outcome{"sixth-circuit-hernandez-serrano", "DEFAULT_TIER", nd}},
		{"cruz-valdez-2021-pd", "6th circuit after the 2024 rule", "", row{court: "DET"}, outcome{NotSelected, "", 0}},

		// docket-rule-2024: adjudicated filings and long idle closures come back.
		{"docket-rule-2024", "approved collateral relief", "", row{outcome: "APPROVED", apps: []string{"I-130"}}, outcome{"collateral-relief-approved", "", 0}},
		{"docket-rule-2024", "pending collateral filing", "", row{outcome: "PENDING", apps: []string{"I-485"}}, outcome{"collateral-filing-pending", "", 0}},
		{"docket-rule-2024", "denied", "", row{outcome: "DENIED", apps: []string{"I-130"}}, outcome{"collateral-finally-adjudicated", "collateral-denied", nd}},
		{"docket-rule-2024", "withdrawn", "", row{outcome: "WITHDRAWN"}, outcome{"collateral-finally-adjudicated", "DEFAULT_TIER", nd}},
		{"docket-rule-2024", "denied and detained", "", row{outcome: "DENIED", custody: "D"}, outcome{"collateral-finally-adjudicated", "detained", det}},
		{"docket-rule-2024", "unknown outcome, nothing filed, 6.6 years", "", row{apps: []string{}}, outcome{"long-closure-nothing-pending", "DEFAULT_TIER", nd}},
		{"docket-rule-2024", "null filing list reads as none", "", row{appsNull: true}, outcome{"long-closure-nothing-pending", "DEFAULT_TIER", nd}},
		{"docket-rule-2024", "unknown outcome with a filing on file", "", row{apps: []string{"I-130"}}, outcome{NotSelected, "", 0}},
		{"docket-rule-2024", "closed 3 years, nothing filed", "", row{comp: "2023-01-01"}, outcome{NotSelected, "", 0}},
		{"docket-rule-2024", "unknown outcome is not denied", "", row{comp: "2023-01-01", apps: []string{"I-589-USCIS"}}, outcome{NotSelected, "", 0}},

		// full-reversal: everything but approved relief.
		{"full-reversal", "approved relief", "", row{outcome: "APPROVED"}, outcome{"collateral-relief-approved", "", 0}},
		{"full-reversal", "unknown outcome", "", row{}, outcome{"recalendar-everything", "DEFAULT_TIER", nd}},
		{"full-reversal", "pending", "", row{outcome: "PENDING", priority: "UC"}, outcome{"recalendar-everything", "DEFAULT_TIER", juv}},
		{"full-reversal", "failure to appear", "", row{otherComp: "B"}, outcome{"recalendar-everything", "failure-to-appear", nd}},
		{"full-reversal", "detained FTA", "", row{otherComp: "B", custody: "D"}, outcome{"recalendar-everything", "detained", det}},
	}
	for _, tc := range tests {
		t.Run(tc.policy+"/"+tc.name, func(t *testing.T) {
			p, err := LoadShipped(tc.policy)
			if err != nil {
				t.Fatal(err)
			}
			at := asOf
			if tc.asOf != "" {
				at = tc.asOf
			}
			got, _ := decide(t, p, at, tc.row)
			if got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestScoreAndNotice(t *testing.T) {
	p, err := LoadShipped("castro-tum-2018")
	if err != nil {
		t.Fatal(err)
	}
	_, c := decide(t, p, "2026-01-15", row{comp: "2019-06-01"})
	want := round6(float64(day(t, "2026-01-15")-day(t, "2019-06-01")) / 365.25)
	if c.Score != want {
		t.Errorf("score %v, want years_closed %v", c.Score, want)
	}
	_, c = decide(t, p, "2026-01-15", row{priority: "UC"})
	if !c.Juvenile || p.JuvenileNoticeDays != 30 || p.MinNoticeDays != 10 {
		t.Errorf("juvenile %v, notice %d/%d", c.Juvenile, p.MinNoticeDays, p.JuvenileNoticeDays)
	}
}

// TestNullSemantics pins the Kleene logic of unknown (null) fields and
// the known() function.
func TestNullSemantics(t *testing.T) {
	tests := []struct {
		when string
		row  row
		want bool
	}{
		{`application_outcome == "DENIED"`, row{}, false},
		{`application_outcome != "DENIED"`, row{}, false},
		{`!(application_outcome == "DENIED")`, row{}, false},
		{`application_outcome in ["DENIED", "WITHDRAWN"]`, row{}, false},
		{`!known(application_outcome)`, row{}, true},
		{`known(application_outcome) && application_outcome == "DENIED"`, row{outcome: "DENIED"}, true},
		{`!known(application_outcome) || application_outcome != "APPROVED"`, row{}, true},
		{`crim_ind || true`, row{}, true},
		{`crim_ind && false`, row{}, false},
		{`!crim_ind`, row{}, false},
		{`crim_ind`, row{crim: no}, false},
		{`!crim_ind`, row{crim: no}, true},
		{`(known(crim_ind) ? crim_ind : false) == false`, row{}, true},
		{`date_of_entry > date("2020-11-01")`, row{}, false},
		{`age_at_as_of < 18`, row{}, false},
		{`age_at_as_of >= 18`, row{}, false},
		{`age_at_as_of == 10`, row{birth: "2015-06-01"}, true},
		{`size(pending_applications) == 0`, row{appsNull: true}, true},
		{`"I-130" in pending_applications`, row{apps: []string{"I-485", "I-130"}}, true},
		{`pending_applications.exists(a, a.startsWith("I-4"))`, row{apps: []string{"I-485"}}, true},
		{`detained`, row{}, false},
		{`represented`, row{e28: "2020-01-01"}, true},
		{`represented`, row{e28: "2027-01-01"}, false},
		{`closure_kind == "FTA"`, row{otherComp: "B"}, true},
		{`closure_kind == "OTHER"`, row{otherComp: "K"}, true},
		{`days_since_nta == 366`, row{osc: "2025-01-14"}, true},
		{`state == "NY" && circuit == "2"`, row{court: "NYC"}, true},
		{`as_of == date("2026-01-15")`, row{}, true},
	}
	for _, tc := range tests {
		t.Run(tc.when, func(t *testing.T) {
			src := "id: t\ntitle: t\neffective: 2020-01-01\nhorizon_days: 10\nrecalendar:\n  - id: r\n    rationale: r\n    when: '" +
				strings.ReplaceAll(tc.when, "'", "''") + "'\ntiers: []\nscore: '0'\ndocket: []\n"
			p, err := Load("t.yaml", []byte(src))
			if err != nil {
				t.Fatal(err)
			}
			o, _ := decide(t, p, "2026-01-15", tc.row)
			if got := o.rule == "r"; got != tc.want {
				t.Errorf("matched %v, want %v", got, tc.want)
			}
		})
	}
}

func TestEvalErrors(t *testing.T) {
	for _, tc := range []struct{ score, want string }{
		{`1 / (days_closed - days_closed)`, "division by zero"},
		{`0.0 / 0.0`, "not a finite number"},
	} {
		src := "id: t\ntitle: t\neffective: 2020-01-01\nhorizon_days: 10\nrecalendar:\n  - {id: r, rationale: r, when: 'true'}\ntiers: []\nscore: '" + tc.score + "'\ndocket: []\n"
		p, err := Load("t.yaml", []byte(src))
		if err != nil {
			t.Fatal(err)
		}
		var c cases.Case
		err = p.NewEvaluator(refData(t), day(t, "2026-01-15")).Decide(batchOf(t, row{}), 0, &c)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "t.yaml line 8: score: on hand.parquet row 0") {
			t.Errorf("%s: got %v, want an error naming the file, line, object, row and %q", tc.score, err, tc.want)
		}
	}
}

func TestExplain(t *testing.T) {
	p, err := LoadShipped("docket-rule-2024")
	if err != nil {
		t.Fatal(err)
	}
	b := batchOf(t, row{outcome: "DENIED", apps: []string{"I-130"}, birth: "1990-02-03", custody: "R"})
	var out bytes.Buffer
	if err := p.NewEvaluator(refData(t), day(t, "2026-01-15")).Explain(&out, b, 0); err != nil {
		t.Fatal(err)
	}
	s := out.String()
	for _, want := range []string{
		"policy docket-rule-2024 (shipped:docket-rule-2024.yaml), as of 2026-01-15",
		"case idnproceeding 1000, idncase 100 (hand.parquet row 0)",
		`false    collateral-relief-approved: application_outcome == "APPROVED"`,
		`application_outcome="DENIED"`,
		`true     collateral-finally-adjudicated: application_outcome in ["DENIED", "WITHDRAWN"]   <- first match`,
		`true     collateral-denied: application_outcome == "DENIED"   <- first match`,
		"outcome: recalendared, rule collateral-finally-adjudicated, tier 3 (collateral-denied), score 6.625599,",
		"docket NON_DETAINED, notice lead 10 days",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("explanation lacks %q:\n%s", want, s)
		}
	}
	if strings.Contains(s, "1990") {
		t.Errorf("explanation shows the birth date:\n%s", s)
	}

	// A redacted field shows only that it is known.
	src := "id: t\ntitle: t\neffective: 2020-01-01\nhorizon_days: 10\nrecalendar:\n  - {id: r, rationale: r, when: 'c_birthdate < date(\"2000-01-01\")'}\ntiers: []\nscore: '0'\ndocket: []\n"
	p, err = Load("t.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if err := p.NewEvaluator(refData(t), day(t, "2026-01-15")).Explain(&out, b, 0); err != nil {
		t.Fatal(err)
	}
	if s := out.String(); strings.Contains(s, "1990") || !strings.Contains(s, "c_birthdate=(known; not shown)") {
		t.Errorf("birth date not redacted:\n%s", s)
	}
}
