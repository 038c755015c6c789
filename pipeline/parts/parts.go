// Package parts reads recal's own Parquet outputs back: row by row across a
// dataset's part objects (Stream), and as one ordered sequence from several
// datasets each sorted on the same key (Merger), which is how `recal merge`
// joins the shards of a run into the files a single process writes.
package parts

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/apache/arrow/go/v15/parquet/file"
	"github.com/apache/arrow/go/v15/parquet/pqarrow"

	"github.com/recal-project/recal/pipeline/storage"
)

// batchRows is the length of the record batches read.
const batchRows = 64 << 10

// Stream reads the rows of a sequence of Parquet objects, in order. Its
// zero value is not usable; call Open. A Stream is not safe for concurrent
// use.
type Stream struct {
	ctx    context.Context
	st     Opener
	keys   []string
	schema *arrow.Schema
	mem    memory.Allocator

	cols []int // the columns read (nil: all), Select

	next int // index in keys of the next object to open
	obj  storage.ReaderAt
	pf   *file.Reader
	rr   pqarrow.RecordReader
	rec  arrow.Record
	row  int
	err  error
}

// Opener opens an object for ranged reads: all a Stream needs of a store
// (storage.Store has it).
type Opener interface {
	Open(ctx context.Context, key string) (storage.ReaderAt, error)
}

// Open returns a Stream over the objects keys of st, each of which must
// have the fields of schema (names and types, in order). mem allocates
// the decoded batches (nil: memory.DefaultAllocator).
func Open(ctx context.Context, st Opener, keys []string, schema *arrow.Schema, mem memory.Allocator) *Stream {
	if mem == nil {
		mem = memory.DefaultAllocator
	}
	return &Stream{ctx: ctx, st: st, keys: keys, schema: schema, mem: mem, row: -1}
}

// Select reads only the columns cols (indices into the schema, in
// ascending order): the records then hold those, in that order. Call it
// before the first Next.
func (s *Stream) Select(cols ...int) *Stream {
	s.cols = cols
	return s
}

// Next advances to the next row and reports whether there is one. At the
// end, or on an error, it returns false; Err tells which.
func (s *Stream) Next() bool {
	if s.err != nil {
		return false
	}
	s.row++
	for s.rec == nil || s.row >= int(s.rec.NumRows()) {
		if !s.advance() {
			return false
		}
	}
	return true
}

// advance moves to the next non-exhausted batch, opening objects as
// needed; it reports false at the end or on an error.
func (s *Stream) advance() bool {
	s.row = 0
	if s.rec != nil {
		s.rec = nil // owned by the record reader
	}
	for {
		if s.rr != nil {
			if s.rr.Next() {
				s.rec = s.rr.Record()
				return true
			}
			if err := s.rr.Err(); err != nil && !errors.Is(err, io.EOF) {
				s.err = fmt.Errorf("read %s: %w", s.keys[s.next-1], err)
				s.closeObject()
				return false
			}
			s.closeObject()
		}
		if s.next >= len(s.keys) {
			return false
		}
		if err := s.openObject(s.keys[s.next]); err != nil {
			s.err = err
			return false
		}
	}
}

func (s *Stream) openObject(key string) error {
	s.next++
	if err := s.ctx.Err(); err != nil {
		return err
	}
	obj, err := s.st.Open(s.ctx, key)
	if err != nil {
		return fmt.Errorf("open %s: %w", key, err)
	}
	pf, err := file.NewParquetReader(io.NewSectionReader(obj, 0, obj.Size()))
	if err != nil {
		obj.Close()
		return fmt.Errorf("read %s: %w", key, err)
	}
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{BatchSize: batchRows}, s.mem)
	if err != nil {
		pf.Close()
		obj.Close()
		return fmt.Errorf("read %s: %w", key, err)
	}
	sc, err := fr.Schema()
	if err == nil {
		err = sameFields(sc, s.schema)
	}
	if err != nil {
		pf.Close()
		obj.Close()
		return fmt.Errorf("read %s: %w", key, err)
	}
	rr, err := fr.GetRecordReader(s.ctx, s.cols, nil)
	if err != nil {
		pf.Close()
		obj.Close()
		return fmt.Errorf("read %s: %w", key, err)
	}
	s.obj, s.pf, s.rr = obj, pf, rr
	return nil
}

func (s *Stream) closeObject() {
	if s.rr != nil {
		s.rr.Release()
		s.rr = nil
	}
	if s.pf != nil {
		s.pf.Close()
		s.pf = nil
	}
	if s.obj != nil {
		s.obj.Close()
		s.obj = nil
	}
}

