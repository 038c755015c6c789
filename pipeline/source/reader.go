// Package source reads the closed-case export (contract §1.1): every
// Parquet object under a prefix, decoded with arrow's pqarrow (or, for the
// codecs and encodings arrow v15 lacks, with xitongsys/parquet-go), projected
// to the columns recal uses and normalised into typed columnar batches.
//
// The A-number column (alien_nbr) is never projected: it is not decoded,
// held or written anywhere by recal.
package source

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"runtime/debug"
	"strings"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/apache/arrow/go/v15/parquet"
	"github.com/apache/arrow/go/v15/parquet/compress"
	"github.com/apache/arrow/go/v15/parquet/file"
	"github.com/apache/arrow/go/v15/parquet/pqarrow"
	"golang.org/x/sync/errgroup"

	"github.com/recal-project/recal/pipeline/storage"
	"github.com/recal-project/recal/transforms/export"
)

// Sentinel errors of the reader; ObjectError wraps one of them.
var (
	// ErrCorrupt: the object is not valid Parquet, or decoding it failed.
	ErrCorrupt = errors.New("corrupt Parquet object")
	// ErrSchema: a required column is missing, ambiguous or of a type that
	// cannot be normalised.
	ErrSchema = errors.New("export schema mismatch")
	// ErrRowCount: the rows decoded differ from the footer's row count.
	ErrRowCount = errors.New("decoded rows differ from footer row count")
	// ErrUnsupported: a codec or encoding no decoder here can read.
	ErrUnsupported = errors.New("unsupported Parquet feature")
)

// Opener opens objects for ranged reads: all the reader needs of a store
// (storage.Store has it). Open's ctx bounds every read made through the
// returned ReaderAt; a missing object is an error wrapping
// storage.ErrNotExist.
type Opener interface {
	Open(ctx context.Context, key string) (storage.ReaderAt, error)
}

// ObjectError is an error reading one object. It never carries cell values.
type ObjectError struct {
	Key string
	Err error
}

func (e *ObjectError) Error() string { return "input object " + e.Key + ": " + e.Err.Error() }
func (e *ObjectError) Unwrap() error { return e.Err }

// Options tune Read.
type Options struct {
	// Workers is how many objects are decoded at once (default 2).
	Workers int
	// BatchSize is the number of rows per batch (default 65536).
	BatchSize int
	// Mem allocates the decoded arrow arrays' buffers (default: the Go
	// allocator); it may reuse freed buffers (bufpool). Parquet pages are
	// always read into Go-allocated buffers (see decode).
	Mem memory.Allocator
	// MaxAllocation bounds any single buffer the decoder allocates (0:
	// DefaultMaxAllocation); an object that needs more fails as corrupt.
	MaxAllocation int
	// Quarantine, when set, is asked about each object that fails; if it
	// returns true the failure is recorded in that object's stats
	// (ObjectStats.Quarantined) and the other objects go on. Batches of
	// the object already delivered stay delivered: the callback must undo
	// them. It is called from the object's worker goroutine after the
	// object's last batch.
	Quarantine func(index int, err error) bool
	// Skip, when set, names objects not to read at all (their stats stay
	// zero): objects already quarantined by the caller's footer pass.
	Skip func(index int) bool
	// Unread, when set, names export columns (indices into
	// export.Columns) the caller never looks at. A string or list column
	// among them is not decoded and reads as null: values of those kinds
	// are never malformed, so no data-quality count changes. Columns of
	// other kinds are decoded anyway, for their malformed-value counts
	// (contract §1.1), and so is a column whose stored type is not a
	// string one, so that it fails as it would when read.
	Unread func(column int) bool
}

// ObjectStats describes one object read.
type ObjectStats struct {
	Info storage.ObjectInfo
	// FooterRows is the row count the Parquet footer declares.
	FooterRows int64
	// Rows is the number of rows decoded (equal to FooterRows on success).
	Rows int64
	// Decoder names the library that decoded it: "arrow" or "parquet-go".
	Decoder string
	// Quarantined is the error that made Options.Quarantine skip the
	// object, or nil.
	Quarantined error
}

// BatchFunc receives each decoded batch. It is called concurrently from up
// to Options.Workers goroutines, each with its own batch, which is reused
// once the call returns.
type BatchFunc func(ctx context.Context, b *export.Batch) error

