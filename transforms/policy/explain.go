package policy

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"

	"github.com/recal-project/recal/transforms/cases"
	"github.com/recal-project/recal/transforms/civil"
	"github.com/recal-project/recal/transforms/export"
)

// Explain writes, for row i of b, every rule the decision consulted, what
// each condition gave (true, false or unknown) and the values of the
// fields it read, then the outcome. It prints no A-number (recal never
// reads one) and shows a birth date only as known or null.
func (ev *Evaluator) Explain(w io.Writer, b *export.Batch, i int) error {
	var c cases.Case
	if err := ev.Decide(b, i, &c); err != nil {
		return err
	}
	p := ev.p
	ew := &errWriter{w: w}
	ew.printf("policy %s (%s), as of %s\n", p.ID, p.Source, civil.FormatDate(ev.act.asOf))
	ew.printf("case idnproceeding %d, idncase %d (%s row %d)\n", b.IDNProceeding.V[i], b.IDNCase.V[i], b.Key, b.Row0+int64(i))
	section := func(title string, rules []*rule, pick func(*rule) string) int {
		ew.printf("%s:\n", title)
		if len(rules) == 0 {
			ew.printf("  (no rules)\n")
		}
		first := -1
		for k, r := range rules {
			t, err := ev.cond(r.when)
			if err != nil {
				ew.printf("  error    %s: %v\n", pick(r), err)
				continue
			}
			mark := ""
			if t == trueT && first < 0 {
				first, mark = k, "   <- first match"
			}
			ew.printf("  %-8s %s: %s%s\n", t, pick(r), oneLine(r.when.src), mark)
			if vals := ev.values(r.when); vals != "" {
				ew.printf("           %s\n", vals)
			}
		}
		return first
	}
	id := func(r *rule) string { return r.id }
	if section("exempt rules (first match remains closed)", p.exempt, id) >= 0 {
		ew.printf("outcome: remains closed, rule %s\n", p.RuleIDs[c.Rule])
		return ew.err
	}
	if section("recalendar rules (first match is recalendared)", p.recalendar, id) < 0 {
		ew.printf("outcome: remains closed, rule %s (%s)\n", NotSelected, p.RuleRationale[0])
		return ew.err
	}
	section("tiers (first match gives the tier; none: "+DefaultTier+")", p.tiers, id)
	ew.printf("score: %s = %s\n", oneLine(p.score.src), strconv.FormatFloat(c.Score, 'g', -1, 64))
	if vals := ev.values(p.score); vals != "" {
		ew.printf("           %s\n", vals)
	}
	section("docket (first match; none: NON_DETAINED)", p.dockets, func(r *rule) string {
		if r.id != "" {
			return r.id + " -> " + r.docket.String()
		}
		return r.docket.String()
	})
	ew.printf("outcome: recalendared, rule %s, tier %d (%s), score %s, docket %s, notice lead %d days\n",
		p.RuleIDs[c.Rule], c.Tier, p.TierRuleIDs[c.TierRule], strconv.FormatFloat(c.Score, 'g', -1, 64), c.Docket, ev.leadDays(&c))
	return ew.err
}

func (ev *Evaluator) leadDays(c *cases.Case) int {
	if c.Juvenile {
		return ev.p.JuvenileNoticeDays
	}
	return ev.p.MinNoticeDays
}

// values renders the fields x reads for the current row.
func (ev *Evaluator) values(x *expr) string {
	parts := make([]string, 0, len(x.fields))
	for _, name := range x.fields {
		f := fieldIndex[name]
		v := ev.value(name)
		s := render(v)
		if f.Redacted && s != "null" {
			s = "(known; not shown)"
		}
		parts = append(parts, name+"="+s)
	}
	return strings.Join(parts, " ")
}

func render(v ref.Val) string {
	switch v := v.(type) {
	case *types.Unknown:
		return "null"
	case types.String:
		return strconv.Quote(string(v))
	case types.Timestamp:
		return v.Time.UTC().Format(time.DateOnly)
	case types.Double:
		return strconv.FormatFloat(float64(v), 'g', -1, 64)
	case types.Int:
		return strconv.FormatInt(int64(v), 10)
	case types.Bool:
		return strconv.FormatBool(bool(v))
	}
	if l, ok := v.Value().([]string); ok {
		q := make([]string, len(l))
		for i, s := range l {
			q[i] = strconv.Quote(s)
		}
		return "[" + strings.Join(q, ", ") + "]"
	}
	return fmt.Sprint(v.Value())
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) printf(format string, a ...any) {
	if e.err == nil {
		_, e.err = fmt.Fprintf(e.w, format, a...)
	}
}
