// Package reference holds the reference data recal validates and enriches
// cases with: immigration courts (base cities), hearing locations, the
// federal circuit that governs each, and EOIR's language and nationality
// code tables. The tables are embedded (see data/SOURCES.md); the courts and
// hearing locations can be replaced by tables the caller read. Pure: no
// file or network I/O (pipeline/refdata reads replacement files).
package reference

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
)

//go:embed data/*.csv
var embedded embed.FS

// ErrBadReference is wrapped by every error in a reference table.
var ErrBadReference = errors.New("bad reference data")

// Court is one immigration court (EOIR base city).
type Court struct {
	Code, Name, City, State string
	// Circuit is "1".."11" or "DC"; "" when unknown (no state on file).
	Circuit string
	Active  bool
}

// HearingLocation is one EOIR hearing location.
type HearingLocation struct {
	Code, BaseCity, State string
	// Circuit is the location's CircuitCourt ("" when unknown).
	Circuit string
}

// Data is the loaded reference data.
type Data struct {
	Courts    []Court // sorted by Code
	courtIdx  map[string]int
	Locations map[string]HearingLocation
	// Languages and Nationalities are EOIR's code tables (tblLanguage,
	// tblLookupAlienNat).
	Languages, Nationalities *CodeTable
	// SHA256 is the hash over all tables' bytes, for the manifest.
	SHA256 string
}

// Table is a replacement table: its bytes, and a name for messages (its
// file's path).
type Table struct {
	Name  string
	Bytes []byte
}

// Replacements optionally replace embedded tables; nil fields keep the
// embedded ones.
type Replacements struct {
	Courts, HearingLocations *Table
}

// Default is the embedded reference data.
func Default() (*Data, error) { return Load(Replacements{}) }

// Load builds the reference data from the embedded tables and the
// replacements. SHA256 hashes every table's bytes in a fixed order.
func Load(p Replacements) (*Data, error) {
	h := sha256.New()
	read := func(override *Table, name string) ([]byte, string, error) {
		if override != nil {
			h.Write(override.Bytes)
			return override.Bytes, override.Name, nil
		}
		b, err := embedded.ReadFile("data/" + name)
		h.Write(b)
		return b, "embedded " + name, err
	}
	d := &Data{courtIdx: map[string]int{}, Locations: map[string]HearingLocation{}}
	circuits, err := readCircuits(read)
	if err != nil {
		return nil, err
	}
	if err := d.readCourts(read, p.Courts, circuits); err != nil {
		return nil, err
	}
	if err := d.readLocations(read, p.HearingLocations, circuits); err != nil {
		return nil, err
	}
	if d.Languages, err = codeTable(read, "eoir_languages.csv"); err != nil {
		return nil, err
	}
	if d.Nationalities, err = codeTable(read, "eoir_nationalities.csv"); err != nil {
		return nil, err
	}
	d.SHA256 = hex.EncodeToString(h.Sum(nil))
	return d, nil
}

// reader returns a table's bytes and its name for messages: the
// replacement's, or the embedded table's (and hashes them).
type reader func(override *Table, name string) ([]byte, string, error)

// readCircuits reads the federal circuit of each state.
func readCircuits(read reader) (map[string]string, error) {
	circuits := map[string]string{}
	b, src, err := read(nil, "us_federal_circuits.csv")
	if err != nil {
		return nil, err
	}
	if err := eachRow(b, src, []string{"circuit", "state_code"}, func(r row) error {
		circuits[r.get("state_code")] = r.get("circuit")
		return nil
	}); err != nil {
		return nil, err
	}
	return circuits, nil
}

// readCourts reads the courts (base cities), sorted by code, each with its
// state's circuit.
func (d *Data) readCourts(read reader, override *Table, circuits map[string]string) error {
	b, src, err := read(override, "eoir_base_cities.csv")
	if err != nil {
		return err
	}
	if err := eachRow(b, src, []string{"base_city_code", "state"}, func(r row) error {
		c := Court{
			Code: strings.TrimSpace(r.get("base_city_code")), Name: r.get("base_city_name"),
			City: r.get("city"), State: strings.TrimSpace(r.get("state")),
			Active: !strings.EqualFold(r.get("bln_active"), "false"),
		}
		if c.Code == "" {
			return r.errf("base_city_code", "empty court code")
		}
		if _, dup := d.courtIdx[c.Code]; dup {
			return r.errf("base_city_code", "duplicate court code %q", c.Code)
		}
		if c.State != "" {
			c.Circuit = circuits[c.State]
			if c.Circuit == "" {
				return r.errf("state", "state %q has no federal circuit", c.State)
			}
		}
		d.courtIdx[c.Code] = len(d.Courts)
		d.Courts = append(d.Courts, c)
		return nil
	}); err != nil {
		return err
	}
	sort.Slice(d.Courts, func(i, j int) bool { return d.Courts[i].Code < d.Courts[j].Code })
	for i, c := range d.Courts {
		d.courtIdx[c.Code] = i
	}
	return nil
}

