package policy

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
)

var (
	fastSeed = flag.Uint64("fastseed", 1, "seed of TestFastPathMatchesCEL's random expressions")
	fastN    = flag.Int("fastn", 3000, "number of random expressions TestFastPathMatchesCEL tries")
)

// exprGen draws random well-typed expressions over the policy fields.
type exprGen struct{ r *rand.Rand }

func (g exprGen) pick(xs ...string) string { return xs[g.r.IntN(len(xs))] }

func (g exprGen) boolean(d int) string {
	if d <= 0 {
		return g.pick("detained", "represented", "juvenile", "crim_ind", "aggravate_felon", "absentia", "true", "false")
	}
	switch g.r.IntN(14) {
	case 0:
		return "!" + g.paren(g.boolean(d-1))
	case 1:
		return g.paren(g.boolean(d-1)) + " && " + g.paren(g.boolean(d-1))
	case 2:
		return g.paren(g.boolean(d-1)) + " || " + g.paren(g.boolean(d-1))
	case 3:
		return g.str(d-1) + g.pick(" == ", " != ", " < ", " >= ") + g.str(d-1)
	case 4:
		return g.integer(d-1) + g.pick(" == ", " != ", " < ", " <= ", " > ", " >= ") + g.integer(d-1)
	case 5:
		return g.double(d-1) + g.pick(" == ", " != ", " < ", " <= ", " > ", " >= ") + g.double(d-1)
	case 6:
		return g.day(d-1) + g.pick(" == ", " != ", " < ", " <= ", " > ", " >= ") + g.day(d-1)
	case 7:
		return g.paren(g.str(d-1)) + ` in ["D", "DENIED", "WITHDRAWN", "2", "4", "PD", "Y"]`
	case 8:
		return g.pick(`"I-130"`, `"TPS"`, g.str(d-1)) + " in pending_applications"
	case 9:
		return "known(" + g.pick("crim_ind", "application_outcome", "age_at_as_of", "date_of_entry", g.str(d-1), g.integer(d-1)) + ")"
	case 10:
		return g.paren(g.boolean(d-1)) + " ? " + g.paren(g.boolean(d-1)) + " : " + g.paren(g.boolean(d-1))
	case 11:
		return g.integer(d-1) + " in [1, 2, 3, 10, -4]"
	case 12:
		return g.paren(g.boolean(d-1)) + g.pick(" == ", " != ") + g.boolean(0)
	}
	return "pending_applications.exists(a, a == " + g.str(0) + ")" // cel-go only
}

func (g exprGen) paren(s string) string { return "(" + s + ")" }

func (g exprGen) integer(d int) string {
	if d <= 0 {
		return g.pick("age_at_as_of", "days_closed", "days_since_nta", "idncase", "size(pending_applications)",
			"0", "1", "-3", "18", "9223372036854775807", "-9223372036854775807")
	}
	switch g.r.IntN(5) {
	case 0:
		return g.paren(g.integer(d-1) + g.pick(" + ", " - ", " * ", " / ", " % ") + g.integer(d-1))
	case 1:
		return "-" + g.paren(g.integer(d-1))
	case 2:
		return g.paren(g.paren(g.boolean(d-1)) + " ? " + g.integer(d-1) + " : " + g.integer(d-1))
	}
	return g.integer(0)
}

func (g exprGen) double(d int) string {
	if d <= 0 {
		return g.pick("years_closed", "0.0", "5.0", "-2.5", "1e308")
	}
	switch g.r.IntN(4) {
	case 0:
		return g.paren(g.double(d-1) + g.pick(" + ", " - ", " * ", " / ") + g.double(d-1))
	case 1:
		return "-" + g.paren(g.double(d-1))
	}
	return g.double(0)
}

func (g exprGen) str(d int) string {
	if d <= 0 || g.r.IntN(2) == 0 {
		return g.pick("custody", "application_outcome", "other_comp", "circuit", "state", "closure_kind", "base_city_code",
			`"D"`, `"DENIED"`, `"2"`, `"PD"`, `""`)
	}
	return g.paren(g.paren(g.boolean(d-1)) + " ? " + g.str(d-1) + " : " + g.str(d-1))
}

