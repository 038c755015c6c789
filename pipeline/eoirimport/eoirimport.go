// Package eoirimport builds recal's closed-case export (contract §1.1) from
// EOIR's public case-data release: `recal import-eoir`. It streams the
// release's tables (pipeline/eoir), applies the still-closed test
// (transforms/stillclosed) and writes the export as Parquet objects, with
// the rows it could not use as rejects (file, line, reason).
//
// Memory: one small record per case while the proceedings are read (the
// latest proceeding's id, closure code and date), then only the closed
// cases' records; the other tables are streamed against those.
package eoirimport

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/recal-project/recal/pipeline/eoir"
	"github.com/recal-project/recal/pipeline/location"
	"github.com/recal-project/recal/pipeline/progress"
	"github.com/recal-project/recal/pipeline/release"
	"github.com/recal-project/recal/pipeline/sink"
	"github.com/recal-project/recal/pipeline/storage"
	"github.com/recal-project/recal/pipeline/sysexit"
	"github.com/recal-project/recal/transforms/observed"
	"github.com/recal-project/recal/transforms/stillclosed"
)

// Config is the configuration of `recal import-eoir`.
type Config struct {
	// Release is the folder or prefix holding the release's tables.
	Release string
	// Output is where export/, rejects/ and import.json are written.
	Output string
	// Crosswalk, when set, is a CSV of retired court codes
	// (old_code,new_code); there is no built-in one.
	Crosswalk string
	// ObjectRows bounds the rows of one export object (default 500,000).
	ObjectRows int
	TempDir    string
	Locations  location.Options
	Log        *slog.Logger
	// Force takes over another import's live claim on Output;
	// ClaimStale is how long a claim may go without a heartbeat before
	// it is taken over anyway (0: claim.DefaultStale).
	Force      bool
	ClaimStale time.Duration
	// Progress, when set, is updated as the import goes: the table being
	// read, rows, bytes read from storage (compressed ones from a zip).
	Progress *progress.Progress
	// The capacity calendar observed from tbl_schedule (capacity.csv and
	// capacity.json beside export/; docs/eoir-import.md): CapacityWeeks
	// weeks before ReleaseDate (default DefaultCapacityWeeks; "" infers
	// the date), RecalShare of each recurring session's median (default
	// DefaultRecalShare), or with SessionCap > 0 the headroom of each
	// future session under that cap. Without a usable tbl_schedule the
	// import warns and writes no calendar, unless CapacityRequired; with
	// NoCapacity it does not try.
	CapacityWeeks    int
	RecalShare       float64
	SessionCap       int
	ReleaseDate      string
	CapacityRequired bool
	NoCapacity       bool
}

// Report is import.json: what the import read, kept and rejected.
type Report struct {
	Tables map[string]TableReport `json:"tables"`
	// Cases counts cases by their latest proceeding's state.
	Cases struct {
		Total       int64            `json:"total"`
		Closed      int64            `json:"closed"`
		StillClosed int64            `json:"still_closed"`
		Reopened    map[string]int64 `json:"reopened_by"`
	} `json:"cases"`
	// Exported is the export's row count; Objects its objects.
	Exported int64         `json:"exported"`
	Objects  []sink.Object `json:"objects"`
	// RejectsByCode counts rejected rows by reason, over all tables.
	RejectsByCode map[string]int64 `json:"rejects_by_code"`
	// Crosswalked counts court codes mapped through the crosswalk.
	Crosswalked map[string]int64 `json:"crosswalked"`
	// Capacity describes capacity.csv (nil: none written, and
	// CapacitySkipped says why).
	Capacity        *observed.Report `json:"capacity,omitempty"`
	CapacitySkipped string           `json:"capacity_skipped,omitempty"`
	Seconds         float64          `json:"seconds"`
}

// TableReport describes one table read.
type TableReport struct {
	Key       string `json:"key"`
	Delimiter string `json:"delimiter"`
	Rows      int64  `json:"rows"`
	Rejected  int64  `json:"rejected"`
	// Recoded counts lines read as Windows-1252.
	Recoded int64 `json:"recoded_lines"`
	// NULFields counts fields read with NUL bytes in them (removed).
	NULFields int64 `json:"nul_fields"`
	// Bytes is the table's size; StoredBytes what it takes in the
	// release (compressed, in a zip).
	Bytes       int64 `json:"bytes"`
	StoredBytes int64 `json:"stored_bytes"`
	// Reads is how many times the import read the table, taking
	// Seconds in all.
	Reads   int     `json:"reads"`
	Seconds float64 `json:"seconds"`
}

