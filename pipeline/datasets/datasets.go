// Package datasets holds the Arrow schemas of the Parquet datasets recal
// writes (contract §2 and its additions): assignments/, remain_closed/,
// overflow/, changes/ and rejects/ (recal run and recal merge; rejects/ also
// recal import-eoir), and the closed-case export as recal import-eoir writes
// it, derived from the one table of the export's columns
// (transforms/export.Columns).
package datasets

import (
	"slices"

	"github.com/apache/arrow/go/v15/arrow"

	"github.com/recal-project/recal/transforms/export"
)

// Assignments is assignments/ (contract §2); earliest_hearing_date and
// case_ij_code are additions (docs/contract-additions.md): what makes
// invariants 3–5 checkable from the outputs alone.
var Assignments = arrow.NewSchema([]arrow.Field{
	{Name: "idncase", Type: arrow.PrimitiveTypes.Int64},
	{Name: "idnproceeding", Type: arrow.PrimitiveTypes.Int64},
	{Name: "base_city_code", Type: arrow.BinaryTypes.String},
	{Name: "docket", Type: arrow.BinaryTypes.String},
	{Name: "hearing_date", Type: arrow.FixedWidthTypes.Date32},
	{Name: "hearing_time", Type: arrow.BinaryTypes.String},
	{Name: "ij_code", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "priority_tier", Type: arrow.PrimitiveTypes.Int32},
	{Name: "priority_score", Type: arrow.PrimitiveTypes.Float64},
	{Name: "rule_id", Type: arrow.BinaryTypes.String},
	{Name: "tier_rule_id", Type: arrow.BinaryTypes.String},
	{Name: "policy_id", Type: arrow.BinaryTypes.String},
	{Name: "earliest_hearing_date", Type: arrow.FixedWidthTypes.Date32},
	{Name: "case_ij_code", Type: arrow.BinaryTypes.String, Nullable: true},
}, nil)

// RemainClosed is remain_closed/ (contract §2).
var RemainClosed = arrow.NewSchema([]arrow.Field{
	{Name: "idncase", Type: arrow.PrimitiveTypes.Int64},
	{Name: "idnproceeding", Type: arrow.PrimitiveTypes.Int64},
	{Name: "base_city_code", Type: arrow.BinaryTypes.String},
	{Name: "rule_id", Type: arrow.BinaryTypes.String},
	{Name: "reason", Type: arrow.BinaryTypes.String},
}, nil)

// Overflow is overflow/ (contract §2); overflow_reason,
// earliest_hearing_date and case_ij_code are additions.
var Overflow = arrow.NewSchema([]arrow.Field{
	{Name: "idncase", Type: arrow.PrimitiveTypes.Int64},
	{Name: "idnproceeding", Type: arrow.PrimitiveTypes.Int64},
	{Name: "base_city_code", Type: arrow.BinaryTypes.String},
	{Name: "docket", Type: arrow.BinaryTypes.String},
	{Name: "priority_tier", Type: arrow.PrimitiveTypes.Int32},
	{Name: "priority_score", Type: arrow.PrimitiveTypes.Float64},
	{Name: "rule_id", Type: arrow.BinaryTypes.String},
	{Name: "projected_hearing_date", Type: arrow.FixedWidthTypes.Date32, Nullable: true},
	{Name: "overflow_reason", Type: arrow.BinaryTypes.String},
	{Name: "earliest_hearing_date", Type: arrow.FixedWidthTypes.Date32},
	{Name: "case_ij_code", Type: arrow.BinaryTypes.String, Nullable: true},
}, nil)

// Changes is changes/ (an addition, docs/contract-additions.md): with
// --previous, what changed since that run.
var Changes = arrow.NewSchema([]arrow.Field{
	{Name: "idnproceeding", Type: arrow.PrimitiveTypes.Int64},
	{Name: "base_city_code", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "change", Type: arrow.BinaryTypes.String},
	{Name: "previous_hearing_date", Type: arrow.FixedWidthTypes.Date32, Nullable: true},
	{Name: "previous_hearing_time", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "hearing_date", Type: arrow.FixedWidthTypes.Date32, Nullable: true},
	{Name: "hearing_time", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "reason", Type: arrow.BinaryTypes.String, Nullable: true},
}, nil)

// Rejects is rejects/ (contract §2): the object (or release table) a row
// came from, its row (a 0-based row of an object, or a 1-based line of a
// table), its idnproceeding when it had one, the reason and a message
// without values.
var Rejects = arrow.NewSchema([]arrow.Field{
	{Name: "source", Type: arrow.BinaryTypes.String},
	{Name: "row", Type: arrow.PrimitiveTypes.Int64},
	{Name: "idnproceeding", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	{Name: "error_code", Type: arrow.BinaryTypes.String},
	{Name: "message", Type: arrow.BinaryTypes.String},
}, nil)

// Export is the closed-case export in its canonical types (int64, string,
// date32, boolean, list<string>), in contract order, without the columns
// named in except; required columns are not nullable.
func Export(except ...string) *arrow.Schema {
	var fields []arrow.Field
	for _, c := range export.Columns {
		if slices.Contains(except, c.Name) {
			continue
		}
		fields = append(fields, arrow.Field{Name: c.Name, Type: arrowType(c.Kind), Nullable: !c.Required})
	}
	return arrow.NewSchema(fields, nil)
}

func arrowType(k export.Kind) arrow.DataType {
	switch k {
	case export.KindInt64:
		return arrow.PrimitiveTypes.Int64
	case export.KindDate:
		return arrow.FixedWidthTypes.Date32
	case export.KindBool:
		return arrow.FixedWidthTypes.Boolean
	case export.KindStringList:
		return arrow.ListOf(arrow.BinaryTypes.String)
	}
	return arrow.BinaryTypes.String
}