func (g exprGen) day(d int) string {
	return g.pick("as_of", "comp_date", "osc_date", "date_of_entry", "c_birthdate", "e_28_date", `date("2020-11-01")`, `date("2026-01-15")`)
}

// TestFastPathMatchesCEL evaluates random expressions with the fast path
// and with cel-go on random rows and requires the same result: the same
// bool or number, unknown for unknown, and an error only where cel-go
// errs too.
func TestFastPathMatchesCEL(t *testing.T) {
	c, err := newCompiler()
	if err != nil {
		t.Fatal(err)
	}
	rows := benchRows(64)
	rows = append(rows, row{}, row{appsNull: true}, row{custody: "D", crim: yes, agg: no, outcome: "DENIED", apps: []string{"I-130", "TPS"}, birth: "2012-01-01"})
	b := batchOf(t, rows...)
	ref := refData(t)
	g := exprGen{rand.New(rand.NewPCG(*fastSeed, 2))}
	n := *fastN
	if testing.Short() {
		n = 600
	}
	covered, errs := 0, 0
	for k := 0; k < n; k++ {
		var src string
		switch k % 3 {
		case 0:
			src = g.boolean(1 + k%4)
		case 1:
			src = g.integer(1 + k%3)
		default:
			src = g.double(1 + k%3)
		}
		checked, iss := c.env.Compile(src)
		if iss != nil && iss.Err() != nil {
			t.Fatalf("generated %q: %v", src, iss.Err())
		}
		prg, err := c.env.Program(checked)
		if err != nil {
			t.Fatalf("%q: %v", src, err)
		}
		fast := compileFast(checked)
		if fast == nil {
			continue
		}
		covered++
		for i := range rows {
			a := &activation{ref: ref, asOf: day(t, "2026-01-15")}
			a.asOfVal = dayValue(a.asOf)
			a.at(b, i)
			want, _, _ := prg.Eval(a)
			got := fast(a)
			if got.k == errK {
				errs++
			}
			if msg := sameResult(got, want); msg != "" {
				t.Fatalf("%s on row %d: fast %+v, cel-go %v: %s", src, i, got, want, msg)
			}
		}
	}
	t.Logf("%d of %d expressions on the fast path; %d row evaluations handed back to cel-go as errors", covered, n, errs)
	if covered < n/2 {
		t.Errorf("only %d of %d expressions on the fast path", covered, n)
	}
}

func sameResult(got val, want ref.Val) string {
	switch w := want.(type) {
	case *types.Unknown:
		if got.k != unkK {
			return "want unknown"
		}
	case *types.Err:
		if got.k != errK {
			return "want an error"
		}
	case types.Bool:
		if got.k != boolK || got.b != bool(w) {
			return "bool differs"
		}
	case types.Int:
		if got.k != intK || got.i != int64(w) {
			return "int differs"
		}
	case types.Double:
		if got.k != dblK || fmt.Sprint(got.f) != fmt.Sprint(float64(w)) {
			return "double differs"
		}
	default:
		return fmt.Sprintf("unexpected cel-go result type %T", want)
	}
	return ""
}

// TestShippedOnFastPath: every shipped expression runs on the fast path.
func TestShippedOnFastPath(t *testing.T) {
	for _, id := range Shipped() {
		p, err := LoadShipped(id)
		if err != nil {
			t.Fatal(err)
		}
		var slow []string
		for _, list := range [][]*rule{p.exempt, p.recalendar, p.tiers, p.dockets} {
			for _, r := range list {
				if r.when.fast == nil {
					slow = append(slow, r.when.src)
				}
			}
		}
		if p.score.fast == nil {
			slow = append(slow, p.score.src)
		}
		if len(slow) > 0 {
			t.Errorf("%s: not on the fast path: %s", id, strings.Join(slow, "; "))
		}
	}
}
