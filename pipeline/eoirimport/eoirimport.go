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
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow/go/v15/arrow/array"

	"github.com/recal-project/recal/pipeline/claim"
	"github.com/recal-project/recal/pipeline/eoir"
	"github.com/recal-project/recal/pipeline/location"
	"github.com/recal-project/recal/pipeline/refdata"
	"github.com/recal-project/recal/pipeline/sink"
	"github.com/recal-project/recal/pipeline/storage"
	"github.com/recal-project/recal/pipeline/sysexit"
	"github.com/recal-project/recal/transforms/civil"
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
	Seconds     float64          `json:"seconds"`
}

// TableReport describes one table read.
type TableReport struct {
	Key       string `json:"key"`
	Delimiter string `json:"delimiter"`
	Rows      int64  `json:"rows"`
	Rejected  int64  `json:"rejected"`
	// Recoded counts lines read as Windows-1252.
	Recoded int64 `json:"recoded_lines"`
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
	started := time.Now()
	log := cfg.Log
	if log == nil {
		log = slog.Default()
	}
	if cfg.Release == "" || cfg.Output == "" {
		return nil, sysexit.Errorf(sysexit.ErrUsage, "--release and --output are required")
	}
	if cfg.ObjectRows <= 0 {
		cfg.ObjectRows = 500_000
	}
	ref, err := refdata.Load(refdata.Paths{})
	if err != nil {
		return nil, err
	}
	cross, err := loadCrosswalk(ctx, cfg)
	if err != nil {
		return nil, err
	}
	rel, err := location.Open(ctx, cfg.Release, cfg.Locations)
	if err != nil {
		return nil, err
	}
	out, err := location.Open(ctx, cfg.Output, cfg.Locations)
	if err != nil {
		return nil, err
	}
	// One writer per output, claimed before the release is read: a second
	// import into the same output stops at once (exit 75).
	id := importID(cfg)
	rules := claim.Rules{RunID: id, Force: cfg.Force, Stale: cfg.ClaimStale, Output: out.String(), Log: log}
	oc, err := claim.Acquire(ctx, out, "", claim.Record{RunID: id, Command: "import-eoir"}, rules.Decide, claim.Options{})
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil && ctx.Err() == nil {
			if verr := oc.Verify(context.WithoutCancel(ctx)); errors.Is(verr, claim.ErrLost) && !errors.Is(err, claim.ErrLost) {
				err = fmt.Errorf("%w; this import then failed with: %v", verr, err)
			}
		}
		if rerr := oc.Release(context.WithoutCancel(ctx)); rerr != nil {
			log.Warn("claim not released", "error", rerr)
		}
	}()
	tables, err := findTables(ctx, rel)
	if err != nil {
		return nil, err
	}
	for _, need := range []string{tProceeding, tCase} {
		if tables[need] == "" {
			return nil, sysexit.Errorf(sysexit.ErrNoInput, "release %s has no %s table (looked for %s.* in any case)", rel, need, need)
		}
	}
	rep := &Report{Tables: map[string]TableReport{}, RejectsByCode: map[string]int64{}, Crosswalked: map[string]int64{}}
	rep.Cases.Reopened = map[string]int64{}
	var rejects []reject
	addReject := func(r reject) {
		rejects = append(rejects, r)
		rep.RejectsByCode[r.code]++
	}

	// Pass 1 over the proceedings: per row its case, id, order, and
	// whether it is a closure (32 bytes); sorted by case, then folded:
	// each case's latest proceeding. A sort and one pass cost a fraction
	// of a hash map over every case of a release.
	type proc struct {
		idc, idp, ord int64
		comp          int32
		closure, has  bool
	}
	// Sized from the table's bytes (a row of the release's 35 columns
	// takes more than 48): growing a slice of millions copies it whole,
	// and while the copy runs the garbage collector cannot stop the
	// goroutine (measured: 11 s of 25 went to that at 5M rows).
	var procs []proc
	if info, err := rel.Stat(ctx, tables[tProceeding]); err == nil {
		procs = make([]proc, 0, min(info.Size/48+1, 1<<28))
	}
	err = scan(ctx, rel, tables[tProceeding], true, rep, addReject, []string{"IDNCASE", "IDNPROCEEDING", "OTHER_COMP", "COMP_DATE"},
		func(f []string, line int64) *reject {
			idc, okc := positive(f[0])
			idp, okp := positive(f[1])
			if !okc || !okp {
				return &reject{code: "NONPOSITIVE_ID", message: "IDNCASE or IDNPROCEEDING is not a positive integer", idnProc: idp, hasID: okp}
			}
			comp, hasComp := civil.ParseDate(f[3])
			procs = append(procs, proc{idc: idc, idp: idp, ord: line, comp: comp, has: hasComp,
				closure: stillclosed.ClosureCodes[strings.ToUpper(strings.TrimSpace(f[2]))]})
			return nil
		})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(procs, func(a, b proc) int {
		if a.idc != b.idc {
			return cmp.Compare(a.idc, b.idc)
		}
		return cmp.Compare(a.ord, b.ord)
	})
	// Only the closed cases matter from here on: the candidates, in case
	// order, found by idx.
	type closed struct {
		idc int64
		l   stillclosed.Latest
	}
	var found []closed
	for i := 0; i < len(procs); {
		var l stillclosed.Latest
		j := i
		for ; j < len(procs) && procs[j].idc == procs[i].idc; j++ {
			l.AddClassified(procs[j].idp, procs[j].closure, procs[j].comp, procs[j].has)
		}
		rep.Cases.Total++
		if l.Closed {
			found = append(found, closed{procs[i].idc, l})
		}
		i = j
	}
	procs = nil
	cands := make([]candidate, len(found)) // sized once (see procs)
	ids := make([]int64, len(found))
	for i, f := range found {
		ids[i] = f.idc
		cands[i].c.Latest = f.l
	}
	found = nil
	idx := newIDIndex(ids) // every other row of the release looks its case up here
	ids = nil
	rep.Cases.Closed = int64(len(cands))
	log.Info("proceedings read", "cases", rep.Cases.Total, "closed", rep.Cases.Closed)
	// get returns the candidate of a case in state want, or nil.
	get := func(idc int64, want uint8) *candidate {
		i, ok := idx.get(idc)
		if !ok || cands[i].state != want {
			return nil
		}
		return &cands[i]
	}

	// Pass 2: the closed proceedings' fields.
	codes := interner{}
	cl := codes.intern
	procCols := []string{"IDNCASE", "IDNPROCEEDING", "BASE_CITY_CODE", "HEARING_LOC_CODE", "IJ_CODE", "CASE_TYPE", "CUSTODY", "NAT", "LANG",
		"OSC_DATE", "INPUT_DATE", "COMP_DATE", "OTHER_COMP", "CRIM_IND", "AGGRAVATE_FELON", "ABSENTIA"}
	err = scan(ctx, rel, tables[tProceeding], false, rep, addReject, procCols, func(f []string, line int64) *reject {
		idc, _ := positive(f[0])
		idp, _ := positive(f[1])
		i, ok := idx.get(idc)
		if !ok || cands[i].c.Proceeding != idp || cands[i].state == stateRejected {
			return nil
		}
		k := &cands[i]
		if k.state == stateRecorded { // the same IDNPROCEEDING again: the first row wins
			return &reject{code: "DUPLICATE_IDNPROCEEDING", message: "IDNPROCEEDING already seen in an earlier row (the first wins)", idnProc: idp, hasID: true}
		}
		osc, okOSC := civil.ParseDate(f[9])
		if !okOSC {
			k.state = stateRejected
			return &reject{code: "MALFORMED_REQUIRED", message: "OSC_DATE is not a date", idnProc: idp, hasID: true}
		}
		court := strings.ToUpper(strings.TrimSpace(f[2]))
		if to, ok := cross[court]; ok {
			rep.Crosswalked[court+"->"+to]++
			court = to
		}
		if ref.CourtIndex(court) < 0 {
			k.state = stateRejected
			return &reject{code: "UNKNOWN_COURT", message: "BASE_CITY_CODE is not in the court reference or the crosswalk", idnProc: idp, hasID: true}
		}
		k.r = record{idncase: idc, idnproc: idp, court: cl(court), hloc: cl(f[3]), ij: cl(f[4]), caseType: cl(f[5]), custody: cl(f[6]), nat: cl(f[7]), lang: cl(f[8]),
			osc: osc, otherComp: cl(strings.ToUpper(f[12])), crim: cl(f[13]), aggr: cl(f[14]), absentia: cl(f[15])}
		k.r.input, k.r.hasInput = civil.ParseDate(f[10])
		k.state = stateRecorded
		return nil
	})
	if err != nil {
		return nil, err
	}

	// Hearing settings and motions after the closure (optional tables).
	if k := tables[tSchedule]; k != "" {
		err = scan(ctx, rel, k, true, rep, addReject, []string{"IDNCASE", "ADJ_DATE"}, func(f []string, line int64) *reject {
			idc, _ := positive(f[0])
			if k := get(idc, stateRecorded); k != nil {
				if d, ok := civil.ParseDate(f[1]); ok {
					k.c.Setting(d)
				}
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	if k := tables[tMotions]; k != "" {
		err = scan(ctx, rel, k, true, rep, addReject, []string{"IDNCASE", "REC_TYPE", "DEC", "MOTION_RECD_DATE"}, func(f []string, line int64) *reject {
			idc, _ := positive(f[0])
			if k := get(idc, stateRecorded); k != nil {
				d, ok := civil.ParseDate(f[3])
				k.c.Motion(cl(strings.ToUpper(f[1])), cl(strings.ToUpper(f[2])), d, ok)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	// The latest custody record of each closed case (optional table).
	if k := tables[tCustody]; k != "" {
		err = scan(ctx, rel, k, true, rep, addReject, []string{"IDNCASE", "IDNCUSTODY", "CUSTODY", "DATRELEASED"}, func(f []string, line int64) *reject {
			idc, _ := positive(f[0])
			k := get(idc, stateRecorded)
			if k == nil {
				return nil
			}
			id, ok := positive(f[1])
			if !ok {
				return &reject{code: "NONPOSITIVE_ID", message: "IDNCUSTODY is not a positive integer"}
			}
			if id > k.r.custodyID {
				_, released := civil.ParseDate(f[3])
				k.r.custodyID, k.r.history = id, stillclosed.CurrentCustody(strings.ToUpper(strings.TrimSpace(f[2])), released)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	// Case-level fields.
	err = scan(ctx, rel, tables[tCase], true, rep, addReject, []string{"IDNCASE", "NAT", "LANG", "CUSTODY", "CASE_TYPE", "LATEST_HEARING",
		"DATE_OF_ENTRY", "C_BIRTHDATE", "CASEPRIORITY_CODE", "E_28_DATE"}, func(f []string, line int64) *reject {
		idc, _ := positive(f[0])
		k := get(idc, stateRecorded)
		if k == nil {
			return nil
		}
		r := &k.r
		r.caseNat, r.caseLang, r.caseCustody, r.caseType2 = cl(f[1]), cl(f[2]), cl(f[3]), cl(f[4])
		r.latestHearing, r.hasLatest = civil.ParseDate(f[5])
		r.entry, r.hasEntry = civil.ParseDate(f[6])
		r.birth, r.hasBirth = civil.ParseDate(f[7])
		r.prior = cl(f[8])
		r.e28, r.hasE28 = civil.ParseDate(f[9])
		return nil
	})
	if err != nil {
		return nil, err
	}

	// The still-closed cases, in idnproceeding order.
	var still []*candidate
	for i := range cands {
		k := &cands[i]
		switch {
		case k.state != stateRecorded: // rejected by the proceeding's second read
		case k.c.Reopened:
			rep.Cases.Reopened[k.c.Why]++
		default:
			still = append(still, k)
		}
	}
	slices.SortFunc(still, func(a, b *candidate) int { return cmp.Compare(a.r.idnproc, b.r.idnproc) })
	rows := make([]*record, len(still))
	motions := make([]*stillclosed.Case, len(still))
	for i, k := range still {
		rows[i], motions[i] = &k.r, &k.c
	}
	rep.Cases.StillClosed = int64(len(rows))
	rep.Exported = int64(len(rows))

	// From here until the new _SUCCESS, the output is not to be trusted;
	// on failure the objects this import wrote are removed again.
	if err := out.Delete(ctx, "_SUCCESS"); err != nil {
		return nil, sysexit.With(sysexit.ErrIO, fmt.Errorf("output %s: %w", out, err))
	}
	committed := false
	defer func() {
		if !committed {
			discard(out, rep.Objects, log)
		}
	}()
	objs, err := sink.WriteParts(ctx, out, "export", 0, exportSchema, len(rows), func(b *array.RecordBuilder, from, to int) {
		for i := from; i < to; i++ {
			appendRow(b, rows[i], motions[i])
		}
	}, sink.Options{TempDir: cfg.TempDir, MaxRowsPerFile: cfg.ObjectRows})
	rep.Objects = objs // those written, also on failure
	if err != nil {
		return nil, err
	}
	sort.Slice(rejects, func(i, j int) bool {
		if rejects[i].table != rejects[j].table {
			return rejects[i].table < rejects[j].table
		}
		return rejects[i].line < rejects[j].line
	})
	rj, err := sink.WriteParts(ctx, out, "rejects", 0, rejectSchema, len(rejects), func(b *array.RecordBuilder, from, to int) {
		for _, r := range rejects[from:to] {
			b.Field(0).(*array.StringBuilder).Append(r.table)
			b.Field(1).(*array.Int64Builder).Append(r.line)
			if r.hasID {
				b.Field(2).(*array.Int64Builder).Append(r.idnProc)
			} else {
				b.Field(2).AppendNull()
			}
			b.Field(3).(*array.StringBuilder).Append(r.code)
			b.Field(4).(*array.StringBuilder).Append(r.message)
		}
	}, sink.Options{TempDir: cfg.TempDir})
	rep.Objects = append(rep.Objects, rj...)
	if err != nil {
		return nil, err
	}
	rep.Seconds = time.Since(started).Seconds()
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return nil, err
	}
	// What the commit makes visible is written only while the claim holds.
	if err := oc.Verify(ctx); err != nil {
		return nil, err
	}
	if err := prune(ctx, out, rep.Objects); err != nil {
		return nil, err
	}
	if err := storage.Put(ctx, out, "import.json", strings.NewReader(string(b)+"\n")); err != nil {
		return nil, err
	}
	if err := oc.Verify(ctx); err != nil {
		return nil, err
	}
	if err := out.CreateExclusive(ctx, "_SUCCESS", []byte(id+"\n")); err != nil {
		// A retried conditional write whose first answer was lost finds
		// its own marker.
		if b, rerr := storage.ReadAll(ctx, out, "_SUCCESS"); !errors.Is(err, storage.ErrExist) || rerr != nil || string(b) != id+"\n" {
			return nil, err
		}
	}
	committed = true
	log.Info("import complete", "cases", rep.Cases.Total, "closed", rep.Cases.Closed, "still_closed", rep.Cases.StillClosed,
		"rejected", len(rejects), "seconds", rep.Seconds)
	return rep, nil
}

// importID names an import by its settings, for its claim on the output:
// a rerun of the same import may take over a dead one's claim at once.
func importID(cfg Config) string {
	h := sha256.Sum256([]byte(fmt.Sprintf("import-eoir\n%s\n%s\n%d\n", cfg.Release, cfg.Crosswalk, cfg.ObjectRows)))
	return hex.EncodeToString(h[:8])
}

// prune deletes the objects under export/ and rejects/ that this import
// did not write: parts of an earlier, larger import into the same output.
func prune(ctx context.Context, out storage.Store, written []sink.Object) error {
	keep := make(map[string]bool, len(written))
	for _, o := range written {
		keep[o.Key] = true
	}
	if err := storage.DeleteOthers(ctx, out, []string{"export/", "rejects/"}, keep); err != nil {
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

// findTables maps each table the import knows to its object under the
// release: the base name, up to its first dot, matched case-insensitively.
func findTables(ctx context.Context, rel storage.Store) (map[string]string, error) {
	objs, err := rel.List(ctx, "")
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, o := range objs {
		name := baseName(o.Key)
		for _, t := range []string{tProceeding, tCase, tMotions, tSchedule, tCustody} {
			if strings.EqualFold(name, t) {
				if prev := out[t]; prev != "" {
					return nil, sysexit.Errorf(sysexit.ErrData, "release %s has two %s tables: %s and %s", rel, t, prev, o.Key)
				}
				out[t] = o.Key
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
func scan(ctx context.Context, st storage.Store, key string, first bool, rep *Report, addReject func(reject), cols []string, fn func(f []string, line int64) *reject) error {
	t, err := eoir.Open(ctx, st, key)
	if err != nil {
		return sysexit.With(sysexit.ErrData, err)
	}
	defer t.Close()
	idx, err := t.Require(cols...)
	if err != nil {
		return sysexit.With(sysexit.ErrData, err)
	}
	t.Select(idx) // rows hold cols, in order
	name := baseName(key)
	tr := rep.Tables[name]
	if first {
		tr = TableReport{Key: key, Delimiter: map[byte]string{'\t': "tab", '|': "pipe", ',': "comma"}[t.Delim]}
	}
	for n := 0; ; n++ {
		if n%65536 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		row, line, err := t.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		var re *eoir.RowError
		if errors.As(err, &re) {
			if first {
				tr.Rows++
				tr.Rejected++
				addReject(reject{table: key, line: line, code: "FIELD_COUNT", message: firstLine(re.Err.Error())})
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
			addReject(*r)
		}
	}
	if first {
		tr.Recoded = t.Recoded
	}
	rep.Tables[name] = tr
	return nil
}

func baseName(key string) string {
	name, _, _ := strings.Cut(path.Base(key), ".")
	return name
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
