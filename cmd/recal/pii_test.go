package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/recal-project/recal/pipeline/metrics/pushgatewaytest"
	"github.com/recal-project/recal/pipeline/storage/s3store/s3servertest"
	"github.com/recal-project/recal/transforms/policy"
)

// The markers: A-numbers as EOIR writes them ("A" and nine digits; the
// export below uses A8xxxxxxxx) and a made-up surname that occurs nowhere
// else.
var (
	aNumber = regexp.MustCompile(`A8\d{8}`)
	aName   = regexp.MustCompile(`(?i)marveldinho`)
)

// piiExport writes, with DuckDB, an export whose every text column carries
// A-numbers and names in some rows: alien_nbr always, and the name or an
// A-number in base_city_code and other_comp (rows that become rejects),
// ij_code, hearing_loc_code, case_type, custody, nat, lang,
// casepriority_code, recal_motion_dec, application_outcome and
// pending_applications.
func piiExport(t *testing.T, dir string, courts []string) {
	t.Helper()
	bin := os.Getenv("RECAL_DUCKDB")
	if bin == "" {
		t.Skip("RECAL_DUCKDB is not set; `make test` builds the DuckDB tool and sets it")
	}
	name := `'Quixote Marveldinho ' || i::VARCHAR`
	anum := `'A8' || lpad(i::VARCHAR, 8, '0')`
	pick := func(col string, mod int, alt ...string) string {
		return fmt.Sprintf(`CASE WHEN i %% %d = 0 THEN %s WHEN i %% %d = 1 THEN %s ELSE %s END AS %s`, mod, name, mod, anum, strings.Join(alt, ""), col)
	}
	courtList := "['" + strings.Join(courts, "','") + "']"
	sql := fmt.Sprintf(`COPY (SELECT
		i::BIGINT AS idncase,
		(5000000 + i)::BIGINT AS idnproceeding,
		%s AS alien_nbr,
		CASE WHEN i %% 97 = 0 THEN %s WHEN i %% 97 = 1 THEN %s ELSE %s[i %% %d + 1] END AS base_city_code,
		%s, %s, %s, %s, %s, %s, %s, %s, %s,
		DATE '2012-01-01' + (i %% 3000)::INTEGER AS osc_date,
		DATE '2016-01-01' + (i %% 2000)::INTEGER AS comp_date,
		CASE WHEN i %% 89 = 0 THEN %s WHEN i %% 89 = 1 THEN %s ELSE ['A','Y','K','M','B'][i %% 5 + 1] END AS other_comp,
		(i %% 4 = 0) AS crim_ind,
		CASE WHEN i %% 6 = 0 THEN [%s, %s] ELSE ['I-130'] END AS pending_applications
	FROM range(1, 4001) r(i)) TO '%s' (FORMAT parquet, COMPRESSION zstd)`,
		anum, name, anum, courtList, len(courts),
		pick("ij_code", 5, `'IJ' || (i % 7)::VARCHAR`),
		pick("hearing_loc_code", 7, "NULL"),
		pick("case_type", 9, "'RMV'"),
		pick("custody", 11, `['D','R','N'][i % 3 + 1]`),
		pick("nat", 4, "'MX'"),
		pick("lang", 3, "'SP'"),
		pick("casepriority_code", 13, "NULL"),
		pick("recal_motion_dec", 17, "NULL"),
		pick("application_outcome", 19, "NULL"),
		name, anum, // other_comp
		name, anum, // pending_applications
		filepath.Join(dir, "export", "part-00000.parquet"))
	if err := os.MkdirAll(filepath.Join(dir, "export"), 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(bin, "-sql", sql).CombinedOutput(); err != nil {
		t.Fatalf("duckdb: %v\n%s", err, out)
	}
}

// dumpParquet returns every row of the Parquet files under dir as text,
// read by DuckDB.
func dumpParquet(t *testing.T, dir string) string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "*.parquet"))
	if len(files) == 0 {
		files, _ = filepath.Glob(filepath.Join(dir, "*", "*.parquet"))
	}
	if len(files) == 0 {
		return ""
	}
	out, err := exec.Command(os.Getenv("RECAL_DUCKDB"), "-sql",
		fmt.Sprintf("SELECT * FROM read_parquet(['%s'], union_by_name = true)", strings.Join(files, "','"))).CombinedOutput()
	if err != nil {
		t.Fatalf("duckdb: %v\n%s", err, out)
	}
	return string(out)
}