// Read decodes every object in objects (their position in the slice is the
// Object index of their batches) and passes its batches to fn. The first
// error, from an object or from fn, cancels the rest and is returned,
// unless Options.Quarantine takes it.
func Read(ctx context.Context, st Opener, objects []storage.ObjectInfo, o Options, fn BatchFunc) ([]ObjectStats, error) {
	if o.Workers <= 0 {
		o.Workers = 2
	}
	if o.BatchSize <= 0 {
		o.BatchSize = 65536
	}
	if o.Mem == nil {
		o.Mem = memory.DefaultAllocator
	}
	stats := make([]ObjectStats, len(objects))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(o.Workers)
	for i, obj := range objects {
		if gctx.Err() != nil {
			break
		}
		if o.Skip != nil && o.Skip(i) {
			continue
		}
		g.Go(func() error {
			s, err := ReadObject(gctx, st, i, obj, o, fn)
			if err != nil && gctx.Err() == nil && o.Quarantine != nil && o.Quarantine(i, err) {
				s.Quarantined, err = err, nil
			}
			stats[i] = s
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return stats, err
	}
	return stats, ctx.Err()
}

// IsDataError reports whether err says an object's bytes are bad (corrupt,
// a schema the contract does not allow, a row-count mismatch, an
// unsupported feature), as opposed to a storage, policy or cancellation
// error. These are what --on-corrupt=quarantine may skip.
func IsDataError(err error) bool {
	return errors.Is(err, ErrCorrupt) || errors.Is(err, ErrSchema) ||
		errors.Is(err, ErrRowCount) || errors.Is(err, ErrUnsupported)
}

// ReadObject decodes one object. Panics inside the Parquet libraries are
// recovered into an ObjectError wrapping ErrCorrupt. A failure is reported
// by its cause (blame): a cancellation, a failed read of the store, or, only
// when neither happened, bad bytes.
func ReadObject(ctx context.Context, st Opener, index int, obj storage.ObjectInfo, o Options, fn BatchFunc) (stats ObjectStats, err error) {
	stats.Info = obj
	var rec *storage.RecordingReaderAt
	defer func() {
		if p := recover(); p != nil {
			err = panicError(p, debug.Stack())
		}
		if err = blame(ctx, rec, err); err != nil && !errors.As(err, new(*ObjectError)) &&
			!(ctx.Err() != nil && errors.Is(err, ctx.Err())) {
			err = &ObjectError{Key: obj.Key, Err: err}
		}
	}()
	if o.BatchSize <= 0 {
		o.BatchSize = 65536
	}
	o.Mem = limited(o.Mem, o.MaxAllocation)
	ra, err := st.Open(ctx, obj.Key)
	if err != nil {
		return stats, err
	}
	defer ra.Close()
	rec = &storage.RecordingReaderAt{ReaderAt: ra}
	d := &decoder{
		ctx: ctx, index: index, key: obj.Key, opts: o, fn: fn,
		batch: &export.Batch{Object: index, Key: obj.Key}, in: newInterner(), zones: zoneCache{},
	}
	return d.decode(rec, stats)
}

func firstFrames(stack []byte) string {
	lines := strings.Split(string(stack), "\n")
	if len(lines) > 14 {
		lines = lines[:14]
	}
	return strings.Join(lines, "\n")
}

type decoder struct {
	ctx   context.Context
	index int
	key   string
	opts  Options
	fn    BatchFunc
	batch *export.Batch
	in    *interner
	zones zoneCache
	// stored[c] is the date type the stored arrow schema gives column c
	// when the Parquet column is a bare integer (storedDateTypes), or nil.
	stored []arrow.DataType
}

// projection maps export columns to the object's Parquet schema.
type projection struct {
	// top[c] is the top-level field index of Columns[c] in the file, or -1.
	top []int
	// leaves lists the leaf column indices of each projected field.
	leaves [][]int
}

// project resolves Columns against a file's top-level fields
// (case-insensitively), failing on a missing required or an ambiguous name.
func project(fieldNames []string, fieldLeaves [][]int) (projection, error) {
	byName := map[string]int{}
	for i, n := range fieldNames {
		ln := strings.ToLower(strings.TrimSpace(n))
		if j, dup := byName[ln]; dup {
			if _, wanted := columnByName[ln]; wanted {
				return projection{}, fmt.Errorf("%w: column %q appears twice (fields %d and %d, names compared case-insensitively)", ErrSchema, ln, j, i)
			}
			continue
		}
		byName[ln] = i
	}
	p := projection{top: make([]int, len(export.Columns)), leaves: make([][]int, len(export.Columns))}
	var missing []string
	for c, col := range export.Columns {
		i, ok := byName[col.Name]
		if !ok {
			p.top[c] = -1
			if col.Required {
				missing = append(missing, col.Name)
			}
			continue
		}
		p.top[c] = i
		p.leaves[c] = fieldLeaves[i]
	}
	if len(missing) > 0 {
		return p, fmt.Errorf("%w: required column(s) missing: %s", ErrSchema, strings.Join(missing, ", "))
	}
	return p, nil
}

var columnByName = func() map[string]int {
	m := map[string]int{}
	for i, c := range export.Columns {
		m[c.Name] = i
	}
	return m
}()

func (d *decoder) decode(ra storage.ReaderAt, stats ObjectStats) (ObjectStats, error) {
	// Pages from the Go allocator, whatever Options.Mem is: arrow v15's
	// page reader releases a page's buffer when it returns the page
	// (serializedPageReader.Next: defer buf.Release()), and the page is
	// decoded after that. Only an allocator whose Free does nothing makes
	// that safe; a reusing one hands the page's bytes to the next buffer.
	pf, err := openParquet(ra, limited(nil, d.opts.MaxAllocation))
	if err != nil {
		return stats, err
	}
	defer pf.Close()
	md := pf.MetaData()
	stats.FooterRows = md.NumRows

	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{BatchSize: int64(d.opts.BatchSize), Parallel: false}, d.opts.Mem)
	if err != nil {
		return stats, fmt.Errorf("%w: schema: %w", ErrCorrupt, err)
	}
	names := make([]string, len(fr.Manifest.Fields))
	for i := range fr.Manifest.Fields {
		names[i] = fr.Manifest.Fields[i].Field.Name
	}
	proj, err := project(names, fieldLeaves(pf, names))
	if err != nil {
		return stats, err
	}
	plainDictionaries(fr.Manifest)
	d.leaveUnread(&proj, fr.Manifest)
	d.stored = storedDateTypes(fr.Manifest, proj.top)
	if feature := arrowLacks(pf, proj); feature != "" {
		return d.viaFallback(ra, proj, feature, stats)
	}
	stats.Decoder = "arrow"
	rows, err := d.decodeArrow(pf, fr, proj)
	stats.Rows = rows
	if errors.Is(err, arrow.ErrNotImplemented) && d.ctx.Err() == nil {
		// arrow v15 lacks something this object uses: not a verdict on
		// its bytes. Before any batch went out, parquet-go gets to try;
		// after, the batches cannot be taken back, so it is unsupported.
		if rows > 0 {
			return stats, fmt.Errorf("%w: arrow v15 cannot go on after %d rows (%w) and the batches already delivered cannot be read again by the fallback decoder",
				ErrUnsupported, rows, err)
		}
		return d.viaFallback(ra, proj, "a layout arrow v15 does not implement", stats)
	}
	if err != nil {
		return stats, err
	}
	return stats, d.checkRows(rows, md.NumRows, "")
}

// leaveUnread drops from proj the string and list columns Options.Unread
// names whose stored type is a string one (after plainDictionaries).
func (d *decoder) leaveUnread(proj *projection, m *pqarrow.SchemaManifest) {
	if d.opts.Unread == nil {
		return
	}
	for c, col := range export.Columns {
		if proj.top[c] < 0 || !d.opts.Unread(c) || (col.Kind != export.KindString && col.Kind != export.KindStringList) {
			continue
		}
		t := m.Fields[proj.top[c]].Field.Type
		if col.Kind == export.KindStringList {
			switch lt := t.(type) {
			case *arrow.ListType:
				t = lt.Elem()
			case *arrow.LargeListType:
				t = lt.Elem()
			default:
				continue
			}
		}
		if isStringLike(t) {
			proj.top[c], proj.leaves[c] = -1, nil
		}
	}
}

// viaFallback decodes the object with parquet-go (feature says why) and
// checks its rows against the footer's count (stats.FooterRows).
func (d *decoder) viaFallback(ra storage.ReaderAt, proj projection, feature string, stats ObjectStats) (ObjectStats, error) {
	stats.Decoder = "parquet-go"
	rows, err := d.decodeFallback(ra, proj, feature)
	stats.Rows = rows
	if err != nil {
		return stats, err
	}
	return stats, d.checkRows(rows, stats.FooterRows, feature)
}

// openParquet opens a Parquet file over ranged reads with bounded buffering
// (column chunks are streamed in 1 MiB pieces, not read whole), after the
// checks every object gets: size, magic (encrypted files are refused), a
// non-negative footer row count equal to the sum of its row groups.
func openParquet(ra storage.ReaderAt, mem memory.Allocator) (*file.Reader, error) {
	size := ra.Size()
	if size < 12 {
		return nil, fmt.Errorf("%w: %d bytes is too small to be Parquet", ErrCorrupt, size)
	}
	var magic [4]byte
	if _, err := ra.ReadAt(magic[:], size-4); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("read footer: %w", err)
	}
	if string(magic[:]) == "PARE" {
		return nil, fmt.Errorf("%w: encrypted Parquet (PARE) is not supported", ErrUnsupported)
	}
	if string(magic[:]) != "PAR1" {
		return nil, fmt.Errorf("%w: no Parquet magic at the end of the object (not a Parquet file?)", ErrCorrupt)
	}
	// Unbuffered: each column chunk is read with one ReadAt of its exact
	// size (one ranged GET on S3). The buffered stream allocated and
	// zeroed a 1 MiB buffer per column chunk whatever its size: 400 MB of
	// garbage at 1M rows, 0.37 s of CPU. A chunk larger than the object is
	// refused by arrow's own bounds check before any read.
	props := parquet.NewReaderProperties(mem)
	props.BufferedStreamEnabled = false
	pf, err := file.NewParquetReader(io.NewSectionReader(ra, 0, size), file.WithReadProps(props))
	if err != nil {
		return nil, fmt.Errorf("%w: open: %w", ErrCorrupt, err)
	}
	md := pf.MetaData()
	if md.NumRows < 0 || md.NumRows > MaxObjectRows {
		pf.Close()
		return nil, fmt.Errorf("%w: footer declares %d rows (at most %d are accepted in one object)", ErrCorrupt, md.NumRows, int64(MaxObjectRows))
	}
	var rgRows int64
	for rg := 0; rg < pf.NumRowGroups(); rg++ {
		rgm := md.RowGroup(rg)
		n := rgm.NumRows()
		if n < 0 || rgRows+n < rgRows {
			pf.Close()
			return nil, fmt.Errorf("%w: row group %d declares %d rows", ErrCorrupt, rg, n)
		}
		rgRows += n
		// Column chunks are read whole (one ReadAt of their declared
		// size), so a footer claiming a chunk outside the object must fail
		// here, not allocate what it claims.
		for c := 0; c < rgm.NumColumns(); c++ {
			cc, err := rgm.ColumnChunk(c)
			if err != nil {
				pf.Close()
				return nil, fmt.Errorf("%w: row group %d column %d: %w", ErrCorrupt, rg, c, err)
			}
			start := cc.DataPageOffset()
			if cc.HasDictionaryPage() && cc.DictionaryPageOffset() > 0 && cc.DictionaryPageOffset() < start {
				start = cc.DictionaryPageOffset()
			}
			if l := cc.TotalCompressedSize(); start < 0 || l < 0 || start > size || l > size-start {
				pf.Close()
				return nil, fmt.Errorf("%w: row group %d column %d claims bytes %d+%d of a %d-byte object", ErrCorrupt, rg, c, start, l, size)
			}
		}
	}
	if rgRows != md.NumRows {
		pf.Close()
		return nil, fmt.Errorf("%w: row groups hold %d rows but the footer declares %d", ErrCorrupt, rgRows, md.NumRows)
	}
	return pf, nil
}

