package eoirimport_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/recal-project/recal/pipeline/eoirimport"
	"github.com/recal-project/recal/pipeline/sysexit"
	"github.com/recal-project/recal/transforms/civil"
)

// capacityRelease writes a small release by hand: one proceeding completed
// on 2026-03-31 (which dates the release), A_TblCase marking cases 1-10 as
// juveniles', and a tbl_schedule of master calendars in the start-time
// forms releases use, over the eight weeks before the release and after
// it, with a malformed time and date.
func capacityRelease(t *testing.T) (dir string, badTime, badDate int) {
	t.Helper()
	dir = t.TempDir()
	write := func(name string, lines []string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("B_TblProceeding.csv", []string{
		"IDNPROCEEDING\tIDNCASE\tOSC_DATE\tINPUT_DATE\tBASE_CITY_CODE\tHEARING_LOC_CODE\tIJ_CODE\tCASE_TYPE\tCUSTODY\tNAT\tLANG\tCOMP_DATE\tOTHER_COMP\tCRIM_IND\tAGGRAVATE_FELON\tABSENTIA",
		"900\t9000\t2020-01-02\t2020-01-03\tNYC\tNYCX\tA\tRMV\tN\tMX\tSP\t2026-03-31 00:00:00.000\tC\tN\t0\tN",
	})
	cases := []string{"IDNCASE\tNAT\tLANG\tCUSTODY\tCASE_TYPE\tLATEST_HEARING\tDATE_OF_ENTRY\tC_BIRTHDATE\tCASEPRIORITY_CODE\tE_28_DATE"}
	for id := 1; id <= 10; id++ {
		cases = append(cases, fmt.Sprintf("%d\tMX\tSP\tN\tRMV\t\t\t2012-05-06\tUC\t", id))
	}
	write("A_TblCase.csv", cases)
	sched := []string{"IDNSCHEDULE\tIDNCASE\tBASE_CITY_CODE\tIJ_CODE\tCAL_TYPE\tADJ_DATE\tADJ_TIME_START\tSCHEDULE_TYPE"}
	id := 0
	add := func(court, judge, cal string, day int32, start, typ string, ids ...int) {
		for _, c := range ids {
			id++
			sched = append(sched, fmt.Sprintf("%d\t%d\t%s\t%s\t%s\t%s 00:00:00.000\t%s\t%s", id, c, court, judge, cal, civil.FormatDate(day), start, typ))
		}
	}
	seq := func(from, n int) []int {
		s := make([]int, n)
		for i := range s {
			s[i] = from + i
		}
		return s
	}
	monday := civil.DaysFromCivil(2026, 2, 9) // the window's first Monday: 8 weeks, Feb 4 - Mar 31
	release := civil.DaysFromCivil(2026, 3, 31)
	for k := range 8 { // NYC A, Mondays, "0830": 20, 22, ..., 34 → median 27, 10%: 3 slots
		add("NYC", "A", "M", monday+int32(7*k), "0830", "MR", seq(1000, 20+2*k)...)
		add("NYC", "A", "I", monday+int32(7*k), "1300", "II", seq(1000, 3)...) // individual: ignored
	}
	add("NYC", "B", "M", monday+3, "9:00 AM", "MM", seq(2000, 4)...) // NYC B, Thursdays: 4 and 5 → 0 slots
	add("NYC", "B", "M", monday+10, "09:00", "MM", seq(2000, 5)...)
	for k := range 4 { // HOU C, Tuesdays, "08:30:00", detained masters: DETAINED, 3 slots
		add("HOU", "C", "M", monday+1+int32(7*k), "08:30:00", "MD", seq(3000, 30)...)
	}
	for k := range 3 { // HOU D, Fridays, timestamps, 10 juveniles of 15: JUVENILE, 1.5 → 2
		day := monday + 4 + int32(7*k)
		add("HOU", "D", "M", day, civil.FormatDate(day)+" 08:30:00.000", "MM", append(seq(1, 10), seq(4000, 5)...)...)
	}
	add("NYC", "A", "M", release+6, "0830", "MR", seq(1000, 25)...) // on the books: 25, 35, 12
	add("NYC", "A", "M", release+13, "0830", "MR", seq(1000, 35)...)
	add("HOU", "C", "M", release+7, "0830", "MD", seq(3000, 12)...)
	id++
	sched = append(sched, fmt.Sprintf("%d\t1000\tNYC\tA\tM\t2026-03-02\t25:99\tMR", id)) // a malformed time
	badTime = len(sched)                                                                 // its line
	id++
	sched = append(sched, fmt.Sprintf("%d\t1000\tNYC\tA\tM\t2026-02-31\t0830\tMR", id)) // no such date
	badDate = len(sched)
	write("tbl_schedule.csv", sched)
	return dir, badTime, badDate
}

// TestCapacityByHand imports the hand-built release in both modes and
// compares capacity.csv with the calendar worked out by hand in
// capacityRelease's comments (transforms/observed's test does the same
// on the typed settings).
func TestCapacityByHand(t *testing.T) {
	rel, badTime, badDate := capacityRelease(t)
	for _, tc := range []struct {
		name string
		cfg  eoirimport.Config
		want string
	}{
		{"share", eoirimport.Config{CapacityWeeks: 8}, `base_city_code,docket,ij_code,weekday,session_start,slots,effective_from,effective_to
HOU,DETAINED,C,TUE,08:30,3,2026-04-01,
HOU,JUVENILE,D,FRI,08:30,2,2026-04-01,
NYC,NON_DETAINED,A,MON,08:30,3,2026-04-01,
`},
		{"headroom", eoirimport.Config{CapacityWeeks: 8, SessionCap: 30}, `base_city_code,docket,ij_code,weekday,session_start,slots,effective_from,effective_to
HOU,DETAINED,C,TUE,08:30,18,2026-04-07,2026-04-07
NYC,NON_DETAINED,A,MON,08:30,5,2026-04-06,2026-04-06
NYC,NON_DETAINED,A,MON,08:30,0,2026-04-13,2026-04-13
`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := t.TempDir()
			cfg := tc.cfg
			cfg.Release, cfg.Output, cfg.TempDir = rel, out, t.TempDir()
			rep, err := eoirimport.Import(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			got, err := os.ReadFile(filepath.Join(out, "capacity.csv"))
			if err != nil || string(got) != tc.want {
				t.Fatalf("capacity.csv (%v):\n%s\nwant:\n%s", err, got, tc.want)
			}
			var cj map[string]any
			b, _ := os.ReadFile(filepath.Join(out, "capacity.json"))
			if err := json.Unmarshal(b, &cj); err != nil || cj["release_date"] != "2026-03-31" || cj["method"] != tc.name {
				t.Errorf("capacity.json: %v %s", err, b)
			}
			if rep.RejectsByCode["MALFORMED_TIME"] != 1 || rep.RejectsByCode["MALFORMED_DATE"] != 1 {
				t.Errorf("rejects %v, want one MALFORMED_TIME (line %d) and one MALFORMED_DATE (line %d)", rep.RejectsByCode, badTime, badDate)
			}
			rj := strings.Join(readRejects(t, out), "\n")
			for _, want := range []string{fmt.Sprintf("tbl_schedule.csv %d <null> MALFORMED_TIME", badTime), fmt.Sprintf("tbl_schedule.csv %d <null> MALFORMED_DATE", badDate)} {
				if !strings.Contains(rj, want) {
					t.Errorf("rejects lack %s:\n%s", want, rj)
				}
			}
		})
	}
}

// TestCapacityBadInput: a tbl_schedule without the calendar's columns, or
// with no master setting in the window, is an error when capacity was
// asked for (exit 65) and a warning with no capacity.csv otherwise.
func TestCapacityBadInput(t *testing.T) {
	rel, _, _ := capacityRelease(t)
	noCols := t.TempDir()
	for _, f := range []string{"B_TblProceeding.csv", "A_TblCase.csv"} {
		b, _ := os.ReadFile(filepath.Join(rel, f))
		os.WriteFile(filepath.Join(noCols, f), b, 0o644)
	}
	os.WriteFile(filepath.Join(noCols, "tbl_schedule.csv"), []byte("IDNCASE\tADJ_DATE\n1\t2026-03-02\n"), 0o644)
	for _, tc := range []struct {
		name, release, date string
		says                string
	}{
		{"no calendar columns", noCols, "", "has no BASE_CITY_CODE, IJ_CODE, CAL_TYPE, ADJ_TIME_START column"},
		{"no master setting in the window", rel, "2030-01-01", "no master setting (CAL_TYPE M) in the 26 weeks before the release date 2030-01-01"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := t.TempDir()
			_, err := eoirimport.Import(context.Background(), eoirimport.Config{Release: tc.release, Output: out, TempDir: t.TempDir(), ReleaseDate: tc.date, CapacityRequired: true})
			if sysexit.Code(err) != sysexit.DataErr || err == nil || !strings.Contains(err.Error(), tc.says) {
				t.Fatalf("asked for capacity: %v (exit %d), want 65 saying %q", err, sysexit.Code(err), tc.says)
			}
			rep, err := eoirimport.Import(context.Background(), eoirimport.Config{Release: tc.release, Output: out, TempDir: t.TempDir(), ReleaseDate: tc.date})
			if err != nil || !strings.Contains(rep.CapacitySkipped, tc.says) {
				t.Fatalf("not asked: %v, skipped %q", err, rep.CapacitySkipped)
			}
			if _, err := os.Stat(filepath.Join(out, "capacity.csv")); err == nil {
				t.Error("capacity.csv written")
			}
		})
	}
}

