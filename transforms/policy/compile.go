package policy

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"sync"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/ast"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
	"go.yaml.in/yaml/v3"

	"github.com/recal-project/recal/transforms/civil"
)

// compiler holds the CEL environment every policy expression is checked
// against.
type compiler struct {
	env *cel.Env
}

var (
	sharedOnce     sync.Once
	sharedCompiler *compiler
	sharedErr      error
)

// newCompiler returns the shared compiler: a cel.Env is immutable and safe
// for concurrent use, and building one costs more than loading a policy.
func newCompiler() (*compiler, error) {
	sharedOnce.Do(func() { sharedCompiler, sharedErr = buildCompiler() })
	return sharedCompiler, sharedErr
}

func buildCompiler() (*compiler, error) {
	opts := []cel.EnvOption{
		// known(x) is false when x is null (unknown). It is non-strict: it
		// is called with the unknown itself rather than short-circuited.
		cel.Function("known",
			cel.Overload("known_any", []*cel.Type{cel.TypeParamType("T")}, cel.BoolType,
				cel.OverloadIsNonStrict(),
				cel.UnaryBinding(func(v ref.Val) ref.Val { return types.Bool(!types.IsUnknownOrError(v)) }))),
		// date("YYYY-MM-DD") is that day at midnight UTC, comparable with
		// the date fields.
		cel.Function("date",
			cel.Overload("date_string", []*cel.Type{cel.StringType}, cel.TimestampType,
				cel.UnaryBinding(func(v ref.Val) ref.Val {
					s, ok := v.(types.String)
					if !ok {
						return types.NewErr("date: expected a string")
					}
					d, ok := civil.ParseDate(string(s))
					if !ok || len(s) != 10 {
						return types.NewErr("date(%q): expected YYYY-MM-DD", string(s))
					}
					return dayValue(d)
				}))),
		cel.ParserExpressionSizeLimit(maxExprBytes),
	}
	for _, f := range Fields {
		opts = append(opts, cel.Variable(f.Name, f.Type))
	}
	env, err := cel.NewEnv(opts...)
	if err != nil {
		return nil, err
	}
	return &compiler{env: env}, nil
}

// exprKind says what an expression must yield.
type exprKind int

const (
	condExpr  exprKind = iota // bool
	scoreExpr                 // double or int
)

var (
	undeclared = regexp.MustCompile(`^undeclared reference to '([^']*)' \(in container '[^']*'\)$`)
	syntaxMsg  = regexp.MustCompile(`^Syntax error: `)
)

// expr compiles the expression held by node n.
func (l *loader) expr(n *yaml.Node, path string, kind exprKind) *expr {
	src, ok := l.scalar(n, path)
	if !ok {
		return nil
	}
	if strings.TrimSpace(src) == "" {
		l.errf(n, path, ErrValue, "expected an expression, found an empty string")
		return nil
	}
	if len(src) > maxExprBytes {
		l.errf(n, path, ErrValue, "expression is %d bytes; the limit is %d", len(src), maxExprBytes)
		return nil
	}
	checked, iss := l.env.env.Compile(src)
	if iss != nil && iss.Err() != nil {
		// The first problem of an expression; the rest are mostly its echoes.
		for _, e := range iss.Errors()[:1] {
			line, col := l.position(n, e.Location.Line(), e.Location.Column())
			msg := e.Message
			sentinel := ErrType
			if m := undeclared.FindStringSubmatch(msg); m != nil {
				sentinel = ErrUnknownField
				msg = fmt.Sprintf("unknown field %q", m[1])
				if s := suggest(m[1], fieldNames()); s != "" {
					msg += fmt.Sprintf(" (did you mean %q?)", s)
				}
				msg += "; the fields are listed in docs/policy.md"
			} else if syntaxMsg.MatchString(msg) {
				sentinel = ErrExprSyntax
				msg = "expression syntax: " + syntaxMsg.ReplaceAllString(msg, "")
			}
			l.add(&Error{Line: line, Column: col, Path: path, Msg: msg, Err: sentinel})
		}
		return nil
	}
	out := checked.OutputType()
	switch kind {
	case condExpr:
		if !out.IsExactType(cel.BoolType) {
			l.errf(n, path, ErrType, "a condition must be a bool expression; %q is %s", src, typeName(out))
			return nil
		}
	case scoreExpr:
		if !out.IsExactType(cel.DoubleType) && !out.IsExactType(cel.IntType) {
			l.errf(n, path, ErrType, "a score must be a number (double or int); %q is %s", src, typeName(out))
			return nil
		}
	}
	popts := []cel.ProgramOption{cel.EvalOptions(cel.OptOptimize)}
	// Only comprehensions can run away (CEL has no other loops; string
	// functions are linear), and cost tracking made every evaluation of
	// cel-go's path 5x slower, so only they are metered.
	if len(ast.MatchDescendants(ast.NavigateAST(checked.NativeRep()), ast.KindMatcher(ast.ComprehensionKind))) > 0 {
		popts = append(popts, cel.CostLimit(MaxCost))
	}
	prg, err := l.env.env.Program(checked, popts...)
	if err != nil {
		// Constant folding evaluates literal calls such as date("2020-13-01").
		l.errf(n, path, ErrValue, "%v", err)
		return nil
	}
	if err := checkDateLiterals(checked); err != nil {
		l.errf(n, path, ErrValue, "%v", err)
		return nil
	}
	return &expr{src: src, path: path, line: n.Line, prg: prg, fast: compileFast(checked), fields: referenced(checked)}
}

