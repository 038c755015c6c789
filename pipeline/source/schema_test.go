package source

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/recal-project/recal/pipeline/storage"
	"github.com/recal-project/recal/pipeline/storage/local"
	"github.com/recal-project/recal/transforms/export"
)

// TestWrongSchemas reads exports whose required columns are missing or of
// types no writer of the contract's data uses: each must fail with
// ErrSchema naming the object and the column, before any batch. (A column
// twice under names equal but for case is refused too, but DuckDB will not
// write one: it renames the second.)
func TestWrongSchemas(t *testing.T) {
	base := map[string]string{
		"idncase": "i::BIGINT", "idnproceeding": "(1000 + i)::BIGINT", "base_city_code": "'NYC'",
		"osc_date": "DATE '2015-01-01'", "comp_date": "DATE '2018-01-01'", "other_comp": "'A'",
	}
	order := []string{"idncase", "idnproceeding", "base_city_code", "osc_date", "comp_date", "other_comp"}
	tests := []struct {
		name   string
		change map[string]string // column -> expression ("" drops it)
		extra  string            // an extra select item
		want   string            // in the error, besides the object key
		unread bool              // the reader is told no column is looked at
	}{
		{"idnproceeding as free text", map[string]string{"idnproceeding": "'P-' || i::VARCHAR"}, "", "idnproceeding", false},
		{"idncase as a double", map[string]string{"idncase": "i::DOUBLE + 0.5"}, "", "idncase", false},
		{"osc_date as a boolean", map[string]string{"osc_date": "i % 2 = 0"}, "", "osc_date", false},
		{"base_city_code as a list", map[string]string{"base_city_code": "['NYC']"}, "", "base_city_code", false},
		{"base_city_code missing", map[string]string{"base_city_code": ""}, "", "base_city_code", false},
		// Left unread, a string column is not decoded; stored as another
		// type it is, and fails as it would.
		{"case_type as an integer, unread", nil, "i::BIGINT AS case_type", "case_type", true},
	}
	dir := t.TempDir()
	var stmts []string
	for k, tc := range tests {
		var items []string
		for _, c := range order {
			expr, ok := tc.change[c]
			if !ok {
				expr = base[c]
			}
			if expr != "" {
				items = append(items, expr+" AS "+c)
			}
		}
		if tc.extra != "" {
			items = append(items, tc.extra)
		}
		stmts = append(stmts, fmt.Sprintf("COPY (SELECT %s FROM range(1, 101) r(i)) TO '%s' (FORMAT parquet)",
			strings.Join(items, ", "), filepath.Join(dir, fmt.Sprintf("case-%d.parquet", k))))
	}
	duckdb(t, stmts...)
	st := local.New(dir)
	for k, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			key := fmt.Sprintf("case-%d.parquet", k)
			info, err := st.Stat(context.Background(), key)
			if err != nil {
				t.Fatal(err)
			}
			batches := 0
			var o Options
			if tc.unread {
				o.Unread = func(int) bool { return true }
			}
			_, err = ReadObject(context.Background(), st, 0, storage.ObjectInfo{Key: key, Size: info.Size}, o,
				func(context.Context, *export.Batch) error { batches++; return nil })
			var oe *ObjectError
			if !errors.Is(err, ErrSchema) || !errors.As(err, &oe) || oe.Key != key || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("%v; want ErrSchema naming %s and %s", err, key, tc.want)
			}
			if batches != 0 {
				t.Errorf("%d batches delivered before the schema error", batches)
			}
			t.Log(err)
		})
	}
}
