package source

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"

	"github.com/recal-project/recal/transforms/civil"
	"github.com/recal-project/recal/transforms/export"
)

// ErrType is wrapped when a column's physical type cannot be normalised to
// its logical type.
var ErrType = errors.New("unsupported column type")

// interner deduplicates the short codes that fill most string columns. It
// belongs to one goroutine.
type interner struct {
	m map[string]string
}

const maxInterned = 1 << 16

func newInterner() *interner { return &interner{m: make(map[string]string, 1024)} }

// get returns an owned copy of s (arrow's Value aliases a buffer that is
// released with its record).
func (in *interner) get(s string) string {
	if v, ok := in.m[s]; ok {
		return v
	}
	c := strings.Clone(s)
	if len(in.m) < maxInterned {
		in.m[c] = c
	}
	return c
}

// stringAt reads element i of a string-like array (string, large string,
// binary), or reports ok=false for other types.
func stringAt(arr arrow.Array, i int) (string, bool) {
	switch a := arr.(type) {
	case *array.String:
		return a.Value(i), true
	case *array.LargeString:
		return a.Value(i), true
	case *array.Binary:
		return string(a.Value(i)), true // converted to string: copied
	case *array.LargeBinary:
		return string(a.Value(i)), true
	}
	return "", false
}

func isStringLike(t arrow.DataType) bool {
	switch t.ID() {
	case arrow.STRING, arrow.LARGE_STRING, arrow.BINARY, arrow.LARGE_BINARY:
		return true
	case arrow.DICTIONARY:
		return isStringLike(t.(*arrow.DictionaryType).ValueType)
	}
	return false
}

// forEachString calls fn(row, value) for every non-null element of a
// string-like (or dictionary-of-string) array.
func forEachString(arr arrow.Array, fn func(i int, s string)) error {
	if d, ok := arr.(*array.Dictionary); ok {
		dict := d.Dictionary()
		if !isStringLike(dict.DataType()) {
			return fmt.Errorf("%w: dictionary of %s", ErrType, dict.DataType())
		}
		for i := 0; i < d.Len(); i++ {
			if d.IsNull(i) {
				continue
			}
			s, _ := stringAt(dict, d.GetValueIndex(i))
			fn(i, s)
		}
		return nil
	}
	if !isStringLike(arr.DataType()) {
		return fmt.Errorf("%w: %s", ErrType, arr.DataType())
	}
	for i := 0; i < arr.Len(); i++ {
		if arr.IsNull(i) {
			continue
		}
		s, _ := stringAt(arr, i)
		fn(i, s)
	}
	return nil
}

func fillInt64(dst *export.Int64s, off int, arr arrow.Array) error {
	set := func(i int, v int64) { dst.V[off+i], dst.S[off+i] = v, export.Valid }
	switch a := arr.(type) {
	case *array.Int64:
		for i := 0; i < a.Len(); i++ {
			if a.IsValid(i) {
				set(i, a.Value(i))
			}
		}
	case *array.Int32:
		for i := 0; i < a.Len(); i++ {
			if a.IsValid(i) {
				set(i, int64(a.Value(i)))
			}
		}
	case *array.Int16:
		for i := 0; i < a.Len(); i++ {
			if a.IsValid(i) {
				set(i, int64(a.Value(i)))
			}
		}
	case *array.Int8:
		for i := 0; i < a.Len(); i++ {
			if a.IsValid(i) {
				set(i, int64(a.Value(i)))
			}
		}
	case *array.Uint32:
		for i := 0; i < a.Len(); i++ {
			if a.IsValid(i) {
				set(i, int64(a.Value(i)))
			}
		}
	case *array.Uint16:
		for i := 0; i < a.Len(); i++ {
			if a.IsValid(i) {
				set(i, int64(a.Value(i)))
			}
		}
	case *array.Uint8:
		for i := 0; i < a.Len(); i++ {
			if a.IsValid(i) {
				set(i, int64(a.Value(i)))
			}
		}
	case *array.Uint64:
		for i := 0; i < a.Len(); i++ {
			if a.IsValid(i) {
				if v := a.Value(i); v > math.MaxInt64 {
					dst.S[off+i] = export.Malformed
				} else {
					set(i, int64(v))
				}
			}
		}
	default:
		return fmt.Errorf("%w: %s for an integer column", ErrType, arr.DataType())
	}
	return nil
}