// TestCapacityReimport: importing again into one output with other
// calendar settings is another import (another _SUCCESS) and replaces the
// calendar; without a calendar, the earlier one's capacity.csv and
// capacity.json go, so that no stale calendar stands beside the export.
func TestCapacityReimport(t *testing.T) {
	rel, _, _ := capacityRelease(t)
	out := t.TempDir()
	success := func() string {
		b, err := os.ReadFile(filepath.Join(out, "_SUCCESS"))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	var marks []string
	for _, cfg := range []eoirimport.Config{{CapacityWeeks: 8}, {CapacityWeeks: 8, SessionCap: 30}, {NoCapacity: true}} {
		cfg.Release, cfg.Output, cfg.TempDir = rel, out, t.TempDir()
		rep, err := eoirimport.Import(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		marks = append(marks, success())
		_, errCSV := os.Stat(filepath.Join(out, "capacity.csv"))
		_, errJSON := os.Stat(filepath.Join(out, "capacity.json"))
		if has := errCSV == nil && errJSON == nil; has != !cfg.NoCapacity || (errCSV == nil) != (errJSON == nil) {
			t.Fatalf("%+v: capacity.csv %v, capacity.json %v", cfg, errCSV, errJSON)
		}
		if rep.Capacity != nil && rep.Capacity.Method != map[bool]string{true: "headroom", false: "share"}[cfg.SessionCap > 0] {
			t.Errorf("%+v: method %s", cfg, rep.Capacity.Method)
		}
	}
	if marks[0] == marks[1] || marks[1] == marks[2] || marks[0] == marks[2] {
		t.Errorf("imports of other calendar settings share a fingerprint: %q", marks)
	}
}