// readLocations reads the hearing locations, each with its circuit (its
// own, else its state's).
func (d *Data) readLocations(read reader, override *Table, circuits map[string]string) error {
	b, src, err := read(override, "eoir_hearing_locations.csv")
	if err != nil {
		return err
	}
	if err := eachRow(b, src, []string{"hearing_loc_code", "hearing_base_city", "circuitcourt"}, func(r row) error {
		l := HearingLocation{
			Code: strings.TrimSpace(r.get("hearing_loc_code")), BaseCity: strings.TrimSpace(r.get("hearing_base_city")),
			State: strings.TrimSpace(r.get("hearing_state")), Circuit: strings.TrimSpace(r.get("circuitcourt")),
		}
		if l.Code == "" {
			return r.errf("hearing_loc_code", "empty hearing location code")
		}
		if l.Circuit != "" {
			n, err := strconv.Atoi(l.Circuit)
			if (err != nil || n < 1 || n > 11) && l.Circuit != "DC" {
				return r.errf("CircuitCourt", "circuit %q is not 1..11 or DC", l.Circuit)
			}
		} else if c := circuits[l.State]; c != "" {
			l.Circuit = c
		}
		d.Locations[l.Code] = l
		return nil
	}); err != nil {
		return err
	}
	return nil
}

// CodeTable is an EOIR lookup table: codes and their descriptions.
type CodeTable struct {
	// Codes holds the table's codes, sorted; Index numbers them from 1.
	Codes []string
	desc  map[string]string
	idx   map[string]uint16
}

// Index returns code's 1-based position in Codes, or 0 when code is not
// in the table (so 0 can stand for "null or unknown").
func (t *CodeTable) Index(code string) uint16 { return t.idx[code] }

// Description returns the code's description ("" when unknown).
func (t *CodeTable) Description(code string) string { return t.desc[code] }

func codeTable(read reader, name string) (*CodeTable, error) {
	b, src, err := read(nil, name)
	if err != nil {
		return nil, err
	}
	t := &CodeTable{desc: map[string]string{}, idx: map[string]uint16{}}
	err = eachRow(b, src, []string{"code", "description"}, func(r row) error {
		code := strings.TrimSpace(r.get("code"))
		if code == "" {
			return r.errf("code", "empty code")
		}
		if _, dup := t.desc[code]; dup {
			return r.errf("code", "duplicate code %q", code)
		}
		t.desc[code] = strings.TrimSpace(r.get("description"))
		t.Codes = append(t.Codes, code)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(t.Codes) >= 1<<16-1 {
		return nil, fmt.Errorf("%w: %s: %d codes, more than recal can index", ErrBadReference, src, len(t.Codes))
	}
	sort.Strings(t.Codes)
	for i, c := range t.Codes {
		t.idx[c] = uint16(i + 1)
	}
	return t, nil
}

// Court returns the court with that code.
func (d *Data) Court(code string) (Court, bool) {
	i, ok := d.courtIdx[code]
	if !ok {
		return Court{}, false
	}
	return d.Courts[i], true
}

// CourtIndex returns the position of code in Courts, or -1.
func (d *Data) CourtIndex(code string) int {
	i, ok := d.courtIdx[code]
	if !ok {
		return -1
	}
	return i
}

// CircuitOf returns the governing circuit of a case: its hearing
// location's, else its court's, else "" (unknown).
func (d *Data) CircuitOf(courtCode, hearingLoc string) string {
	if l, ok := d.Locations[hearingLoc]; ok && l.Circuit != "" {
		return l.Circuit
	}
	c, _ := d.Court(courtCode)
	return c.Circuit
}

// StateOf returns the state of a case's hearing location, else its court.
func (d *Data) StateOf(courtCode, hearingLoc string) string {
	if l, ok := d.Locations[hearingLoc]; ok && l.State != "" {
		return l.State
	}
	c, _ := d.Court(courtCode)
	return c.State
}

type row struct {
	src  string
	line int
	col  map[string]int
	rec  []string
}

func (r row) get(name string) string {
	i, ok := r.col[strings.ToLower(name)]
	if !ok || i >= len(r.rec) {
		return ""
	}
	return r.rec[i]
}

func (r row) errf(col, format string, a ...any) error {
	return fmt.Errorf("%w: %s line %d column %s: %s", ErrBadReference, r.src, r.line, col, fmt.Sprintf(format, a...))
}

func eachRow(b []byte, src string, required []string, fn func(row) error) error {
	cr := csv.NewReader(bytes.NewReader(b))
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if err != nil {
		return fmt.Errorf("%w: %s: header: %w", ErrBadReference, src, err)
	}
	cols := map[string]int{}
	for i, h := range header {
		cols[strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))] = i
	}
	for _, req := range required {
		if _, ok := cols[req]; !ok {
			return fmt.Errorf("%w: %s: missing column %q", ErrBadReference, src, req)
		}
	}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%w: %s: %w", ErrBadReference, src, err)
		}
		line, _ := cr.FieldPos(0)
		if err := fn(row{src: src, line: line, col: cols, rec: rec}); err != nil {
			return err
		}
	}
}
