package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"maps"
	"slices"
	"time"

	"github.com/recal-project/recal/pipeline/claim"
	"github.com/recal-project/recal/pipeline/eoirimport"
	"github.com/recal-project/recal/pipeline/progress"
)

const importHelp = `Usage: recal import-eoir --release ZIP_OR_DIR --output DIR_OR_URI [flags]

Builds recal's closed-case export (contract §1.1) from EOIR's public case-data
release (the FOIA tables at catalog.data.gov/dataset/eoir-case-data). The
release is the zip as EOIR publishes it (a path or s3:// URI ending in .zip:
read in place, never unpacked; stored, Deflate and Deflate64 members, ZIP64,
CRC-32 checked; tables found in any folder inside it) or a folder of the
unpacked tables. It reads
B_TblProceeding and A_TblCase (required), and tbl_schedule,
tbl_Court_Motions and tbl_CustodyHistory when present, in any delimiter (tab,
pipe, comma) and in UTF-8 or Windows-1252, and writes under --output:
  export/part-*.parquet   the still-closed proceedings (docs/eoir-import.md)
  rejects/part-*.parquet  rows it could not use: table, line, reason
  import.json             tables read, cases by state, rejects by reason
  capacity.csv            a capacity calendar observed from tbl_schedule's master
                          calendars (contract §1.3), for recal run --capacity
  capacity.json           how: release date, window, share or cap, per-court figures
  _SUCCESS                last: the output is complete

The calendar: a recurring session (court, judge, weekday and start seen in at
least a quarter of the --capacity-weeks weeks before the release date) offers
--recal-share of its median master calendar; with --session-cap N each future
session on the books offers N less what is already set. It is the courts' past
pattern, not their future staffing (docs/eoir-import.md).

A proceeding is still closed when it is its case's latest (highest
IDNPROCEEDING), its OTHER_COMP is A, B, Y, K or M with a COMP_DATE, and the
case has no hearing setting and no granted motion to recalendar (REC_TYPE C or
CL) after that date. A motion to recalendar that is pending or denied fills
recal_motion_date and recal_motion_dec. Retired court codes map through
--court-crosswalk (CSV: old_code,new_code).

Examples:
  recal import-eoir --release /data/FOIA-TRAC-Report.zip --output /data/recal-input
  recal import-eoir --release s3://eoir/2025-03/FOIA-TRAC-Report.zip --output s3://recal/input
  recal import-eoir --release /data/eoir-2025-03 --output /data/recal-input
  recal run --input /data/recal-input/export --capacity capacity.csv \
    --policy castro-tum-2018 --as-of 2026-01-15 --output /data/recal-run
`

