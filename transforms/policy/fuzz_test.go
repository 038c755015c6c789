package policy

import (
	"errors"
	"strings"
	"testing"

	"github.com/recal-project/recal/transforms/cases"
)

// FuzzLoad feeds arbitrary bytes to the loader: it must never panic, every
// failure must be a located policy error, and a policy that loads must
// evaluate hand-made rows without panicking.
func FuzzLoad(f *testing.F) {
	f.Add([]byte(base))
	for _, id := range Shipped() {
		b, _ := ShippedSource(id)
		f.Add(b)
	}
	f.Add([]byte(strings.Replace(base, "when: detained", "when: 1 / 0 == 1", 1)))
	f.Add([]byte(strings.Replace(base, "score: years_closed", "score: 'age_at_as_of * 2'", 1)))
	f.Add([]byte("id: &a x\ntitle: *a\n"))
	f.Add([]byte("{}"))
	rows := []row{{}, {custody: "D", crim: yes}, {outcome: "DENIED", apps: []string{"I-130"}, birth: "2015-01-01"}, {appsNull: true, otherComp: "Y"}}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Load("f.yaml", data)
		if err != nil {
			if !errors.Is(err, ErrPolicy) || err.Error() == "" || !strings.HasPrefix(err.Error(), "f.yaml") && !strings.Contains(err.Error(), "problems in policy") {
				t.Fatalf("unlocated or unclassified error: %v", err)
			}
			return
		}
		ev := p.NewEvaluator(refData(t), day(t, "2026-01-15"))
		b := batchOf(t, rows...)
		for i := range rows {
			var c cases.Case
			if err := ev.Decide(b, i, &c); err != nil && !errors.Is(err, ErrEval) {
				t.Fatalf("evaluation error not classified: %v", err)
			}
		}
	})
}
