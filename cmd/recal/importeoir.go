package main

import (
	"context"
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
  _SUCCESS                last: the output is complete

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
	fs.BoolVar(&cfg.Force, "force", false, "take over another import's claim on --output")
	fs.DurationVar(&cfg.ClaimStale, "claim-stale", claim.DefaultStale, "take over another import's claim on the output once it has had no heartbeat for this long (its import died)")
	storeFlags(fs, &cfg.TempDir, &insecure)
	fs.BoolVar(&debugLog, "debug", false, "debug logging")
	cpuProfile := fs.String("cpuprofile", "", "write a pprof CPU profile of the import to this file")
	if err := parse(fs, args); err != nil {
		return err
	}
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
	fmt.Fprintf(stdout, "export: %s\nrejects: %s\nreport: %s\n", joinOut(cfg.Output, "export/"), joinOut(cfg.Output, "rejects/"), joinOut(cfg.Output, "import.json"))
	return nil
}
