package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/recal-project/recal/pipeline/eoirimport/eoirtest"
	"github.com/recal-project/recal/pipeline/release/releasetest"
)

// benchImport measures `recal import-eoir` on a generated release of the
// national shape (eoirtest.National: n proceedings, uneven courts, a
// schedule of real sessions, the release's dirt), cached under -data as the
// unpacked folder and as the zip EOIR publishes (Deflate64 members written
// by 7zz), against DuckDB making the same still-closed determination over
// the same unpacked tables (stillClosedSQL). It returns the table's lines.
func benchImport(c config, n int64) (string, error) {
	dir := filepath.Join(c.data, fmt.Sprintf("eoir-national-v%d-%d", eoirtest.NationalVersion, n))
	folder, zip := filepath.Join(dir, "EOIR Case Data"), filepath.Join(dir, "FOIA-TRAC-Report.zip")
	if err := generateRelease(c, n, dir, folder, zip); err != nil {
		return "", err
	}
	var size int64
	ents, _ := os.ReadDir(folder)
	for _, e := range ents {
		if fi, err := e.Info(); err == nil {
			size += fi.Size()
		}
	}
	zi, err := os.Stat(zip)
	if err != nil {
		return "", err
	}
	work := filepath.Join(c.out, fmt.Sprintf("eoir-%d", n))
	os.RemoveAll(work)
	if err := os.MkdirAll(work, 0o755); err != nil {
		return "", err
	}
	importFrom := func(release string, flags ...string) func(int) (*exec.Cmd, error) {
		return func(int) (*exec.Cmd, error) {
			out := filepath.Join(work, "import")
			os.RemoveAll(out)
			return exec.Command(c.recal, append([]string{"import-eoir", "--release", release, "--output", out}, flags...)...), nil
		}
	}
	// The import also derives the capacity calendar (capacity.csv) from
	// tbl_schedule, which the SQL does not: --no-capacity shows its cost.
	variants := []variant{
		{"recal import-eoir (folder)", importFrom(folder)},
		{"recal import-eoir (zip, Deflate64)", importFrom(zip)},
		{"recal import-eoir --no-capacity (folder)", importFrom(folder, "--no-capacity")},
		{"duckdb: the same still-closed determination (folder)", func(int) (*exec.Cmd, error) {
			return exec.Command(c.duckdb, sqlArgs(stillClosedSQL(folder, filepath.Join(work, "duckdb.parquet")))...), nil
		}},
	}
	samples, err := interleave(c.reps, variants, filepath.Join(work, "logs"), fmt.Sprintf("%d proceedings", n))
	if err != nil {
		return "", err
	}
	national, err := benchNationalRun(c, folder, work)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\nEOIR import: a generated release of the national shape, %d proceedings (%d MiB of tables unpacked, a %d MiB zip)\n\n",
		n, size>>20, zi.Size()>>20)
	b.WriteString("| what | wall s | proceeding rows/s | peak RSS MiB | vs DuckDB | vs folder |\n|---|---:|---:|---:|---:|---:|\n")
	duck, fromFolder := median(samples[3]), median(samples[0])
	for i, v := range variants {
		m := median(samples[i])
		fmt.Fprintf(&b, "| %s | %.2f | %.0f | %d | %.2f× | %.2f× |\n", v.name, m.wall.Seconds(), float64(n)/m.wall.Seconds(), m.rssKiB/1024,
			m.wall.Seconds()/duck.wall.Seconds(), m.wall.Seconds()/fromFolder.wall.Seconds())
	}
	return b.String() + national, nil
}