func fillString(dst *export.Strings, off int, arr arrow.Array, in *interner) error {
	return forEachString(arr, func(i int, s string) {
		dst.V[off+i], dst.S[off+i] = in.get(s), export.Valid
	})
}

// fillDate normalises every accepted physical date variant.
func fillDate(dst *export.Dates, off int, arr arrow.Array, locs zoneCache) error {
	set := func(i int, d int64) {
		if d < int64(minSaneDay) || d > int64(maxSaneDay) {
			dst.S[off+i] = export.Malformed
			return
		}
		dst.V[off+i], dst.S[off+i] = int32(d), export.Valid
	}
	switch a := arr.(type) {
	case *array.Date32:
		for i := 0; i < a.Len(); i++ {
			if a.IsValid(i) {
				set(i, int64(a.Value(i)))
			}
		}
	case *array.Date64:
		for i := 0; i < a.Len(); i++ {
			if a.IsValid(i) {
				set(i, floorDiv(int64(a.Value(i)), 86_400_000))
			}
		}
	case *array.Timestamp:
		tt := a.DataType().(*arrow.TimestampType)
		perSec := int64(1)
		switch tt.Unit {
		case arrow.Millisecond:
			perSec = 1e3
		case arrow.Microsecond:
			perSec = 1e6
		case arrow.Nanosecond:
			perSec = 1e9
		}
		var loc *time.Location
		if tt.TimeZone != "" && !isUTC(tt.TimeZone) {
			var err error
			if loc, err = locs.get(tt.TimeZone); err != nil {
				return err
			}
		}
		for i := 0; i < a.Len(); i++ {
			if !a.IsValid(i) {
				continue
			}
			v := int64(a.Value(i))
			sec := floorDiv(v, perSec)
			if loc == nil {
				set(i, floorDiv(sec, 86400))
				continue
			}
			if sec < -1e12 || sec > 1e12 {
				dst.S[off+i] = export.Malformed
				continue
			}
			y, m, d := time.Unix(sec, 0).In(loc).Date()
			set(i, int64(civil.DaysFromCivil(y, int(m), d)))
		}
	default:
		if id := arr.DataType().ID(); id == arrow.INT32 || id == arrow.INT64 {
			return fmt.Errorf("%w: %s for a date column (a bare integer: neither the Parquet schema nor a stored arrow schema says whether it counts days, seconds or milliseconds)", ErrType, arr.DataType())
		}
		if !isStringLike(arr.DataType()) {
			return fmt.Errorf("%w: %s for a date column", ErrType, arr.DataType())
		}
		return forEachString(arr, func(i int, s string) {
			if d, ok := civil.ParseDate(strings.TrimSpace(s)); ok {
				set(i, int64(d))
			} else {
				dst.S[off+i] = export.Malformed
			}
		})
	}
	return nil
}

func isUTC(tz string) bool {
	switch strings.ToUpper(tz) {
	case "UTC", "Z", "+00:00", "ETC/UTC", "GMT":
		return true
	}
	return false
}

type zoneCache map[string]*time.Location

