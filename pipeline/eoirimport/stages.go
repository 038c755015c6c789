package eoirimport

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/apache/arrow/go/v15/arrow/array"

	"github.com/recal-project/recal/pipeline/commit"
	"github.com/recal-project/recal/pipeline/location"
	"github.com/recal-project/recal/pipeline/refdata"
	"github.com/recal-project/recal/pipeline/release"
	"github.com/recal-project/recal/pipeline/sink"
	"github.com/recal-project/recal/pipeline/storage"
	"github.com/recal-project/recal/pipeline/sysexit"
	"github.com/recal-project/recal/transforms/civil"
	"github.com/recal-project/recal/transforms/observed"
	"github.com/recal-project/recal/transforms/reference"
	"github.com/recal-project/recal/transforms/stillclosed"
)

// importer is what the stages of an import share.
type importer struct {
	cfg     Config
	started time.Time
	log     *slog.Logger
	ref     *reference.Data
	cross   map[string]string
	rel     release.Release
	out     storage.Store
	tables  map[string]release.Table
	id      string
	oc      *commit.Output
	rep     *Report
	rejects []reject
	// cands are the closed cases, in case order, found through idx.
	cands     []candidate
	idx       *idIndex
	codes     interner
	committed bool
	// lastComp is the latest COMP_DATE of the proceedings (dates the
	// release); juvenile and detained mark the cases A_TblCase says are
	// juveniles' (CASEPRIORITY_CODE UC, or under 18 at the release date)
	// and detained (CUSTODY D); obs gathers tbl_schedule's sessions for
	// the calendar, capRep and capCSV are what it gives.
	lastComp           int32
	juvenile, detained idSet
	obs                *observed.Observer
	capRep             *observed.Report
	capCSV             []byte
}

func (im *importer) addReject(r reject) {
	im.rejects = append(im.rejects, r)
	im.rep.RejectsByCode[r.code]++
}

// get returns the candidate of a case in state want, or nil.
func (im *importer) get(idc int64, want uint8) *candidate {
	i, ok := im.idx.get(idc)
	if !ok || im.cands[i].state != want {
		return nil
	}
	return &im.cands[i]
}

// tableOf returns the release's table named key.
func (im *importer) tableOf(key string) release.Table {
	for _, t := range im.tables {
		if t.Name == key {
			return t
		}
	}
	return release.Table{Name: key}
}

// end releases the claim and, when the import failed, removes what it
// wrote and says whether the claim was lost meanwhile.
func (im *importer) end(ctx context.Context, err error) error {
	if im.rel != nil {
		im.rel.Close()
	}
	if im.oc == nil {
		return err
	}
	if err != nil && !im.committed {
		discard(im.out, im.rep.Objects, im.log)
	}
	_, err = im.oc.End(ctx, err) // an import's output has no manifest: never "done by another"
	return err
}

func (im *importer) open(ctx context.Context) error {
	cfg := &im.cfg
	im.log = cfg.Log
	if im.log == nil {
		im.log = slog.Default()
	}
	if cfg.Release == "" || cfg.Output == "" {
		return sysexit.Errorf(sysexit.ErrUsage, "--release and --output are required")
	}
	if cfg.ObjectRows <= 0 {
		cfg.ObjectRows = 500_000
	}
	var err error
	if im.ref, err = refdata.Load(refdata.Paths{}); err != nil {
		return err
	}
	if im.cross, err = loadCrosswalk(ctx, *cfg); err != nil {
		return err
	}
	if im.rel, err = release.Open(ctx, cfg.Release, release.Options{Locations: cfg.Locations, Progress: cfg.Progress}); err != nil {
		return err
	}
	if im.out, err = location.Open(ctx, cfg.Output, cfg.Locations); err != nil {
		return err
	}
	im.rep = &Report{Tables: map[string]TableReport{}, RejectsByCode: map[string]int64{}, Crosswalked: map[string]int64{}}
	im.rep.Cases.Reopened = map[string]int64{}
	im.codes = interner{}
	return nil
}

