package cases

import (
	"testing"
	"unsafe"
)

// TestCompact keeps the per-case record small and free of pointers: it is
// held for every case of a run (issue 7's memory target).
func TestCompact(t *testing.T) {
	if s := unsafe.Sizeof(Case{}); s > 56 {
		t.Fatalf("cases.Case is %d bytes, want at most 56", s)
	}
}
