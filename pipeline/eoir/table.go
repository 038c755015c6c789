// Package eoir reads the tables of EOIR's public case-data release (the
// FOIA "EOIR case data" that TRAC and others analyse): delimited text whose
// delimiter (tab, pipe or comma) and encoding (UTF-8 or Windows-1252) vary
// between releases, with the dirty rows real releases have. A row whose
// field count is not the header's (a shifted column) is reported, with its
// line, as a RowError; the caller rejects it and goes on.
package eoir

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
	"unsafe"

	"golang.org/x/text/encoding/charmap"
)

// ErrFieldCount is wrapped by the RowError of a row whose field count
// differs from the header's.
var ErrFieldCount = errors.New("field count differs from the header's")

// ErrHeader is wrapped when a table's header is missing a column the
// import needs, or cannot be read.
var ErrHeader = errors.New("bad table header")

// RowError is a row that cannot be read as the header says.
type RowError struct {
	Table string
	Line  int64 // 1-based, the header being line 1
	Err   error
}

func (e *RowError) Error() string { return fmt.Sprintf("%s line %d: %v", e.Table, e.Line, e.Err) }

func (e *RowError) Unwrap() error { return e.Err }

// maxLine bounds one line: a release's lines are short; a file without
// line breaks is not a table.
const maxLine = 1 << 20

// Table reads one table row by row. It is not safe for concurrent use.
type Table struct {
	// Name is the table's object key.
	Name string
	// Header holds the column names as written.
	Header []string
	// Delim is the delimiter found in the header line.
	Delim byte
	// Recoded counts the lines decoded as Windows-1252 (not valid UTF-8).
	Recoded int64
	// NULs counts the fields read with NUL bytes in them (removed: the
	// release pads and breaks some fields with them).
	NULs int64

	obj   io.Closer
	r     *bufio.Reader
	line  int64
	index map[string]int
	dec   *charmapDecoder
	buf   []string
	long  []byte // a line longer than the reader's buffer, joined
	// slot[c] is column c's place in buf (-1: not selected); last is
	// the last selected column. nil: every column (Select).
	slot []int
	last int
}

// Open reads the header of the table named key streamed by r; Close
// closes r.
func Open(key string, r io.ReadCloser) (*Table, error) {
	obj := r
	t := &Table{Name: key, obj: obj, r: bufio.NewReaderSize(r, 4<<20), dec: newDecoder()}
	head, err := t.readLine()
	if err != nil {
		obj.Close()
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%s: %w: empty file", key, ErrHeader)
		}
		return nil, err
	}
	head = strings.Clone(strings.TrimPrefix(head, "\ufeff")) // a byte-order mark; the header outlives the line
	t.Delim = delimiter(head)
	t.Header = split(head, t.Delim, nil)
	t.index = make(map[string]int, len(t.Header))
	for i, h := range t.Header {
		t.index[strings.ToUpper(strings.TrimSpace(h))] = i
	}
	return t, nil
}

// Close releases the table's stream.
func (t *Table) Close() error { return t.obj.Close() }

// Col returns the index of column name (case-insensitive), or -1.
func (t *Table) Col(name string) int {
	i, ok := t.index[strings.ToUpper(name)]
	if !ok {
		return -1
	}
	return i
}