// benchNationalRun imports the release (folder) once, with its observed
// capacity calendar, and measures `recal run` on what it gives: the
// still-closed cases of the national shape, over courts as uneven as the
// real ones, on the capacity the release shows them to have. It returns
// the table's lines. DuckDB has no counterpart: the observed calendar has
// judge-tied sessions, which the SQL does not model.
func benchNationalRun(c config, folder, work string) (string, error) {
	in := filepath.Join(work, "national")
	os.RemoveAll(in)
	if _, err := measure(exec.Command(c.recal, "import-eoir", "--release", folder, "--output", in), filepath.Join(work, "logs", "national-import.log")); err != nil {
		return "", fmt.Errorf("national import: %w", err)
	}
	out := filepath.Join(work, "national-run")
	run := variant{"recal run, national shape", func(int) (*exec.Cmd, error) {
		os.RemoveAll(out)
		return exec.Command(c.recal, "run", "--input", filepath.Join(in, "export"), "--capacity", filepath.Join(in, "capacity.csv"),
			"--policy", "castro-tum-2018", "--as-of", "2026-04-01", "--output", out, "--workers", "2"), nil
	}}
	samples, err := interleave(c.reps, []variant{run}, filepath.Join(work, "logs"), "national run")
	if err != nil {
		return "", err
	}
	m, err := readManifest(filepath.Join(out, "manifest.json"))
	if err != nil {
		return "", err
	}
	med := median(samples[0])
	var b strings.Builder
	fmt.Fprintf(&b, "\nThe national shape: `recal run` (castro-tum-2018, as of 2026-04-01) on the import of that release with its observed calendar\n\n")
	b.WriteString("| cases | assigned | overflow | overflow share | wall s | cases/s | peak RSS MiB |\n|---:|---:|---:|---:|---:|---:|---:|\n")
	cs := m.Counts.InputRows
	fmt.Fprintf(&b, "| %d | %d | %d | %.0f%% | %.2f | %.0f | %d |\n", cs, m.Counts.Assigned, m.Counts.Overflow,
		100*float64(m.Counts.Overflow)/float64(max(1, m.Counts.Assigned+m.Counts.Overflow)), med.wall.Seconds(), float64(cs)/med.wall.Seconds(), med.rssKiB/1024)
	return b.String(), nil
}

// generateRelease writes the release once: the tables under folder, then
// the zip of dir (so that its members sit in "EOIR Case Data/", as in
// EOIR's) by 7zz with Deflate64.
func generateRelease(c config, n int64, dir, folder, zip string) error {
	if _, err := os.Stat(zip); err == nil {
		return nil
	}
	fmt.Fprintf(os.Stderr, "generating an EOIR release of the national shape, %d proceedings, into %s (once)\n", n, dir)
	courts, err := eoirtest.ReferenceCourts()
	if err != nil {
		return err
	}
	os.RemoveAll(dir)
	if _, err := eoirtest.National(folder, eoirtest.NationalSizes{Proceedings: n}, courts, 7); err != nil {
		return err
	}
	return zipRelease(c.sevenZip, folder, zip)
}

// zipRelease zips the tables of folder into zip as EOIR's zip is made, by
// 7zz (releasetest.ZipMixed): the members inside a folder of the zip named
// as folder, the two largest tables Deflate64 and the others Deflate.
func zipRelease(sevenZip, folder, zip string) error {
	tmp := zip + ".tmp"
	os.Remove(tmp)
	if err := releasetest.ZipMixed(sevenZip, filepath.Dir(folder), tmp, 5, "B_TblProceeding.csv", "tbl_schedule.csv"); err != nil {
		return err
	}
	return os.Rename(tmp, zip)
}

