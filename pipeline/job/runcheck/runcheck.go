// Package runcheck verifies a committed recal run on local disk for the
// tests of every package that runs one: manifest, conservation, one
// output per proceeding, and every scheduling invariant of contract §3.
// It reads outputs with xitongsys/parquet-go, independently of the arrow
// writer that produced them.
package runcheck

import (
	"bytes"
	"crypto/sha256"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xitongsys/parquet-go/reader"
	pqsource "github.com/xitongsys/parquet-go/source"

	"github.com/recal-project/recal/pipeline/manifest"
	"github.com/recal-project/recal/transforms/schedule/invariants"
)

// Check verifies a committed local run under out against contract §2 and
// every invariant of §3, with code independent of the pipeline: outputs
// are read back with xitongsys/parquet-go, the calendar is taken from the
// CSV files given (closuresCSV "" when the run had none), and the schedule is judged by package invariants. It
// returns the manifest on disk.
func Check(t testing.TB, out, capacityCSV, closuresCSV string) *manifest.Manifest {
	t.Helper()
	if _, err := os.Stat(filepath.Join(out, "_SUCCESS")); err != nil {
		t.Fatalf("no _SUCCESS: %v", err)
	}
	mb, err := os.ReadFile(filepath.Join(out, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	disk, err := manifest.Parse(mb)
	if err != nil {
		t.Fatal(err)
	}
	if !disk.Conservation.Holds {
		t.Fatalf("manifest on disk: conservation %+v", disk.Conservation)
	}
	// Every listed output exists with its size and row count.
	rows := map[string]int{}
	for _, o := range disk.Outputs {
		st, err := os.Stat(filepath.Join(out, o.Key))
		if err != nil || st.Size() != o.Bytes {
			t.Fatalf("output %s: %v (size %v, manifest %d)", o.Key, err, st, o.Bytes)
		}
		if !strings.HasSuffix(o.Key, ".parquet") {
			b, err := os.ReadFile(filepath.Join(out, o.Key))
			if err != nil {
				t.Fatal(err)
			}
			if got := fmt.Sprintf("%x", sha256.Sum256(b)); got != o.SHA256 {
				t.Fatalf("output %s: sha256 %s, manifest %s", o.Key, got, o.SHA256)
			}
			continue
		}
		_, n := ReadTable(t, filepath.Join(out, o.Key))
		if int64(n) != o.Rows {
			t.Fatalf("%s: %d rows, manifest says %d", o.Key, n, o.Rows)
		}
		rows[strings.Split(o.Key, "/")[0]] += n
	}
	c := disk.Counts
	if int64(rows["assignments"]) != c.Assigned || int64(rows["overflow"]) != c.Overflow ||
		int64(rows["remain_closed"]) != c.RemainClosed || int64(rows["rejects"]) != c.Rejected {
		t.Fatalf("rows on disk %v differ from counts %+v", rows, c)
	}
	if c.InputRows != c.Assigned+c.RemainClosed+c.Overflow+c.Rejected {
		t.Fatalf("conservation: %+v", c)
	}
	var footer int64
	for _, i := range disk.Inputs {
		footer += i.Rows
	}
	if footer != c.InputRows {
		t.Fatalf("inputs hold %d rows, counts say %d", footer, c.InputRows)
	}

	// Every proceeding appears in exactly one output.
	seen := map[int64]string{}
	note := func(id int64, where string) {
		if prev, dup := seen[id]; dup {
			t.Fatalf("idnproceeding %d in %s and %s", id, prev, where)
		}
		seen[id] = where
	}
	// Contract §3 (every invariant) by the independent checker, from the
	// output rows, the calendar CSVs and the manifest's policy parameters.
	ck := invariants.Input{AsOf: disk.AsOf, MinNoticeDays: disk.Policy.MinNoticeDays, HorizonDays: disk.Policy.HorizonDays}
	capCSV, err := os.ReadFile(capacityCSV)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range csvRecords(t, capCSV) {
		var slots int
		fmt.Sscan(f[5], &slots)
		ck.Sessions = append(ck.Sessions, invariants.Session{Court: f[0], Docket: f[1], IJ: f[2], Weekday: f[3], Start: f[4], Slots: slots, From: f[6], To: f[7]})
	}
	if closuresCSV != "" { // "": the run had no closures file
		closCSV, err := os.ReadFile(closuresCSV)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range csvRecords(t, closCSV) {
			ck.Closures = append(ck.Closures, invariants.Closure{Court: f[0], Date: f[1]})
		}
	}
	str := func(v any) string {
		if v == nil {
			return ""
		}
		return v.(string)
	}
	day := func(v any) string {
		if v == nil {
			return ""
		}
		return time.Unix(int64(v.(int32))*86400, 0).UTC().Format(time.DateOnly)
	}
	// With --previous, changes/ names the standing hearings (UNCHANGED),
	// which the invariants judge as such.
	standing := map[int64]bool{}
	changeRows := map[string]int64{}
	for _, o := range disk.Outputs {
		if !strings.HasPrefix(o.Key, "changes/") {
			continue
		}
		cols, n := ReadTable(t, filepath.Join(out, o.Key))
		for i := 0; i < n; i++ {
			kind := cols["change"][i].(string)
			changeRows[kind]++
			if kind == "UNCHANGED" {
				standing[cols["idnproceeding"][i].(int64)] = true
			}
		}
	}
	if ch := disk.Changes; ch != nil {
		if changeRows["NEW"] != ch.New || changeRows["UNCHANGED"] != ch.Unchanged || changeRows["MOVED"] != ch.Moved || changeRows["RELEASED"] != ch.Released {
			t.Fatalf("changes/ holds %v, the manifest counts %+v", changeRows, *ch)
		}
		if ch.New+ch.Unchanged+ch.Moved != c.Assigned || (!ch.Partial && ch.Unchanged+ch.Moved+ch.Released != ch.PreviousAssigned) {
			t.Fatalf("changes do not add up: %+v, assigned %d", *ch, c.Assigned)
		}
	} else if len(changeRows) > 0 {
		t.Fatalf("changes/ without a changes section in the manifest")
	}
	tally := newTally()
	for _, o := range disk.Outputs {
		if !strings.HasSuffix(o.Key, ".parquet") {
			continue
		}
		cols, n := ReadTable(t, filepath.Join(out, o.Key))
		tally.add(o.Key, cols, n)
		for i := 0; i < n; i++ {
			switch {
			case strings.HasPrefix(o.Key, "assignments/"):
				id := cols["idnproceeding"][i].(int64)
				note(id, "assignments")
				court := cols["base_city_code"][i].(string)
				if !strings.Contains(o.Key, "base_city_code="+court+"/") {
					t.Fatalf("case %d of court %s in partition %s", id, court, o.Key)
				}
				ck.Cases = append(ck.Cases, invariants.Case{ID: id, Court: court, Docket: str(cols["docket"][i]),
					Tier: cols["priority_tier"][i].(int32), Score: cols["priority_score"][i].(float64),
					CaseIJ: str(cols["case_ij_code"][i]), Earliest: day(cols["earliest_hearing_date"][i]),
					Date: day(cols["hearing_date"][i]), Time: str(cols["hearing_time"][i]), SessionIJ: str(cols["ij_code"][i]), Standing: standing[id]})
			case strings.HasPrefix(o.Key, "overflow/"):
				id := cols["idnproceeding"][i].(int64)
				note(id, "overflow")
				ck.Cases = append(ck.Cases, invariants.Case{ID: id, Court: str(cols["base_city_code"][i]), Docket: str(cols["docket"][i]),
					Tier: cols["priority_tier"][i].(int32), Score: cols["priority_score"][i].(float64),
					CaseIJ: str(cols["case_ij_code"][i]), Earliest: day(cols["earliest_hearing_date"][i]),
					Overflow: true, Reason: str(cols["overflow_reason"][i]), Projected: day(cols["projected_hearing_date"][i])})
			case strings.HasPrefix(o.Key, "remain_closed/"):
				note(cols["idnproceeding"][i].(int64), "remain_closed")
			case strings.HasPrefix(o.Key, "rejects/"):
				if cols["error_code"][i].(string) == "DUPLICATE_IDNPROCEEDING" || cols["idnproceeding"][i] == nil {
					continue
				}
				note(cols["idnproceeding"][i].(int64), "rejects")
			}
		}
	}
	if err := invariants.Check(ck); err != nil {
		t.Fatalf("contract §3 violated:\n%v", err)
	}
	checkImpact(t, out, disk, tally)
	return disk
}

// csvRecords returns a small CSV's records after the header.
func csvRecords(t testing.TB, b []byte) [][]string {
	t.Helper()
	recs, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return recs[1:]
}

// osFile adapts *os.File to parquet-go's ParquetFile (its reader reopens
// the same file for each column).
type osFile struct {
	*os.File
	name string
}

func (f *osFile) Open(name string) (pqsource.ParquetFile, error) {
	if name == "" {
		name = f.name
	}
	g, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	return &osFile{File: g, name: name}, nil
}

func (f *osFile) Create(string) (pqsource.ParquetFile, error) {
	return nil, fmt.Errorf("read-only")
}

// ReadTable reads every column of a Parquet file with xitongsys/parquet-go
// — a reader independent of the arrow writer that produced it — into
// columns by lower-case name. Nulls are nil.
func ReadTable(t testing.TB, path string) (map[string][]any, int) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	pf := &osFile{File: f, name: path}
	defer pf.Close()
	pr, err := reader.NewParquetColumnReader(pf, 1)
	if err != nil {
		t.Fatalf("parquet-go cannot open %s: %v", path, err)
	}
	defer pr.ReadStop()
	n := pr.GetNumRows()
	cols := map[string][]any{}
	for i, p := range pr.SchemaHandler.ValueColumns {
		vals, _, _, err := pr.ReadColumnByIndex(int64(i), n)
		if err != nil {
			t.Fatalf("%s column %s: %v", path, p, err)
		}
		if int64(len(vals)) != n {
			t.Fatalf("%s column %s: %d values, %d rows", path, p, len(vals), n)
		}
		parts := strings.Split(p, "\x01")
		cols[strings.ToLower(parts[len(parts)-1])] = vals
	}
	return cols, int(n)
}