// claim claims the output before the release is read: a second import
// into the same output stops at once (exit 75). Then it finds the tables.
func (im *importer) claim(ctx context.Context) error {
	im.id = importID(im.cfg)
	var err error
	if im.oc, err = commit.Claim(ctx, im.out, "", im.id, commit.Settings{Command: "import-eoir", Force: im.cfg.Force, Stale: im.cfg.ClaimStale}, im.log); err != nil {
		return err
	}
	if im.tables, err = findTables(im.rel); err != nil {
		return err
	}
	for _, need := range []string{tProceeding, tCase} {
		if im.tables[need].Name == "" {
			return sysexit.Errorf(sysexit.ErrNoInput, "release %s has no %s table (looked for %s.* in any case)", im.rel, need, need)
		}
	}
	im.cfg.Progress.SetUnit("table reads")
	im.cfg.Progress.StartRead(len(im.tables) + 1) // B_TblProceeding is read twice
	return nil
}

// latest is pass 1 over the proceedings: per row its case, id, order, and
// whether it is a closure (32 bytes); sorted by case, then folded: each
// case's latest proceeding. A sort and one pass cost a fraction of a hash
// map over every case of a release. Only the closed cases are kept.
func (im *importer) latest(ctx context.Context) error {
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
	procs = make([]proc, 0, min(im.tables[tProceeding].Size/48+1, 1<<28))
	err := im.scan(ctx, im.tables[tProceeding].Name, true, []string{"IDNCASE", "IDNPROCEEDING", "OTHER_COMP", "COMP_DATE"},
		func(f []string, line int64) *reject {
			idc, okc := positive(f[0])
			idp, okp := positive(f[1])
			if !okc || !okp {
				return &reject{code: "NONPOSITIVE_ID", message: "IDNCASE or IDNPROCEEDING is not a positive integer", idnProc: idp, hasID: okp}
			}
			comp, hasComp := civil.ParseDate(f[3])
			if hasComp && comp > im.lastComp {
				im.lastComp = comp
			}
			procs = append(procs, proc{idc: idc, idp: idp, ord: line, comp: comp, has: hasComp,
				closure: stillclosed.ClosureCodes[strings.ToUpper(strings.TrimSpace(f[2]))]})
			return nil
		})
	if err != nil {
		return err
	}
	slices.SortFunc(procs, func(a, b proc) int {
		if a.idc != b.idc {
			return cmp.Compare(a.idc, b.idc)
		}
		return cmp.Compare(a.ord, b.ord)
	})
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
		im.rep.Cases.Total++
		if l.Closed {
			found = append(found, closed{procs[i].idc, l})
		}
		i = j
	}
	procs = nil
	im.cands = make([]candidate, len(found)) // sized once (see procs)
	ids := make([]int64, len(found))
	for i, f := range found {
		ids[i] = f.idc
		im.cands[i].c.Latest = f.l
	}
	im.idx = newIDIndex(ids) // every other row of the release looks its case up here
	im.rep.Cases.Closed = int64(len(im.cands))
	im.log.Info("proceedings read", "cases", im.rep.Cases.Total, "closed", im.rep.Cases.Closed)
	return im.startCapacity()
}