// sampleRelease is `recalbench release N ZIP`: a release of the national
// shape of N proceedings over twenty of the largest courts, zipped as
// EOIR's is, written to ZIP (make eoir-sample: the bundled sample of make
// run-eoir; twenty courts keep its schedule, one judge a court at least,
// small).
func sampleRelease(sevenZip string, n int64, zip string) error {
	courts := []string{"MIA", "NYC", "ORL", "DAL", "HOU", "LOS", "SFR", "CHI", "ATL", "NEW", "SNA", "WAS", "BOS", "PHO", "DEN", "SEA", "SND", "LVG", "CHL", "ELP"}
	tmp, err := os.MkdirTemp("", "recal-release-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	folder := filepath.Join(tmp, "EOIR Case Data")
	if _, err := eoirtest.National(folder, eoirtest.NationalSizes{Proceedings: n}, courts, 1); err != nil {
		return err
	}
	return zipRelease(sevenZip, folder, zip)
}

// stillClosedSQL is the import's determination as DuckDB SQL over the
// unpacked tables, reading every table the import reads: each case's
// latest proceeding (highest IDNPROCEEDING), closed when OTHER_COMP is a
// closure code with a COMP_DATE; reopened by a later hearing setting or a
// later granted motion to recalendar; the latest pending or denied motion;
// the latest custody record; the case's fields; the still-closed rows
// written to Parquet. Rows DuckDB cannot parse (the release's dirt) are
// skipped, NUL bytes removed.
func stillClosedSQL(folder, out string) []string {
	table := func(name string) string {
		return "read_csv(" + q(filepath.Join(folder, name)) + ", delim='\\t', header=true, all_varchar=true, quote='', ignore_errors=true)"
	}
	clean := func(col string) string { return "upper(trim(replace(" + col + ", chr(0), '')))" }
	id := func(col string) string { return "TRY_CAST(replace(" + col + ", chr(0), '') AS BIGINT)" }
	day := func(col string) string { return "TRY_CAST(left(" + col + ", 10) AS DATE)" }
	return []string{
		"SET threads = 2",
		"CREATE TEMP TABLE procs AS SELECT " + id("IDNCASE") + " AS c, " + id("IDNPROCEEDING") + " AS p, " + clean("OTHER_COMP") + " AS oc, " + day("COMP_DATE") + " AS cd, " +
			clean("BASE_CITY_CODE") + " AS court, IJ_CODE AS ij, CUSTODY AS custody, NAT AS nat, LANG AS lang, " + day("OSC_DATE") + " AS osc, CRIM_IND AS crim, AGGRAVATE_FELON AS aggr FROM " +
			table("B_TblProceeding.csv") + " WHERE " + id("IDNCASE") + " > 0 AND " + id("IDNPROCEEDING") + " > 0",
		"CREATE TEMP TABLE closed AS SELECT * FROM (SELECT c, max_by(p, p) AS p, max_by(oc, p) AS oc, max_by(cd, p) AS cd FROM procs GROUP BY c) " +
			"WHERE oc IN ('A', 'B', 'Y', 'K', 'M') AND cd IS NOT NULL",
		"CREATE TEMP TABLE settings AS SELECT " + id("IDNCASE") + " AS c, max(" + day("ADJ_DATE") + ") AS d FROM " + table("tbl_schedule.csv") + " GROUP BY 1",
		"CREATE TEMP TABLE motions AS SELECT " + id("IDNCASE") + " AS c, " + clean("REC_TYPE") + " AS t, " + clean("DEC") + " AS dec, " + day("MOTION_RECD_DATE") + " AS d FROM " +
			table("tbl_Court_Motions.csv") + " WHERE " + clean("REC_TYPE") + " IN ('C', 'CL')",
		"CREATE TEMP TABLE custody AS SELECT " + id("IDNCASE") + " AS c, max_by(" + clean("CUSTODY") + ", " + id("IDNCUSTODY") + ") AS custody FROM " + table("tbl_CustodyHistory.csv") + " GROUP BY 1",
		"CREATE TEMP TABLE cases AS SELECT " + id("IDNCASE") + " AS c, NAT AS nat, LANG AS lang, CUSTODY AS custody, " + day("C_BIRTHDATE") + " AS birth, CASEPRIORITY_CODE AS prio FROM " +
			table("A_TblCase.csv"),
		"COPY (SELECT k.c, k.p, p.court, p.ij, p.osc, k.oc, k.cd, coalesce(h.custody, p.custody) AS custody, a.nat, a.lang, a.birth, a.prio, " +
			"(SELECT max_by(m.d, m.d) FROM motions m WHERE m.c = k.c AND m.d > k.cd AND m.dec <> 'G') AS motion_date " +
			"FROM closed k JOIN procs p ON p.p = k.p LEFT JOIN settings s ON s.c = k.c LEFT JOIN custody h ON h.c = k.c LEFT JOIN cases a ON a.c = k.c " +
			"WHERE coalesce(s.d <= k.cd, true) AND NOT EXISTS (SELECT 1 FROM motions m WHERE m.c = k.c AND m.dec = 'G' AND m.d > k.cd) ORDER BY k.p) TO " +
			q(out) + " (FORMAT parquet)",
	}
}
