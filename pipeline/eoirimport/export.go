package eoirimport

import (
	"context"
	"encoding/csv"
	"fmt"
	"strings"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"

	"github.com/recal-project/recal/pipeline/datasets"
	"github.com/recal-project/recal/pipeline/location"
	"github.com/recal-project/recal/pipeline/sysexit"
	"github.com/recal-project/recal/transforms/stillclosed"
)

// rejectSchema is the rejects format of recal run (contract §2); row is
// the 1-based line in the table named by source.
var rejectSchema = datasets.Rejects

// exportSchema is the closed-case export (contract §1.1) as the import
// writes it: the contract's names and logical types. alien_nbr is never
// written, and pending_applications and application_outcome are not in the
// public release (they are optional).
var exportSchema = datasets.Export("pending_applications", "application_outcome")

// appendRow appends one still-closed case to the export.
func appendRow(b *array.RecordBuilder, r *record, c *stillclosed.Case) {
	str := func(i int, s string) {
		if s == "" {
			b.Field(i).AppendNull()
		} else {
			b.Field(i).(*array.StringBuilder).Append(s)
		}
	}
	date := func(i int, d int32, ok bool) {
		if ok {
			b.Field(i).(*array.Date32Builder).Append(arrow.Date32(d))
		} else {
			b.Field(i).AppendNull()
		}
	}
	flag := func(i int, s string) {
		switch strings.ToUpper(s) {
		case "Y", "1", "TRUE", "T":
			b.Field(i).(*array.BooleanBuilder).Append(true)
		case "N", "0", "FALSE", "F":
			b.Field(i).(*array.BooleanBuilder).Append(false)
		default:
			b.Field(i).AppendNull()
		}
	}
	or := func(a, b string) string {
		if a != "" {
			return a
		}
		return b
	}
	b.Field(0).(*array.Int64Builder).Append(r.idncase)
	b.Field(1).(*array.Int64Builder).Append(r.idnproc)
	b.Field(2).(*array.StringBuilder).Append(r.court)
	str(3, r.hloc)
	str(4, r.ij)
	str(5, or(r.caseType, r.caseType2))
	str(6, or(r.history, or(r.custody, r.caseCustody)))
	str(7, or(r.nat, r.caseNat))
	str(8, or(r.lang, r.caseLang))
	b.Field(9).(*array.Date32Builder).Append(arrow.Date32(r.osc))
	date(10, r.input, r.hasInput)
	b.Field(11).(*array.Date32Builder).Append(arrow.Date32(c.CompDate))
	b.Field(12).(*array.StringBuilder).Append(r.otherComp)
	flag(13, r.crim)
	flag(14, r.aggr)
	flag(15, r.absentia)
	date(16, r.entry, r.hasEntry)
	date(17, r.birth, r.hasBirth)
	str(18, r.prior)
	date(19, r.e28, r.hasE28)
	date(20, r.latestHearing, r.hasLatest)
	date(21, c.MotionDate, c.HasMotion)
	if c.HasMotion {
		str(22, c.MotionDec)
	} else {
		b.Field(22).AppendNull()
	}
}

// loadCrosswalk reads --court-crosswalk: a CSV with a header naming
// old_code and new_code (other columns, e.g. a note, are ignored).
func loadCrosswalk(ctx context.Context, cfg Config) (map[string]string, error) {
	out := map[string]string{}
	if cfg.Crosswalk == "" {
		return out, nil
	}
	b, err := location.ReadFile(ctx, cfg.Crosswalk, cfg.Locations)
	if err != nil {
		return nil, fmt.Errorf("court crosswalk: %w", err)
	}
	r := csv.NewReader(strings.NewReader(string(b)))
	r.FieldsPerRecord = -1
	recs, err := r.ReadAll()
	if err != nil {
		return nil, sysexit.With(sysexit.ErrData, fmt.Errorf("court crosswalk %s: %w", cfg.Crosswalk, err))
	}
	if len(recs) == 0 {
		return out, nil
	}
	oldCol, newCol := -1, -1
	for i, h := range recs[0] {
		switch strings.ToLower(strings.TrimSpace(h)) {
		case "old_code":
			oldCol = i
		case "new_code":
			newCol = i
		}
	}
	if oldCol < 0 || newCol < 0 {
		return nil, sysexit.Errorf(sysexit.ErrData, "court crosswalk %s line 1: want columns old_code and new_code", cfg.Crosswalk)
	}
	for n, rec := range recs[1:] {
		if len(rec) <= max(oldCol, newCol) {
			return nil, sysexit.Errorf(sysexit.ErrData, "court crosswalk %s line %d: %d fields", cfg.Crosswalk, n+2, len(rec))
		}
		from, to := strings.ToUpper(strings.TrimSpace(rec[oldCol])), strings.ToUpper(strings.TrimSpace(rec[newCol]))
		if from == "" || to == "" {
			return nil, sysexit.Errorf(sysexit.ErrData, "court crosswalk %s line %d: empty code", cfg.Crosswalk, n+2)
		}
		if prev, ok := out[from]; ok && prev != to {
			return nil, sysexit.Errorf(sysexit.ErrData, "court crosswalk %s line %d: %s maps to %s and to %s", cfg.Crosswalk, n+2, from, prev, to)
		}
		out[from] = to
	}
	return out, nil
}
