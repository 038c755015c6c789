package policy

import (
	"errors"
	"strings"
	"testing"
)

// base is a small valid policy; tests edit it line by line.
const base = `id: test-policy
title: A test policy
effective: 2021-07-15
notice:
  min_days: 10
horizon_days: 180
exempt:
  - id: pd
    when: closure_kind == "PD"
    rationale: PD closures stay closed.
recalendar:
  - id: charges
    when: crim_ind || aggravate_felon
    rationale: Enforcement priority.
tiers:
  - id: detained
    when: detained
score: years_closed
docket:
  - docket: DETAINED
    when: detained
`

func TestBaseLoads(t *testing.T) {
	p, err := Load("p.yaml", []byte(base))
	if err != nil {
		t.Fatal(err)
	}
	if p.ID != "test-policy" || p.HorizonDays != 180 || p.MinNoticeDays != 10 || p.JuvenileNoticeDays != 10 ||
		strings.Join(p.RuleIDs, ",") != "NOT_SELECTED,pd,charges" || strings.Join(p.TierRuleIDs, ",") != "detained,DEFAULT_TIER" || p.NumExempt != 1 {
		t.Errorf("loaded %+v", p)
	}
	if len(p.SHA256) != 64 || p.Source != "p.yaml" {
		t.Errorf("sha %q source %q", p.SHA256, p.Source)
	}
}

// TestBrokenPolicies pins the exact error for each kind of mistake.
func TestBrokenPolicies(t *testing.T) {
	tests := []struct {
		name     string
		old, new string // replace old by new in base ("" old: replace everything)
		sentinel error
		want     string
	}{
		{"YAML syntax", "title: A test policy", "title: A test: policy", ErrSyntax,
			"p.yaml:2: YAML: mapping values are not allowed in this context"},
		{"YAML tab indentation", "  min_days: 10", "\tmin_days: 10", ErrSyntax,
			"p.yaml:5: YAML: found character that cannot start any token"},
		{"unknown top-level key", "tiers:", "tier:", ErrUnknownKey,
			`p.yaml:1:1: tiers: missing required key "tiers"` + "\n" +
				`  p.yaml:15:1: tier: unknown key "tier" (did you mean "tiers"?); allowed here: id, title, effective, rationale, notice, horizon_days, exempt, recalendar, tiers, score, docket`},
		{"unknown rule key", "    rationale: Enforcement priority.", "    rational: Enforcement priority.", ErrUnknownKey,
			`p.yaml:12:5: recalendar[0].rationale: missing required key "rationale"` + "\n" +
				`  p.yaml:14:5: recalendar[0].rational: unknown key "rational" (did you mean "rationale"?); allowed here: id, when, rationale`},
		{"missing key", "score: years_closed\n", "", ErrMissingKey,
			`p.yaml:1:1: score: missing required key "score"`},
		{"unknown field", "crim_ind || aggravate_felon", "crim_ind || aggravated_felon", ErrUnknownField,
			`p.yaml:13:23: recalendar[0].when: unknown field "aggravated_felon" (did you mean "aggravate_felon"?); the fields are listed in docs/policy.md`},
		{"type error", "when: detained\n", "when: custody > 3\n", ErrType,
			`p.yaml:17:19: tiers[0].when: found no matching overload for '_>_' applied to '(string, int)'`},
		{"condition not boolean", "when: detained\n", "when: years_closed * 2.0\n", ErrType,
			`p.yaml:17:11: tiers[0].when: a condition must be a bool expression; "years_closed * 2.0" is double`},
		{"score not a number", "score: years_closed", "score: closure_kind", ErrType,
			`p.yaml:18:8: score: a score must be a number (double or int); "closure_kind" is string`},
		{"duplicate rule ids", "  - id: detained", "  - id: pd", ErrDuplicateID,
			`p.yaml:16:9: tiers[0].id: rule id "pd" is already used at line 8`},
		{"reserved rule id", "  - id: charges", "  - id: NOT_SELECTED", ErrDuplicateID,
			`p.yaml:12:9: recalendar[0].id: rule id "NOT_SELECTED" is reserved`},
		{"expression syntax", `when: closure_kind == "PD"`, `when: closure_kind == "PD" &&`, ErrExprSyntax,
			`p.yaml:9:34: exempt[0].when: expression syntax: mismatched input '<EOF>' expecting {'[', '{', '(', '.', '-', '!', 'true', 'false', 'null', NUM_FLOAT, NUM_INT, NUM_UINT, STRING, BYTES, IDENTIFIER}`},
		{"bad docket", "  - docket: DETAINED", "  - docket: DETENTION", ErrValue,
			`p.yaml:20:13: docket[0].docket: docket "DETENTION" is not DETAINED, NON_DETAINED or JUVENILE`},
		{"notice below the INA floor", "min_days: 10", "min_days: 5", ErrValue,
			`p.yaml:5:13: notice.min_days: 5 is outside 10..365 (INA 239(b)(1) sets a floor of 10 days)`},
		{"notice not a number", "min_days: 10", "min_days: ten", ErrValue,
			`p.yaml:5:13: notice.min_days: expected a whole number of days, found "ten"`},
		{"horizon out of range", "horizon_days: 180", "horizon_days: 0", ErrValue,
			`p.yaml:6:15: horizon_days: 0 is outside 1..3650`},
		{"effective not a date", "effective: 2021-07-15", "effective: July 15, 2021", ErrValue,
			`p.yaml:3:12: effective: expected a date YYYY-MM-DD, found "July 15, 2021"`},
		{"bad date literal", "when: detained\n", "when: date_of_entry > date(\"2020-13-01\")\n", ErrValue,
			`p.yaml:17:11: tiers[0].when: date("2020-13-01"): expected a date YYYY-MM-DD`},
		{"rules not a list", "tiers:\n  - id: detained\n    when: detained\n", "tiers: detained\n", ErrValue,
			`p.yaml:15:8: tiers: expected a list of rules, found the scalar "detained"`},
		{"bad id", "id: test-policy", "id: test policy", ErrValue,
			`p.yaml:1:5: id: id "test policy" must be 1–64 letters, digits, '.', '_' or '-', starting with a letter or digit`},
		{"empty file", "", " ", ErrSyntax, `p.yaml: the file is empty; a policy is a YAML mapping with id, title, effective, …`},
		{"not a mapping", "", "- a\n- b\n", ErrValue,
			`p.yaml:1:1: expected a mapping with keys id, title, effective, rationale, notice, horizon_days, exempt, recalendar, tiers, score, docket, found a list`},
		{"two documents", "", base + "---\nid: x\n", ErrSyntax, `p.yaml:22:1: a policy file holds one YAML document; found another`},
		{"alias", "score: years_closed", "score: *anchor", ErrSyntax, `p.yaml:18: YAML: unknown anchor 'anchor' referenced`},
		{"alias to anchor", "title: A test policy", "title: &t A test policy\nrationale: *t", ErrValue,
			`p.yaml:3:12: rationale: YAML aliases are not allowed in a policy`},
		{"duplicate key", "horizon_days: 180", "horizon_days: 180\nhorizon_days: 90", ErrUnknownKey,
			`p.yaml:7:1: horizon_days: key "horizon_days" appears twice`},
		{"juvenile lead below adult lead", "min_days: 10", "min_days: 30\n  juvenile_min_days: 20", ErrValue,
			`p.yaml:5:3: notice.juvenile_min_days: juvenile_min_days 20 is less than min_days 30`},
		{"block scalar position", "when: detained\n", "when: |\n      detained &&\n        custody = \"D\"\n", ErrExprSyntax,
			`p.yaml:19:17: tiers[0].when: expression syntax: token recognition error at: '= '`},
		{"several problems, in file order", "title: A test policy", "title: A test policy\ncolour: blue", ErrUnknownKey,
			`p.yaml:3:1: colour: unknown key "colour"; allowed here: id, title, effective, rationale, notice, horizon_days, exempt, recalendar, tiers, score, docket`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src := tc.new
			if tc.old != "" {
				if !strings.Contains(base, tc.old) {
					t.Fatalf("base lacks %q", tc.old)
				}
				src = strings.Replace(base, tc.old, tc.new, 1)
			}
			_, err := Load("p.yaml", []byte(src))
			if err == nil {
				t.Fatal("loaded a broken policy")
			}
			if !errors.Is(err, tc.sentinel) || !errors.Is(err, ErrPolicy) {
				t.Errorf("error %v does not wrap %v and ErrPolicy", err, tc.sentinel)
			}
			got := err.Error()
			if l, ok := err.(ErrorList); ok && len(l) > 1 {
				got = strings.TrimPrefix(got, strings.SplitN(got, "\n", 2)[0]+"\n  ")
			}
			if got != tc.want {
				t.Errorf("error\n got: %s\nwant: %s", got, tc.want)
			}
		})
	}
}

