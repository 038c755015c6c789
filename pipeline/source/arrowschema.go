package source

import (
	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/parquet/pqarrow"

	"github.com/recal-project/recal/transforms/export"
)

// Writers that start from arrow (pyarrow, polars, arrow-rs, pandas through
// pyarrow) store their arrow schema in the file (the ARROW:schema key), and
// pqarrow reads it back. Two of its effects are undone or completed here,
// for the columns recal projects:
//
//   - A dictionary type (a pandas or polars Categorical, an arrow-rs
//     dictionary array) makes pqarrow read the column as arrow dictionary
//     arrays, one dictionary per row group, and arrow v15 cannot join two of
//     them into one batch ("not implemented" as soon as a batch crosses a row
//     group). The Parquet data is the same either way (dictionary pages are
//     a Parquet encoding, not a type), so such columns are read as their
//     value type: plainDictionaries.
//   - arrow-rs writes Timestamp(Second) and Date64 as bare INT64 columns
//     (Parquet has no second unit, and no 64-bit date) whose type is said
//     only in the stored schema, which pqarrow does not apply to them; the
//     integers are viewed as that type: storedDateTypes.

// plainDictionaries replaces every dictionary type in the manifest's fields
// (and in list elements) with its value type.
func plainDictionaries(m *pqarrow.SchemaManifest) {
	for i := range m.Fields {
		undict(&m.Fields[i])
	}
}

// undict reports whether f's type changed.
func undict(f *pqarrow.SchemaField) bool {
	changed := false
	for i := range f.Children {
		changed = undict(&f.Children[i]) || changed
	}
	nf := *f.Field
	switch t := f.Field.Type.(type) {
	case *arrow.DictionaryType:
		nf.Type = t.ValueType
	case *arrow.ListType:
		if !changed || len(f.Children) != 1 {
			return changed
		}
		nf.Type = arrow.ListOfField(*f.Children[0].Field)
	case *arrow.LargeListType:
		if !changed || len(f.Children) != 1 {
			return changed
		}
		nf.Type = arrow.LargeListOfField(*f.Children[0].Field)
	default:
		return changed
	}
	f.Field = &nf
	return true
}

// storedDateTypes returns, for each date column of Columns read from a bare
// integer Parquet column, the date type the stored arrow schema gives it
// (Timestamp or Date64 over INT64, Date32 over INT32), or nil. top is the
// projection's field index per column.
func storedDateTypes(m *pqarrow.SchemaManifest, top []int) []arrow.DataType {
	out := make([]arrow.DataType, len(export.Columns))
	if m.OriginSchema == nil {
		return out
	}
	for c, col := range export.Columns {
		i := top[c]
		if col.Kind != export.KindDate || i < 0 || i >= m.OriginSchema.NumFields() {
			continue
		}
		origin := m.OriginSchema.Field(i).Type
		read := m.Fields[i].Field.Type
		switch {
		case read.ID() == arrow.INT64 && (origin.ID() == arrow.TIMESTAMP || origin.ID() == arrow.DATE64):
			out[c] = origin
		case read.ID() == arrow.INT32 && origin.ID() == arrow.DATE32:
			out[c] = origin
		}
	}
	return out
}

// retyped views an integer array as t, a type of the same width (INT64 as
// Timestamp or Date64, INT32 as Date32). The caller releases the result.
func retyped(a arrow.Array, t arrow.DataType) arrow.Array {
	d := a.Data()
	return array.MakeFromData(array.NewData(t, d.Len(), d.Buffers(), nil, d.NullN(), d.Offset()))
}
