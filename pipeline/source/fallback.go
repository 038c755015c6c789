package source

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"

	pqgo "github.com/xitongsys/parquet-go/parquet"
	"github.com/xitongsys/parquet-go/reader"
	pqsource "github.com/xitongsys/parquet-go/source"

	"github.com/recal-project/recal/pipeline/storage"
	"github.com/recal-project/recal/transforms/civil"
	"github.com/recal-project/recal/transforms/export"
)

// The fallback decoder reads, with xitongsys/parquet-go, the objects whose
// projected columns use a codec or encoding arrow v15 lacks (LZ4_RAW,
// BYTE_STREAM_SPLIT, …). parquet-go discards errors inside its column
// reads (a failed page read returns fewer values and no error), so every
// chunk's value count is checked here, and the object's total against the
// footer afterwards.

// raFile adapts a storage.ReaderAt to parquet-go's ParquetFile. Open("")
// returns an independent cursor over the same object, as its reader needs.
type raFile struct {
	ra  storage.ReaderAt
	off int64
}

func (f *raFile) Read(p []byte) (int, error) {
	if f.off >= f.ra.Size() {
		return 0, io.EOF
	}
	n, err := f.ra.ReadAt(p, f.off)
	f.off += int64(n)
	if errors.Is(err, io.EOF) && n > 0 {
		err = nil
	}
	return n, err
}

func (f *raFile) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += f.off
	case io.SeekEnd:
		offset += f.ra.Size()
	default:
		return 0, fmt.Errorf("seek: bad whence %d", whence)
	}
	if offset < 0 {
		return 0, fmt.Errorf("seek: negative offset")
	}
	f.off = offset
	return offset, nil
}

func (f *raFile) Write([]byte) (int, error)                   { return 0, errors.New("read-only") }
func (f *raFile) Close() error                                { return nil }
func (f *raFile) Open(string) (pqsource.ParquetFile, error)   { return &raFile{ra: f.ra}, nil }
func (f *raFile) Create(string) (pqsource.ParquetFile, error) { return nil, errors.New("read-only") }

var _ pqsource.ParquetFile = (*raFile)(nil)

// fallbackColumn is one projected column as parquet-go sees it.
type fallbackColumn struct {
	c        int // index in Columns
	leaf     int64
	name     string
	repeated bool // a list: rows start where the repetition level is 0
	// nullAt is the definition level below which a list row is null.
	nullAt int32
	set    func(b *export.Batch, i int, v any) error
}

func openFallback(ra storage.ReaderAt) (*reader.ParquetReader, error) {
	pr, err := reader.NewParquetColumnReader(&raFile{ra: ra}, 1)
	if err != nil {
		return nil, fmt.Errorf("%w: parquet-go: %w", ErrCorrupt, err)
	}
	return pr, nil
}

// decodeFallback decodes an object arrow v15 cannot (feature says why).
func (d *decoder) decodeFallback(ra storage.ReaderAt, proj projection, feature string) (int64, error) {
	pr, err := openFallback(ra)
	if err != nil {
		return 0, err
	}
	defer pr.ReadStop()
	// parquet-go allocates what pages claim and takes no allocator, so the
	// decoder's limit is applied to the column chunks' declared sizes
	// first: a chunk that inflates past it is refused before any page.
	limit := int64(d.opts.MaxAllocation)
	if limit <= 0 {
		limit = DefaultMaxAllocation
	}
	for rg, g := range pr.Footer.GetRowGroups() {
		for c, cc := range g.GetColumns() {
			if md := cc.GetMetaData(); md != nil && (md.GetTotalUncompressedSize() > limit || md.GetTotalUncompressedSize() < 0) {
				return 0, fmt.Errorf("%w: row group %d column %d declares %d bytes uncompressed, more than the %d-byte limit (decompression bomb or corrupt size)",
					ErrCorrupt, rg, c, md.GetTotalUncompressedSize(), limit)
			}
		}
	}
	sh := pr.SchemaHandler
	var cols []fallbackColumn
	for c, col := range export.Columns {
		if proj.top[c] < 0 {
			continue
		}
		if len(proj.leaves[c]) != 1 {
			return 0, fmt.Errorf("%w: column %s is a nested type recal does not read", ErrSchema, col.Name)
		}
		leaf := proj.leaves[c][0]
		if leaf >= len(sh.ValueColumns) {
			return 0, fmt.Errorf("%w: parquet-go sees %d leaf columns, arrow %d", ErrCorrupt, len(sh.ValueColumns), leaf+1)
		}
		path := sh.ValueColumns[leaf]
		se := sh.SchemaElements[sh.MapIndex[path]]
		fc := fallbackColumn{c: c, leaf: int64(leaf), name: col.Name}
		parts := strings.Split(path, "\x01")
		if len(parts) > 2 { // root, field, …: a list
			fc.repeated = true
			top := sh.SchemaElements[sh.MapIndex[strings.Join(parts[:2], "\x01")]]
			if top.GetRepetitionType() == pqgo.FieldRepetitionType_OPTIONAL {
				fc.nullAt = 1
			}
		}
		if fc.set, err = d.fallbackSetter(col, se); err != nil {
			return 0, fmt.Errorf("%w: column %s: %w", ErrSchema, col.Name, err)
		}
		cols = append(cols, fc)
	}
	total := pr.GetNumRows()
	var rows int64
	for rows < total {
		if err := d.ctx.Err(); err != nil {
			return rows, err
		}
		n := min(int64(d.opts.BatchSize), total-rows)
		b := d.batch
		b.Row0 = rows
		b.Resize(int(n))
		for _, fc := range cols {
			if err := d.fallbackFill(pr, b, fc, n); err != nil {
				return rows, err
			}
		}
		if err := d.fn(d.ctx, b); err != nil {
			return rows, err
		}
		rows += n
	}
	return rows, nil
}

