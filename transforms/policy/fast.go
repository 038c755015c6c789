package policy

import (
	"math"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/ast"
	"github.com/google/cel-go/common/operators"
	"github.com/google/cel-go/common/overloads"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"

	"github.com/recal-project/recal/transforms/civil"
	"github.com/recal-project/recal/transforms/export"
)

// The fast path. cel-go's interpreter costs 100–250 ns per expression per
// row, mostly boxing values into interfaces. Most policy expressions use a
// small part of CEL — fields, literals, comparisons, ||, &&, !, in, size,
// known, date literals, arithmetic — so recal also compiles each checked
// expression into a tree of Go closures over the batch's columns, with
// CEL's semantics (Kleene logic for unknowns included). An expression that
// uses anything else is evaluated by cel-go alone, and wherever the fast
// path meets an error (integer overflow, division by zero) it hands the row
// to cel-go, so errors and their messages are CEL's own. A differential
// test evaluates random expressions both ways on random rows.

// kind is the type of a fast value.
type kind uint8

const (
	unkK kind = iota // unknown (a null field)
	errK             // an error: re-evaluate with cel-go
	boolK
	intK
	dblK
	strK
	dayK // a date: days since 1970-01-01
	listK
)

// val is a fast value; only the field of its kind is set. It is kept
// small: values are returned by copy.
type val struct {
	k kind
	b bool
	i int64   // intK, dayK; the row for listK
	f float64 // dblK
	s string
	l *export.Lists // listK: row i of l (nil: the empty list)
}

// list returns a listK value's strings.
func (v val) list() []string {
	if v.l == nil || v.l.S[v.i] != export.Valid {
		return nil
	}
	return v.l.Row(int(v.i))
}

type node func(a *activation) val

var (
	vUnk = val{k: unkK}
	vErr = val{k: errK}
)

func vBool(b bool) val { return val{k: boolK, b: b} }

// fastGetters read fields without boxing: the export's columns (derived
// from export.Columns) and the derived fields. Fields absent here (none
// today) make expressions that read them fall back to cel-go.
var fastGetters = func() map[string]node {
	m := map[string]node{}
	for c, col := range export.Columns {
		switch col.Kind {
		case export.KindInt64:
			m[col.Name] = func(a *activation) val { return fInt(a.ints[c], a.i) }
		case export.KindDate:
			m[col.Name] = func(a *activation) val { return fDay(a.dates[c], a.i) }
		case export.KindBool:
			m[col.Name] = func(a *activation) val { return fBool(a.bools[c], a.i) }
		case export.KindStringList:
			m[col.Name] = func(a *activation) val { return val{k: listK, l: a.lists[c], i: int64(a.i)} }
		default:
			m[col.Name] = func(a *activation) val { return fStr(a.strs[c], a.i) }
		}
	}
	for k, v := range derivedGetters {
		m[k] = v
	}
	return m
}()

// derivedGetters are the derived fields' fast getters.
var derivedGetters = map[string]node{
	"as_of": func(a *activation) val { return val{k: dayK, i: int64(a.asOf)} },
	"circuit": func(a *activation) val {
		if c := a.circuitOf(); c != "" {
			return val{k: strK, s: c}
		}
		return vUnk
	},
	"state": func(a *activation) val {
		if s := a.ref.StateOf(a.b.BaseCityCode.V[a.i], hloc(a)); s != "" {
			return val{k: strK, s: s}
		}
		return vUnk
	},
	"age_at_as_of": func(a *activation) val {
		if a.b.CBirthdate.S[a.i] != export.Valid {
			return vUnk
		}
		return val{k: intK, i: int64(ageAt(a.b.CBirthdate.V[a.i], a.asOf))}
	},
	"years_closed": func(a *activation) val {
		return val{k: dblK, f: round6(float64(a.asOf-a.b.CompDate.V[a.i]) / 365.25)}
	},
	"days_closed":    func(a *activation) val { return val{k: intK, i: int64(a.asOf - a.b.CompDate.V[a.i])} },
	"days_since_nta": func(a *activation) val { return val{k: intK, i: int64(a.asOf - a.b.OSCDate.V[a.i])} },
	"detained":       func(a *activation) val { return vBool(detained(a.b, a.i)) },
	"represented":    func(a *activation) val { return vBool(represented(a.b, a.i, a.asOf)) },
	"juvenile":       func(a *activation) val { return vBool(a.juvenile()) },
	"closure_kind":   func(a *activation) val { return val{k: strK, s: closureKind(a.b.OtherComp.V[a.i])} },
}