// MaxCost bounds the work of one expression on one row, in cel-go's cost
// units (about one per operation; the shipped policies' expressions cost
// under 50). A comprehension nested over a long list in the export
// (pending_applications.all(a, pending_applications.all(b, …))) stops
// there with an evaluation error naming the rule and the row, instead of
// running for hours.
const MaxCost = 100_000

func typeName(t *cel.Type) string {
	if t.IsExactType(cel.DynType) {
		return "dyn (of no fixed type)"
	}
	return t.String()
}

// checkDateLiterals rejects date("…") calls on literal strings that are
// not dates, at load time rather than on the first row.
func checkDateLiterals(a *cel.Ast) error {
	var bad error
	var visit func(e ast.Expr)
	visit = func(e ast.Expr) {
		if bad != nil {
			return
		}
		switch e.Kind() {
		case ast.CallKind:
			c := e.AsCall()
			if c.FunctionName() == "date" && len(c.Args()) == 1 && c.Args()[0].Kind() == ast.LiteralKind {
				if s, ok := c.Args()[0].AsLiteral().(types.String); ok {
					if _, ok := civil.ParseDate(string(s)); !ok || len(s) != 10 {
						bad = fmt.Errorf("date(%q): expected a date YYYY-MM-DD", string(s))
						return
					}
				}
			}
			if c.IsMemberFunction() {
				visit(c.Target())
			}
			for _, x := range c.Args() {
				visit(x)
			}
		case ast.SelectKind:
			visit(e.AsSelect().Operand())
		case ast.ListKind:
			for _, x := range e.AsList().Elements() {
				visit(x)
			}
		case ast.MapKind:
			for _, x := range e.AsMap().Entries() {
				me := x.AsMapEntry()
				visit(me.Key())
				visit(me.Value())
			}
		case ast.ComprehensionKind:
			c := e.AsComprehension()
			visit(c.IterRange())
			visit(c.AccuInit())
			visit(c.LoopCondition())
			visit(c.LoopStep())
			visit(c.Result())
		}
	}
	visit(a.NativeRep().Expr())
	return bad
}

// referenced lists the fields an expression reads, sorted by name.
func referenced(a *cel.Ast) []string {
	seen := map[string]bool{}
	for _, r := range a.NativeRep().ReferenceMap() {
		if r.Name != "" && fieldIndex[r.Name] != nil {
			seen[r.Name] = true
		}
	}
	out := make([]string, 0, len(seen))
	for n := range seen {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// position maps a CEL location (1-based line, 0-based column within the
// expression) to the YAML file.
func (l *loader) position(n *yaml.Node, line, col int) (int, int) {
	if line < 1 {
		line = 1
	}
	switch n.Style {
	case yaml.LiteralStyle, yaml.FoldedStyle:
		// The text starts on the line after the indicator; each line is
		// indented by the block's indentation.
		// The block's indentation is its first line's.
		fl := n.Line + line
		if n.Style == yaml.FoldedStyle {
			fl = n.Line + 1 // folding joins lines; the column is approximate
		}
		indent := 0
		if n.Line < len(l.lines) {
			s := l.lines[n.Line]
			for indent < len(s) && s[indent] == ' ' {
				indent++
			}
		}
		return fl, indent + col + 1
	case yaml.DoubleQuotedStyle, yaml.SingleQuotedStyle:
		if line == 1 {
			return n.Line, n.Column + 1 + col
		}
		return n.Line + line - 1, 0
	}
	if line == 1 {
		return n.Line, n.Column + col
	}
	return n.Line + line - 1, 0
}

func fieldNames() []string {
	out := make([]string, len(Fields))
	for i, f := range Fields {
		out[i] = f.Name
	}
	return out
}

// suggest returns the candidate closest to s when it is close enough to be
// a likely typo.
func suggest(s string, candidates []string) string {
	best, bestD := "", 1<<30
	for _, c := range candidates {
		if d := editDistance(s, c); d < bestD {
			best, bestD = c, d
		}
	}
	if bestD <= 2 || (bestD <= 3 && len(s) > 8) {
		return best
	}
	return ""
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
