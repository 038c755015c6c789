package cases

import (
	"reflect"
	"testing"
	"unsafe"
)

// TestCompact keeps the per-case record small and free of pointers: it is
// held for every case of a run (issue 7's memory target).
func TestCompact(t *testing.T) {
	if s := unsafe.Sizeof(Case{}); s > 56 {
		t.Fatalf("cases.Case is %d bytes, want at most 56", s)
	}
	ty := reflect.TypeOf(Case{})
	for i := 0; i < ty.NumField(); i++ {
		switch f := ty.Field(i); f.Type.Kind() {
		case reflect.Bool, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
			reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Float64:
		default:
			t.Errorf("cases.Case.%s is a %s: the record must hold no pointer", f.Name, f.Type)
		}
	}
}