// The tables the import reads (file names match case-insensitively, with
// any extension).
const (
	tProceeding = "B_TblProceeding"
	tCase       = "A_TblCase"
	tMotions    = "tbl_Court_Motions"
	tSchedule   = "tbl_schedule"
	tCustody    = "tbl_CustodyHistory"
)

// reject is one unusable row.
type reject struct {
	table   string
	line    int64
	idnProc int64
	hasID   bool
	code    string
	message string
}

// record is a still-closed candidate's export row, as strings from the
// proceeding and the case, before typing.
type record struct {
	idncase, idnproc                              int64
	court, hloc, ij, caseType, custody, nat, lang string
	osc, input                                    int32
	hasInput                                      bool
	otherComp, crim, aggr, absentia               string
	// From A_TblCase.
	entry, birth, e28, latestHearing                 int32
	hasEntry, hasBirth, hasE28, hasLatest            bool
	caseCustody, caseType2, caseNat, caseLang, prior string
	// From tbl_CustodyHistory: the latest record's id, and the custody
	// it gives ("" unknown).
	custodyID int64
	history   string
}

// candidate is a case whose latest proceeding is closed: the test's
// state, its export row, and how far the import got with it.
type candidate struct {
	c     stillclosed.Case
	r     record
	state uint8
}

// The states of a candidate.
const (
	statePending  uint8 = iota // its proceeding's fields not read yet
	stateRecorded              // read: r holds them
	stateRejected              // its proceeding row was rejected
)

// Import runs the import.
func Import(ctx context.Context, cfg Config) (_ *Report, err error) {
	im := &importer{cfg: cfg, started: time.Now()}
	defer func() { err = im.end(ctx, err) }() // releases the claim; a failed import removes what it wrote
	for _, stage := range []func(context.Context) error{
		im.open,         // settings, reference data, crosswalk, the release's tables
		im.claim,        // one writer per output, before the release is read
		im.latest,       // pass 1 over the proceedings: each case's latest, the closed ones
		im.closedFields, // pass 2: the closed proceedings' fields
		im.caseFields,   // A_TblCase's fields; which cases are juveniles' and detained
		im.afterClosure, // hearing settings, motions and custody after the closure; the sessions
		im.capacity,     // the calendar observed from the sessions
		im.write,        // export/ and rejects/ of the still-closed cases
		im.commit,       // import.json, then _SUCCESS
	} {
		if err := stage(ctx); err != nil {
			return nil, err
		}
	}
	return im.rep, nil
}

// importID names an import by its settings, for its claim on the output
// and its _SUCCESS: a rerun of the same import may take over a dead one's
// claim at once. The calendar's settings count (they change
// capacity.csv), with their defaults filled in.
func importID(cfg Config) string {
	weeks, share := cfg.CapacityWeeks, cfg.RecalShare
	if weeks <= 0 {
		weeks = DefaultCapacityWeeks
	}
	if share <= 0 {
		share = DefaultRecalShare
	}
	capacity := "none"
	if !cfg.NoCapacity {
		capacity = fmt.Sprintf("weeks=%d;share=%g;cap=%d;release_date=%s", weeks, share, cfg.SessionCap, cfg.ReleaseDate)
	}
	h := sha256.Sum256([]byte(fmt.Sprintf("import-eoir\n%s\n%s\n%d\ncapacity=%s\n", cfg.Release, cfg.Crosswalk, cfg.ObjectRows, capacity)))
	return hex.EncodeToString(h[:8])
}

// prune deletes the objects under export/ and rejects/ that this import
// did not write: parts of an earlier, larger import into the same output.
func prune(ctx context.Context, out storage.Store, written []sink.Object) error {
	keep := make(map[string]bool, len(written))
	for _, o := range written {
		keep[o.Key] = true
	}
	if err := storage.DeleteOthers(ctx, out, []string{"export/", "rejects/", "capacity.csv", "capacity.json"}, keep); err != nil {
		return sysexit.With(sysexit.ErrIO, fmt.Errorf("output %s: %w", out, err))
	}
	return nil
}

// discard removes, after a failed import, the objects it wrote (best
// effort, also when ctx was cancelled): no half-written export stays.
func discard(out storage.Store, objs []sink.Object, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, o := range objs {
		if err := out.Delete(ctx, o.Key); err != nil {
			log.Warn("could not remove an object of the failed import", "key", o.Key, "err", err)
		}
	}
}

// interner keeps one shared copy of each distinct code (the tables' code
// columns hold few values): a substring would keep its whole line alive,
// and a copy per row would not be shared.
type interner map[string]string

func (in interner) intern(s string) string {
	s = strings.TrimSpace(s)
	if v, ok := in[s]; ok {
		return v
	}
	if len(in) > 1<<16 { // free text, not codes: stop sharing
		return strings.Clone(s)
	}
	v := strings.Clone(s)
	in[v] = v
	return v
}