func (d *decoder) fallbackFill(pr *reader.ParquetReader, b *export.Batch, fc fallbackColumn, n int64) error {
	vals, rls, dls, err := pr.ReadColumnByIndex(fc.leaf, n)
	if err != nil {
		return fmt.Errorf("%w: column %s: %w", ErrCorrupt, fc.name, err)
	}
	if !fc.repeated {
		if int64(len(vals)) != n {
			return fmt.Errorf("%w: column %s: parquet-go returned %d values for %d rows (a page failed to decode)", ErrRowCount, fc.name, len(vals), n)
		}
		for i, v := range vals {
			if v == nil {
				continue
			}
			if err := fc.set(b, i, v); err != nil {
				return fmt.Errorf("%w: column %s: %w", ErrSchema, fc.name, err)
			}
		}
		return nil
	}
	l := export.Columns[fc.c].Field(b).(*export.Lists)
	row := -1
	for j, v := range vals {
		if rls[j] == 0 {
			row++
			if row >= int(n) {
				break
			}
			if dls[j] >= fc.nullAt {
				l.S[row] = export.Valid
			}
		}
		if v != nil {
			s, ok := v.(string)
			if !ok {
				return fmt.Errorf("%w: column %s: list of %T", ErrSchema, fc.name, v)
			}
			l.Values = append(l.Values, d.in.get(s))
		}
		l.Offsets[row+1] = int32(len(l.Values))
	}
	if int64(row+1) != n {
		return fmt.Errorf("%w: column %s: parquet-go returned %d rows of %d (a page failed to decode)", ErrRowCount, fc.name, row+1, n)
	}
	// Offsets of rows after the last value entry stay equal to the end.
	for r := 1; r <= int(n); r++ {
		if l.Offsets[r] < l.Offsets[r-1] {
			l.Offsets[r] = l.Offsets[r-1]
		}
	}
	return nil
}

// setter stores one non-null parquet-go value in row i of a batch's column.
type setter func(b *export.Batch, i int, v any) error

// fallbackSetter returns how one non-null parquet-go value of column col is
// stored, from the leaf's physical and logical types.
func (d *decoder) fallbackSetter(col export.Column, se *pqgo.SchemaElement) (setter, error) {
	phys := se.GetType()
	lt := se.GetLogicalType()
	bad := func(v any) error { return fmt.Errorf("%w: %s (%T) for a %s column", ErrType, phys, v, col.Kind) }
	if lt != nil && lt.IsSetUNKNOWN() {
		// Parquet's Null logical type (arrow's Null): no value in any row.
		return func(*export.Batch, int, any) error { return nil }, nil
	}
	switch col.Kind {
	case export.KindInt64:
		return intSetter(col, bad), nil
	case export.KindString:
		return func(b *export.Batch, i int, v any) error {
			s, ok := v.(string)
			if !ok {
				return bad(v)
			}
			f := col.Field(b).(*export.Strings)
			f.V[i], f.S[i] = d.in.get(s), export.Valid
			return nil
		}, nil
	case export.KindBool:
		return boolSetter(col, bad), nil
	case export.KindDate:
		return dateSetter(col, se, bad), nil
	case export.KindStringList:
		return func(*export.Batch, int, any) error { return nil }, nil // filled by fallbackFill
	}
	return nil, fmt.Errorf("%w: %s", ErrType, col.Kind)
}

