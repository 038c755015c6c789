package eoirimport

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/recal-project/recal/pipeline/sink"
	"github.com/recal-project/recal/pipeline/storage"
	"github.com/recal-project/recal/pipeline/sysexit"
	"github.com/recal-project/recal/transforms/civil"
	"github.com/recal-project/recal/transforms/observed"
)

// Capacity defaults (docs/eoir-import.md, "Capacity observed from the
// release").
const (
	DefaultCapacityWeeks = 26
	DefaultRecalShare    = 0.10
)

// capacityOn reports whether the import derives a calendar.
func (im *importer) capacityOn() bool { return !im.cfg.NoCapacity }

// startCapacity sets the release date and the observer, once the
// proceedings have been read (their latest COMP_DATE dates the release).
func (im *importer) startCapacity() error {
	cfg := &im.cfg
	if !im.capacityOn() {
		return nil
	}
	if cfg.CapacityWeeks <= 0 {
		cfg.CapacityWeeks = DefaultCapacityWeeks
	}
	if cfg.RecalShare <= 0 {
		cfg.RecalShare = DefaultRecalShare
	}
	if cfg.RecalShare > 1 || cfg.SessionCap < 0 {
		return sysexit.Errorf(sysexit.ErrUsage, "--recal-share %g, --session-cap %d: want a share from 0 to 1 and a cap of 0 or more", cfg.RecalShare, cfg.SessionCap)
	}
	im.capRep = &observed.Report{Method: "share", Weeks: cfg.CapacityWeeks, Share: cfg.RecalShare,
		Session: "one court, judge, date and start time (BASE_CITY_CODE, IJ_CODE, ADJ_DATE, ADJ_TIME_START)"}
	if cfg.SessionCap > 0 {
		im.capRep.Method, im.capRep.Share, im.capRep.SessionCap = "headroom", 0, cfg.SessionCap
	}
	day, from := im.lastComp, "the latest COMP_DATE of B_TblProceeding"
	if cfg.ReleaseDate != "" {
		d, ok := civil.ParseDate(cfg.ReleaseDate)
		if !ok || len(cfg.ReleaseDate) != 10 {
			return sysexit.Errorf(sysexit.ErrUsage, "--release-date %q: want YYYY-MM-DD", cfg.ReleaseDate)
		}
		day, from = d, "--release-date"
	}
	if day == 0 {
		return im.noCapacity("no COMP_DATE in B_TblProceeding dates the release; give --release-date")
	}
	im.capRep.ReleaseDate, im.capRep.ReleaseDateFrom = civil.FormatDate(day), from
	im.obs = observed.New(day, cfg.CapacityWeeks)
	im.capRep.WindowFrom, im.capRep.WindowTo = civil.FormatDate(im.obs.From), civil.FormatDate(im.obs.To)
	return nil
}

// noCapacity gives up the calendar: an error when the user asked for
// one (a capacity flag given), else a warning and no capacity.csv.
func (im *importer) noCapacity(why string) error {
	im.obs, im.capRep = nil, nil
	if im.cfg.CapacityRequired {
		return sysexit.Errorf(sysexit.ErrData, "capacity from the release: %s", why)
	}
	im.log.Warn("no capacity.csv: "+why, "table", tSchedule)
	im.rep.CapacitySkipped = why
	return nil
}

// scheduleColumns are the tbl_schedule columns the import reads: the
// case and date always, and what the calendar needs when it is derived.
// SCHEDULE_TYPE is read when the table has it.
func (im *importer) scheduleColumns(key string, head map[string]bool) ([]string, error) {
	cols := []string{"IDNCASE", "ADJ_DATE"}
	if im.obs == nil {
		return cols, nil
	}
	need := []string{"BASE_CITY_CODE", "IJ_CODE", "CAL_TYPE", "ADJ_TIME_START"}
	var missing []string
	for _, c := range need {
		if !head[c] {
			missing = append(missing, c)
		}
	}
	if len(missing) > 0 {
		return cols, im.noCapacity(fmt.Sprintf("%s has no %s column", key, strings.Join(missing, ", ")))
	}
	cols = append(cols, need...)
	if head["SCHEDULE_TYPE"] {
		cols = append(cols, "SCHEDULE_TYPE")
	}
	return cols, nil
}