func fInt(c *export.Int64s, i int) val {
	if c.S[i] != export.Valid {
		return vUnk
	}
	return val{k: intK, i: c.V[i]}
}

func fStr(c *export.Strings, i int) val {
	if c.S[i] != export.Valid {
		return vUnk
	}
	return val{k: strK, s: c.V[i]}
}

func fDay(c *export.Dates, i int) val {
	if c.S[i] != export.Valid {
		return vUnk
	}
	return val{k: dayK, i: int64(c.V[i])}
}

func fBool(c *export.Bools, i int) val {
	if c.S[i] != export.Valid {
		return vUnk
	}
	return vBool(c.V[i])
}

// compileFast returns the fast form of a checked expression, or nil when
// it uses something the fast path does not cover.
func compileFast(a *cel.Ast) node {
	native := a.NativeRep()
	fc := &fastCompiler{ast: native}
	return fc.compile(native.Expr())
}

type fastCompiler struct {
	ast *ast.AST
}

// kindOf maps a checked type to a fast kind (false: not covered).
func (fc *fastCompiler) kindOf(e ast.Expr) (kind, bool) {
	t := fc.ast.GetType(e.ID())
	switch {
	case t.IsExactType(types.BoolType):
		return boolK, true
	case t.IsExactType(types.IntType):
		return intK, true
	case t.IsExactType(types.DoubleType):
		return dblK, true
	case t.IsExactType(types.StringType):
		return strK, true
	case t.IsExactType(types.TimestampType):
		return dayK, true
	case t.IsExactType(types.NewListType(types.StringType)):
		return listK, true
	}
	return 0, false
}

func (fc *fastCompiler) compile(e ast.Expr) node {
	if _, ok := fc.kindOf(e); !ok {
		return nil
	}
	switch e.Kind() {
	case ast.LiteralKind:
		var v val
		switch x := e.AsLiteral().(type) {
		case types.Bool:
			v = vBool(bool(x))
		case types.Int:
			v = val{k: intK, i: int64(x)}
		case types.Double:
			v = val{k: dblK, f: float64(x)}
		case types.String:
			v = val{k: strK, s: string(x)}
		default:
			return nil
		}
		return func(*activation) val { return v }
	case ast.IdentKind:
		return fastGetters[e.AsIdent()]
	case ast.CallKind:
		return fc.call(e)
	}
	return nil
}

