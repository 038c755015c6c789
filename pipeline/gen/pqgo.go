package gen

import (
	"context"
	"fmt"
	"os"

	pqgo "github.com/xitongsys/parquet-go/parquet"
	"github.com/xitongsys/parquet-go/writer"

	"github.com/recal-project/recal/pipeline/storage"
)

// pgRow is the export row as xitongsys/parquet-go writes it: the fifth
// writer layout, LZ4_RAW-compressed, which arrow v15 cannot read — recal's
// fallback decoder does. Dates are DATE, TIMESTAMP_MICROS and INT96-free;
// absentia is a Y/N string. The optional list must be a *[]string:
// parquet-go's writer drops the elements of a plain []string tagged
// repetitiontype=OPTIONAL (seen here: every list came back empty).
type pgRow struct {
	Idncase             int64     `parquet:"name=idncase, type=INT64"`
	Idnproceeding       int64     `parquet:"name=idnproceeding, type=INT64"`
	AlienNbr            *string   `parquet:"name=alien_nbr, type=BYTE_ARRAY, convertedtype=UTF8"`
	BaseCityCode        *string   `parquet:"name=base_city_code, type=BYTE_ARRAY, convertedtype=UTF8"`
	HearingLocCode      *string   `parquet:"name=hearing_loc_code, type=BYTE_ARRAY, convertedtype=UTF8"`
	IjCode              *string   `parquet:"name=ij_code, type=BYTE_ARRAY, convertedtype=UTF8"`
	CaseType            *string   `parquet:"name=case_type, type=BYTE_ARRAY, convertedtype=UTF8"`
	Custody             *string   `parquet:"name=custody, type=BYTE_ARRAY, convertedtype=UTF8"`
	Nat                 *string   `parquet:"name=nat, type=BYTE_ARRAY, convertedtype=UTF8"`
	Lang                *string   `parquet:"name=lang, type=BYTE_ARRAY, convertedtype=UTF8"`
	OscDate             *int32    `parquet:"name=osc_date, type=INT32, convertedtype=DATE"`
	InputDate           *int32    `parquet:"name=input_date, type=INT32, convertedtype=DATE"`
	CompDate            *int64    `parquet:"name=comp_date, type=INT64, convertedtype=TIMESTAMP_MICROS"`
	OtherComp           *string   `parquet:"name=other_comp, type=BYTE_ARRAY, convertedtype=UTF8"`
	CrimInd             *bool     `parquet:"name=crim_ind, type=BOOLEAN"`
	AggravateFelon      *bool     `parquet:"name=aggravate_felon, type=BOOLEAN"`
	Absentia            *string   `parquet:"name=absentia, type=BYTE_ARRAY, convertedtype=UTF8"`
	DateOfEntry         *int32    `parquet:"name=date_of_entry, type=INT32, convertedtype=DATE"`
	CBirthdate          *int32    `parquet:"name=c_birthdate, type=INT32, convertedtype=DATE"`
	CasepriorityCode    *string   `parquet:"name=casepriority_code, type=BYTE_ARRAY, convertedtype=UTF8"`
	E28Date             *int32    `parquet:"name=e_28_date, type=INT32, convertedtype=DATE"`
	LatestHearing       *int32    `parquet:"name=latest_hearing, type=INT32, convertedtype=DATE"`
	RecalMotionDate     *int32    `parquet:"name=recal_motion_date, type=INT32, convertedtype=DATE"`
	RecalMotionDec      *string   `parquet:"name=recal_motion_dec, type=BYTE_ARRAY, convertedtype=UTF8"`
	PendingApplications *[]string `parquet:"name=pending_applications, type=LIST, repetitiontype=OPTIONAL, valuetype=BYTE_ARRAY, valueconvertedtype=UTF8"`
	ApplicationOutcome  *string   `parquet:"name=application_outcome, type=BYTE_ARRAY, convertedtype=UTF8"`
}

func optStr(s string, ok bool) *string {
	if !ok {
		return nil
	}
	return &s
}

func optDate(d int32) *int32 {
	if d == -1 {
		return nil
	}
	return &d
}

func optFlag(f int8) *bool {
	if f < 0 {
		return nil
	}
	b := f == 1
	return &b
}

func (x *row) pg() pgRow {
	s := func(name string) *string { return optStr(x.str(name)) }
	comp := int64(x.comp) * 86_400_000_000
	p := pgRow{
		Idncase: x.idncase, Idnproceeding: x.idnproc,
		AlienNbr: s("alien_nbr"), BaseCityCode: s("base_city_code"), HearingLocCode: s("hearing_loc_code"),
		IjCode: s("ij_code"), CaseType: s("case_type"), Custody: s("custody"), Nat: s("nat"), Lang: s("lang"),
		OscDate: optDate(x.osc), InputDate: optDate(x.input), CompDate: &comp, OtherComp: s("other_comp"),
		CrimInd: optFlag(x.crim), AggravateFelon: optFlag(x.agg),
		DateOfEntry: optDate(x.entry), CBirthdate: optDate(x.birth), CasepriorityCode: s("casepriority_code"),
		E28Date: optDate(x.e28), LatestHearing: optDate(x.latest), RecalMotionDate: optDate(x.rmd),
		RecalMotionDec: s("recal_motion_dec"), PendingApplications: optList(x.apps), ApplicationOutcome: s("application_outcome"),
	}
	if x.absentia >= 0 {
		p.Absentia = optStr(map[int8]string{0: "N", 1: "Y"}[x.absentia], true)
	}
	return p
}

// writeParquetGoObject writes one object with xitongsys/parquet-go.
func writeParquetGoObject(ctx context.Context, st storage.Store, key string, s objectSpec, cs []court, pick weighted, tmpDir string) error {
	f, err := stageFile(tmpDir)
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	pw, err := writer.NewParquetWriterFromWriter(f, new(pgRow), 1)
	if err != nil {
		return fmt.Errorf("gen %s: %w", key, err)
	}
	pw.CompressionType = pqgo.CompressionCodec_LZ4_RAW
	pw.RowGroupSize = 16 << 20
	rs := s.stream(cs, pick)
	for i := int64(0); i < s.rows; i++ {
		if i%65536 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		x := rs.next()
		if err := pw.Write(x.pg()); err != nil {
			return fmt.Errorf("gen %s: %w", key, err)
		}
	}
	if err := pw.WriteStop(); err != nil {
		return fmt.Errorf("gen %s: %w", key, err)
	}
	if _, err := f.Seek(0, 0); err != nil {
		return err
	}
	return storage.Put(ctx, st, key, f)
}

func optList(a []string) *[]string {
	if a == nil {
		return nil
	}
	return &a
}