// setting feeds one tbl_schedule row (fields in scheduleColumns' order) to
// the observer: a master setting with a malformed time is a reject.
func (im *importer) setting(f []string, idc int64, day int32) *reject {
	if !strings.EqualFold(strings.TrimSpace(f[4]), "M") {
		return nil
	}
	start, ok := observed.ParseStart(f[5])
	if !ok {
		return &reject{code: "MALFORMED_TIME", message: "a master setting's ADJ_TIME_START is not a time"}
	}
	if day < im.obs.From {
		return nil // before the window: most of a release's settings, not looked up
	}
	court := im.codes.intern(strings.ToUpper(f[2]))
	if to, ok := im.cross[court]; ok {
		court = to
	}
	detained := im.detained.has(idc)
	if len(f) > 6 {
		detained = detained || strings.EqualFold(strings.TrimSpace(f[6]), "MD")
	}
	im.obs.Add(observed.Setting{Court: court, Judge: im.codes.intern(f[3]), Day: day, Start: start, Master: true,
		Detained: detained, Juvenile: im.juvenile.has(idc)})
	return nil
}

// capacity derives the calendar from what the observer saw.
func (im *importer) capacity(context.Context) error {
	if im.obs == nil {
		return nil
	}
	rep := im.capRep
	rep.MasterSettings = im.obs.Masters
	if im.obs.Masters == 0 {
		return im.noCapacity(fmt.Sprintf("no master setting (CAL_TYPE M) in the %d weeks before the release date %s", rep.Weeks, rep.ReleaseDate))
	}
	var rows []observed.Row
	if rep.Method == "headroom" {
		rows, rep.Courts = im.obs.Headroom(rep.SessionCap)
	} else {
		rows, rep.Courts = im.obs.Derive(rep.Share)
	}
	kept := rows[:0]
	for _, r := range rows {
		if im.ref.CourtIndex(r.Court) < 0 {
			if rep.UnknownCourts == nil {
				rep.UnknownCourts = map[string]int{}
			}
			rep.UnknownCourts[r.Court]++
			continue
		}
		kept = append(kept, r)
	}
	if len(kept) == 0 {
		return im.noCapacity("no recurring session offers a slot (every session's share rounds to 0, or its court is unknown)")
	}
	im.capCSV = capacityCSV(kept)
	h := sha256.Sum256(im.capCSV)
	rep.Rows, rep.CapacitySHA256 = len(kept), hex.EncodeToString(h[:])
	return nil
}

// capacityCSV renders rows in contract §1.3's columns (encoding/csv
// quotes a judge code that needs it).
func capacityCSV(rows []observed.Row) []byte {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.Write([]string{"base_city_code", "docket", "ij_code", "weekday", "session_start", "slots", "effective_from", "effective_to"})
	weekdays := [...]string{"MON", "TUE", "WED", "THU", "FRI"}
	for _, r := range rows {
		to := ""
		if r.To >= 0 {
			to = civil.FormatDate(r.To)
		}
		w.Write([]string{r.Court, r.Docket.String(), r.Judge, weekdays[r.Weekday], fmt.Sprintf("%02d:%02d", r.Start/60, r.Start%60),
			strconv.Itoa(r.Slots), civil.FormatDate(r.From), to})
	}
	w.Flush() // writes to a buffer: no error
	return b.Bytes()
}

// writeCapacity writes capacity.csv and capacity.json beside export/.
func (im *importer) writeCapacity(ctx context.Context) error {
	if im.capCSV == nil {
		return nil
	}
	j, err := json.MarshalIndent(im.capRep, "", "  ")
	if err != nil {
		return err
	}
	for _, f := range []struct {
		key  string
		data []byte
	}{{"capacity.csv", im.capCSV}, {"capacity.json", append(j, '\n')}} {
		if err := storage.Put(ctx, im.out, f.key, bytes.NewReader(f.data)); err != nil {
			return err
		}
		h := sha256.Sum256(f.data)
		im.rep.Objects = append(im.rep.Objects, sink.Object{Key: f.key, Bytes: int64(len(f.data)), SHA256: hex.EncodeToString(h[:])})
	}
	im.rep.Capacity = im.capRep
	return nil
}

// idSet is a set of positive ids (IDNCASE), as a bitset.
type idSet []uint64

func (s *idSet) add(id int64) {
	if id <= 0 || id >= 1<<31 {
		return
	}
	w := int(id >> 6)
	if w >= len(*s) {
		*s = append(*s, make([]uint64, w+1-len(*s)+len(*s)/4)...)
	}
	(*s)[w] |= 1 << (id & 63)
}

func (s idSet) has(id int64) bool {
	w := int(id >> 6)
	return id > 0 && w < len(s) && s[w]&(1<<(id&63)) != 0
}
