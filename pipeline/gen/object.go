package gen

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/apache/arrow/go/v15/parquet"
	"github.com/apache/arrow/go/v15/parquet/compress"
	"github.com/apache/arrow/go/v15/parquet/pqarrow"

	"github.com/recal-project/recal/pipeline/storage"
	"github.com/recal-project/recal/transforms/civil"
)

type objectSpec struct {
	index       int
	first, rows int64
	total       int64
	seed        uint64
	bad         float64
	// layout, when not -1, fixes the writer layout (an index of variants)
	// instead of rotating through all of them.
	layout int
}

// row is one generated case, before physical encoding.
type row struct {
	idncase, idnproc                                  int64
	court, hloc, ij, caseType, custody, nat, lang     string
	otherComp, priority, motionDec, outcome, alienNbr string
	osc, input, comp, entry, birth, e28, latest, rmd  int32 // days; -1 = null
	crim, agg, absentia                               int8  // -1 null, 0, 1
	apps                                              []string
	hasCourt                                          bool
	badOSCString                                      bool
}

var (
	natCodes  = []string{"MX", "GT", "HO", "ES", "CH", "IN", "VE", "CU", "HA", "EC", "CO", "BR", "NU", "RU", "DR", "PE", "RO", "MR"}
	natWeight = []float64{22, 14, 14, 12, 7, 5, 5, 4, 4, 4, 3, 2, 2, 1, 1, 1, 0.5, 0.5}
	natLang   = map[string]string{"MX": "SP", "GT": "SP", "HO": "SP", "ES": "SP", "CH": "MAN", "IN": "PUN", "VE": "SP", "CU": "SP", "HA": "CRE", "EC": "SP", "CO": "SP", "BR": "POR", "NU": "SP", "RU": "RUS", "DR": "SP", "PE": "SP", "RO": "RO", "MR": "AR"}
	// 2025 OTHER_COMP frequencies (domain.md): A 521,518; Y 95,611;
	// M 4,924; K 3,032; B (not in the top list) taken as 25,000.
	closureCodes  = []string{"A", "Y", "M", "K", "B"}
	closureWeight = []float64{521518, 95611, 4924, 3032, 25000}
	appForms      = []string{"I-130", "I-485", "I-601A", "I-918", "I-914", "I-360", "DACA", "TPS", "I-589-USCIS"}
	caseTypes     = []string{"RMV", "RMV", "RMV", "RMV", "RMV", "RMV", "RMV", "RMV", "RMV", "RMV", "RMV", "RMV", "RMV", "RMV", "RMV", "RMV", "DEP", "EXC", "AOC", "WHO"}
)

var (
	day1995 = civil.DaysFromCivil(1995, 1, 1)
	day2025 = civil.DaysFromCivil(2025, 12, 31)
	asOfRef = civil.DaysFromCivil(2026, 1, 15)
)

