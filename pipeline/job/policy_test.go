package job

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/recal-project/recal/pipeline/manifest"
	"github.com/recal-project/recal/pipeline/sysexit"
	"github.com/recal-project/recal/transforms/policy"
)

// fullPassOnly keeps a test out of make test's -race -short pass: it adds
// no concurrency beyond what TestRunEndToEndLocal covers there, and the
// race detector makes its checked runs slow.
func fullPassOnly(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("full pass only")
	}
}

func checkRuleColumns(t *testing.T, out string, p *policy.Policy, m *manifest.Manifest) {
	t.Helper()
	if m.Policy.ID != p.ID || m.Policy.SHA256 != p.SHA256 {
		t.Fatalf("manifest policy %+v, want %s %s", m.Policy, p.ID, p.SHA256)
	}
	index := map[string]int{}
	for i, id := range p.RuleIDs {
		index[id] = i
	}
	tiers := map[string]int32{}
	for i, id := range p.TierRuleIDs {
		tiers[id] = int32(i + 1)
	}
	closedByRule := map[string]int64{}
	for _, o := range m.Outputs {
		if !strings.HasSuffix(o.Key, ".parquet") {
			continue
		}
		cols, n := readTable(t, filepath.Join(out, o.Key))
		for i := 0; i < n; i++ {
			switch {
			case strings.HasPrefix(o.Key, "remain_closed/"):
				rule := cols["rule_id"][i].(string)
				k, ok := index[rule]
				if !ok || p.Recalendars(uint16(k)) {
					t.Fatalf("remain_closed row with rule %q, not an exempt rule or NOT_SELECTED of %s", rule, p.ID)
				}
				if cols["reason"][i].(string) != p.RuleRationale[k] {
					t.Fatalf("rule %s: reason %q is not its rationale", rule, cols["reason"][i])
				}
				closedByRule[rule]++
			case strings.HasPrefix(o.Key, "assignments/"), strings.HasPrefix(o.Key, "overflow/"):
				rule := cols["rule_id"][i].(string)
				if k, ok := index[rule]; !ok || !p.Recalendars(uint16(k)) {
					t.Fatalf("%s row with rule %q, not a recalendar rule of %s", o.Key, rule, p.ID)
				}
				if strings.HasPrefix(o.Key, "assignments/") {
					tr := cols["tier_rule_id"][i].(string)
					if tiers[tr] == 0 || tiers[tr] != cols["priority_tier"][i].(int32) {
						t.Fatalf("tier rule %q with tier %v", tr, cols["priority_tier"][i])
					}
					if cols["policy_id"][i].(string) != p.ID {
						t.Fatalf("policy_id %v", cols["policy_id"][i])
					}
				}
			}
		}
	}
	if fmt.Sprint(closedByRule) != fmt.Sprint(m.RemainClosedByRule) {
		t.Fatalf("remain_closed rows by rule %v, manifest %v", closedByRule, m.RemainClosedByRule)
	}
}

const filePolicy = `id: file-policy
title: Recalendar failures to appear only
effective: 2020-01-01
notice: {min_days: 14, juvenile_min_days: 30}
horizon_days: 120
exempt:
  - id: approved
    when: application_outcome == "APPROVED"
    rationale: Approved relief.
recalendar:
  - id: fta
    when: closure_kind == "FTA"
    rationale: Failed to appear.
tiers:
  - {id: detained, when: detained}
score: days_closed
docket:
  - {docket: DETAINED, when: detained}
  - {docket: JUVENILE, when: juvenile}
`

