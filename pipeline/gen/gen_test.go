package gen

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"

	"github.com/recal-project/recal/pipeline/refdata"
	"github.com/recal-project/recal/pipeline/source"
	"github.com/recal-project/recal/pipeline/storage"
	"github.com/recal-project/recal/pipeline/storage/local"
	"github.com/recal-project/recal/transforms/export"
)

func generate(t *testing.T, rows int64, seed uint64) (storage.Store, Result) {
	t.Helper()
	ref, err := refdata.Load(refdata.Paths{})
	if err != nil {
		t.Fatal(err)
	}
	st := local.New(t.TempDir())
	res, err := Generate(context.Background(), st, ref, Options{Rows: rows, Seed: seed, TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	return st, res
}

func digest(t *testing.T, st storage.Store) string {
	t.Helper()
	objs, err := st.List(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	for _, o := range objs {
		b, err := storage.ReadAll(context.Background(), st, o.Key)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(h, "%s %d\n", o.Key, len(b))
		h.Write(b)
	}
	return fmt.Sprintf("%x", h.Sum(nil))
}

func TestGenerateDeterministicAndReadable(t *testing.T) {
	st1, res := generate(t, 9000, 42)
	st2, _ := generate(t, 9000, 42)
	st3, _ := generate(t, 9000, 43)
	if a, b := digest(t, st1), digest(t, st2); a != b {
		t.Fatal("same seed gave different bytes")
	}
	if a, c := digest(t, st1), digest(t, st3); a == c {
		t.Fatal("different seeds gave the same bytes")
	}
	if len(res.Objects) != 5 {
		t.Fatalf("objects = %v", res.Objects)
	}
	objs, _ := st1.List(context.Background(), "export/")
	var mu sync.Mutex
	var rows int64
	custody := map[string]int{}
	closure := map[string]int{}
	var malformedOSC int
	stats, err := source.Read(context.Background(), st1, objs, source.Options{BatchSize: 1000}, func(_ context.Context, b *export.Batch) error {
		mu.Lock()
		defer mu.Unlock()
		rows += int64(b.N)
		for i := 0; i < b.N; i++ {
			custody[b.Custody.V[i]]++
			closure[b.OtherComp.V[i]]++
			if b.OSCDate.S[i] == export.Malformed {
				malformedOSC++
			}
			if b.IDNProceeding.S[i] != export.Valid || b.CompDate.S[i] != export.Valid {
				t.Errorf("%s row %d: idnproceeding/comp_date not decoded", b.Key, b.Row0+int64(i))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if rows != 9000 {
		t.Fatalf("read %d rows, want 9000", rows)
	}
	for i, s := range stats {
		want := "arrow"
		if i == len(variants) {
			want = "parquet-go" // LZ4_RAW: the fallback decoder
		}
		if s.Rows != s.FooterRows || s.Decoder != want {
			t.Errorf("object %d: %+v, want decoder %s", i, s, want)
		}
	}
	if closure["A"] < closure["Y"] || closure["Y"] < closure["K"] || closure["A"] < 6000 {
		t.Errorf("closure mix %v does not follow the 2025 OTHER_COMP frequencies", closure)
	}
	if custody["D"] == 0 || custody["N"] < custody["R"] {
		t.Errorf("custody mix %v", custody)
	}
	t.Logf("custody %v closure %v malformed osc %d", custody, closure, malformedOSC)
	b, _ := storage.ReadAll(context.Background(), st1, "capacity.csv")
	if !bytes.HasPrefix(b, []byte("base_city_code,docket,ij_code,weekday,session_start,slots,effective_from,effective_to\n")) {
		t.Errorf("capacity.csv header: %q", b[:80])
	}
}

// TestFallbackDecoderMatchesArrow writes the same generated rows twice —
// with arrow (read back by pqarrow) and with parquet-go using LZ4_RAW (read
// back by the fallback decoder) — and requires identical normalised cells.
func TestFallbackDecoderMatchesArrow(t *testing.T) {
	ref, err := refdata.Load(refdata.Paths{})
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(5, 0x7265_6361_6c))
	cs := courts(ref, r)
	pick := newWeighted(len(cs), func(i int) float64 { return cs[i].weight })
	spec := objectSpec{index: 0, rows: 3000, seed: 5, bad: 0.05}
	st := local.New(t.TempDir())
	ctx := context.Background()
	if err := writeObject(ctx, st, "arrow.parquet", spec, cs, pick, t.TempDir()); err != nil {
		t.Fatal(err)
	}
	if err := writeParquetGoObject(ctx, st, "pqgo.parquet", spec, cs, pick, t.TempDir()); err != nil {
		t.Fatal(err)
	}
	read := func(key string) ([]string, string) {
		info, err := st.Stat(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		var cells []string
		s, err := source.ReadObject(ctx, st, 0, info, source.Options{BatchSize: 700}, func(_ context.Context, b *export.Batch) error {
			for i := 0; i < b.N; i++ {
				for _, c := range export.Columns {
					cells = append(cells, fmt.Sprintf("%d %s %s", b.Row0+int64(i), c.Name, cell(c.Field(b), i)))
				}
			}
			return nil
		})
		if err != nil {
			t.Fatalf("%s: %v", key, err)
		}
		return cells, s.Decoder
	}
	a, da := read("arrow.parquet")
	p, dp := read("pqgo.parquet")
	if da != "arrow" || dp != "parquet-go" {
		t.Fatalf("decoders %s, %s", da, dp)
	}
	if len(a) != len(p) {
		t.Fatalf("%d cells vs %d", len(a), len(p))
	}
	lists := 0
	for i := range a {
		if a[i] != p[i] {
			t.Fatalf("cell differs: arrow %q, parquet-go %q", a[i], p[i])
		}
		if strings.Contains(a[i], " pending_applications 1 [I-") {
			lists++
		}
	}
	if lists < 100 {
		t.Fatalf("only %d non-empty pending_applications lists decoded", lists)
	}
}

func cell(f any, i int) string {
	switch c := f.(type) {
	case *export.Int64s:
		return fmt.Sprint(c.S[i], c.V[i]*int64(min(c.S[i], 1)))
	case *export.Strings:
		if c.S[i] != export.Valid {
			return fmt.Sprint(c.S[i])
		}
		return fmt.Sprint(c.S[i], c.V[i])
	case *export.Dates:
		if c.S[i] != export.Valid {
			return fmt.Sprint(c.S[i])
		}
		return fmt.Sprint(c.S[i], c.V[i])
	case *export.Bools:
		if c.S[i] != export.Valid {
			return fmt.Sprint(c.S[i])
		}
		return fmt.Sprint(c.S[i], c.V[i])
	case *export.Lists:
		return fmt.Sprint(c.S[i], c.Row(i))
	}
	return "?"
}
