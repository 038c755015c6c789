package policy

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/recal-project/recal/transforms/cases"
)

// TestRunawayExpressionIsBounded evaluates a triply nested comprehension
// over pending_applications. On a short list it is harmless; on a row with
// 400 filings it would take 64 million steps, and must stop at the cost
// limit with an evaluation error that names the rule and the row (and no
// value from it).
func TestRunawayExpressionIsBounded(t *testing.T) {
	src := strings.Replace(base, "when: crim_ind || aggravate_felon",
		`when: "pending_applications.all(a, pending_applications.all(b, pending_applications.all(c, a + b + c != 'x')))"`, 1)
	p, err := Load("p.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	long := make([]string, 400)
	for i := range long {
		long[i] = fmt.Sprintf("I-%d", i)
	}
	rows := []row{
		{otherComp: "A", comp: "2019-01-01", osc: "2015-01-01", apps: []string{"I-130", "I-485"}},
		{otherComp: "A", comp: "2019-01-01", osc: "2015-01-01", apps: long},
	}
	ev := p.NewEvaluator(refData(t), day(t, "2026-01-15"))
	b := batchOf(t, rows...)
	var c cases.Case
	if err := ev.Decide(b, 0, &c); err != nil {
		t.Fatalf("short list: %v", err)
	}
	err = ev.Decide(b, 1, &c)
	var ee *EvalError
	if !errors.Is(err, ErrEval) || !errors.As(err, &ee) || ee.Row != 1 || ee.Path != "recalendar[0].when" {
		t.Fatalf("long list: %v; want an evaluation error on row 1 naming recalendar[0].when", err)
	}
	t.Log(err)
	if !strings.Contains(err.Error(), "cost limit") || strings.Contains(err.Error(), "I-3") {
		t.Errorf("error %q: want the cost limit named and no value from the row", err)
	}
}