// sameFields reports an error unless got has want's field names and types.
func sameFields(got, want *arrow.Schema) error {
	if got.NumFields() != want.NumFields() {
		return fmt.Errorf("%d columns, want %d", got.NumFields(), want.NumFields())
	}
	for i, f := range want.Fields() {
		g := got.Field(i)
		if g.Name != f.Name || !arrow.TypeEqual(g.Type, f.Type) {
			return fmt.Errorf("column %d is %s %s, want %s %s", i, g.Name, g.Type, f.Name, f.Type)
		}
	}
	return nil
}

// Record and Row locate the current row: row Row of Record. The record is
// valid until the next call to Next.
func (s *Stream) Record() arrow.Record { return s.rec }

// Row returns the current row's index in Record.
func (s *Stream) Row() int { return s.row }

// Err returns the error that ended the stream, if any.
func (s *Stream) Err() error { return s.err }

// Close releases the open object. It is safe to call more than once.
func (s *Stream) Close() {
	s.rec = nil
	s.closeObject()
	s.next = len(s.keys)
}

// Key orders rows: the merger emits rows in ascending key order (compared
// element by element).
type Key func(rec arrow.Record, row int) [2]int64

// Merger yields the rows of several Streams, each sorted by Key, as one
// sequence sorted by Key; rows with equal keys come in stream order. It
// fills record builders of the streams' schema, so it plugs into
// sink.WriteParts as the FillFunc.
type Merger struct {
	streams []*Stream
	key     Key
	heads   [][2]int64
	live    []bool
	n       int64
	err     error
}

// NewMerger primes the streams' first rows.
func NewMerger(streams []*Stream, key Key) *Merger {
	m := &Merger{streams: streams, key: key, heads: make([][2]int64, len(streams)), live: make([]bool, len(streams))}
	for i := range streams {
		m.pull(i)
	}
	return m
}

func (m *Merger) pull(i int) {
	s := m.streams[i]
	if s.Next() {
		m.live[i], m.heads[i] = true, m.key(s.Record(), s.Row())
		return
	}
	m.live[i] = false
	if err := s.Err(); err != nil && m.err == nil {
		m.err = err
	}
}

func less(a, b [2]int64) bool {
	if a[0] != b[0] {
		return a[0] < b[0]
	}
	return a[1] < b[1]
}

// Fill appends the next to-from rows to b (a sink.FillFunc). When the
// streams run dry or fail early it appends what there is and Err says so.
func (m *Merger) Fill(b *array.RecordBuilder, from, to int) {
	for range to - from {
		if m.err != nil {
			return
		}
		best := -1
		for i, ok := range m.live {
			if ok && (best < 0 || less(m.heads[i], m.heads[best])) {
				best = i
			}
		}
		if best < 0 {
			m.err = fmt.Errorf("the shards' parts hold %d rows, fewer than their manifests list", m.n)
			return
		}
		s := m.streams[best]
		if err := appendRow(b, s.Record(), s.Row()); err != nil {
			m.err = err
			return
		}
		m.n++
		m.pull(best)
	}
}

// Done checks that every stream is exhausted without error, and returns
// the number of rows merged.
func (m *Merger) Done() (int64, error) {
	if m.err != nil {
		return m.n, m.err
	}
	for i, ok := range m.live {
		if ok {
			return m.n, fmt.Errorf("the parts of stream %d hold more rows than their manifests list (%d merged)", i, m.n)
		}
	}
	return m.n, nil
}

// Close closes every stream.
func (m *Merger) Close() {
	for _, s := range m.streams {
		s.Close()
	}
}

// appendRow appends row of rec to the builders of b, column by column.
func appendRow(b *array.RecordBuilder, rec arrow.Record, row int) error {
	for j, col := range rec.Columns() {
		fb := b.Field(j)
		if col.IsNull(row) {
			fb.AppendNull()
			continue
		}
		switch c := col.(type) {
		case *array.Int64:
			fb.(*array.Int64Builder).Append(c.Value(row))
		case *array.Int32:
			fb.(*array.Int32Builder).Append(c.Value(row))
		case *array.Float64:
			fb.(*array.Float64Builder).Append(c.Value(row))
		case *array.Date32:
			fb.(*array.Date32Builder).Append(c.Value(row))
		case *array.String:
			fb.(*array.StringBuilder).Append(c.Value(row))
		default:
			return fmt.Errorf("column %s: type %s is not merged", rec.ColumnName(j), col.DataType())
		}
	}
	return nil
}
