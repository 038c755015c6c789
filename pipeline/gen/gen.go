// Package gen writes seeded, deterministic synthetic closed-case exports
// (contract §1.1) with a matching capacity calendar and closures list, drawn
// from the real EOIR reference data: court sizes, custody mix, the 2025
// OTHER_COMP closure-code mix, nationalities, languages, dates spread over
// 1995–2025, juveniles, representation, and a small share of deliberately
// bad rows. Objects vary in codec and physical layout the way real exports
// from different writers do.
package gen

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"sort"
	"strings"

	"golang.org/x/sync/errgroup"

	"github.com/recal-project/recal/pipeline/storage"
	"github.com/recal-project/recal/transforms/reference"
)

// Options configure a generated data set.
type Options struct {
	// Rows is the total number of export rows.
	Rows int64
	// Seed makes the output reproducible: same seed, same bytes.
	Seed uint64
	// Objects is the number of export objects (0: one per 500k rows, at
	// least one per writer layout so that every layout appears).
	Objects int
	// BadRowRate is the share of deliberately invalid rows (default 0.005).
	BadRowRate float64
	// Workers is how many objects are written at once (default 2).
	Workers int
	// TempDir holds Parquet files before upload (default os.TempDir()).
	TempDir string
	// FirstRow numbers the rows from this index instead of 0: ids follow
	// from a row's index, so exports generated with disjoint row ranges
	// have disjoint ids (the new cases of a nightly export).
	FirstRow int64
	// Layout, when set, writes every object in that one writer layout
	// ("reference": zstd, int64 ids, date32 dates) instead of rotating
	// through all of them: a simple export, for benchmarks.
	Layout string
}

// Result describes what was written.
type Result struct {
	Objects []string
	Rows    int64
	Courts  int
}

// court is a generated court with its share of the cases.
type court struct {
	code   string
	weight float64
	judges []string
	locs   []string
	// detained is the court's share of detained cases.
	detained float64
}

// Big courts by pending caseload (approximate ranking; weights are
// relative). Others get weight 1.
var bigCourts = map[string]float64{
	"NYC": 14, "LOS": 12, "HOU": 10, "MIA": 10, "SFR": 9, "CHI": 8, "NEW": 8,
	"DAL": 7, "ATL": 6, "ORL": 6, "SNA": 5, "BOS": 5, "ARL": 5, "DEN": 4, "SEA": 4,
	"PHO": 4, "SLC": 3, "BAL": 3, "PHI": 3, "LVG": 3, "CLE": 3, "DET": 3, "MEM": 3,
	"OMA": 2, "KAN": 2, "NOL": 2, "CHL": 2, "ELZ": 2, "HAR": 2, "SND": 2, "ELP": 2,
}

func courts(ref *reference.Data, r *rand.Rand) []court {
	var out []court
	for _, c := range ref.Courts {
		if !c.Active || c.Code == "BIA" || c.Code == "HDQ" || c.Code == "CIJ" {
			continue
		}
		w := bigCourts[c.Code]
		if w == 0 {
			w = 1
		}
		if c.State == "" {
			w = 0.3 // the 2025-only codes: small, circuit unknown
		}
		cc := court{code: c.Code, weight: w, detained: 0.03}
		if strings.Contains(strings.ToUpper(c.Name), "DETENTION") || strings.Contains(strings.ToUpper(c.Name), "PROCESSING") {
			cc.detained = 0.6
		}
		nj := 2 + int(w*2)
		for j := 0; j < nj; j++ {
			cc.judges = append(cc.judges, fmt.Sprintf("%c%c%c", 'A'+r.IntN(26), 'A'+r.IntN(26), 'A'+r.IntN(26)))
		}
		sort.Strings(cc.judges)
		for _, l := range sortedLocs(ref) {
			if ref.Locations[l].BaseCity == c.Code {
				cc.locs = append(cc.locs, l)
			}
		}
		out = append(out, cc)
	}
	return out
}