func (fc *fastCompiler) call(e ast.Expr) node {
	c := e.AsCall()
	if c.IsMemberFunction() {
		return nil
	}
	args := c.Args()
	sub := make([]node, len(args))
	kinds := make([]kind, len(args))
	for i, x := range args {
		if c.FunctionName() == "date" {
			break
		}
		if c.FunctionName() == operators.In && i == 1 && x.Kind() == ast.ListKind {
			kinds[i] = listK // a list literal: in() reads it
			break
		}
		if sub[i] = fc.compile(x); sub[i] == nil {
			return nil
		}
		kinds[i], _ = fc.kindOf(x)
	}
	switch c.FunctionName() {
	case "date":
		return dateLiteral(args)
	case "known":
		x := sub[0]
		return func(a *activation) val {
			v := x(a)
			return vBool(v.k != unkK && v.k != errK)
		}
	case overloads.Size:
		if len(args) != 1 {
			return nil
		}
		x := sub[0]
		switch kinds[0] {
		case listK:
			return func(a *activation) val { return val{k: intK, i: int64(len(x(a).list()))} }
		}
		return nil // size(string) counts code points: leave it to cel-go
	case operators.LogicalAnd, operators.LogicalOr:
		return logical(c.FunctionName() == operators.LogicalOr, sub[0], sub[1])
	case operators.LogicalNot:
		x := sub[0]
		return func(a *activation) val {
			v := x(a)
			if v.k != boolK {
				return v
			}
			return vBool(!v.b)
		}
	case operators.Conditional:
		cond, yes, no := sub[0], sub[1], sub[2]
		return func(a *activation) val {
			v := cond(a)
			if v.k != boolK {
				return v
			}
			if v.b {
				return yes(a)
			}
			return no(a)
		}
	case operators.Equals, operators.NotEquals, operators.Less, operators.LessEquals, operators.Greater, operators.GreaterEquals:
		if kinds[0] != kinds[1] || kinds[0] == listK {
			return nil
		}
		return compare(c.FunctionName(), sub[0], sub[1])
	case operators.In:
		return fc.in(args, sub, kinds)
	case operators.Add, operators.Subtract, operators.Multiply, operators.Divide, operators.Modulo:
		if kinds[0] != kinds[1] || (kinds[0] != intK && kinds[0] != dblK) {
			return nil
		}
		return arith(c.FunctionName(), kinds[0], sub[0], sub[1])
	case operators.Negate:
		return negate(kinds[0], sub[0])
	}
	return nil
}

// dateLiteral is date("YYYY-MM-DD") of a literal, computed once.
func dateLiteral(args []ast.Expr) node {
	if len(args) != 1 || args[0].Kind() != ast.LiteralKind {
		return nil
	}
	s, ok := args[0].AsLiteral().(types.String)
	if !ok {
		return nil
	}
	d, ok := civil.ParseDate(string(s))
	if !ok || len(s) != 10 {
		return nil
	}
	v := val{k: dayK, i: int64(d)}
	return func(*activation) val { return v }
}

// negate is unary minus of an int (an error on overflow) or a double.
func negate(k kind, x node) node {
	switch k {
	case intK:
		return func(a *activation) val {
			v := x(a)
			if v.k != intK {
				return v
			}
			if v.i == math.MinInt64 {
				return vErr
			}
			return val{k: intK, i: -v.i}
		}
	case dblK:
		return func(a *activation) val {
			v := x(a)
			if v.k != dblK {
				return v
			}
			return val{k: dblK, f: -v.f}
		}
	}
	return nil
}

// logical is || or && with CEL's rules: the deciding value wins, then
// unknown, then error.
func logical(or bool, l, r node) node {
	return func(a *activation) val {
		x := l(a)
		if x.k == boolK && x.b == or {
			return x
		}
		y := r(a)
		if y.k == boolK && y.b == or {
			return y
		}
		switch {
		case x.k == unkK || y.k == unkK:
			return vUnk
		case x.k == errK || y.k == errK:
			return vErr
		}
		return vBool(!or)
	}
}

// strict evaluates both operands of a strict function as cel-go does: an
// error operand (left first) is the result, else an unknown one.
func strict(l, r node, a *activation) (val, val, bool) {
	x := l(a)
	if x.k == errK {
		return x, x, false
	}
	y := r(a)
	switch {
	case y.k == errK:
		return y, y, false
	case x.k == unkK:
		return x, x, false
	case y.k == unkK:
		return y, y, false
	}
	return x, y, true
}

func compare(op string, l, r node) node {
	// result[c+1] is the answer for c = -1, 0, 1 and 2 (unordered: NaN).
	var result [4]bool
	switch op {
	case operators.Equals:
		result = [4]bool{false, true, false, false}
	case operators.NotEquals:
		result = [4]bool{true, false, true, true}
	case operators.Less:
		result = [4]bool{true, false, false, false}
	case operators.LessEquals:
		result = [4]bool{true, true, false, false}
	case operators.Greater:
		result = [4]bool{false, false, true, false}
	default: // GreaterEquals
		result = [4]bool{false, true, true, false}
	}
	return func(a *activation) val {
		x, y, ok := strict(l, r, a)
		if !ok {
			return x
		}
		var c int
		switch x.k {
		case boolK:
			c = cmpBool(x.b, y.b)
		case intK, dayK:
			c = cmpOrdered(x.i, y.i)
		case dblK:
			if math.IsNaN(x.f) || math.IsNaN(y.f) {
				c = 2
			} else {
				c = cmpOrdered(x.f, y.f)
			}
		case strK:
			c = cmpOrdered(x.s, y.s)
		}
		return vBool(result[c+1])
	}
}