// Require returns the indexes of names, or an error naming the columns the
// header lacks.
func (t *Table) Require(names ...string) ([]int, error) {
	idx := make([]int, len(names))
	var missing []string
	for i, n := range names {
		if idx[i] = t.Col(n); idx[i] < 0 {
			missing = append(missing, n)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("%s: %w: no column %s (the header has %d columns)", t.Name, ErrHeader, strings.Join(missing, ", "), len(t.Header))
	}
	return idx, nil
}

// Next returns the next row's fields and its 1-based line. The slice and
// the strings in it are valid until the next call: they are views of the
// reader's buffer, so a caller copies (strings.Clone) what it keeps. At the
// end Next returns io.EOF; a row with the wrong number of fields returns a
// *RowError, after which reading goes on. Blank lines are skipped.
func (t *Table) Next() ([]string, int64, error) {
	for {
		l, err := t.readLine()
		if err != nil {
			return nil, t.line, err
		}
		if strings.TrimSpace(l) == "" {
			continue
		}
		if t.slot != nil {
			// Count the fields (a shifted row is still found), then cut
			// out only the selected ones.
			if n := strings.Count(l, string(t.Delim)) + 1; n != len(t.Header) {
				return nil, t.line, &RowError{Table: t.Name, Line: t.line, Err: fmt.Errorf("%w: %d fields, the header has %d", ErrFieldCount, n, len(t.Header))}
			}
			for col := 0; col <= t.last; col++ {
				i := strings.IndexByte(l, t.Delim)
				f := l
				if i >= 0 {
					f, l = l[:i], l[i+1:]
				}
				if k := t.slot[col]; k >= 0 {
					t.buf[k] = t.field(f)
				}
			}
			return t.buf, t.line, nil
		}
		t.buf = split(l, t.Delim, t.buf[:0])
		for i, f := range t.buf {
			t.buf[i] = t.noNUL(f)
		}
		if len(t.buf) != len(t.Header) {
			return nil, t.line, &RowError{Table: t.Name, Line: t.line, Err: fmt.Errorf("%w: %d fields, the header has %d", ErrFieldCount, len(t.buf), len(t.Header))}
		}
		return t.buf, t.line, nil
	}
}

// Select makes Next return only the columns cols (header indexes, as
// Require returns them), in that order: the other fields are counted, to
// find shifted rows, but not cut out and trimmed.
func (t *Table) Select(cols []int) {
	t.slot = make([]int, len(t.Header))
	for i := range t.slot {
		t.slot[i] = -1
	}
	t.last = -1
	for k, c := range cols {
		t.slot[c] = k
		t.last = max(t.last, c)
	}
	t.buf = make([]string, len(cols))
}

// readLine returns the next line without its line break, decoded to UTF-8.
// The string is valid until the next call: it is the reader's buffer, not
// a copy (a copy of every line was most of a release's allocations).
func (t *Table) readLine() (string, error) {
	chunk, err := t.r.ReadSlice('\n')
	if err == nil || err == io.EOF && len(chunk) > 0 { // the whole line in the buffer: no copy
		return t.finish(chunk)
	}
	b := append(t.long[:0], chunk...)
	for {
		if err == bufio.ErrBufferFull {
			if len(b) > maxLine {
				t.line++
				return "", &RowError{Table: t.Name, Line: t.line, Err: fmt.Errorf("a line longer than %d bytes: not a delimited table", maxLine)}
			}
			chunk, err = t.r.ReadSlice('\n')
			b = append(b, chunk...)
			continue
		}
		if err == io.EOF && len(b) > 0 {
			break
		}
		if err != nil {
			if err == io.EOF {
				return "", io.EOF
			}
			return "", fmt.Errorf("read %s: %w", t.Name, err)
		}
		break
	}
	t.long = b
	return t.finish(b)
}

// finish turns a raw line into the string readLine returns.
func (t *Table) finish(b []byte) (string, error) {
	t.line++
	if len(b) > maxLine {
		return "", &RowError{Table: t.Name, Line: t.line, Err: fmt.Errorf("a line longer than %d bytes: not a delimited table", maxLine)}
	}
	b = bytes.TrimRight(b, "\r\n")
	if len(b) == 0 {
		return "", nil
	}
	if utf8.Valid(b) {
		return unsafe.String(unsafe.SliceData(b), len(b)), nil
	}
	t.Recoded++
	return t.dec.decode(b), nil
}

// delimiter picks the header's delimiter: the most frequent of tab, pipe
// and comma (tab when none occurs: a one-column table).
func delimiter(head string) byte {
	best, n := byte('\t'), 0
	for _, d := range []byte{'\t', '|', ','} {
		if c := strings.Count(head, string(d)); c > n {
			best, n = d, c
		}
	}
	return best
}

// split cuts a line at delim and trims each field of blanks and of one
// pair of enclosing double quotes (some releases quote every field;
// quoted delimiters do not occur in the tables the import reads).
func split(l string, delim byte, into []string) []string {
	for {
		i := strings.IndexByte(l, delim)
		f := l
		if i >= 0 {
			f = l[:i]
		}
		into = append(into, field(f))
		if i < 0 {
			return into
		}
		l = l[i+1:]
	}
}

// field is a selected field, trimmed and without NUL bytes.
func (t *Table) field(f string) string {
	return t.noNUL(field(f))
}

// noNUL removes the NUL bytes of f, counting the field.
func (t *Table) noNUL(f string) string {
	if strings.IndexByte(f, 0) < 0 {
		return f
	}
	t.NULs++
	return strings.TrimSpace(strings.ReplaceAll(f, "\x00", ""))
}

// field trims a raw field: spaces, then one pair of quotes around it.
func field(f string) string {
	f = strings.TrimSpace(f)
	if len(f) >= 2 && f[0] == '"' && f[len(f)-1] == '"' {
		f = strings.TrimSpace(f[1 : len(f)-1])
	}
	return f
}

// charmapDecoder decodes Windows-1252 lines.
type charmapDecoder struct {
	dec interface{ Bytes([]byte) ([]byte, error) }
}

func newDecoder() *charmapDecoder {
	return &charmapDecoder{dec: charmap.Windows1252.NewDecoder()}
}

func (d *charmapDecoder) decode(b []byte) string {
	out, err := d.dec.Bytes(b)
	if err != nil { // Windows-1252 maps every byte; not reached
		return strings.ToValidUTF8(string(b), "\ufffd")
	}
	return string(out)
}
