// Package refdata reads the reference tables a user gives in place of the
// embedded ones (--courts, --hearing-locations) and builds the reference
// data from them (transforms/reference).
package refdata

import (
	"fmt"
	"os"

	"github.com/recal-project/recal/transforms/reference"
)

// Paths optionally replace embedded tables; empty fields keep the defaults.
type Paths struct {
	Courts, HearingLocations string
}

// Load reads the replacement tables p names and builds the reference data.
func Load(p Paths) (*reference.Data, error) {
	var r reference.Replacements
	for _, t := range []struct {
		path string
		dst  **reference.Table
	}{{p.Courts, &r.Courts}, {p.HearingLocations, &r.HearingLocations}} {
		if t.path == "" {
			continue
		}
		b, err := os.ReadFile(t.path)
		if err != nil {
			return nil, fmt.Errorf("read reference table: %w", err)
		}
		*t.dst = &reference.Table{Name: t.path, Bytes: b}
	}
	return reference.Load(r)
}
