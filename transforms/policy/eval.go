package policy

import (
	"fmt"
	"math"

	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"

	"github.com/recal-project/recal/transforms/cases"
	"github.com/recal-project/recal/transforms/export"
	"github.com/recal-project/recal/transforms/reference"
)

// Evaluator evaluates a policy row by row. It holds per-goroutine scratch:
// use one per goroutine.
type Evaluator struct {
	p   *Policy
	act activation
	// evals counts expression evaluations (for the benchmarks' ns/eval).
	evals int64
	// celOnly turns the fast path off (benchmarks compare the two).
	celOnly bool
}

// NewEvaluator returns an evaluator for runs with the given reference data
// and as-of date (days since 1970-01-01).
func (p *Policy) NewEvaluator(ref *reference.Data, asOf int32) *Evaluator {
	return &Evaluator{p: p, act: activation{ref: ref, asOf: asOf, asOfVal: dayValue(asOf)}}
}

// truth is the value of a condition for one row.
type truth int8

const (
	falseT truth = iota
	trueT
	unknownT
)

func (t truth) String() string { return [...]string{"false", "true", "unknown"}[t] }

// EvalError is a runtime failure of one expression on one row (for
// example a division by zero, or a score that is not a finite number). It
// names the row by object and position, never by content.
type EvalError struct {
	Policy, Path string
	Line         int
	Object       string
	Row          int64
	Msg          string
}

func (e *EvalError) Error() string {
	return fmt.Sprintf("policy %s line %d: %s: on %s row %d: %s", e.Policy, e.Line, e.Path, e.Object, e.Row, e.Msg)
}

// Unwrap makes an EvalError a policy error (exit 78).
func (e *EvalError) Unwrap() error { return ErrEval }

func (ev *Evaluator) fail(x *expr, msg string) error {
	a := &ev.act
	return &EvalError{Policy: ev.p.Source, Path: x.path, Line: x.line, Object: a.b.Key, Row: a.b.Row0 + int64(a.i), Msg: msg}
}

func (ev *Evaluator) cond(x *expr) (truth, error) {
	ev.evals++
	if x.fast != nil && !ev.celOnly {
		switch v := x.fast(&ev.act); v.k {
		case boolK:
			if v.b {
				return trueT, nil
			}
			return falseT, nil
		case unkK:
			return unknownT, nil
		} // errK: let cel-go evaluate it and word the error
	}
	v, _, err := x.prg.Eval(&ev.act)
	if err != nil {
		return falseT, ev.fail(x, err.Error())
	}
	switch v := v.(type) {
	case types.Bool:
		if v {
			return trueT, nil
		}
		return falseT, nil
	case *types.Unknown:
		return unknownT, nil
	}
	return falseT, ev.fail(x, fmt.Sprintf("condition gave %v, not a bool", v))
}

func (ev *Evaluator) number(x *expr) (float64, bool, error) {
	ev.evals++
	var f float64
	if x.fast != nil && !ev.celOnly {
		switch v := x.fast(&ev.act); v.k {
		case dblK:
			return ev.finite(x, v.f)
		case intK:
			return ev.finite(x, float64(v.i))
		case unkK:
			return 0, false, nil
		}
	}
	v, _, err := x.prg.Eval(&ev.act)
	if err != nil {
		return 0, false, ev.fail(x, err.Error())
	}
	switch v := v.(type) {
	case types.Double:
		f = float64(v)
	case types.Int:
		f = float64(v)
	case *types.Unknown:
		return 0, false, nil
	default:
		return 0, false, ev.fail(x, fmt.Sprintf("score gave %v, not a number", v))
	}
	return ev.finite(x, f)
}

func (ev *Evaluator) finite(x *expr, f float64) (float64, bool, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false, ev.fail(x, fmt.Sprintf("score is %v, not a finite number", f))
	}
	if f == 0 {
		f = 0 // no negative zero: it would sort equal but print differently
	}
	return f, true, nil
}

// first returns the index of the first rule whose condition is true, or -1.
func (ev *Evaluator) first(rules []*rule) (int, error) {
	for i, r := range rules {
		t, err := ev.cond(r.when)
		if err != nil {
			return -1, err
		}
		if t == trueT {
			return i, nil
		}
	}
	return -1, nil
}

// Decide fills c's selection fields (Recalendar, Rule, Tier, TierRule,
// Score, Docket, Juvenile) from row i of b, a row that passed validation.
// An unknown score counts as 0.
func (ev *Evaluator) Decide(b *export.Batch, i int, c *cases.Case) error {
	p := ev.p
	ev.act.at(b, i)
	c.Juvenile = ev.act.juvenile()
	c.Recalendar, c.Rule, c.Tier, c.TierRule, c.Score, c.Docket = false, 0, 0, 0, 0, cases.NonDetained
	k, err := ev.first(p.exempt)
	if err != nil {
		return err
	}
	if k >= 0 {
		c.Rule = uint16(1 + k)
		return nil
	}
	if k, err = ev.first(p.recalendar); err != nil {
		return err
	}
	if k < 0 {
		return nil // NOT_SELECTED
	}
	c.Recalendar, c.Rule = true, uint16(1+p.NumExempt+k)
	if k, err = ev.first(p.tiers); err != nil {
		return err
	}
	if k < 0 {
		k = len(p.tiers) // DEFAULT_TIER
	}
	c.Tier, c.TierRule = uint8(k+1), uint16(k)
	if c.Score, _, err = ev.number(p.score); err != nil {
		return err
	}
	if k, err = ev.first(p.dockets); err != nil {
		return err
	}
	if k >= 0 {
		c.Docket = p.dockets[k].docket
	}
	return nil
}

// value returns field f of the current row (for explanations).
func (ev *Evaluator) value(name string) ref.Val { return fieldIndex[name].get(&ev.act) }