// closedFields is pass 2: the closed proceedings' fields.
func (im *importer) closedFields(ctx context.Context) error {
	cl := im.codes.intern
	procCols := []string{"IDNCASE", "IDNPROCEEDING", "BASE_CITY_CODE", "HEARING_LOC_CODE", "IJ_CODE", "CASE_TYPE", "CUSTODY", "NAT", "LANG",
		"OSC_DATE", "INPUT_DATE", "COMP_DATE", "OTHER_COMP", "CRIM_IND", "AGGRAVATE_FELON", "ABSENTIA"}
	return im.scan(ctx, im.tables[tProceeding].Name, false, procCols, func(f []string, line int64) *reject {
		idc, _ := positive(f[0])
		idp, _ := positive(f[1])
		i, ok := im.idx.get(idc)
		if !ok || im.cands[i].c.Proceeding != idp || im.cands[i].state == stateRejected {
			return nil
		}
		k := &im.cands[i]
		if k.state == stateRecorded { // the same IDNPROCEEDING again: the first row wins
			return &reject{code: "DUPLICATE_IDNPROCEEDING", message: "IDNPROCEEDING already seen in an earlier row (the first wins)", idnProc: idp, hasID: true}
		}
		osc, okOSC := civil.ParseDate(f[9])
		if !okOSC {
			k.state = stateRejected
			return &reject{code: "MALFORMED_REQUIRED", message: "OSC_DATE is not a date", idnProc: idp, hasID: true}
		}
		court := strings.ToUpper(strings.TrimSpace(f[2]))
		if to, ok := im.cross[court]; ok {
			im.rep.Crosswalked[court+"->"+to]++
			court = to
		}
		if im.ref.CourtIndex(court) < 0 {
			k.state = stateRejected
			return &reject{code: "UNKNOWN_COURT", message: "BASE_CITY_CODE is not in the court reference or the crosswalk", idnProc: idp, hasID: true}
		}
		k.r = record{idncase: idc, idnproc: idp, court: cl(court), hloc: cl(f[3]), ij: cl(f[4]), caseType: cl(f[5]), custody: cl(f[6]), nat: cl(f[7]), lang: cl(f[8]),
			osc: osc, otherComp: cl(strings.ToUpper(f[12])), crim: cl(f[13]), aggr: cl(f[14]), absentia: cl(f[15])}
		k.r.input, k.r.hasInput = civil.ParseDate(f[10])
		k.state = stateRecorded
		return nil
	})
}