func (s objectSpec) newRow(r *rand.Rand, i int64, cs []court, pick weighted, nat, closure weighted, prev int64) row {
	c := cs[pick.draw(r)]
	x := row{
		idncase: 5_000_000 + (s.first+i)*3 + int64(r.IntN(3)),
		idnproc: 20_000_000 + (s.first+i)*7 + int64(r.IntN(7)),
		court:   c.code, hasCourt: true,
	}
	x.alienNbr = fmt.Sprintf("A%09d", 200_000_000+r.IntN(799_999_999))
	if len(c.locs) > 0 && r.Float64() < 0.8 {
		x.hloc = c.locs[r.IntN(len(c.locs))]
	}
	if r.Float64() < 0.9 {
		x.ij = c.judges[r.IntN(len(c.judges))]
	}
	x.caseType = caseTypes[r.IntN(len(caseTypes))]
	switch u := r.Float64(); {
	case u < c.detained:
		x.custody = "D"
	case u < c.detained+0.25:
		x.custody = "R"
	case u < 0.98:
		x.custody = "N"
	} // else null
	x.nat = natCodes[nat.draw(r)]
	x.lang = natLang[x.nat]
	if r.Float64() < 0.08 && x.lang == "SP" {
		x.lang = "MAM"
	}
	x.otherComp = closureCodes[closure.draw(r)]
	// Closures skew recent: square of a uniform toward 2025.
	span := float64(day2025 - day1995)
	u := r.Float64()
	x.comp = day2025 - int32(span*u*u)
	x.osc = x.comp - int32(30+r.IntN(2400))
	if x.osc < day1995-3000 {
		x.osc = day1995 - 3000
	}
	x.input = x.osc + int32(r.IntN(20))
	if x.input > x.comp {
		x.input = x.comp
	}
	x.latest = x.osc + int32(r.IntN(int(x.comp-x.osc)+1))
	x.entry = x.osc - int32(r.IntN(3000))
	var age int
	if r.Float64() < 0.07 {
		age = 3 + r.IntN(14) // juveniles at as-of
	} else {
		age = 18 + r.IntN(50)
	}
	x.birth = asOfRef - int32(age*365+r.IntN(365))
	if r.Float64() < 0.03 {
		x.birth = -1
	}
	if age < 18 && r.Float64() < 0.4 {
		x.priority = "UC"
	}
	if r.Float64() < 0.55 {
		x.e28 = x.osc + int32(r.IntN(200))
	} else {
		x.e28 = -1
	}
	x.crim, x.agg, x.absentia = flag(r, 0.10), flag(r, 0.02), flag(r, 0.15)
	if x.otherComp == "B" {
		x.absentia = 1
	}
	x.rmd = -1
	if r.Float64() < 0.05 {
		x.rmd = x.comp + int32(r.IntN(900))
		if x.rmd > day2025 {
			x.rmd = day2025
		}
		x.motionDec = []string{"G", "D", "M", ""}[r.IntN(4)]
	}
	if r.Float64() < 0.35 {
		x.apps = append(x.apps, appForms[r.IntN(len(appForms))])
		if r.Float64() < 0.3 {
			x.apps = append(x.apps, appForms[r.IntN(len(appForms))])
		}
		x.outcome = []string{"PENDING", "PENDING", "APPROVED", "DENIED", "WITHDRAWN", ""}[r.IntN(6)]
	}
	if r.Float64() < s.bad {
		s.spoil(r, &x, prev)
	}
	return x
}

func flag(r *rand.Rand, p float64) int8 {
	switch u := r.Float64(); {
	case u < 0.03:
		return -1
	case u < 0.03+p:
		return 1
	}
	return 0
}

// spoil turns a row into one of the defects real exports carry.
func (s objectSpec) spoil(r *rand.Rand, x *row, prev int64) {
	switch r.IntN(9) {
	case 0:
		x.hasCourt = false // null base_city_code
	case 1:
		x.court = "ZZQ" // not a court
	case 2:
		x.comp = x.osc - 10 // closed before the NTA
	case 3:
		x.otherComp = "C" // change of venue, not a closure
	case 4:
		if prev > 0 {
			x.idnproc = prev // duplicate proceeding id
		}
	case 5:
		x.idncase = 0
	case 6:
		x.osc = civil.DaysFromCivil(1940, 5, 1)
	case 7:
		x.custody = "Q"          // malformed optional: unknown, not a reject
		x.birth = asOfRef + 9000 // impossible birth date: unknown
	case 8:
		x.badOSCString = true // unparseable date text (string variants)
	}
}

// variant describes one writer's physical layout.
type variant struct {
	name        string
	codec       compress.Compression
	upper       bool // UPPERCASE column names
	reverse     bool // reversed column order
	int32IDs    bool
	dictStrings bool
	largeString bool
	dateType    string // date32, date64, ts_ms, ts_us_utc, ts_ns_ny, iso
	compINT96   bool
	flagsAsYN   bool
	aggAsInt    bool
	dropCols    map[string]bool
	rowGroup    int64
}

