package job

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/apache/arrow/go/v15/parquet/file"
	"github.com/apache/arrow/go/v15/parquet/pqarrow"

	"github.com/recal-project/recal/pipeline/location"
	"github.com/recal-project/recal/pipeline/manifest"
	"github.com/recal-project/recal/pipeline/storage"
	"github.com/recal-project/recal/pipeline/sysexit"
	"github.com/recal-project/recal/transforms/reference"
	"github.com/recal-project/recal/transforms/schedule"
)

// maxCalendarRows bounds a Parquet capacity calendar (a real one has a
// few thousand rows).
const maxCalendarRows = 1_000_000

// parseCapacity parses a capacity calendar in CSV or, when it starts with
// Parquet's magic bytes, in Parquet (contract §1.3). A Parquet calendar is
// turned into CSV records (strings, integers and DATE or timestamp columns
// are rendered as the CSV would hold them) and checked by the same rules;
// its errors name the 0-based row instead of a line.
func parseCapacity(cal *schedule.Calendar, name string, data []byte, ref *reference.Data) error {
	if !bytes.HasPrefix(data, []byte("PAR1")) {
		return cal.ParseCapacity(name, data, ref)
	}
	text, err := parquetAsCSV(data)
	if err != nil {
		return &schedule.ParseError{File: name, Line: -1, Row: true, Err: fmt.Errorf("%w: %v", schedule.ErrField, err)}
	}
	err = cal.ParseCapacity(name, text, ref)
	var pe *schedule.ParseError
	if errors.As(err, &pe) {
		pe.Row, pe.Line = true, pe.Line-2 // CSV line 2 holds row 0
	}
	return err
}

// parquetAsCSV renders a small Parquet table as CSV text with lower-case
// column names.
func parquetAsCSV(data []byte) ([]byte, error) {
	pf, err := file.NewParquetReader(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("not a readable Parquet file: %w", err)
	}
	defer pf.Close()
	if pf.NumRows() > maxCalendarRows {
		return nil, fmt.Errorf("%d rows; a capacity calendar may hold at most %d", pf.NumRows(), maxCalendarRows)
	}
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{}, memory.DefaultAllocator)
	if err != nil {
		return nil, err
	}
	tbl, err := fr.ReadTable(context.Background())
	if err != nil {
		return nil, err
	}
	defer tbl.Release()
	n := int(tbl.NumRows())
	cols := int(tbl.NumCols())
	rows := make([][]string, n+1)
	for r := range rows {
		rows[r] = make([]string, cols)
	}
	for c := 0; c < cols; c++ {
		col := tbl.Column(c)
		rows[0][c] = strings.ToLower(col.Name())
		r := 1
		for _, chunk := range col.Data().Chunks() {
			for i := 0; i < chunk.Len(); i, r = i+1, r+1 {
				if chunk.IsNull(i) {
					continue
				}
				s, err := cell(chunk, i)
				if err != nil {
					return nil, fmt.Errorf("column %s: %w", col.Name(), err)
				}
				rows[r][c] = s
			}
		}
	}
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	if err := w.WriteAll(rows); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func cell(a arrow.Array, i int) (string, error) {
	switch a := a.(type) {
	case *array.String:
		return a.Value(i), nil
	case *array.LargeString:
		return a.Value(i), nil
	case *array.Int32:
		return strconv.FormatInt(int64(a.Value(i)), 10), nil
	case *array.Int64:
		return strconv.FormatInt(a.Value(i), 10), nil
	case *array.Date32:
		return a.Value(i).ToTime().Format(time.DateOnly), nil
	case *array.Date64:
		return a.Value(i).ToTime().UTC().Format(time.DateOnly), nil
	case *array.Timestamp:
		unit := a.DataType().(*arrow.TimestampType).Unit
		return a.Value(i).ToTime(unit).UTC().Format(time.DateOnly), nil
	case *array.Dictionary:
		return cell(a.Dictionary(), a.GetValueIndex(i))
	}
	return "", fmt.Errorf("type %s is not a string, integer or date", a.DataType())
}

// capacitySource reads the capacity.json beside the calendar (recal
// import-eoir writes one with capacity.csv) when it describes this
// calendar (its capacity_sha256 is the calendar's). None beside it is no
// source; one that describes another file is ignored with a warning; one
// that is not JSON is an error.
func capacitySource(ctx context.Context, cfg *Config, capBytes []byte) (*manifest.CapacitySource, error) {
	uri := siblingURI(cfg.Capacity, "capacity.json")
	if uri == "" {
		return nil, nil
	}
	b, err := location.ReadFile(ctx, uri, cfg.Locations)
	if errors.Is(err, storage.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	src := &manifest.CapacitySource{URI: uri, SHA256: sha(b)}
	if err := json.Unmarshal(b, &src.Report); err != nil {
		return nil, sysexit.Errorf(sysexit.ErrData, "%s (beside --capacity): %v", uri, err)
	}
	if src.CapacitySHA256 != sha(capBytes) {
		logger(cfg).Warn("capacity.json beside the capacity calendar describes another calendar; ignored", "capacity_json", uri)
		return nil, nil
	}
	return src, nil
}

// siblingURI is the URI of name in the folder or prefix of uri ("" when
// uri has no parent).
func siblingURI(uri, name string) string {
	i := strings.LastIndexByte(uri, '/')
	if i < 0 {
		return name
	}
	if strings.HasSuffix(uri[:i], ":/") { // "s3://bucket" without a key
		return ""
	}
	return uri[:i+1] + name
}

// capacitySettings renders the capacity source for the run id ("" when
// there is none, so that other runs keep their fingerprint).
func capacitySettings(m *manifest.Manifest) string {
	if m.CapacitySource == nil {
		return ""
	}
	return "capacity_source=" + m.CapacitySource.SHA256 + ";"
}
