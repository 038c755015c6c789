package refdata

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/recal-project/recal/transforms/reference"
)

// TestLoadReplacement reads a replacement courts file: its errors name the
// file, and its absence is a read error, not bad reference data.
func TestLoadReplacement(t *testing.T) {
	p := filepath.Join(t.TempDir(), "courts.csv")
	os.WriteFile(p, []byte("base_city_code,state\nAAA,ZZ\n"), 0o644)
	if _, err := Load(Paths{Courts: p}); !errors.Is(err, reference.ErrBadReference) || !strings.Contains(err.Error(), p) {
		t.Fatalf("bad replacement: %v", err)
	}
	if _, err := Load(Paths{Courts: p + ".missing"}); err == nil || errors.Is(err, reference.ErrBadReference) {
		t.Fatalf("missing replacement: %v", err)
	}
	def, err := Load(Paths{})
	if err != nil {
		t.Fatal(err)
	}
	emb, _ := reference.Default()
	if def.SHA256 != emb.SHA256 {
		t.Fatal("Load with no replacements is not the embedded data")
	}
}
