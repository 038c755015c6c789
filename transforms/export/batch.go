// Package export defines the closed-case export's columns (contract §1.1)
// as recal reads them: one table of the columns (name, logical kind,
// required) and the typed columnar batch the reader fills and the
// validator and policy read. It is a leaf: no I/O, no arrow.
package export

// State says whether a cell holds a value.
type State uint8

const (
	// Null means the cell (or the whole column) is absent.
	Null State = iota
	// Valid means the cell holds a normalised value.
	Valid
	// Malformed means the cell held something that is not a value of the
	// column's logical type (an unparseable date string, "X" for a Y/N
	// flag, an INT96 outside any real date). The raw value is not kept.
	Malformed
)

// Int64s is a normalised integer column.
type Int64s struct {
	V []int64
	S []State
}

// Strings is a normalised string column. Values are interned per reader, so
// repeated codes share memory.
type Strings struct {
	V []string
	S []State
}

// Dates is a normalised date column in days since 1970-01-01.
type Dates struct {
	V []int32
	S []State
}

// Bools is a normalised boolean column.
type Bools struct {
	V []bool
	S []State
}

// Lists is a normalised list<string> column: row i holds
// Values[Offsets[i]:Offsets[i+1]].
type Lists struct {
	Offsets []int32
	Values  []string
	S       []State
}

// Row returns the list held by row i (nil when null).
func (l *Lists) Row(i int) []string {
	return l.Values[l.Offsets[i]:l.Offsets[i+1]]
}

// Batch is a run of consecutive rows of one object, normalised.
type Batch struct {
	// Object is the object's position in the sorted input listing.
	Object int
	// Key is the object's key relative to the input prefix.
	Key string
	// Row0 is the 0-based row number, within the object, of row 0.
	Row0 int64
	// N is the number of rows.
	N int

	IDNCase, IDNProceeding Int64s

	BaseCityCode, HearingLocCode, IJCode, CaseType, Custody, Nat, Lang,
	OtherComp, CasePriorityCode, RecalMotionDec, ApplicationOutcome Strings

	OSCDate, InputDate, CompDate, DateOfEntry, CBirthdate, E28Date,
	LatestHearing, RecalMotionDate Dates

	CrimInd, AggravateFelon, Absentia Bools

	PendingApplications Lists
}

// Kind is a column's logical type.
type Kind uint8

// The logical types of contract §1.1.
const (
	KindInt64 Kind = iota
	KindString
	KindDate
	KindBool
	KindStringList
)

func (k Kind) String() string {
	return [...]string{"int64", "string", "date", "bool", "list<string>"}[k]
}

// Column describes one export column recal reads.
type Column struct {
	Name     string
	Kind     Kind
	Required bool
	// Doc says what the column holds (contract §1.1's meaning).
	Doc string
	// field returns the column inside a batch (one of *Int64s, *Strings,
	// *Dates, *Bools, *Lists).
	field func(b *Batch) any
}

// Columns lists every column recal reads, in contract order (alien_nbr is
// deliberately absent).
var Columns = []Column{
	{"idncase", KindInt64, true, "case id", func(b *Batch) any { return &b.IDNCase }},
	{"idnproceeding", KindInt64, true, "proceeding id", func(b *Batch) any { return &b.IDNProceeding }},
	{"base_city_code", KindString, true, "court with administrative control", func(b *Batch) any { return &b.BaseCityCode }},
	{"hearing_loc_code", KindString, false, "hearing location", func(b *Batch) any { return &b.HearingLocCode }},
	{"ij_code", KindString, false, "last assigned immigration judge", func(b *Batch) any { return &b.IJCode }},
	{"case_type", KindString, false, "RMV, DEP, EXC, AOC, WHO, …", func(b *Batch) any { return &b.CaseType }},
	{"custody", KindString, false, "D detained, R released, N never detained", func(b *Batch) any { return &b.Custody }},
	{"nat", KindString, false, "nationality code", func(b *Batch) any { return &b.Nat }},
	{"lang", KindString, false, "language code", func(b *Batch) any { return &b.Lang }},
	{"osc_date", KindDate, true, "charging document (NTA) date", func(b *Batch) any { return &b.OSCDate }},
	{"input_date", KindDate, false, "date entered", func(b *Batch) any { return &b.InputDate }},
	{"comp_date", KindDate, true, "date of administrative closure", func(b *Batch) any { return &b.CompDate }},
	{"other_comp", KindString, true, "closure code A, B, Y, K or M", func(b *Batch) any { return &b.OtherComp }},
	{"crim_ind", KindBool, false, "criminal charge indicator", func(b *Batch) any { return &b.CrimInd }},
	{"aggravate_felon", KindBool, false, "aggravated-felony charge", func(b *Batch) any { return &b.AggravateFelon }},
	{"absentia", KindBool, false, "prior in-absentia order", func(b *Batch) any { return &b.Absentia }},
	{"date_of_entry", KindDate, false, "entry date", func(b *Batch) any { return &b.DateOfEntry }},
	{"c_birthdate", KindDate, false, "date of birth", func(b *Batch) any { return &b.CBirthdate }},
	{"casepriority_code", KindString, false, "case priority, e.g. UC unaccompanied child", func(b *Batch) any { return &b.CasePriorityCode }},
	{"e_28_date", KindDate, false, "attorney appearance (E-28) on file since", func(b *Batch) any { return &b.E28Date }},
	{"latest_hearing", KindDate, false, "last hearing date before closure", func(b *Batch) any { return &b.LatestHearing }},
	{"recal_motion_date", KindDate, false, "a motion to recalendar is on file since", func(b *Batch) any { return &b.RecalMotionDate }},
	{"recal_motion_dec", KindString, false, "the motion's decision: G granted, D denied, …", func(b *Batch) any { return &b.RecalMotionDec }},
	{"pending_applications", KindStringList, false, "collateral filings outside court", func(b *Batch) any { return &b.PendingApplications }},
	{"application_outcome", KindString, false, "PENDING, APPROVED, DENIED or WITHDRAWN", func(b *Batch) any { return &b.ApplicationOutcome }},
}

// Field returns column c of batch b (one of *Int64s, *Strings, *Dates,
// *Bools, *Lists).
func (c Column) Field(b *Batch) any { return c.field(b) }

// Resize makes every column of b hold n rows, all Null (reusing its
// buffers).
func (b *Batch) Resize(n int) {
	b.N = n
	for _, c := range Columns {
		switch f := c.field(b).(type) {
		case *Int64s:
			f.V, f.S = grow(f.V, n), nulls(f.S, n)
		case *Strings:
			f.V, f.S = grow(f.V, n), nulls(f.S, n)
			clear(f.V)
		case *Dates:
			f.V, f.S = grow(f.V, n), nulls(f.S, n)
		case *Bools:
			f.V, f.S = grow(f.V, n), nulls(f.S, n)
		case *Lists:
			f.Offsets = grow(f.Offsets, n+1)
			clear(f.Offsets)
			f.Values = f.Values[:0]
			f.S = nulls(f.S, n)
		}
	}
}

func grow[T any](s []T, n int) []T {
	if cap(s) >= n {
		return s[:n]
	}
	return make([]T, n)
}

func nulls(s []State, n int) []State {
	s = grow(s, n)
	clear(s)
	return s
}

// NewBatch returns a batch of n rows with every cell Null, for building
// rows by hand (tests, importers).
func NewBatch(n int) *Batch {
	b := &Batch{}
	b.Resize(n)
	return b
}
