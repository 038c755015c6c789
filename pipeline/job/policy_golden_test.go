package job

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/recal-project/recal/pipeline/source"
	"github.com/recal-project/recal/pipeline/storage/local"
	"github.com/recal-project/recal/transforms/cases"
	"github.com/recal-project/recal/transforms/civil"
	"github.com/recal-project/recal/transforms/export"
	"github.com/recal-project/recal/transforms/policy"
	"github.com/recal-project/recal/transforms/reference"
	"github.com/recal-project/recal/transforms/validate"
)

// TestShippedOutcomesGolden runs every shipped policy over the bundled
// sample export (testdata/sample, 20,000 rows), read by the export reader,
// and compares the outcome counts per rule, tier and docket with
// testdata/outcomes.golden.
func TestShippedOutcomesGolden(t *testing.T) {
	st := local.New(filepath.Join("..", "..", "testdata", "sample", "export"))
	ctx := context.Background()
	objs, err := st.List(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	ref, err := reference.Default()
	if err != nil {
		t.Fatal(err)
	}
	runs := []struct{ policy, asOf string }{
		{"castro-tum-2018", "2026-01-15"},
		{"castro-tum-circuit-split", "2026-01-15"},
		{"castro-tum-circuit-split", "2021-01-15"},
		{"cruz-valdez-2021-pd", "2026-01-15"},
		{"cruz-valdez-2021-pd", "2022-01-15"},
		{"docket-rule-2024", "2026-01-15"},
		{"full-reversal", "2026-01-15"},
	}
	var out strings.Builder
	out.WriteString("# Outcome counts of the shipped policies over testdata/sample/export (valid rows, before duplicate proceedings are removed).\n")
	out.WriteString("# Rewrite with: go test ./pipeline/job -run Golden -update\n")
	for _, r := range runs {
		p, err := policy.LoadShipped(r.policy)
		if err != nil {
			t.Fatal(err)
		}
		asOf, ok := civil.ParseDate(r.asOf)
		if !ok {
			t.Fatal(r.asOf)
		}
		val := validate.New(ref, asOf)
		var mu sync.Mutex
		counts := map[string]int{}
		valid := 0
		_, err = source.Read(ctx, st, objs, source.Options{Workers: 2}, func(ctx context.Context, b *export.Batch) error {
			ev := p.NewEvaluator(ref, asOf)
			local := map[string]int{}
			n := 0
			for i := 0; i < b.N; i++ {
				var q validate.Quality
				if _, ok := val.Row(b, i, &q); !ok {
					continue
				}
				var c cases.Case
				if err := ev.Decide(b, i, &c); err != nil {
					return err
				}
				n++
				if !c.Recalendar {
					local["remain_closed "+p.RuleIDs[c.Rule]]++
					continue
				}
				local["recalendared  "+p.RuleIDs[c.Rule]]++
				local[fmt.Sprintf("tier %d        %s", c.Tier, p.TierRuleIDs[c.TierRule])]++
				local["docket        "+c.Docket.String()]++
			}
			mu.Lock()
			defer mu.Unlock()
			valid += n
			for k, v := range local {
				counts[k] += v
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&out, "\n%s as of %s: %d valid rows\n", r.policy, r.asOf, valid)
		keys := make([]string, 0, len(counts))
		sum := 0
		for k, v := range counts {
			keys = append(keys, k)
			if strings.HasPrefix(k, "re") {
				sum += v
			}
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(&out, "  %-50s %6d\n", k, counts[k])
		}
		if sum != valid {
			t.Errorf("%s: outcomes %d != valid rows %d", r.policy, sum, valid)
		}
	}
	golden := filepath.Join("testdata", "outcomes.golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, []byte(out.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if out.String() != string(want) {
		t.Errorf("outcomes differ from %s (rerun with -update if the change is intended):\n%s", golden, out.String())
	}
}