// TestNoPIIInLogsErrorsReportsOrOutputs feeds A-numbers and names into
// every text column and requires that none appears in stdout or stderr
// (--debug logs included), an error, the manifest, a report, or any output
// but the assignments (issue 8, item 5). It runs three policies (so that
// there are assignments, overflow, cases that stay closed and rejects),
// `validate`, `--explain`, and a policy whose evaluation fails on those
// values.
func TestNoPIIInLogsErrorsReportsOrOutputs(t *testing.T) {
	skipInRacePass(t)
	in := t.TempDir()
	piiExport(t, in, []string{"ADL", "AGA", "ANN"})
	leaks := func(what, text string) {
		t.Helper()
		if m := aNumber.FindString(text); m != "" {
			t.Errorf("an A-number appears in %s: %q", what, around(text, m))
		}
		if m := aName.FindString(text); m != "" {
			t.Errorf("a name appears in %s: %q", what, around(text, m))
		}
	}
	common := []string{"--input", in + "/export", "--capacity", sample + "/capacity.csv", "--as-of", "2026-01-15"}
	// Runs push their metrics to a real Pushgateway when make test
	// provides one.
	var gw *pushgatewaytest.Gateway
	var push []string
	if os.Getenv("RECAL_PUSHGATEWAY") != "" {
		gw = pushgatewaytest.Start(t)
		push = []string{"--pushgateway", gw.URL}
	}
	prev := ""
	for _, pol := range []string{"castro-tum-2018", "cruz-valdez-2021-pd", "docket-rule-2024"} {
		out := t.TempDir()
		args := append([]string{"run", "--policy", pol, "--output", out, "--debug"}, push...)
		dirs := []string{"rejects", "remain_closed", "overflow"}
		if prev != "" { // each night after the first builds on the last: changes/ too
			args = append(args, "--previous", prev, "--previous-policy-change")
			dirs = append(dirs, "changes")
		}
		prev = out
		code, stdout, stderr := run(t, append(args, common...)...)
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", pol, code, stderr)
		}
		leaks(pol+" stdout", stdout)
		leaks(pol+" stderr (--debug)", stderr)
		for _, f := range []string{"manifest.json", "reports/impact.json", "reports/impact.csv", "reports/impact.md", "reports/impact.html"} {
			b, err := os.ReadFile(filepath.Join(out, f))
			if err != nil {
				t.Fatal(err)
			}
			leaks(pol+" "+f, string(b))
		}
		rows := 0
		for _, d := range dirs {
			text := dumpParquet(t, filepath.Join(out, d))
			rows += strings.Count(text, "\n")
			leaks(pol+" "+d, text)
		}
		if rows == 0 {
			t.Fatalf("%s: no rejects, remain_closed or overflow rows to check", pol)
		}
		if gw != nil {
			m := gw.Metrics(t, "recal_")
			if len(m) == 0 {
				t.Fatal("no metrics pushed")
			}
			leaks(pol+" pushed metrics", strings.Join(m, "\n"))
		}
	}
	code, stdout, stderr := run(t, append([]string{"validate", "--policy", "cruz-valdez-2021-pd"}, common...)...)
	if code != 0 {
		t.Fatalf("validate: exit %d: %s", code, stderr)
	}
	leaks("validate output", stdout+stderr)
	// --explain prints one case's outcome and the rules it met.
	code, stdout, stderr = run(t, append([]string{"run", "--policy", "castro-tum-2018", "--explain", "5000001"}, common...)...)
	if code != 0 {
		t.Fatalf("--explain: exit %d: %s", code, stderr)
	}
	leaks("--explain output", stdout+stderr)
	// A policy whose evaluation fails on exactly these values: the error
	// must name the rule and the row, not the value.
	src, _ := policy.ShippedSource("castro-tum-2018")
	bad := strings.Replace(string(src), `when: crim_ind || aggravate_felon`, `when: crim_ind || int(lang) > 2`, 1)
	if bad == string(src) {
		t.Fatal("the policy edit did not apply")
	}
	polFile := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(polFile, []byte(bad), 0o644)
	code, stdout, stderr = run(t, append([]string{"run", "--policy", polFile, "--output", t.TempDir(), "--debug"}, common...)...)
	if code == 0 {
		t.Fatal("a policy that cannot evaluate the rows succeeded")
	}
	t.Logf("failing policy: exit %d: %s", code, lastLine(stderr))
	leaks("a failing run's error", stdout+stderr)
}

// TestNoSecretsInLogs runs against the S3 server with --debug and requires that
// the secret access key appears nowhere in what recal prints.
func TestNoSecretsInLogs(t *testing.T) {
	skipInRacePass(t)
	srv := s3servertest.Start(t)
	srv.Env(t)
	_, bucket := srv.NewBucket(t, "secrets")
	out := "s3://" + bucket + "/out"
	code, stdout, stderr := run(t, "run", "--input", sample+"/export", "--capacity", sample+"/capacity.csv",
		"--policy", "castro-tum-2018", "--as-of", "2026-01-15", "--output", out, "--debug")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	// And a failing one: a bucket that does not exist.
	_, stdout2, stderr2 := run(t, "run", "--input", "s3://no-such-bucket-recal/export", "--capacity", sample+"/capacity.csv",
		"--policy", "castro-tum-2018", "--as-of", "2026-01-15", "--output", t.TempDir(), "--debug")
	all := stdout + stderr + stdout2 + stderr2
	if len(srv.SecretKey) < 8 {
		t.Fatalf("secret key %q is too short to search for", srv.SecretKey)
	}
	if strings.Contains(all, srv.SecretKey) {
		t.Error("the AWS secret access key appears in recal's output")
	}
	if !strings.Contains(all, "stage") {
		t.Fatal("no --debug log was captured: the test checks nothing")
	}
}

func around(text, m string) string {
	i := strings.Index(text, m)
	return text[max(0, i-60):min(len(text), i+len(m)+20)]
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}