func (c zoneCache) get(tz string) (*time.Location, error) {
	if l, ok := c[tz]; ok {
		return l, nil
	}
	l, err := time.LoadLocation(tz)
	if err != nil {
		// Fixed offsets such as "+05:30".
		if t, perr := time.Parse("-07:00", tz); perr == nil {
			_, offset := t.Zone()
			l, err = time.FixedZone(tz, offset), nil
		}
	}
	if err != nil {
		return nil, fmt.Errorf("%w: timestamp time zone %q: %w", ErrType, tz, err)
	}
	c[tz] = l
	return l, nil
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// parseFlag reads the Y/N (and 0/1, true/false) spellings of a boolean.
func parseFlag(s string) (bool, bool) {
	switch strings.ToUpper(strings.TrimSpace(s)) {
	case "Y", "YES", "T", "TRUE", "1":
		return true, true
	case "N", "NO", "F", "FALSE", "0":
		return false, true
	}
	return false, false
}

func fillBool(dst *export.Bools, off int, arr arrow.Array) error {
	set := func(i int, v bool) { dst.V[off+i], dst.S[off+i] = v, export.Valid }
	switch a := arr.(type) {
	case *array.Boolean:
		for i := 0; i < a.Len(); i++ {
			if a.IsValid(i) {
				set(i, a.Value(i))
			}
		}
		return nil
	}
	if isStringLike(arr.DataType()) {
		return forEachString(arr, func(i int, s string) {
			if v, ok := parseFlag(s); ok {
				set(i, v)
			} else {
				dst.S[off+i] = export.Malformed
			}
		})
	}
	// 0/1 integers.
	var ints export.Int64s
	ints.V, ints.S = make([]int64, arr.Len()), make([]export.State, arr.Len())
	if err := fillInt64(&ints, 0, arr); err != nil {
		return fmt.Errorf("%w: %s for a boolean column", ErrType, arr.DataType())
	}
	for i, st := range ints.S {
		switch {
		case st != export.Valid:
			dst.S[off+i] = st
		case ints.V[i] == 0 || ints.V[i] == 1:
			set(i, ints.V[i] == 1)
		default:
			dst.S[off+i] = export.Malformed
		}
	}
	return nil
}

// fillList appends rows of a list<string> array. Rows must be filled in
// order (off is the first row's position in the batch).
func fillList(dst *export.Lists, off int, arr arrow.Array, in *interner) error {
	var (
		values arrow.Array
		bounds func(i int) (int64, int64)
	)
	switch a := arr.(type) {
	case *array.List:
		values, bounds = a.ListValues(), a.ValueOffsets
	case *array.LargeList:
		values, bounds = a.ListValues(), a.ValueOffsets
	case *array.FixedSizeList:
		n := int64(a.DataType().(*arrow.FixedSizeListType).Len())
		values = a.ListValues()
		bounds = func(i int) (int64, int64) {
			s := (int64(a.Offset()) + int64(i)) * n
			return s, s + n
		}
	default:
		if arr.DataType().ID() == arrow.NULL {
			for i := 0; i < arr.Len(); i++ {
				dst.Offsets[off+i+1] = int32(len(dst.Values))
			}
			return nil
		}
		return fmt.Errorf("%w: %s for a list<string> column", ErrType, arr.DataType())
	}
	if !isStringLike(values.DataType()) && values.DataType().ID() != arrow.NULL {
		return fmt.Errorf("%w: list of %s", ErrType, values.DataType())
	}
	var dictVals arrow.Array
	var dict *array.Dictionary
	if d, ok := values.(*array.Dictionary); ok {
		dict, dictVals = d, d.Dictionary()
	}
	for i := 0; i < arr.Len(); i++ {
		if arr.IsValid(i) {
			dst.S[off+i] = export.Valid
			s, e := bounds(i)
			for j := int(s); j < int(e); j++ {
				if values.IsNull(j) {
					continue // a null element carries no filing
				}
				var v string
				if dict != nil {
					v, _ = stringAt(dictVals, dict.GetValueIndex(j))
				} else {
					v, _ = stringAt(values, j)
				}
				dst.Values = append(dst.Values, in.get(v))
			}
		}
		dst.Offsets[off+i+1] = int32(len(dst.Values))
	}
	return nil
}

// arrowArray is the subset of arrow.Array the fillers use.
type arrowArray = arrow.Array
