package manifest

import (
	"strings"
	"testing"
)

func TestConservation(t *testing.T) {
	m := &Manifest{Counts: Counts{InputRows: 100, Assigned: 60, RemainClosed: 20, Overflow: 10, Rejected: 10}}
	if err := m.Check(); err != nil || !m.Conservation.Holds {
		t.Fatalf("balanced counts: %v %+v", err, m.Conservation)
	}
	m.Counts.Assigned = 57
	err := m.Check()
	if err == nil || m.Conservation.Holds || !strings.Contains(err.Error(), "3 rows unaccounted for") {
		t.Fatalf("unbalanced counts: %v %+v", err, m.Conservation)
	}
	m.Counts.Assigned = 61
	if err := m.Check(); err == nil || !strings.Contains(err.Error(), "1 more output rows than input rows") {
		t.Fatalf("too many outputs: %v", err)
	}
}