func cmpBool(x, y bool) int {
	switch {
	case x == y:
		return 0
	case !x:
		return -1
	}
	return 1
}

func cmpOrdered[T int64 | float64 | string](x, y T) int {
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}

// in handles "x in [literals]" and "x in list_field".
func (fc *fastCompiler) in(args []ast.Expr, sub []node, kinds []kind) node {
	elem, list := sub[0], sub[1]
	if list != nil {
		if kinds[0] != strK {
			return nil
		}
		return func(a *activation) val {
			x, l, ok := strict(elem, list, a)
			if !ok {
				return x
			}
			for _, s := range l.list() {
				if s == x.s {
					return vBool(true)
				}
			}
			return vBool(false)
		}
	}
	if args[1].Kind() != ast.ListKind {
		return nil
	}
	lit := args[1].AsList()
	if len(lit.OptionalIndices()) > 0 {
		return nil
	}
	switch kinds[0] {
	case strK:
		return inSet(elem, lit.Elements(), func(v types.String) string { return string(v) }, func(x val) string { return x.s })
	case intK:
		return inSet(elem, lit.Elements(), func(v types.Int) int64 { return int64(v) }, func(x val) int64 { return x.i })
	}
	return nil
}

// inSet compiles "elem in [literals]" to a set lookup; nil when an element
// is not a literal of type L.
func inSet[L ref.Val, K comparable](elem node, elems []ast.Expr, key func(L) K, of func(val) K) node {
	set := map[K]bool{}
	for _, x := range elems {
		if x.Kind() != ast.LiteralKind {
			return nil
		}
		v, ok := x.AsLiteral().(L)
		if !ok {
			return nil
		}
		set[key(v)] = true
	}
	return func(a *activation) val {
		x := elem(a)
		if x.k == unkK || x.k == errK {
			return x
		}
		return vBool(set[of(x)])
	}
}

func arith(op string, k kind, l, r node) node {
	return func(a *activation) val {
		x, y, ok := strict(l, r, a)
		if !ok {
			return x
		}
		if k == dblK {
			switch op {
			case operators.Add:
				return val{k: dblK, f: x.f + y.f}
			case operators.Subtract:
				return val{k: dblK, f: x.f - y.f}
			case operators.Multiply:
				return val{k: dblK, f: x.f * y.f}
			case operators.Divide:
				return val{k: dblK, f: x.f / y.f}
			}
			return vErr // % on doubles is not CEL
		}
		switch op {
		case operators.Add:
			s := x.i + y.i
			if (s > x.i) != (y.i > 0) {
				return vErr
			}
			return val{k: intK, i: s}
		case operators.Subtract:
			s := x.i - y.i
			if (s < x.i) != (y.i > 0) {
				return vErr
			}
			return val{k: intK, i: s}
		case operators.Multiply:
			if x.i == 0 || y.i == 0 {
				return val{k: intK}
			}
			p := x.i * y.i
			if p/y.i != x.i || (x.i == -1 && y.i == math.MinInt64) || (y.i == -1 && x.i == math.MinInt64) {
				return vErr
			}
			return val{k: intK, i: p}
		case operators.Divide, operators.Modulo:
			if y.i == 0 || (x.i == math.MinInt64 && y.i == -1) {
				return vErr
			}
			if op == operators.Divide {
				return val{k: intK, i: x.i / y.i}
			}
			return val{k: intK, i: x.i % y.i}
		}
		return vErr
	}
}
