package main

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// duckSQL is the job in DuckDB: read the export, validate and deduplicate
// as contract §1.1 says, derive the fields castro-tum-2018 reads, give each
// case its tier, score and docket, number the cases per court and docket
// by priority, expand the calendar into its session occurrences
// (weekdays, no federal holiday or closure, inside the window) with their
// cumulative slots, ASOF-join each case's rank onto them, and COPY the
// assignments to Parquet.
//
// The cases past the slots overflow as recal's do (contract §3.6): the
// k-th of a court and docket (0-based, in priority order) is projected
// to the first open day on or after the day after the horizon plus
// 7 × (k / the docket's weekly slots), or has no projection when the
// docket has no sessions (NO_CAPACITY); they are COPYed to overflow.
func duckSQL(c config, dir string, s shape, out, overflowOut string) []string {
	d := "DATE '" + asOf + "'"
	return []string{
		"SET threads TO 2",
		"CREATE TEMP TABLE courts AS SELECT trim(base_city_code) AS code FROM read_csv(" + q(c.ref) + ", header=true, all_varchar=true)",
		`CREATE TEMP TABLE cases AS
WITH valid AS (
  SELECT idncase, idnproceeding, base_city_code, custody, casepriority_code, c_birthdate, crim_ind, aggravate_felon, comp_date
  FROM read_parquet(` + q(filepath.Join(dir, s.export, "*.parquet")) + `, filename=true, file_row_number=true)
  WHERE idncase IS NOT NULL AND idnproceeding IS NOT NULL AND base_city_code IS NOT NULL
    AND osc_date IS NOT NULL AND comp_date IS NOT NULL AND other_comp IS NOT NULL
    AND idncase > 0 AND idnproceeding > 0
    AND osc_date BETWEEN DATE '1950-01-01' AND ` + d + ` AND comp_date BETWEEN DATE '1950-01-01' AND ` + d + `
    AND comp_date >= osc_date AND other_comp IN ('A', 'B', 'K', 'M', 'Y')
    AND base_city_code IN (SELECT code FROM courts)
  QUALIFY row_number() OVER (PARTITION BY idnproceeding ORDER BY filename, file_row_number) = 1
), derived AS (
  SELECT idncase, idnproceeding, base_city_code,
    coalesce(custody = 'D', false) AS detained,
    coalesce(casepriority_code = 'UC', false)
      OR coalesce(c_birthdate <= ` + d + ` AND c_birthdate >= ` + d + ` - INTERVAL ` + strconv.Itoa(130*366) + ` DAY
         AND (year(` + d + `) - year(c_birthdate) - CASE WHEN strftime(` + d + `, '%m%d') < strftime(c_birthdate, '%m%d') THEN 1 ELSE 0 END) < 18, false) AS juvenile,
    coalesce(crim_ind OR aggravate_felon, false) AS crim,
    round((` + d + ` - comp_date) / 365.25, 6) AS score
  FROM valid
)
SELECT idncase, idnproceeding, base_city_code, score,
  CASE WHEN detained THEN 1 WHEN crim THEN 2 ELSE 3 END AS tier,
  CASE WHEN detained THEN 'DETAINED' WHEN juvenile THEN 'JUVENILE' ELSE 'NON_DETAINED' END AS docket
FROM derived`,
		`CREATE TEMP TABLE days AS
SELECT CAST(t.d AS DATE) AS day FROM generate_series(` + d + ` + INTERVAL 10 DAY, ` + d + ` + INTERVAL 365 DAY, INTERVAL 1 DAY) t(d)
WHERE isodow(t.d) <= 5 AND CAST(t.d AS DATE) NOT IN (SELECT day FROM read_csv(` + q(filepath.Join(dir, "holidays.csv")) + `, header=true, columns={'day': 'DATE'}))`,
		`CREATE TEMP TABLE slots AS
WITH sess AS (SELECT * FROM read_csv(` + q(filepath.Join(dir, s.capacity)) + `, header=true, all_varchar=true)),
clo AS (SELECT trim(base_city_code) AS court, CAST(date AS DATE) AS day FROM read_csv(` + q(filepath.Join(dir, "closures.csv")) + `, header=true, all_varchar=true)),
occ AS (
  SELECT s.base_city_code, s.docket, d.day, s.session_start, CAST(s.slots AS INTEGER) AS n
  FROM sess s JOIN days d
    ON isodow(d.day) = CASE s.weekday WHEN 'MON' THEN 1 WHEN 'TUE' THEN 2 WHEN 'WED' THEN 3 WHEN 'THU' THEN 4 WHEN 'FRI' THEN 5 END
   AND d.day >= CAST(s.effective_from AS DATE)
   AND (s.effective_to IS NULL OR s.effective_to = '' OR d.day <= CAST(s.effective_to AS DATE))
  WHERE NOT EXISTS (SELECT 1 FROM clo WHERE clo.day = d.day AND (clo.court = s.base_city_code OR clo.court = '*'))
)
SELECT base_city_code, docket, day, session_start,
  sum(n) OVER (PARTITION BY base_city_code, docket ORDER BY day, session_start ROWS UNBOUNDED PRECEDING) AS cum_end
FROM occ WHERE n > 0`,
		`CREATE TEMP TABLE ranked AS SELECT *, row_number() OVER (PARTITION BY base_city_code, docket ORDER BY tier, score DESC, idnproceeding) AS rnk FROM cases`,
		`CREATE TEMP TABLE totals AS SELECT base_city_code, docket, max(cum_end) AS total FROM slots GROUP BY ALL`,
		// A case of rank r takes the first session occurrence whose
		// cumulative slots reach r: an ASOF join, no slot expanded.
		`COPY (
  SELECT c.idncase, c.idnproceeding, c.base_city_code, c.docket, s.day AS hearing_date, s.session_start AS hearing_time,
    c.tier AS priority_tier, c.score AS priority_score
  FROM ranked c ASOF JOIN slots s ON c.base_city_code = s.base_city_code AND c.docket = s.docket AND c.rnk <= s.cum_end
  ORDER BY hearing_date, hearing_time, base_city_code, docket, priority_tier, priority_score DESC, idnproceeding
) TO ` + q(out) + ` (FORMAT parquet, COMPRESSION snappy)`,
		// Open days past the horizon: weekdays that are no federal holiday
		// and no nationwide closure (the bench's court closures all fall
		// inside the horizon).
		`CREATE TEMP TABLE open_days AS
SELECT CAST(t.d AS DATE) AS day FROM generate_series(` + d + ` + INTERVAL 366 DAY, DATE '3999-12-31', INTERVAL 1 DAY) t(d)
WHERE isodow(t.d) <= 5
  AND CAST(t.d AS DATE) NOT IN (SELECT day FROM read_csv(` + q(filepath.Join(dir, "holidays-far.csv")) + `, header=true, columns={'day': 'DATE'}))
  AND CAST(t.d AS DATE) NOT IN (SELECT CAST(date AS DATE) FROM read_csv(` + q(filepath.Join(dir, "closures.csv")) + `, header=true, all_varchar=true) WHERE trim(base_city_code) = '*')`,
		`CREATE TEMP TABLE weekly AS
SELECT base_city_code, docket, sum(CAST(slots AS INTEGER)) AS weekly
FROM read_csv(` + q(filepath.Join(dir, s.capacity)) + `, header=true, all_varchar=true)
WHERE effective_to IS NULL OR effective_to = '' GROUP BY ALL`,
		`COPY (
  WITH over AS (
    SELECT c.idnproceeding, c.base_city_code, c.docket, w.weekly, c.rnk - coalesce(t.total, 0) - 1 AS k
    FROM ranked c LEFT JOIN weekly w USING (base_city_code, docket) LEFT JOIN totals t USING (base_city_code, docket)
    WHERE c.rnk > coalesce(t.total, 0)
  ), dated AS (
    SELECT *, CASE WHEN weekly > 0 THEN CAST(` + d + ` + INTERVAL 366 DAY + to_days(CAST(7 * (k // weekly) AS INTEGER)) AS DATE) END AS d0 FROM over
  )
  SELECT o.idnproceeding, o.base_city_code, o.docket, CASE WHEN o.weekly > 0 THEN od.day END AS projected_hearing_date,
    CASE WHEN o.weekly > 0 THEN 'NO_SLOT_IN_HORIZON' ELSE 'NO_CAPACITY' END AS reason
  FROM dated o ASOF LEFT JOIN open_days od ON od.day >= o.d0
) TO ` + q(overflowOut) + ` (FORMAT parquet, COMPRESSION snappy)`,
	}
}

