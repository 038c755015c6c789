package reference

import (
	"errors"
	"strings"
	"testing"
)

func TestLoadEmbedded(t *testing.T) {
	d, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Courts) != 96 {
		t.Errorf("courts = %d, want 96", len(d.Courts))
	}
	if len(d.Locations) != 336 {
		t.Errorf("hearing locations = %d, want 336", len(d.Locations))
	}
	tests := []struct{ court, loc, circuit, state string }{
		{"ATL", "", "11", "GA"},
		{"BAL", "", "4", "MD"},
		{"DET", "", "6", "MI"},
		{"ATL", "ABQ", "10", "NM"}, // location wins over court
		{"AUR", "", "", ""},        // 2025-only code with no state: unknown, never guessed
		{"XXX", "", "", ""},
	}
	for _, tt := range tests {
		if got := d.CircuitOf(tt.court, tt.loc); got != tt.circuit {
			t.Errorf("CircuitOf(%s,%s) = %q, want %q", tt.court, tt.loc, got, tt.circuit)
		}
		if got := d.StateOf(tt.court, tt.loc); got != tt.state {
			t.Errorf("StateOf(%s,%s) = %q, want %q", tt.court, tt.loc, got, tt.state)
		}
	}
	if len(d.SHA256) != 64 {
		t.Errorf("SHA256 = %q", d.SHA256)
	}
}

func TestLoadBadCourts(t *testing.T) {
	tests := []struct{ name, body, want string }{
		{"missing column", "code,name\nX,Y\n", `missing column "base_city_code"`},
		{"duplicate", "base_city_code,state\nAAA,GA\nAAA,GA\n", `line 3 column base_city_code: duplicate court code "AAA"`},
		{"unknown state", "base_city_code,state\nAAA,ZZ\n", `line 2 column state: state "ZZ" has no federal circuit`},
		{"empty code", "base_city_code,state\n,GA\n", "line 2 column base_city_code: empty court code"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := "/data/courts.csv"
			_, err := Load(Replacements{Courts: &Table{Name: p, Bytes: []byte(tt.body)}})
			if !errors.Is(err, ErrBadReference) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
			if !strings.Contains(err.Error(), p) {
				t.Errorf("error does not name the file: %v", err)
			}
		})
	}
}