func intSetter(col export.Column, bad func(any) error) setter {
	return func(b *export.Batch, i int, v any) error {
		f := col.Field(b).(*export.Int64s)
		switch x := v.(type) {
		case int32:
			f.V[i], f.S[i] = int64(x), export.Valid
		case int64:
			f.V[i], f.S[i] = x, export.Valid
		default:
			return bad(v)
		}
		return nil
	}
}

func boolSetter(col export.Column, bad func(any) error) setter {
	return func(b *export.Batch, i int, v any) error {
		f := col.Field(b).(*export.Bools)
		var val, ok bool
		switch x := v.(type) {
		case bool:
			val, ok = x, true
		case string:
			val, ok = parseFlag(x)
		case int32:
			val, ok = x == 1, x == 0 || x == 1
		case int64:
			val, ok = x == 1, x == 0 || x == 1
		default:
			return bad(v)
		}
		if ok {
			f.V[i], f.S[i] = val, export.Valid
		} else {
			f.S[i] = export.Malformed
		}
		return nil
	}
}

// unitsPerDay is a timestamp leaf's units per day (0: not a timestamp).
func unitsPerDay(se *pqgo.SchemaElement) int64 {
	lt, ct := se.GetLogicalType(), se.ConvertedType
	switch {
	case lt != nil && lt.IsSetTIMESTAMP():
		u := lt.GetTIMESTAMP().GetUnit()
		switch {
		case u.IsSetMILLIS():
			return 86_400_000
		case u.IsSetMICROS():
			return 86_400_000_000
		case u.IsSetNANOS():
			return 86_400_000_000_000
		}
	case ct != nil && *ct == pqgo.ConvertedType_TIMESTAMP_MILLIS:
		return 86_400_000
	case ct != nil && *ct == pqgo.ConvertedType_TIMESTAMP_MICROS:
		return 86_400_000_000
	}
	return 0
}

func dateSetter(col export.Column, se *pqgo.SchemaElement, bad func(any) error) setter {
	phys, lt, ct := se.GetType(), se.GetLogicalType(), se.ConvertedType
	isDate := (lt != nil && lt.IsSetDATE()) || (ct != nil && *ct == pqgo.ConvertedType_DATE)
	perDay := unitsPerDay(se)
	return func(b *export.Batch, i int, v any) error {
		f := col.Field(b).(*export.Dates)
		var day int64
		switch x := v.(type) {
		case int32:
			if !isDate {
				return bad(v)
			}
			day = int64(x)
		case int64:
			if perDay == 0 {
				return bad(v)
			}
			day = floorDiv(x, perDay)
		case string:
			var ok bool
			if day, ok = stringDay(x, phys == pqgo.Type_INT96); !ok {
				f.S[i] = export.Malformed
				return nil
			}
		default:
			return bad(v)
		}
		if day < int64(minSaneDay) || day > int64(maxSaneDay) {
			f.S[i] = export.Malformed
			return nil
		}
		f.V[i], f.S[i] = int32(day), export.Valid
		return nil
	}
}

// stringDay is the day of a string value: a 12-byte INT96 timestamp, or an
// ISO date.
func stringDay(x string, int96 bool) (int64, bool) {
	if !int96 {
		dd, ok := civil.ParseDate(strings.TrimSpace(x))
		return int64(dd), ok
	}
	if len(x) != 12 {
		return 0, false
	}
	if nanos := binary.LittleEndian.Uint64([]byte(x[:8])); nanos >= 86_400_000_000_000 {
		return 0, false
	}
	return int64(binary.LittleEndian.Uint32([]byte(x[8:]))) - julianEpochDay, true
}

// fallbackCount decodes every leaf column of an object with parquet-go and
// returns the row count they agree on (for CountRows).
func fallbackCount(ra storage.ReaderAt) (int64, error) {
	pr, err := openFallback(ra)
	if err != nil {
		return 0, err
	}
	defer pr.ReadStop()
	total := pr.GetNumRows()
	rows := int64(-1)
	for i, path := range pr.SchemaHandler.ValueColumns {
		var got int64
		for got < total {
			n := min(65536, total-got)
			_, rls, _, err := pr.ReadColumnByIndex(int64(i), n)
			if err != nil {
				return 0, fmt.Errorf("%w: column %s: %w", ErrCorrupt, path, err)
			}
			var read int64
			for _, rl := range rls {
				if rl == 0 {
					read++
				}
			}
			if read == 0 {
				break // parquet-go stops silently on an undecodable page
			}
			got += read
		}
		if rows >= 0 && got != rows {
			return got, fmt.Errorf("%w: column %s has %d rows, others %d", ErrRowCount, strings.ReplaceAll(path, "\x01", "."), got, rows)
		}
		rows = got
	}
	return max(rows, 0), nil
}