func cmdImportEOIR(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var cfg eoirimport.Config
	var insecure, debugLog bool
	fs := flagSet("import-eoir", importHelp, stderr)
	fs.StringVar(&cfg.Release, "release", "", "the EOIR release: its zip (path or URI ending in .zip) or a folder of its tables")
	fs.StringVar(&cfg.Output, "output", "", "folder or URI to write export/, rejects/ and import.json under")
	fs.StringVar(&cfg.Crosswalk, "court-crosswalk", "", "CSV of retired court codes (old_code,new_code)")
	fs.IntVar(&cfg.ObjectRows, "object-rows", 500_000, "rows per export object")
	fs.IntVar(&cfg.CapacityWeeks, "capacity-weeks", eoirimport.DefaultCapacityWeeks, "weeks before the release date whose master calendars capacity.csv is observed from")
	fs.Float64Var(&cfg.RecalShare, "recal-share", eoirimport.DefaultRecalShare, "share of a recurring session's median master calendar offered to recalendared cases")
	fs.IntVar(&cfg.SessionCap, "session-cap", 0, "headroom mode: each future session offers this many settings less those already made (0: share mode)")
	fs.StringVar(&cfg.ReleaseDate, "release-date", "", "the release's date, YYYY-MM-DD (default: the latest COMP_DATE of B_TblProceeding)")
	fs.BoolVar(&cfg.NoCapacity, "no-capacity", false, "do not derive capacity.csv from tbl_schedule")
	fs.BoolVar(&cfg.Force, "force", false, "take over another import's claim on --output")
	fs.DurationVar(&cfg.ClaimStale, "claim-stale", claim.DefaultStale, "take over another import's claim on the output once it has had no heartbeat for this long (its import died)")
	storeFlags(fs, &cfg.TempDir, &insecure)
	fs.BoolVar(&debugLog, "debug", false, "debug logging")
	cpuProfile := fs.String("cpuprofile", "", "write a pprof CPU profile of the import to this file")
	if err := parse(fs, args); err != nil {
		return err
	}
	fs.Visit(func(f *flag.Flag) { // a capacity flag given: a release without a calendar is an error
		switch f.Name {
		case "capacity-weeks", "recal-share", "session-cap", "release-date":
			cfg.CapacityRequired = true
		}
	})
	stop, err := startCPUProfile(*cpuProfile)
	if err != nil {
		return err
	}
	defer stop()
	cfg.Locations = locations(insecure)
	cfg.Log = newLogger(stderr, debugLog)
	cfg.Progress = &progress.Progress{}
	var disp *display
	if isTerminal(stderr) {
		disp = newDisplay(stderr, cfg.Progress, 250*time.Millisecond)
		cfg.Log = newLoggerTo(disp, true, debugLog)
	}
	rep, err := eoirimport.Import(ctx, cfg)
	if disp != nil {
		disp.Close() // before anything else is printed
	}
	if err != nil {
		return err
	}
	printImport(stdout, cfg, rep)
	return nil
}

// printImport is recal import-eoir's summary on stdout: cases by state,
// each table's figures, rejects by reason, the calendar, and where the
// outputs are.
func printImport(stdout io.Writer, cfg eoirimport.Config, rep *eoirimport.Report) {
	c := rep.Cases
	fmt.Fprintf(stdout, "recal import-eoir: %d cases, %d with a closed latest proceeding, %d still closed: exported %d rows in %.1f s\n",
		c.Total, c.Closed, c.StillClosed, rep.Exported, rep.Seconds)
	for _, k := range slices.Sorted(maps.Keys(c.Reopened)) {
		fmt.Fprintf(stdout, "  reopened, %-28s %d\n", k, c.Reopened[k])
	}
	for _, n := range slices.Sorted(maps.Keys(rep.Tables)) {
		t := rep.Tables[n]
		fmt.Fprintf(stdout, "  table %-18s %s-delimited, %d rows, %d rejected, %d lines read as Windows-1252, %d fields with NUL bytes; %s (%s stored), read %d× in %.1f s\n",
			n, t.Delimiter, t.Rows, t.Rejected, t.Recoded, t.NULFields, size(t.Bytes), size(t.StoredBytes), t.Reads, t.Seconds)
	}
	for _, k := range slices.Sorted(maps.Keys(rep.RejectsByCode)) {
		fmt.Fprintf(stdout, "  rejected %-24s %d\n", k, rep.RejectsByCode[k])
	}
	if cp := rep.Capacity; cp != nil {
		fmt.Fprintf(stdout, "  capacity: %d rows from %d master settings, %s mode, %d weeks to the release date %s (%s)\n",
			cp.Rows, cp.MasterSettings, cp.Method, cp.Weeks, cp.ReleaseDate, cp.ReleaseDateFrom)
	} else if rep.CapacitySkipped != "" {
		fmt.Fprintf(stdout, "  capacity: none (%s)\n", rep.CapacitySkipped)
	}
	fmt.Fprintf(stdout, "export: %s\nrejects: %s\nreport: %s\n", joinOut(cfg.Output, "export/"), joinOut(cfg.Output, "rejects/"), joinOut(cfg.Output, "import.json"))
	if rep.Capacity != nil {
		fmt.Fprintf(stdout, "capacity: %s (how it was observed: %s)\n", joinOut(cfg.Output, "capacity.csv"), joinOut(cfg.Output, "capacity.json"))
	}
}
