package policy

import (
	"math"
	"time"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
	"github.com/google/cel-go/interpreter"

	"github.com/recal-project/recal/transforms/civil"
	"github.com/recal-project/recal/transforms/export"
	"github.com/recal-project/recal/transforms/reference"
)

// Field is one name a policy expression may read: an export column
// (contract §1.1) or a derived field (contract §1.4).
type Field struct {
	Name string
	// Type is the field's CEL type: bool, int, double, string, timestamp
	// (dates, at midnight UTC) or list(string).
	Type *cel.Type
	// Derived marks fields computed by recal rather than read from a column.
	Derived bool
	// Nullable marks fields that can be unknown for a row (see the null
	// semantics in docs/policy.md).
	Nullable bool
	// Redacted fields are shown by --explain only as known or unknown.
	Redacted bool
	// Doc says what the field holds.
	Doc string
	get func(a *activation) ref.Val
}

// unknown is the value of a null field. Conditions over it follow
// Kleene logic (CEL's own semantics for unknowns): true || unknown is true,
// false && unknown is false, and anything else that reads it is unknown.
var unknown = types.NewUnknown(0, nil)

// activation resolves field names for one row of a batch.
type activation struct {
	b    *export.Batch
	i    int
	ref  *reference.Data
	asOf int32
	// asOfVal is as_of as a CEL timestamp.
	asOfVal ref.Val
	// Per-row memos of derived fields that several rules read; reset by
	// at.
	circuit      string
	circuitDone  bool
	juv, juvDone bool
	// The export's columns of b, by Columns index and kind (nil where the
	// column is of another kind), bound once per batch: the getters that
	// export.Columns derives index them as cheaply as a struct field.
	boundTo *export.Batch
	ints    []*export.Int64s
	strs    []*export.Strings
	dates   []*export.Dates
	bools   []*export.Bools
	lists   []*export.Lists
}

// at points the activation at row i of b.
func (a *activation) at(b *export.Batch, i int) {
	if b != a.boundTo {
		a.bind(b)
	}
	a.b, a.i = b, i
	a.circuitDone, a.juvDone = false, false
}

// bind looks up b's columns.
func (a *activation) bind(b *export.Batch) {
	n := len(export.Columns)
	if a.ints == nil {
		a.ints, a.strs, a.dates = make([]*export.Int64s, n), make([]*export.Strings, n), make([]*export.Dates, n)
		a.bools, a.lists = make([]*export.Bools, n), make([]*export.Lists, n)
	}
	for c, col := range export.Columns {
		switch f := col.Field(b).(type) {
		case *export.Int64s:
			a.ints[c] = f
		case *export.Strings:
			a.strs[c] = f
		case *export.Dates:
			a.dates[c] = f
		case *export.Bools:
			a.bools[c] = f
		case *export.Lists:
			a.lists[c] = f
		}
	}
	a.boundTo = b
}

// circuitOf is the row's governing circuit ("" when unknown), memoised.
func (a *activation) circuitOf() string {
	if !a.circuitDone {
		a.circuit, a.circuitDone = a.ref.CircuitOf(a.b.BaseCityCode.V[a.i], hloc(a)), true
	}
	return a.circuit
}

// juvenile is the derived juvenile flag, memoised.
func (a *activation) juvenile() bool {
	if !a.juvDone {
		a.juv, a.juvDone = juvenile(a.b, a.i, a.asOf), true
	}
	return a.juv
}

var _ interpreter.Activation = (*activation)(nil)

func (a *activation) ResolveName(name string) (any, bool) {
	f, ok := fieldIndex[name]
	if !ok {
		return nil, false
	}
	return f.get(a), true
}

func (a *activation) Parent() interpreter.Activation { return nil }

func str(c *export.Strings, i int) ref.Val {
	if c.S[i] != export.Valid {
		return unknown
	}
	return types.String(c.V[i])
}

func date(c *export.Dates, i int) ref.Val {
	if c.S[i] != export.Valid {
		return unknown
	}
	return dayValue(c.V[i])
}

// dayValue is a day (days since 1970-01-01) as a CEL timestamp at midnight
// UTC.
func dayValue(d int32) ref.Val {
	return types.Timestamp{Time: time.Unix(int64(d)*86400, 0).UTC()}
}

func boolean(c *export.Bools, i int) ref.Val {
	if c.S[i] != export.Valid {
		return unknown
	}
	return types.Bool(c.V[i])
}

func integer(c *export.Int64s, i int) ref.Val {
	if c.S[i] != export.Valid {
		return unknown
	}
	return types.Int(c.V[i])
}

// Derived fields (contract §1.4). Their definitions are documented in
// docs/policy.md; keep the two in step.

// detained reports custody D (unknown custody is not detained).
func detained(b *export.Batch, i int) bool {
	return b.Custody.S[i] == export.Valid && b.Custody.V[i] == "D"
}

// juvenile reports a child at the as-of date or an unaccompanied-child
// priority code (an unknown birth date is not a child).
func juvenile(b *export.Batch, i int, asOf int32) bool {
	if b.CasePriorityCode.S[i] == export.Valid && b.CasePriorityCode.V[i] == "UC" {
		return true
	}
	return b.CBirthdate.S[i] == export.Valid && ageAt(b.CBirthdate.V[i], asOf) < 18
}

// represented reports an attorney appearance (E-28) on file on or before
// the as-of date.
func represented(b *export.Batch, i int, asOf int32) bool {
	return b.E28Date.S[i] == export.Valid && b.E28Date.V[i] <= asOf
}

