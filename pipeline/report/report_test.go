package report

import (
	"strings"
	"testing"

	"github.com/recal-project/recal/transforms/impact"
)

func p64(n int64) *int64 { return &n }

// small is a run with one court of 7 recalendared cases: a small cell.
func small() *impact.Impact {
	f := impact.Figures{CasesIn: p64(7), RemainClosed: p64(0), Recalendared: 7, Assigned: 7, SlotsOffered: p64(500), SlotsUsed: 7, JudgeSessions: p64(2)}
	big := impact.Figures{CasesIn: p64(993), RemainClosed: p64(993), SlotsOffered: p64(500)}
	return &impact.Impact{
		Kind: impact.Kind, SchemaVersion: impact.SchemaVersion,
		Run:    impact.Run{RunID: "r1", AsOf: "2026-01-15", Policy: impact.Policy{ID: "p-1", Title: `<script>alert("x")</script>`}},
		Totals: impact.Totals{InputRows: 1000, ValidCases: 1000, Recalendared: 7, Assigned: 7, RemainClosed: 993},
		ByCourt: []impact.Group{
			{Key: "NYC", Label: "New York, NY", Court: "NYC", Figures: f},
			{Key: "LOS", Label: "Los Angeles, CA", Court: "LOS", Figures: big},
		},
		RemainClosedByRule: []impact.RuleCount{{RuleID: "keep", Rationale: "because", Cases: 993}},
		HearingsPerWeek:    []impact.Week{{WeekStart: "2026-02-02", NonDetained: 7, Total: 7}},
		DaysToHearing:      impact.Histogram{BucketDays: 30, Buckets: []impact.Bucket{{From: 0, To: 29, NonDetained: 7, Total: 7}}},
	}
}

func line(t *testing.T, doc, prefix string) string {
	t.Helper()
	for _, l := range strings.Split(doc, "\n") {
		if strings.HasPrefix(l, prefix) {
			return l
		}
	}
	t.Fatalf("no line starting %q in\n%s", prefix, doc)
	return ""
}

func TestSuppression(t *testing.T) {
	for _, tt := range []struct {
		below   int
		courtMD string // the NYC row of the by-court table must contain it
		absent  string
	}{
		{below: 11, courtMD: "| New York, NY (NYC) | &lt;11 | &lt;11 | &lt;11 |", absent: "| 7 |"},
		{below: 0, courtMD: "| New York, NY (NYC) | 7 | 7 | 7 |"},
		{below: 5, courtMD: "| New York, NY (NYC) | 7 | 7 | 7 |"},
	} {
		files, err := renderImpact(small(), Options{SuppressBelow: tt.below})
		if err != nil {
			t.Fatal(err)
		}
		md, html := string(files[2].data), string(files[3].data)
		row := line(t, md, "| New York, NY (NYC) |")
		if !strings.Contains(row, tt.courtMD) || tt.absent != "" && strings.Contains(row, tt.absent) {
			t.Errorf("below %d: court row %q, want %q", tt.below, row, tt.courtMD)
		}
		if tt.below == 11 {
			if !strings.Contains(html, ">suppressed</text>") || !strings.Contains(html, "not drawn") {
				t.Errorf("below 11: the HTML charts draw a suppressed value")
			}
			if !strings.Contains(md, "Disclosure control: counts from 1 to 10") {
				t.Error("no disclosure note")
			}
			// impact.json stays exact.
			if !strings.Contains(string(files[0].data), `"recalendared": 7`) {
				t.Error("impact.json is not exact")
			}
		}
	}
}

func TestEscaping(t *testing.T) {
	files, err := renderImpact(small(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files[2:] {
		if strings.Contains(string(f.data), "<script>") {
			t.Errorf("%s carries the policy title unescaped", f.name)
		}
	}
	if !strings.Contains(string(files[3].data), "&lt;script&gt;") {
		t.Error("the HTML lost the title")
	}
}

func TestDeterministic(t *testing.T) {
	a, _ := renderImpact(small(), Options{SuppressBelow: 11})
	b, _ := renderImpact(small(), Options{SuppressBelow: 11})
	for i := range a {
		if string(a[i].data) != string(b[i].data) {
			t.Errorf("%s differs between two renderings", a[i].name)
		}
	}
}

func TestCommas(t *testing.T) {
	for n, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", -1234567: "-1,234,567", 3600000: "3,600,000"} {
		if got := Commas(n); got != want {
			t.Errorf("Commas(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestSpreadCompareShapes(t *testing.T) {
	c := impact.Compare([]*impact.Impact{small(), small()})
	if !c.SameInputs || len(c.Scenarios) != 2 || c.Scenarios[1].Delta.Recalendared != 0 || len(c.ByCourt) != 2 {
		t.Fatalf("comparison of a run with itself: %+v", c)
	}
	files, err := renderComparison(c, Options{SuppressBelow: 11})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(files[1].data), "Δ p-1") {
		t.Error("no delta column")
	}
}