func sqlArgs(stmts []string) []string {
	var a []string
	for _, s := range stmts {
		a = append(a, "-sql", s)
	}
	return a
}

// compare counts, with DuckDB, the assignments that differ between recal's
// output and DuckDB's (court, docket, day and time per proceeding), and
// the overflow (court, docket, projected date and reason).
func compare(c config, recalOut, duck, duckOverflow string) (string, error) {
	a, err := compareSets(c, "(SELECT idnproceeding, base_city_code, docket, hearing_date, hearing_time FROM read_parquet("+q(filepath.Join(recalOut, "assignments", "*", "*.parquet"))+", hive_partitioning=false))",
		"(SELECT idnproceeding, base_city_code, docket, hearing_date, hearing_time FROM read_parquet("+q(duck)+"))", "assignments")
	if err != nil {
		return "", err
	}
	o, err := compareSets(c, "(SELECT idnproceeding, base_city_code, docket, projected_hearing_date, overflow_reason AS reason FROM read_parquet("+q(filepath.Join(recalOut, "overflow", "*.parquet"))+"))",
		"(SELECT idnproceeding, base_city_code, docket, projected_hearing_date, reason FROM read_parquet("+q(duckOverflow)+"))", "overflow rows with their projected dates")
	if err != nil {
		return "", err
	}
	return a + "; " + o, nil
}

// compareSets compares two row sets as multisets.
func compareSets(c config, r, k, what string) (string, error) {
	out, err := exec.Command(c.duckdb, "-sql",
		"SELECT (SELECT count(*) FROM "+r+"), (SELECT count(*) FROM "+k+"), (SELECT count(*) FROM ("+r+" EXCEPT ALL "+k+")), (SELECT count(*) FROM ("+k+" EXCEPT ALL "+r+"))").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("compare: %v: %s", err, out)
	}
	f := strings.Fields(string(out))
	if len(f) != 4 {
		return "", fmt.Errorf("compare: unexpected output %q", out)
	}
	if f[2] == "0" && f[3] == "0" && f[0] == f[1] {
		return fmt.Sprintf("identical (%s %s)", f[0], what), nil
	}
	return fmt.Sprintf("%s DIFFER: recal %s, DuckDB %s, only in recal %s, only in DuckDB %s", what, f[0], f[1], f[2], f[3]), nil
}

// q quotes a path as an SQL string literal.
func q(p string) string { return "'" + strings.ReplaceAll(p, "'", "''") + "'" }