// ageAt returns whole years from birth to asOf (days since epoch).
func ageAt(birth, asOf int32) int {
	by, bm, bd := civil.CivilFromDays(birth)
	ay, am, ad := civil.CivilFromDays(asOf)
	age := ay - by
	if am < bm || (am == bm && ad < bd) {
		age--
	}
	return age
}

// closureKind is PD for Y and M, FTA for B, OTHER for A and K.
func closureKind(code string) string {
	switch code {
	case "Y", "M":
		return "PD"
	case "B":
		return "FTA"
	}
	return "OTHER"
}

func round6(x float64) float64 { return math.Round(x*1e6) / 1e6 }

// Fields lists every name a policy expression may read, in the order
// docs/policy.md lists them: the export's columns (export.Columns), then the
// derived fields.
var Fields = append(columnFields(), derivedFields...)

// columnFields derives a field from each export column: its CEL type from
// the column's kind, nullable unless required.
func columnFields() []*Field {
	fs := make([]*Field, 0, len(export.Columns))
	for c, col := range export.Columns {
		f := &Field{Name: col.Name, Doc: col.Doc, Nullable: !col.Required}
		switch col.Kind {
		case export.KindInt64:
			f.Type, f.get = cel.IntType, func(a *activation) ref.Val { return integer(a.ints[c], a.i) }
		case export.KindDate:
			f.Type, f.get = cel.TimestampType, func(a *activation) ref.Val { return date(a.dates[c], a.i) }
		case export.KindBool:
			f.Type, f.get = cel.BoolType, func(a *activation) ref.Val { return boolean(a.bools[c], a.i) }
		case export.KindStringList:
			f.Type, f.Nullable, f.Doc = cel.ListType(cel.StringType), false, col.Doc+"; null reads as [] (none known)"
			f.get = func(a *activation) ref.Val {
				l := a.lists[c]
				if l.S[a.i] != export.Valid {
					return emptyList
				}
				return types.DefaultTypeAdapter.NativeToValue(l.Row(a.i))
			}
		default:
			f.Type, f.get = cel.StringType, func(a *activation) ref.Val { return str(a.strs[c], a.i) }
		}
		if col.Name == "c_birthdate" {
			f.Redacted, f.Doc = true, col.Doc+" (prefer age_at_as_of)"
		}
		fs = append(fs, f)
	}
	return fs
}

// derivedFields are computed by recal (contract §1.4).
var derivedFields = []*Field{
	{Name: "as_of", Type: cel.TimestampType, Derived: true, Doc: "the run's as-of date", get: func(a *activation) ref.Val { return a.asOfVal }},
	{Name: "circuit", Type: cel.StringType, Derived: true, Nullable: true, Doc: `governing federal circuit "1".."11" or "DC": the hearing location's, else the court's`, get: func(a *activation) ref.Val {
		if c := a.circuitOf(); c != "" {
			return types.String(c)
		}
		return unknown
	}},
	{Name: "state", Type: cel.StringType, Derived: true, Nullable: true, Doc: "state of the hearing location, else of the court", get: func(a *activation) ref.Val {
		if s := a.ref.StateOf(a.b.BaseCityCode.V[a.i], hloc(a)); s != "" {
			return types.String(s)
		}
		return unknown
	}},
	{Name: "age_at_as_of", Type: cel.IntType, Derived: true, Nullable: true, Doc: "whole years from c_birthdate to as_of", get: func(a *activation) ref.Val {
		if a.b.CBirthdate.S[a.i] != export.Valid {
			return unknown
		}
		return types.Int(ageAt(a.b.CBirthdate.V[a.i], a.asOf))
	}},
	{Name: "years_closed", Type: cel.DoubleType, Derived: true, Doc: "(as_of − comp_date) in years of 365.25 days, rounded to 6 decimals", get: func(a *activation) ref.Val {
		return types.Double(round6(float64(a.asOf-a.b.CompDate.V[a.i]) / 365.25))
	}},
	{Name: "days_closed", Type: cel.IntType, Derived: true, Doc: "as_of − comp_date in days", get: func(a *activation) ref.Val {
		return types.Int(a.asOf - a.b.CompDate.V[a.i])
	}},
	{Name: "days_since_nta", Type: cel.IntType, Derived: true, Doc: "as_of − osc_date in days", get: func(a *activation) ref.Val {
		return types.Int(a.asOf - a.b.OSCDate.V[a.i])
	}},
	{Name: "detained", Type: cel.BoolType, Derived: true, Doc: "custody is D (unknown custody is not detained)", get: func(a *activation) ref.Val {
		return types.Bool(detained(a.b, a.i))
	}},
	{Name: "represented", Type: cel.BoolType, Derived: true, Doc: "an E-28 is on file on or before as_of", get: func(a *activation) ref.Val {
		return types.Bool(represented(a.b, a.i, a.asOf))
	}},
	{Name: "juvenile", Type: cel.BoolType, Derived: true, Doc: "casepriority_code UC, or under 18 at as_of (an unknown birth date is not a child)", get: func(a *activation) ref.Val {
		return types.Bool(a.juvenile())
	}},
	{Name: "closure_kind", Type: cel.StringType, Derived: true, Doc: "PD for Y and M, FTA for B, OTHER for A and K", get: func(a *activation) ref.Val {
		return types.String(closureKind(a.b.OtherComp.V[a.i]))
	}},
}

var emptyList = types.DefaultTypeAdapter.NativeToValue([]string{})

func hloc(a *activation) string {
	if a.b.HearingLocCode.S[a.i] == export.Valid {
		return a.b.HearingLocCode.V[a.i]
	}
	return ""
}

var fieldIndex = func() map[string]*Field {
	m := make(map[string]*Field, len(Fields))
	for _, f := range Fields {
		m[f.Name] = f
	}
	return m
}()