func TestAllProblemsReported(t *testing.T) {
	src := strings.NewReplacer("tiers:", "tier:", "crim_ind ||", "crim_indd ||", "min_days: 10", "min_days: 3").Replace(base)
	_, err := Load("p.yaml", []byte(src))
	var l ErrorList
	if !errors.As(err, &l) {
		t.Fatalf("got %v, want an ErrorList", err)
	}
	if len(l) != 4 || !strings.HasPrefix(err.Error(), "4 problems in policy:\n  p.yaml:1:1: tiers: missing") {
		t.Errorf("got %d problems:\n%v", len(l), err)
	}
	for i := 1; i < len(l); i++ {
		if l[i].Line < l[i-1].Line {
			t.Errorf("problems out of file order:\n%v", err)
		}
	}
}

func TestShippedPolicies(t *testing.T) {
	ids := Shipped()
	want := []string{"castro-tum-2018", "castro-tum-circuit-split", "cruz-valdez-2021-pd", "docket-rule-2024", "full-reversal"}
	if strings.Join(ids, ",") != strings.Join(want, ",") {
		t.Fatalf("shipped %v, want %v", ids, want)
	}
	for _, id := range ids {
		p, err := LoadShipped(id)
		if err != nil {
			t.Fatal(err)
		}
		if p.ID != id || p.Rationale == "" || p.Title == "" {
			t.Errorf("%s: id %q, title %q, rationale %d bytes", id, p.ID, p.Title, len(p.Rationale))
		}
		for i, r := range p.RuleRationale {
			if r == "" {
				t.Errorf("%s: rule %s has no rationale", id, p.RuleIDs[i])
			}
		}
	}
	if _, err := LoadShipped("nope"); err == nil || !errors.Is(err, ErrPolicy) {
		t.Errorf("LoadShipped(nope) = %v", err)
	}
	if _, ok := ShippedSource("../load.go"); ok {
		t.Error("ShippedSource escaped its folder")
	}
}