// afterClosure reads the optional tables: hearing settings and motions
// after the closure, and the latest custody record of each closed case.
func (im *importer) afterClosure(ctx context.Context) error {
	cl := im.codes.intern
	if err := im.settings(ctx); err != nil {
		return err
	}
	if k := im.tables[tMotions].Name; k != "" {
		err := im.scan(ctx, k, true, []string{"IDNCASE", "REC_TYPE", "DEC", "MOTION_RECD_DATE"}, func(f []string, line int64) *reject {
			idc, _ := positive(f[0])
			if k := im.get(idc, stateRecorded); k != nil {
				d, ok := civil.ParseDate(f[3])
				k.c.Motion(cl(strings.ToUpper(f[1])), cl(strings.ToUpper(f[2])), d, ok)
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	k := im.tables[tCustody].Name
	if k == "" {
		return nil
	}
	return im.scan(ctx, k, true, []string{"IDNCASE", "IDNCUSTODY", "CUSTODY", "DATRELEASED"}, func(f []string, line int64) *reject {
		idc, _ := positive(f[0])
		k := im.get(idc, stateRecorded)
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
}

// settings reads tbl_schedule: each case's settings after its closure,
// and the master calendars the capacity calendar is observed from.
func (im *importer) settings(ctx context.Context) error {
	k := im.tables[tSchedule].Name
	if k == "" {
		if im.obs != nil {
			return im.noCapacity("the release has no tbl_schedule")
		}
		return nil
	}
	observe := false
	choose := func(head map[string]bool) ([]string, error) {
		cols, err := im.scheduleColumns(k, head)
		observe = len(cols) > 2
		return cols, err
	}
	return im.scanWith(ctx, k, true, choose, func(f []string, line int64) *reject {
		idc, _ := positive(f[0])
		d, ok := civil.ParseDate(f[1])
		if k := im.get(idc, stateRecorded); k != nil && ok {
			k.c.Setting(d)
		}
		if !observe {
			return nil
		}
		if !ok {
			return &reject{code: "MALFORMED_DATE", message: "ADJ_DATE is not a date"}
		}
		return im.setting(f, idc, d)
	})
}

// caseFields reads A_TblCase's fields of the closed cases.
func (im *importer) caseFields(ctx context.Context) error {
	cl := im.codes.intern
	return im.scan(ctx, im.tables[tCase].Name, true, []string{"IDNCASE", "NAT", "LANG", "CUSTODY", "CASE_TYPE", "LATEST_HEARING",
		"DATE_OF_ENTRY", "C_BIRTHDATE", "CASEPRIORITY_CODE", "E_28_DATE"}, func(f []string, line int64) *reject {
		idc, _ := positive(f[0])
		if im.obs != nil {
			im.markCase(idc, f[3], f[7], f[8])
		}
		k := im.get(idc, stateRecorded)
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
}

// markCase records whether case idc is a juvenile's (CASEPRIORITY_CODE
// UC, or born less than 18 years before the release date) and detained
// (CUSTODY D), for the calendar's dockets.
func (im *importer) markCase(idc int64, custody, birth, priority string) {
	if strings.EqualFold(strings.TrimSpace(priority), "UC") {
		im.juvenile.add(idc)
	} else if b, ok := civil.ParseDate(birth); ok && im.obs.To-b < 18*365+4 {
		im.juvenile.add(idc)
	}
	if strings.EqualFold(strings.TrimSpace(custody), "D") {
		im.detained.add(idc)
	}
}

// stillClosed returns the still-closed cases, in idnproceeding order, and
// counts the reopened ones by why.
func (im *importer) stillClosed() ([]*record, []*stillclosed.Case) {
	var still []*candidate
	for i := range im.cands {
		k := &im.cands[i]
		switch {
		case k.state != stateRecorded: // rejected by the proceeding's second read
		case k.c.Reopened:
			im.rep.Cases.Reopened[k.c.Why]++
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
	return rows, motions
}

// write withdraws _SUCCESS (from here until the new one the output is not
// to be trusted; a failed import removes what it wrote), then writes
// export/ and rejects/.
func (im *importer) write(ctx context.Context) error {
	rows, motions := im.stillClosed()
	im.rep.Cases.StillClosed = int64(len(rows))
	im.rep.Exported = int64(len(rows))
	if err := im.out.Delete(ctx, "_SUCCESS"); err != nil {
		return sysexit.With(sysexit.ErrIO, fmt.Errorf("output %s: %w", im.out, err))
	}
	objs, err := sink.WriteParts(ctx, im.out, "export", 0, exportSchema, len(rows), func(b *array.RecordBuilder, from, to int) {
		for i := from; i < to; i++ {
			appendRow(b, rows[i], motions[i])
		}
	}, sink.Options{TempDir: im.cfg.TempDir, MaxRowsPerFile: im.cfg.ObjectRows})
	im.rep.Objects = objs // those written, also on failure
	if err != nil {
		return err
	}
	rejects := im.rejects
	sort.Slice(rejects, func(i, j int) bool {
		if rejects[i].table != rejects[j].table {
			return rejects[i].table < rejects[j].table
		}
		return rejects[i].line < rejects[j].line
	})
	rj, err := sink.WriteParts(ctx, im.out, "rejects", 0, rejectSchema, len(rejects), func(b *array.RecordBuilder, from, to int) {
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
	}, sink.Options{TempDir: im.cfg.TempDir})
	im.rep.Objects = append(im.rep.Objects, rj...)
	if err != nil {
		return err
	}
	return im.writeCapacity(ctx)
}

// commit makes the import visible while its claim holds: the stale parts
// of an earlier import go, then import.json, then _SUCCESS (holding the
// import's fingerprint), written only if absent.
func (im *importer) commit(ctx context.Context) error {
	rep, out := im.rep, im.out
	rep.Seconds = time.Since(im.started).Seconds()
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	if err := im.oc.Verify(ctx); err != nil {
		return err
	}
	if err := prune(ctx, out, rep.Objects); err != nil {
		return err
	}
	if err := storage.Put(ctx, out, "import.json", strings.NewReader(string(b)+"\n")); err != nil {
		return err
	}
	if err := im.oc.Verify(ctx); err != nil {
		return err
	}
	if err := im.oc.Mark(ctx); err != nil {
		return err
	}
	im.committed = true
	im.log.Info("import complete", "cases", rep.Cases.Total, "closed", rep.Cases.Closed, "still_closed", rep.Cases.StillClosed,
		"rejected", len(im.rejects), "seconds", rep.Seconds)
	return nil
}