func (d *decoder) checkRows(rows, footer int64, feature string) error {
	if rows == footer {
		return nil
	}
	if feature != "" {
		return fmt.Errorf("%w: %d decoded, footer says %d (%s)", ErrRowCount, rows, footer, feature)
	}
	return fmt.Errorf("%w: %d decoded, footer says %d", ErrRowCount, rows, footer)
}

// fieldLeaves returns the leaf column indices of each top-level field, from
// the Parquet schema's column paths. (pqarrow's SchemaField.ColIndex is 0,
// not -1, on list parents in v15, so walking its manifest would take a
// list for leaf 0.)
func fieldLeaves(pf *file.Reader, names []string) [][]int {
	byTop := map[string][]int{}
	sc := pf.MetaData().Schema
	for i := 0; i < sc.NumColumns(); i++ {
		path := sc.Column(i).ColumnPath()
		if len(path) > 0 {
			byTop[path[0]] = append(byTop[path[0]], i)
		}
	}
	out := make([][]int, len(names))
	for i, n := range names {
		out[i] = byTop[n]
	}
	return out
}

// arrowLacks names the first codec or encoding, among the projected column
// chunks, that arrow v15 cannot decode ("" when there is none).
func arrowLacks(pf *file.Reader, proj projection) string {
	md := pf.MetaData()
	for rg := 0; rg < pf.NumRowGroups(); rg++ {
		rgm := md.RowGroup(rg)
		for _, ls := range proj.leaves {
			for _, leaf := range ls {
				cc, err := rgm.ColumnChunk(leaf)
				if err != nil {
					continue // reported by the decoder itself
				}
				if _, err := compress.GetCodec(cc.Compression()); err != nil {
					return "codec " + cc.Compression().String()
				}
				for _, e := range cc.Encodings() {
					switch e {
					case byteStreamSplit:
						return "encoding BYTE_STREAM_SPLIT"
					case parquet.Encodings.DeltaBinaryPacked:
						// arrow v15 decodes it wrongly or panics once a
						// page holds nulls (apache/arrow#43276, fixed
						// after v15): what DuckDB's PARQUET_VERSION V2
						// writes for every integer and date column.
						return "encoding DELTA_BINARY_PACKED"
					}
				}
			}
		}
	}
	return ""
}