// positive parses a positive integer id (EOIR writes some as "123.0").
func positive(s string) (int64, bool) {
	s = strings.TrimSuffix(s, ".0")
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil && n > 0
}

// findTables maps each table the import knows to its file in the release
// (any folder inside a zip): the base name, up to its first dot, matched
// case-insensitively.
func findTables(rel release.Release) (map[string]release.Table, error) {
	out := map[string]release.Table{}
	for _, o := range rel.Tables() {
		name := release.BaseName(o.Name)
		for _, t := range []string{tProceeding, tCase, tMotions, tSchedule, tCustody} {
			if strings.EqualFold(name, t) {
				if prev, ok := out[t]; ok {
					return nil, sysexit.Errorf(sysexit.ErrData, "release %s has two %s tables: %s and %s", rel, t, prev.Name, o.Name)
				}
				out[t] = o
			}
		}
	}
	return out, nil
}

// scan reads a table, giving fn the fields cols name (in that order) of
// every row. The rows fn returns a reject for are rejected. On the first
// read of a table (first), rows of the wrong width are rejected too and
// the table's figures recorded; a second read of the same table skips
// them silently.
func (im *importer) scan(ctx context.Context, key string, first bool, cols []string, fn func(f []string, line int64) *reject) error {
	return im.scanWith(ctx, key, first, func(map[string]bool) ([]string, error) { return cols, nil }, fn)
}

// scanWith is scan with the columns chosen from the table's header (its
// names in upper case).
func (im *importer) scanWith(ctx context.Context, key string, first bool, choose func(header map[string]bool) ([]string, error), fn func(f []string, line int64) *reject) error {
	started := time.Now()
	im.cfg.Progress.SetStage("import " + release.BaseName(key))
	t, err := im.openTable(ctx, key, choose)
	if err != nil {
		return err
	}
	defer t.Close()
	name := release.BaseName(key)
	tr := im.rep.Tables[name]
	if first {
		tb := im.tableOf(key)
		tr = TableReport{Key: key, Delimiter: map[byte]string{'\t': "tab", '|': "pipe", ',': "comma"}[t.Delim], Bytes: tb.Size, StoredBytes: tb.Stored}
	}
	if err := im.rows(ctx, t, first, &tr, fn); err != nil {
		return err
	}
	im.cfg.Progress.DoneObject()
	if first {
		tr.Recoded, tr.NULFields = t.Recoded, t.NULs
	}
	tr.Reads++
	tr.Seconds += time.Since(started).Seconds()
	im.rep.Tables[name] = tr
	return nil
}

// openTable opens table key of the release with the columns choose picks
// from its header (names in upper case) selected, in that order.
func (im *importer) openTable(ctx context.Context, key string, choose func(header map[string]bool) ([]string, error)) (*eoir.Table, error) {
	rc, err := im.rel.Open(ctx, key)
	if err != nil {
		return nil, err
	}
	t, err := eoir.Open(key, rc)
	if err != nil {
		rc.Close()
		return nil, sysexit.With(sysexit.ErrData, err)
	}
	head := make(map[string]bool, len(t.Header))
	for _, h := range t.Header {
		head[strings.ToUpper(strings.TrimSpace(h))] = true
	}
	cols, err := choose(head)
	if err != nil {
		t.Close()
		return nil, err
	}
	idx, err := t.Require(cols...)
	if err != nil {
		t.Close()
		return nil, sysexit.With(sysexit.ErrData, err)
	}
	t.Select(idx) // rows hold cols, in order
	return t, nil
}

// rows gives fn every row of t, counting rows and rejects in tr (on the
// table's first read) and progress.
func (im *importer) rows(ctx context.Context, t *eoir.Table, first bool, tr *TableReport, fn func(f []string, line int64) *reject) error {
	prog, key := im.cfg.Progress, t.Name
	var rows int64
	defer func() { prog.ReadRows(int(rows)) }()
	for n := 0; ; n++ {
		if n%65536 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
			prog.ReadRows(int(rows))
			rows = 0
		}
		row, line, err := t.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		rows++
		var re *eoir.RowError
		if errors.As(err, &re) {
			if first {
				tr.Rows++
				tr.Rejected++
				im.addReject(reject{table: key, line: line, code: "FIELD_COUNT", message: firstLine(re.Err.Error())})
			}
			continue
		}
		if err != nil {
			return sysexit.With(sysexit.ErrIO, err)
		}
		if first {
			tr.Rows++
		}
		if r := fn(row, line); r != nil {
			tr.Rejected++
			r.table, r.line = key, line
			im.addReject(*r)
		}
	}
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