var variants = []variant{
	{name: "reference", codec: compress.Codecs.Zstd, dateType: "date32", rowGroup: 64 << 10},
	{name: "legacy-db", codec: compress.Codecs.Snappy, upper: true, reverse: true, int32IDs: true, dictStrings: true,
		dateType: "ts_ms", flagsAsYN: true, aggAsInt: true, dropCols: map[string]bool{"pending_applications": true, "application_outcome": true}, rowGroup: 50_000},
	{name: "spark", codec: compress.Codecs.Gzip, largeString: true, dateType: "iso", compINT96: true, flagsAsYN: true,
		dropCols: map[string]bool{"latest_hearing": true}, rowGroup: 100_000},
	{name: "pandas", codec: compress.Codecs.Brotli, dateType: "ts_ns_ny", dictStrings: true, rowGroup: 1 << 20},
}

// layoutIndex returns the index of the named arrow writer layout, or -1.
func layoutIndex(name string) int {
	for i, v := range variants {
		if v.name == name {
			return i
		}
	}
	return -1
}

// numLayouts is the number of writer layouts objects rotate through: the
// arrow variants and the parquet-go (LZ4_RAW) one.
var numLayouts = len(variants) + 1

// rowStream yields an object's rows: the same seeded draws, in the same
// order, whichever library writes them.
type rowStream struct {
	s                  objectSpec
	r                  *rand.Rand
	cs                 []court
	pick, nat, closure weighted
	i, prev            int64
}

func (s objectSpec) stream(cs []court, pick weighted) *rowStream {
	return &rowStream{
		s: s, r: rand.New(rand.NewPCG(s.seed, uint64(s.index)+1)), cs: cs, pick: pick,
		nat:     newWeighted(len(natCodes), func(i int) float64 { return natWeight[i] }),
		closure: newWeighted(len(closureCodes), func(i int) float64 { return closureWeight[i] }),
	}
}

func (rs *rowStream) next() row {
	x := rs.s.newRow(rs.r, rs.i, rs.cs, rs.pick, rs.nat, rs.closure, rs.prev)
	rs.i++
	rs.prev = x.idnproc
	return x
}

// stageFile creates the local file an object is written to before upload.
func stageFile(tmpDir string) (*os.File, error) {
	return os.CreateTemp(tmpDir, "recal-gen-*.parquet")
}

func writeObject(ctx context.Context, st storage.Store, key string, s objectSpec, cs []court, pick weighted, tmpDir string) error {
	l := s.index % numLayouts
	if s.layout >= 0 {
		l = s.layout
	}
	if l == len(variants) {
		return writeParquetGoObject(ctx, st, key, s, cs, pick, tmpDir)
	}
	v := variants[l]
	f, err := stageFile(tmpDir)
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	defer f.Close()

	mem := memory.DefaultAllocator
	fields := v.fields()
	sc := arrow.NewSchema(fields, nil)
	props := parquet.NewWriterProperties(parquet.WithCompression(v.codec), parquet.WithMaxRowGroupLength(v.rowGroup),
		parquet.WithDictionaryDefault(v.dictStrings), parquet.WithCreatedBy("recal gen"), parquet.WithStats(true))
	aprops := pqarrow.NewArrowWriterProperties(pqarrow.WithDeprecatedInt96Timestamps(v.compINT96), pqarrow.WithStoreSchema())
	w, err := pqarrow.NewFileWriter(sc, f, props, aprops)
	if err != nil {
		return fmt.Errorf("gen %s: %w", key, err)
	}
	const chunk = 32 << 10
	rows := make([]row, 0, chunk)
	rs := s.stream(cs, pick)
	for i := int64(0); i < s.rows; i++ {
		rows = append(rows, rs.next())
		if len(rows) == chunk || i == s.rows-1 {
			if err := ctx.Err(); err != nil {
				w.Close()
				return err
			}
			rec := v.record(mem, sc, rows)
			err := w.WriteBuffered(rec)
			rec.Release()
			if err != nil {
				w.Close()
				return fmt.Errorf("gen %s: %w", key, err)
			}
			rows = rows[:0]
		}
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("gen %s: %w", key, err)
	}
	// The Parquet writer closes the file it wrote; read it anew to upload.
	done, err := os.Open(f.Name())
	if err != nil {
		return err
	}
	defer done.Close()
	return storage.Put(ctx, st, key, done)
}

