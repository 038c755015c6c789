// Package datasets holds the Arrow schemas of the Parquet datasets recal
// writes that more than one command shares: rejects/ (recal run, recal
// merge and recal import-eoir) and the closed-case export (recal
// import-eoir writes it; recal gen's reference layout has the same types),
// the latter derived from the one table of the export's columns
// (transforms/export.Columns).
package datasets

import (
	"slices"

	"github.com/apache/arrow/go/v15/arrow"

	"github.com/recal-project/recal/transforms/export"
)

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
