package eoir_test

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/recal-project/recal/pipeline/eoir"
)

func open(t testing.TB, content string) *eoir.Table {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "t.csv"), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	tb, err := openTable(t, dir, "t.csv")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tb.Close() })
	return tb
}

type row struct {
	line   int64
	fields string
	err    string
}

func readAll(tb *eoir.Table) []row {
	var out []row
	for {
		f, line, err := tb.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		r := row{line: line, fields: strings.Join(f, ",")}
		if err != nil {
			r.err = err.Error()
		}
		out = append(out, r)
	}
}

func TestTable(t *testing.T) {
	for _, c := range []struct {
		name, content string
		delim         byte
		header        string
		rows          []row
		recoded       int64
	}{
		{"tab, CRLF, BOM", "\ufeffA\tB\r\n1\t2\r\n\r\n3\t4\r\n", '\t', "A,B", []row{{2, "1,2", ""}, {4, "3,4", ""}}, 0},
		{"pipe, no final newline", "A|B|C\nx|y|z", '|', "A,B,C", []row{{2, "x,y,z", ""}}, 0},
		{"comma with quotes", "\"A\",\"B\"\n\"1\",\" 2 \"\n", ',', "A,B", []row{{2, "1,2", ""}}, 0},
		{"shifted row", "A\tB\n1\t2\t3\n4\t5\n", '\t', "A,B", []row{
			{2, "", "t.csv line 2: field count differs from the header's: 3 fields, the header has 2"}, {3, "4,5", ""}}, 0},
		{"windows-1252", "A|B\n1|Bogot\xe1\n2|ok\n", '|', "A,B", []row{{2, "1,Bogotá", ""}, {3, "2,ok", ""}}, 1},
		{"header only", "A\tB\n", '\t', "A,B", nil, 0},
		{"NUL bytes inside fields", "A\tB\nA\x00\t2019\x00-01-02\n\x00\x00\t x\n", '\t', "A,B", []row{{2, "A,2019-01-02", ""}, {3, ",x", ""}}, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			tb := open(t, c.content)
			if tb.Delim != c.delim || strings.Join(tb.Header, ",") != c.header {
				t.Fatalf("delimiter %q header %q, want %q %q", tb.Delim, tb.Header, c.delim, c.header)
			}
			got := readAll(tb)
			if len(got) != len(c.rows) {
				t.Fatalf("rows %+v, want %+v", got, c.rows)
			}
			for i := range got {
				if got[i] != c.rows[i] {
					t.Errorf("row %d: %+v, want %+v", i, got[i], c.rows[i])
				}
			}
			if tb.Recoded != c.recoded {
				t.Errorf("recoded %d, want %d", tb.Recoded, c.recoded)
			}
			if want := map[string]int64{"NUL bytes inside fields": 3}[c.name]; tb.NULs != want {
				t.Errorf("%d fields with NULs counted, want %d", tb.NULs, want)
			}
		})
	}
}

func TestRequire(t *testing.T) {
	tb := open(t, "idncase\tOSC_DATE\n")
	idx, err := tb.Require("IDNCASE", "osc_date")
	if err != nil || idx[0] != 0 || idx[1] != 1 {
		t.Fatalf("Require: %v, %v", idx, err)
	}
	if _, err := tb.Require("IDNCASE", "COMP_DATE", "NAT"); !errors.Is(err, eoir.ErrHeader) || !strings.Contains(err.Error(), "COMP_DATE, NAT") {
		t.Fatalf("missing columns: %v", err)
	}
}

func TestEmptyAndHugeLines(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "empty.csv"), nil, 0o644)
	if _, err := openTable(t, dir, "empty.csv"); !errors.Is(err, eoir.ErrHeader) {
		t.Fatalf("empty file: %v", err)
	}
	os.WriteFile(filepath.Join(dir, "long.csv"), []byte("A\n"+strings.Repeat("x", 3<<20)+"\n"), 0o644)
	tb, err := openTable(t, dir, "long.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer tb.Close()
	if _, _, err := tb.Next(); err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Fatalf("a 3 MB line: %v", err)
	}
}

// FuzzTable feeds arbitrary bytes as a table: no panic, every row has the
// header's width or is a RowError naming its line, lines only grow, and
// every field is valid UTF-8.
func FuzzTable(f *testing.F) {
	for _, s := range []string{"A\tB\n1\t2\n", "A|B\n1|2|3\n", "\"A\",B\r\n\"\",\n", "A\n\xe1\xff\n", "\ufeffX\n\n\ny\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, "t.csv"), b, 0o644)
		tb, err := openTable(t, dir, "t.csv")
		if err != nil {
			return
		}
		defer tb.Close()
		// A second reader selects every other column, last first: its
		// rows must be the full rows' fields, and its errors the same.
		sel, err := openTable(t, dir, "t.csv")
		if err != nil {
			t.Fatalf("second open: %v", err)
		}
		defer sel.Close()
		var cols []int
		for c := len(sel.Header) - 1; c >= 0; c -= 2 {
			cols = append(cols, c)
		}
		sel.Select(cols)
		last := int64(1)
		for n := 0; n < 10000; n++ {
			fields, line, err := tb.Next()
			got, gline, gerr := sel.Next()
			if gline != line || (gerr == nil) != (err == nil) {
				t.Fatalf("selected read at line %d (%v), full read at line %d (%v)", gline, gerr, line, err)
			}
			if err == nil {
				for k, c := range cols {
					if got[k] != fields[c] {
						t.Fatalf("line %d column %d: selected %q, full %q", line, c, got[k], fields[c])
					}
				}
			}
			if errors.Is(err, io.EOF) {
				return
			}
			if line <= last {
				t.Fatalf("line %d after %d", line, last)
			}
			last = line
			var re *eoir.RowError
			if err != nil {
				if !errors.As(err, &re) || re.Line != line {
					t.Fatalf("error %v at line %d", err, line)
				}
				continue
			}
			if len(fields) != len(tb.Header) {
				t.Fatalf("%d fields, header %d", len(fields), len(tb.Header))
			}
			for _, x := range fields {
				if strings.ToValidUTF8(x, "\ufffd") != x {
					t.Fatalf("field %q is not valid UTF-8", x)
				}
			}
		}
	})
}

// openTable opens the table file name under dir.
func openTable(t testing.TB, dir, name string) (*eoir.Table, error) {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	tb, err := eoir.Open(name, f)
	if err != nil {
		f.Close()
	}
	return tb, err
}