// colNames is the generated column order (contract order plus alien_nbr).
var colNames = []string{
	"idncase", "idnproceeding", "alien_nbr", "base_city_code", "hearing_loc_code", "ij_code", "case_type",
	"custody", "nat", "lang", "osc_date", "input_date", "comp_date", "other_comp", "crim_ind",
	"aggravate_felon", "absentia", "date_of_entry", "c_birthdate", "casepriority_code", "e_28_date",
	"latest_hearing", "recal_motion_date", "recal_motion_dec", "pending_applications", "application_outcome",
}

func (v variant) names() []string {
	var out []string
	for _, n := range colNames {
		if !v.dropCols[n] {
			out = append(out, n)
		}
	}
	if v.reverse {
		for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
			out[i], out[j] = out[j], out[i]
		}
	}
	return out
}

func (v variant) strType() arrow.DataType {
	// dictStrings means dictionary-encoded pages: arrow v15's writer fails
	// on dictionary-typed arrays, so the arrays themselves stay plain.
	switch {
	case v.largeString:
		return arrow.BinaryTypes.LargeString
	}
	return arrow.BinaryTypes.String
}

func (v variant) dateArrow(name string) arrow.DataType {
	if name == "comp_date" && v.compINT96 {
		return &arrow.TimestampType{Unit: arrow.Nanosecond}
	}
	switch v.dateType {
	case "date64":
		return arrow.FixedWidthTypes.Date64
	case "ts_ms":
		return &arrow.TimestampType{Unit: arrow.Millisecond}
	case "ts_us_utc":
		return &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}
	case "ts_ns_ny":
		if name == "input_date" || name == "comp_date" {
			return &arrow.TimestampType{Unit: arrow.Nanosecond, TimeZone: "America/New_York"}
		}
		return arrow.FixedWidthTypes.Date64
	case "iso":
		return v.strType()
	}
	return arrow.FixedWidthTypes.Date32
}

func kindOf(name string) string {
	switch name {
	case "idncase", "idnproceeding":
		return "id"
	case "osc_date", "input_date", "comp_date", "date_of_entry", "c_birthdate", "e_28_date", "latest_hearing", "recal_motion_date":
		return "date"
	case "crim_ind", "aggravate_felon", "absentia":
		return "flag"
	case "pending_applications":
		return "list"
	}
	return "string"
}

func (v variant) fields() []arrow.Field {
	var fs []arrow.Field
	for _, n := range v.names() {
		var t arrow.DataType
		switch kindOf(n) {
		case "id":
			t = arrow.PrimitiveTypes.Int64
			if v.int32IDs {
				t = arrow.PrimitiveTypes.Int32
			}
		case "date":
			t = v.dateArrow(n)
		case "flag":
			t = arrow.FixedWidthTypes.Boolean
			if n == "aggravate_felon" && v.aggAsInt {
				t = arrow.PrimitiveTypes.Int32
			} else if v.flagsAsYN {
				t = arrow.BinaryTypes.String
			}
		case "list":
			t = arrow.ListOf(arrow.BinaryTypes.String)
		default:
			t = v.strType()
		}
		name := n
		if v.upper {
			name = upper(n)
		}
		fs = append(fs, arrow.Field{Name: name, Type: t, Nullable: true})
	}
	return fs
}

func upper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'a' && c <= 'z' {
			b[i] = c - 32
		}
	}
	return string(b)
}

func (x *row) str(name string) (string, bool) {
	switch name {
	case "alien_nbr":
		return x.alienNbr, true
	case "base_city_code":
		return x.court, x.hasCourt
	case "hearing_loc_code":
		return x.hloc, x.hloc != ""
	case "ij_code":
		return x.ij, x.ij != ""
	case "case_type":
		return x.caseType, true
	case "custody":
		return x.custody, x.custody != ""
	case "nat":
		return x.nat, true
	case "lang":
		return x.lang, true
	case "other_comp":
		return x.otherComp, true
	case "casepriority_code":
		return x.priority, x.priority != ""
	case "recal_motion_dec":
		return x.motionDec, x.motionDec != ""
	case "application_outcome":
		return x.outcome, x.outcome != ""
	}
	panic("gen: no string column " + name)
}