func TestPolicyFile(t *testing.T) {
	fullPassOnly(t)
	in := t.TempDir()
	genData(t, in, 2000)
	dir := t.TempDir()
	path := filepath.Join(dir, "fta.yaml")
	if err := os.WriteFile(path, []byte(filePolicy), 0o644); err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	cfg := baseConfig(in, out)
	cfg.Policy = path
	res, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	m := res.Manifest
	if want := fmt.Sprintf("%x", sha256.Sum256([]byte(filePolicy))); m.Policy.ID != "file-policy" || m.Policy.SHA256 != want {
		t.Fatalf("manifest policy %+v, want file-policy %s", m.Policy, want)
	}
	checkRun(t, in, out, m)
	p, err := policy.Load(path, []byte(filePolicy))
	if err != nil {
		t.Fatal(err)
	}
	checkRuleColumns(t, out, p, m)
	if m.RemainClosedByRule["NOT_SELECTED"] == 0 || m.Counts.Assigned == 0 {
		t.Fatalf("expected both outcomes: %+v %v", m.Counts, m.RemainClosedByRule)
	}
}

// TestBadPolicyFailsBeforeData: a broken policy is refused with exit 78 and
// its located error before the export is even listed (here it does not
// exist, which would otherwise be exit 66), and nothing is written.
func TestBadPolicyFailsBeforeData(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "bad.yaml")
	os.WriteFile(path, []byte(strings.Replace(filePolicy, "when: detained", "when: detained_now", 1)), 0o644)
	out := filepath.Join(dir, "out")
	for _, run := range []func(Config) error{
		func(c Config) error { _, err := Run(context.Background(), c); return err },
		func(c Config) error { _, err := Validate(context.Background(), c); return err },
		func(c Config) error { c.Input = ""; _, err := Validate(context.Background(), c); return err },
	} {
		cfg := baseConfig(filepath.Join(dir, "no-such-export"), out)
		cfg.Policy = path
		err := run(cfg)
		want := path + `:15:26: tiers[0].when: unknown field "detained_now"`
		if sysexit.Code(err) != sysexit.Config || err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("got %v (exit %d), want exit 78 with %q", err, sysexit.Code(err), want)
		}
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Fatalf("output written for a bad policy: %v", err)
	}
	cfg := baseConfig(dir, out)
	cfg.Policy = filepath.Join(dir, "missing.yaml")
	if _, err := Run(context.Background(), cfg); sysexit.Code(err) != sysexit.Config || !strings.Contains(err.Error(), "missing.yaml: no such file") {
		t.Fatalf("missing policy file: %v (exit %d)", err, sysexit.Code(err))
	}
}

var aNumber = regexp.MustCompile(`A\d{8,9}`)

func TestExplain(t *testing.T) {
	fullPassOnly(t)
	in := t.TempDir()
	genData(t, in, 1500)
	out := t.TempDir()
	cfg := baseConfig(in, out)
	cfg.Policy = "docket-rule-2024"
	res, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	checkRun(t, in, out, res.Manifest)
	// One case of each outcome, found by the independent reader.
	want := map[string]int64{}
	for _, o := range res.Manifest.Outputs {
		dir := strings.Split(o.Key, "/")[0]
		if dir == "rejects" || dir == "reports" || want[dir] != 0 {
			continue
		}
		cols, n := readTable(t, filepath.Join(out, o.Key))
		if n > 0 {
			want[dir] = cols["idnproceeding"][0].(int64)
		}
	}
	for dir, id := range want {
		var buf bytes.Buffer
		if err := Explain(context.Background(), cfg, id, &buf); err != nil {
			t.Fatalf("%s case %d: %v", dir, id, err)
		}
		s := buf.String()
		outcome := "outcome: recalendared"
		if dir == "remain_closed" {
			outcome = "outcome: remains closed"
		}
		if !strings.Contains(s, fmt.Sprintf("case idnproceeding %d", id)) || !strings.Contains(s, outcome) {
			t.Errorf("%s case %d explained as:\n%s", dir, id, s)
		}
		if strings.Contains(s, "alien") || aNumber.MatchString(s) {
			t.Errorf("explanation may show an A-number:\n%s", s)
		}
	}
	if len(want) < 2 {
		t.Fatalf("found cases only in %v", want)
	}
	err = Explain(context.Background(), cfg, 1, &bytes.Buffer{})
	if sysexit.Code(err) != sysexit.NoInput || !strings.Contains(err.Error(), "no row") {
		t.Fatalf("unknown id: %v (exit %d)", err, sysexit.Code(err))
	}
}