// int96Leaf reports whether field c is a flat INT96 column (decoded by hand:
// pqarrow wraps out-of-range INT96 values silently).
func int96Leaf(pf *file.Reader, leaves []int) (int, bool) {
	if len(leaves) != 1 {
		return 0, false
	}
	col := pf.MetaData().Schema.Column(leaves[0])
	return leaves[0], col.PhysicalType() == parquet.Types.Int96 && col.MaxRepetitionLevel() == 0
}

func (d *decoder) decodeArrow(pf *file.Reader, fr *pqarrow.FileReader, proj projection) (int64, error) {
	// Flat INT96 date columns are read first, by hand, with range checks.
	int96 := map[int]*export.Dates{}
	var leafIdx []int
	for c, col := range export.Columns {
		if proj.top[c] < 0 {
			continue
		}
		if leaf, ok := int96Leaf(pf, proj.leaves[c]); ok && col.Kind == export.KindDate {
			dates, err := readInt96(pf, leaf, pf.MetaData().NumRows)
			if err != nil {
				return 0, fmt.Errorf("column %s: %w", col.Name, err)
			}
			int96[c] = dates
			continue
		}
		leafIdx = append(leafIdx, proj.leaves[c]...)
	}
	rr, err := fr.GetRecordReader(d.ctx, leafIdx, nil)
	if err != nil {
		return 0, fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	defer rr.Release()
	// Record columns come back in projected-field order.
	sc := rr.Schema()
	colOf := make([]int, sc.NumFields())
	for f := range sc.Fields() {
		colOf[f] = columnByName[strings.ToLower(strings.TrimSpace(sc.Field(f).Name))]
	}
	var rows int64
	for rr.Next() {
		if err := d.ctx.Err(); err != nil {
			return rows, err
		}
		rec := rr.Record()
		n := int(rec.NumRows())
		b := d.batch
		b.Row0 = rows
		b.Resize(n)
		for f := 0; f < int(rec.NumCols()); f++ {
			c := colOf[f]
			if err := d.fill(b, c, rec.Column(f)); err != nil {
				return rows, fmt.Errorf("%w: column %s: %w", ErrSchema, export.Columns[c].Name, err)
			}
		}
		for c, dates := range int96 {
			dst := export.Columns[c].Field(b).(*export.Dates)
			copy(dst.V, dates.V[rows:rows+int64(n)])
			copy(dst.S, dates.S[rows:rows+int64(n)])
		}
		if err := d.fn(d.ctx, b); err != nil {
			return rows, err
		}
		rows += int64(n)
	}
	if err := rr.Err(); err != nil && !errors.Is(err, io.EOF) {
		return rows, fmt.Errorf("%w: after %d rows: %w", ErrCorrupt, rows, err)
	}
	return rows, nil
}

func (d *decoder) fill(b *export.Batch, c int, a arrowArray) error {
	if a.DataType().ID() == arrow.NULL {
		return nil // a column that holds no value: every row null, as Resize left it
	}
	if t := d.stored[c]; t != nil && (a.DataType().ID() == arrow.INT64 || a.DataType().ID() == arrow.INT32) {
		a = retyped(a, t)
		defer a.Release()
	}
	switch dst := export.Columns[c].Field(b).(type) {
	case *export.Int64s:
		return fillInt64(dst, 0, a)
	case *export.Strings:
		return fillString(dst, 0, a, d.in)
	case *export.Dates:
		return fillDate(dst, 0, a, d.zones)
	case *export.Bools:
		return fillBool(dst, 0, a)
	case *export.Lists:
		return fillList(dst, 0, a, d.in)
	}
	return nil
}

const julianEpochDay = 2440588 // Julian day number of 1970-01-01

// readInt96 decodes a flat INT96 column into dates, marking values outside
// any real date (or with nanos beyond one day) Malformed.
func readInt96(pf *file.Reader, leaf int, total int64) (*export.Dates, error) {
	out := &export.Dates{V: make([]int32, 0, total), S: make([]export.State, 0, total)}
	maxDef := pf.MetaData().Schema.Column(leaf).MaxDefinitionLevel()
	const chunk = 4096
	vals := make([]parquet.Int96, chunk)
	defs := make([]int16, chunk)
	for rg := 0; rg < pf.NumRowGroups(); rg++ {
		ccr, err := pf.RowGroup(rg).Column(leaf)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrCorrupt, err)
		}
		r, ok := ccr.(*file.Int96ColumnChunkReader)
		if !ok {
			return nil, fmt.Errorf("%w: INT96 column reader", ErrCorrupt)
		}
		for r.HasNext() {
			n, _, err := r.ReadBatch(chunk, vals, defs, nil)
			if err != nil {
				return nil, fmt.Errorf("%w: %w", ErrCorrupt, err)
			}
			if n == 0 {
				break
			}
			vi := 0
			for i := 0; i < int(n); i++ {
				if maxDef > 0 && defs[i] < maxDef {
					out.V, out.S = append(out.V, 0), append(out.S, export.Null)
					continue
				}
				v := vals[vi]
				vi++
				nanos := binary.LittleEndian.Uint64(v[:8])
				jd := int64(binary.LittleEndian.Uint32(v[8:]))
				day := jd - julianEpochDay
				if nanos >= 86_400_000_000_000 || day < int64(minSaneDay) || day > int64(maxSaneDay) {
					out.V, out.S = append(out.V, 0), append(out.S, export.Malformed)
					continue
				}
				out.V, out.S = append(out.V, int32(day)), append(out.S, export.Valid)
			}
		}
	}
	if int64(len(out.V)) != total {
		return nil, fmt.Errorf("%w: INT96 column holds %d values, footer says %d rows", ErrRowCount, len(out.V), total)
	}
	return out, nil
}

// byteStreamSplit is BYTE_STREAM_SPLIT's value in the Parquet thrift enum;
// arrow v15 neither names nor decodes it (and returned 0 rows with no error
// on such a file).
const byteStreamSplit = parquet.Encoding(9)

// FooterRows returns the row count an object's footer declares, after the
// same checks the reader makes on open (magic, footer, row groups, column
// chunk bounds). Callers use it to size their buffers before reading.
func FooterRows(ctx context.Context, st Opener, obj storage.ObjectInfo) (n int64, err error) {
	var rec *storage.RecordingReaderAt
	defer func() {
		if p := recover(); p != nil {
			err = panicError(p, nil)
		}
		if err = blame(ctx, rec, err); err != nil {
			err = &ObjectError{Key: obj.Key, Err: err}
		}
	}()
	ra, err := st.Open(ctx, obj.Key)
	if err != nil {
		return 0, err
	}
	defer ra.Close()
	rec = &storage.RecordingReaderAt{ReaderAt: ra}
	pf, err := openParquet(rec, limited(nil, 0))
	if err != nil {
		return 0, err
	}
	defer pf.Close()
	return pf.MetaData().NumRows, nil
}