func (x *row) date(name string) int32 {
	switch name {
	case "osc_date":
		return x.osc
	case "input_date":
		return x.input
	case "comp_date":
		return x.comp
	case "date_of_entry":
		return x.entry
	case "c_birthdate":
		return x.birth
	case "e_28_date":
		return x.e28
	case "latest_hearing":
		return x.latest
	case "recal_motion_date":
		return x.rmd
	}
	panic("gen: no date column " + name)
}

func (x *row) flag(name string) int8 {
	switch name {
	case "crim_ind":
		return x.crim
	case "aggravate_felon":
		return x.agg
	}
	return x.absentia
}

func (v variant) record(mem memory.Allocator, sc *arrow.Schema, rows []row) arrow.Record {
	b := array.NewRecordBuilder(mem, sc)
	defer b.Release()
	for fi, n := range v.names() {
		fb := b.Field(fi)
		for i := range rows {
			x := &rows[i]
			switch kindOf(n) {
			case "id":
				id := x.idncase
				if n == "idnproceeding" {
					id = x.idnproc
				}
				if ib, ok := fb.(*array.Int32Builder); ok {
					ib.Append(int32(id))
				} else {
					fb.(*array.Int64Builder).Append(id)
				}
			case "date":
				d := x.date(n)
				if d == -1 { // null (generated dates are all after 1950)
					fb.AppendNull()
					continue
				}
				appendDate(fb, d, n == "osc_date" && x.badOSCString)
			case "flag":
				f := x.flag(n)
				if f < 0 {
					fb.AppendNull()
					continue
				}
				switch tb := fb.(type) {
				case *array.BooleanBuilder:
					tb.Append(f == 1)
				case *array.Int32Builder:
					tb.Append(int32(f))
				case *array.StringBuilder:
					tb.Append(map[int8]string{0: "N", 1: "Y"}[f])
				}
			case "list":
				lb := fb.(*array.ListBuilder)
				if x.apps == nil {
					lb.AppendNull()
					continue
				}
				lb.Append(true)
				vb := lb.ValueBuilder().(*array.StringBuilder)
				for _, a := range x.apps {
					vb.Append(a)
				}
			default:
				s, ok := x.str(n)
				if !ok {
					fb.AppendNull()
					continue
				}
				appendString(fb, s)
			}
		}
	}
	return b.NewRecord()
}

func appendString(fb array.Builder, s string) {
	switch tb := fb.(type) {
	case *array.StringBuilder:
		tb.Append(s)
	case *array.LargeStringBuilder:
		tb.Append(s)
	case *array.BinaryDictionaryBuilder:
		_ = tb.AppendString(s)
	}
}

func appendDate(fb array.Builder, d int32, garble bool) {
	y, m, dd := civil.CivilFromDays(d)
	switch tb := fb.(type) {
	case *array.Date32Builder:
		tb.Append(arrow.Date32(d))
	case *array.Date64Builder:
		tb.Append(arrow.Date64(int64(d) * 86_400_000))
	case *array.TimestampBuilder:
		tt := tb.Type().(*arrow.TimestampType)
		secs := int64(d) * 86400
		if tt.TimeZone != "" {
			secs += 5 * 3600 // local midnight in New York is 05:00 UTC (04:00 in summer: still the same day)
		}
		switch tt.Unit {
		case arrow.Millisecond:
			tb.Append(arrow.Timestamp(secs * 1e3))
		case arrow.Microsecond:
			tb.Append(arrow.Timestamp(secs * 1e6))
		default:
			tb.Append(arrow.Timestamp(secs * 1e9))
		}
	default:
		s := fmt.Sprintf("%04d-%02d-%02d 00:00:00.000", y, m, dd)
		if garble {
			s = fmt.Sprintf("%04d-02-30", y)
		}
		appendString(fb, s)
	}
}
