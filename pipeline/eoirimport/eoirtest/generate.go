package eoirtest

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// GenerateSizes says how many rows Generate writes: proceedings, and per
// proceeding the cases, hearing settings, motions and custody records
// (the proportions of the 2025 release are roughly 1.4 proceedings a case).
type GenerateSizes struct {
	Proceedings int64
	// CasesPer, SchedulePer, MotionsPer and CustodyPer are rows per
	// proceeding (defaults 0.7, 0.2, 0.1, 0.1).
	CasesPer, SchedulePer, MotionsPer, CustodyPer float64
}

// Generate writes a release-shaped release of the given size into dir,
// tab-delimited with B_TblProceeding's full column list (domain.md §1),
// for throughput measurements (`make bench`). The same sizes and seed give
// the same bytes. courts are the court codes to draw from. About a third
// of the cases' latest proceedings are administrative closures; hearing
// settings and motions fall on random cases, some after their closure.
func Generate(dir string, sz GenerateSizes, courts []string, seed uint64) error {
	if sz.CasesPer == 0 {
		sz.CasesPer, sz.SchedulePer, sz.MotionsPer, sz.CustodyPer = 0.7, 0.2, 0.1, 0.1
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	cases := max(1, int64(float64(sz.Proceedings)*sz.CasesPer))
	epoch := time.Date(2005, 1, 1, 0, 0, 0, 0, time.UTC)
	date := func(b []byte, fromDays, spanDays int) []byte {
		d := epoch.AddDate(0, 0, fromDays+rng.IntN(spanDays))
		return fmt.Appendf(b, "%04d-%02d-%02d 00:00:00.000", d.Year(), d.Month(), d.Day())
	}
	pick := func(s []string) string { return s[rng.IntN(len(s))] }
	closures := []string{"A", "A", "A", "Y", "B", "K", "M"}
	others := []string{"C", "C", "C", "T", "T", "F", "X", "P", "O", ""}
	nats := []string{"MX", "GT", "HO", "ES", "CH", "IN", "EC", "VE"}
	langs := []string{"SP", "ENG", "MAN", "PUN", "POR", "CRE"}

	write := func(name, header string, rows int64, row func(b []byte, i int64) []byte) error {
		f, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			return err
		}
		w := bufio.NewWriterSize(f, 1<<20)
		w.WriteString(header + "\n")
		var b []byte
		for i := int64(0); i < rows; i++ {
			b = row(b[:0], i)
			b = append(b, '\n')
			w.Write(b)
		}
		if err := w.Flush(); err != nil {
			f.Close()
			return err
		}
		return f.Close()
	}
	tab := func(b []byte, fields ...string) []byte {
		for i, s := range fields {
			if i > 0 {
				b = append(b, '\t')
			}
			b = append(b, s...)
		}
		return b
	}

	// Proceedings: case by case, 1 to 3 of them with rising ids, spread so
	// that the total is sz.Proceedings.
	const procHeader = "IDNPROCEEDING\tIDNCASE\tOSC_DATE\tINPUT_DATE\tBASE_CITY_CODE\tHEARING_LOC_CODE\tIJ_CODE\tTRANS_IN_DATE\tPREV_HEARING_LOC\tPREV_HEARING_BASE\tPREV_IJ_CODE\tHEARING_DATE\tHEARING_TIME\tDEC_TYPE\tDEC_CODE\tDEPORTED_1\tDEPORTED_2\tOTHER_COMP\tAPPEAL_RSVD\tAPPEAL_NOT_FILED\tCOMP_DATE\tABSENTIA\tVENUE_CHG_GRANTED\tTRANSFER_TO\tTRANSFER_STATUS\tCUSTODY\tCASE_TYPE\tNAT\tLANG\tSCHEDULED_HEAR_LOC\tCRIM_IND\tIHP\tAGGRAVATE_FELON\tDATE_DETAINED\tDATE_RELEASED"
	caseOf := func(i int64) int64 { return 1 + i*cases/sz.Proceedings } // monotone: ids rise with the case
	var d1, d2, d3 []byte
	err := write("B_TblProceeding.csv", procHeader, sz.Proceedings, func(b []byte, i int64) []byte {
		idc := caseOf(i)
		last := i+1 == sz.Proceedings || caseOf(i+1) != idc
		other := pick(others)
		if last && rng.IntN(3) == 0 {
			other = pick(closures)
		}
		court := pick(courts)
		d1, d2, d3 = date(d1[:0], 0, 4000), date(d2[:0], 100, 4000), date(d3[:0], 4000, 3000)
		comp := string(d3)
		if other == "" {
			comp = ""
		}
		yn := func() string {
			if rng.IntN(10) == 0 {
				return "Y"
			}
			return "N"
		}
		return tab(b, strconv.FormatInt(1000+i, 10), strconv.FormatInt(idc, 10), string(d1), string(d2), court, court+"X", "IJ"+strconv.Itoa(rng.IntN(40)),
			"", "", "", "", "", "", "", "", "", "", other, "", "", comp, yn(), "", "", "",
			pick([]string{"D", "R", "N", "N"}), "RMV", pick(nats), pick(langs), "", yn(), "", pick([]string{"0", "0", "0", "1"}), "", "")
	})
	if err != nil {
		return err
	}
	err = write("A_TblCase.csv", "IDNCASE\tNAT\tLANG\tCUSTODY\tCASE_TYPE\tSITE_TYPE\tALIEN_CITY\tALIEN_STATE\tLATEST_HEARING\tLATEST_TIME\tLATEST_CAL_TYPE\tDATE_OF_ENTRY\tC_BIRTHDATE\tLPR\tCASEPRIORITY_CODE\tE_28_DATE",
		cases, func(b []byte, i int64) []byte {
			d1, d2, d3 = date(d1[:0], 3000, 4000), date(d2[:0], -3000, 3000), date(d3[:0], -12000, 9000)
			return tab(b, strconv.FormatInt(i+1, 10), pick(nats), pick(langs), pick([]string{"D", "R", "N"}), "RMV", "", "Houston", "TX", string(d1), "0900", "M",
				string(d2), string(d3), "0", pick([]string{"", "", "", "UC"}), "")
		})
	if err != nil {
		return err
	}
	err = write("tbl_schedule.csv", "IDNSCHEDULE\tIDNPROCEEDING\tIDNCASE\tCAL_TYPE\tADJ_DATE\tADJ_TIME_START\tADJ_TIME_STOP\tADJ_RSN\tSCHEDULE_TYPE",
		int64(float64(sz.Proceedings)*sz.SchedulePer), func(b []byte, i int64) []byte {
			idc := 1 + rng.Int64N(cases)
			d1 = date(d1[:0], 2000, 7000)
			return tab(b, strconv.FormatInt(i+1, 10), "", strconv.FormatInt(idc, 10), "M", string(d1), "0900", "1000", "", "MR")
		})
	if err != nil {
		return err
	}
	err = write("tbl_Court_Motions.csv", "IDNMOTION\tIDNPROCEEDING\tIDNCASE\tREC_TYPE\tDEC\tCOMP_DATE\tMOTION_RECD_DATE\tSTRFILINGPARTY",
		int64(float64(sz.Proceedings)*sz.MotionsPer), func(b []byte, i int64) []byte {
			idc := 1 + rng.Int64N(cases)
			d1 = date(d1[:0], 4000, 4000)
			return tab(b, strconv.FormatInt(i+1, 10), "", strconv.FormatInt(idc, 10), pick([]string{"C", "CL", "AC", "RS"}), pick([]string{"G", "D", "", "M"}), "", string(d1), "A")
		})
	if err != nil {
		return err
	}
	return write("tbl_CustodyHistory.csv", "IDNCUSTODY\tIDNCASE\tCUSTODY\tDATDETAINED\tDATRELEASED",
		int64(float64(sz.Proceedings)*sz.CustodyPer), func(b []byte, i int64) []byte {
			idc := 1 + rng.Int64N(cases)
			d1 = date(d1[:0], 0, 7000)
			rel := ""
			if rng.IntN(2) == 0 {
				rel = string(date(d2[:0], 7000, 500))
			}
			return tab(b, strconv.FormatInt(i+1, 10), strconv.FormatInt(idc, 10), pick([]string{"D", "R", "N"}), string(d1), rel)
		})
}
