package schedule

import (
	"reflect"
	"testing"
)

// TestRecordsHoldNoPointer keeps the records a run holds millions of small
// and pointer-free: with pointers, the garbage collector re-scans them all
// every cycle.
func TestRecordsHoldNoPointer(t *testing.T) {
	for _, tc := range []struct {
		v    any
		size uintptr
	}{
		{Assignment{}, 16},
		{Overflow{}, 12},
	} {
		typ := reflect.TypeOf(tc.v)
		if s := typ.Size(); s > tc.size {
			t.Errorf("%s is %d bytes, more than %d", typ, s, tc.size)
		}
		for i := range typ.NumField() {
			switch f := typ.Field(i); f.Type.Kind() {
			case reflect.Pointer, reflect.String, reflect.Slice, reflect.Map, reflect.Interface, reflect.Func, reflect.Chan, reflect.UnsafePointer:
				t.Errorf("%s.%s is a %s: the record must hold no pointer", typ, f.Name, f.Type.Kind())
			}
		}
	}
}