func sortedLocs(ref *reference.Data) []string {
	out := make([]string, 0, len(ref.Locations))
	for k := range ref.Locations {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Generate writes export/part-*.parquet, capacity.csv and closures.csv.
func Generate(ctx context.Context, st storage.Store, ref *reference.Data, o Options) (Result, error) {
	if o.Rows <= 0 {
		return Result{}, fmt.Errorf("gen: --rows must be positive, got %d", o.Rows)
	}
	layout := -1
	if o.Layout != "" {
		if layout = layoutIndex(o.Layout); layout < 0 {
			return Result{}, fmt.Errorf("gen: unknown layout %q (reference, legacy-db, spark, pandas)", o.Layout)
		}
	}
	if o.Objects <= 0 {
		o.Objects = int(max(int64(numLayouts), (o.Rows+499_999)/500_000))
		if layout >= 0 {
			o.Objects = int(max(1, (o.Rows+499_999)/500_000))
		}
	}
	if int64(o.Objects) > o.Rows {
		o.Objects = int(o.Rows)
	}
	if o.BadRowRate == 0 {
		o.BadRowRate = 0.005
	}
	if o.Workers <= 0 {
		o.Workers = 2
	}
	if o.TempDir == "" {
		o.TempDir = os.TempDir()
	}
	r := rand.New(rand.NewPCG(o.Seed, 0x7265_6361_6c))
	cs := courts(ref, r)
	pick := newWeighted(len(cs), func(i int) float64 { return cs[i].weight })

	res := Result{Rows: o.Rows, Courts: len(cs)}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(o.Workers)
	per := o.Rows / int64(o.Objects)
	first := o.FirstRow
	for i := 0; i < o.Objects; i++ {
		n := per
		if i == o.Objects-1 {
			n = o.FirstRow + o.Rows - first
		}
		key := fmt.Sprintf("export/part-%05d.parquet", i)
		res.Objects = append(res.Objects, key)
		spec := objectSpec{index: i, first: first, rows: n, seed: o.Seed, bad: o.BadRowRate, total: o.Rows, layout: layout}
		g.Go(func() error {
			return writeObject(gctx, st, key, spec, cs, pick, o.TempDir)
		})
		first += n
	}
	if err := g.Wait(); err != nil {
		return res, err
	}
	if err := storage.Put(ctx, st, "capacity.csv", bytes.NewReader(capacityCSV(cs, o.Rows, r))); err != nil {
		return res, err
	}
	if err := storage.Put(ctx, st, "closures.csv", bytes.NewReader(closuresCSV(cs, r))); err != nil {
		return res, err
	}
	return res, nil
}

// weighted samples indices in proportion to weights (alias-free: a sorted
// cumulative table and binary search; deterministic).
type weighted struct{ cum []float64 }

func newWeighted(n int, w func(int) float64) weighted {
	cum := make([]float64, n)
	var s float64
	for i := 0; i < n; i++ {
		s += w(i)
		cum[i] = s
	}
	for i := range cum {
		cum[i] /= s
	}
	return weighted{cum}
}

func (w weighted) draw(r *rand.Rand) int {
	x := r.Float64()
	i := sort.SearchFloat64s(w.cum, x)
	if i >= len(w.cum) {
		i = len(w.cum) - 1
	}
	return i
}

// capacityCSV gives every court pool sessions on the non-detained docket
// sized so that most — not all — of its cases fit in a one-year horizon,
// judge-tied sessions for a few judges, and detained and juvenile sessions.
func capacityCSV(cs []court, rows int64, r *rand.Rand) []byte {
	var b strings.Builder
	b.WriteString("base_city_code,docket,ij_code,weekday,session_start,slots,effective_from,effective_to\n")
	var total float64
	for _, c := range cs {
		total += c.weight
	}
	days := []string{"MON", "TUE", "WED", "THU", "FRI"}
	for _, c := range cs {
		cases := float64(rows) * c.weight / total
		// ~48 hearing weeks a year, 5 days, AM and PM: slots per session.
		perSession := max(1, int(cases*0.9/(48*10)))
		for _, d := range days {
			fmt.Fprintf(&b, "%s,NON_DETAINED,,%s,08:30,%d,2020-01-01,\n", c.code, d, perSession)
			fmt.Fprintf(&b, "%s,NON_DETAINED,,%s,13:00,%d,2020-01-01,\n", c.code, d, perSession)
		}
		// One judge with a weekly docket of their own cases first.
		if len(c.judges) > 0 {
			j := c.judges[r.IntN(len(c.judges))]
			fmt.Fprintf(&b, "%s,NON_DETAINED,%s,WED,10:00,%d,2020-01-01,\n", c.code, j, max(1, perSession/2))
		}
		det := max(1, int(cases*c.detained/(48*3)))
		for _, d := range []string{"MON", "WED", "FRI"} {
			fmt.Fprintf(&b, "%s,DETAINED,,%s,09:00,%d,2020-01-01,\n", c.code, d, det)
		}
		juv := max(1, int(cases*0.06/(48*2)))
		fmt.Fprintf(&b, "%s,JUVENILE,,TUE,09:00,%d,2020-01-01,\n", c.code, juv)
		fmt.Fprintf(&b, "%s,JUVENILE,,THU,09:00,%d,2020-01-01,2026-06-30\n", c.code, juv)
		fmt.Fprintf(&b, "%s,JUVENILE,,THU,09:00,%d,2026-07-01,\n", c.code, juv+1)
	}
	return []byte(b.String())
}

// closuresCSV lists a few court closures (weather, moves) in 2026 and one
// national closure.
func closuresCSV(cs []court, r *rand.Rand) []byte {
	var b strings.Builder
	b.WriteString("base_city_code,date,reason\n")
	b.WriteString("*,2026-12-24,national closure (executive order)\n")
	for i, c := range cs {
		if i%7 != 0 {
			continue
		}
		m, d := 1+r.IntN(12), 1+r.IntN(28)
		fmt.Fprintf(&b, "%s,2026-%02d-%02d,weather closure\n", c.code, m, d)
	}
	return []byte(b.String())
}
