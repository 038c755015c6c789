package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"

	"github.com/recal-project/recal/transforms/civil"
	"github.com/recal-project/recal/transforms/schedule"
)

// shape is one of the bench's inputs: an export layout and a calendar.
type shape struct {
	name string
	// export is the export's folder under the data set: export (recal
	// gen's layout: many objects in id order) or export-mt (as a
	// multi-threaded writer leaves it: two large zstd objects whose ids
	// interleave, alien_nbr present, written by DuckDB).
	export string
	// capacity is the calendar: capacity-roomy.csv or
	// capacity-overflow.csv (three pool sessions a weekday per court and
	// docket, 50 slots or 1).
	capacity string
}

// shapes are the calendars and layouts every size is measured on.
var shapes = []shape{
	{"roomy", "export", "capacity-roomy.csv"},
	{"overflowing", "export", "capacity-overflow.csv"},
	{"roomy, multi-threaded writer", "export-mt", "capacity-roomy.csv"},
	{"overflowing, multi-threaded writer", "export-mt", "capacity-overflow.csv"},
}

// prepareShapes writes the two calendars, the holidays the overflow's
// projections reach, and the multi-threaded writer's export (once).
func prepareShapes(c config, dir string) error {
	pool, err := os.ReadFile(filepath.Join(dir, "capacity-pool.csv"))
	if err != nil {
		return err
	}
	keys := map[string]bool{}
	for i, l := range strings.Split(strings.TrimRight(string(pool), "\n"), "\n") {
		if f := strings.Split(l, ","); i > 0 && len(f) > 2 {
			keys[f[0]+","+f[1]] = true
		}
	}
	sorted := make([]string, 0, len(keys))
	for k := range keys {
		sorted = append(sorted, k)
	}
	sort.Strings(sorted)
	for _, cal := range []struct {
		file  string
		slots int
	}{{"capacity-roomy.csv", 50}, {"capacity-overflow.csv", 1}} {
		var b strings.Builder
		b.WriteString("base_city_code,docket,ij_code,weekday,session_start,slots,effective_from,effective_to\n")
		for _, k := range sorted {
			for _, wd := range []string{"MON", "TUE", "WED", "THU", "FRI"} {
				for _, st := range []string{"08:30", "10:30", "13:00"} {
					fmt.Fprintf(&b, "%s,,%s,%s,%d,2020-01-01,\n", k, wd, st, cal.slots)
				}
			}
		}
		if err := os.WriteFile(filepath.Join(dir, cal.file), []byte(b.String()), 0o644); err != nil {
			return err
		}
	}
	var hol []string
	for y := 2025; y <= 4000; y++ { // the overflow of a big court is projected centuries out
		for _, d := range schedule.FederalHolidays(y) {
			hol = append(hol, civil.FormatDate(d))
		}
	}
	sort.Strings(hol)
	if err := os.WriteFile(filepath.Join(dir, "holidays-far.csv"), []byte("day\n"+strings.Join(hol, "\n")+"\n"), 0o644); err != nil {
		return err
	}
	mt := filepath.Join(dir, "export-mt")
	if _, err := os.Stat(mt); err == nil {
		return nil
	}
	fmt.Fprintf(os.Stderr, "writing %s as a multi-threaded writer does (once)\n", mt)
	tmp := mt + ".tmp"
	os.RemoveAll(tmp)
	cmd := exec.Command(c.duckdb, sqlArgs([]string{"SET threads = 2", "SET preserve_insertion_order = false",
		"COPY (SELECT *, 'A' || lpad(CAST(idncase % 1000000000 AS VARCHAR), 9, '0') AS alien_nbr FROM read_parquet(" + q(filepath.Join(dir, "export", "*.parquet")) + ")) TO " +
			q(tmp) + " (FORMAT parquet, COMPRESSION zstd, PER_THREAD_OUTPUT true)"})...)
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("DuckDB export: %w", err)
	}
	return os.Rename(tmp, mt)
}
