package gen

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"sync"
	"testing"

	"github.com/recal-project/recal/pipeline/refdata"
	"github.com/recal-project/recal/pipeline/source"
	"github.com/recal-project/recal/pipeline/storage"
	"github.com/recal-project/recal/pipeline/storage/local"
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
	if len(res.Objects) != 4 {
		t.Fatalf("objects = %v", res.Objects)
	}
	objs, _ := st1.List(context.Background(), "export/")
	var mu sync.Mutex
	var rows int64
	custody := map[string]int{}
	closure := map[string]int{}
	var malformedOSC int
	stats, err := source.Read(context.Background(), st1, objs, source.Options{BatchSize: 1000}, func(_ context.Context, b *source.Batch) error {
		mu.Lock()
		defer mu.Unlock()
		rows += int64(b.N)
		for i := 0; i < b.N; i++ {
			custody[b.Custody.V[i]]++
			closure[b.OtherComp.V[i]]++
			if b.OSCDate.S[i] == source.Malformed {
				malformedOSC++
			}
			if b.IDNProceeding.S[i] != source.Valid || b.CompDate.S[i] != source.Valid {
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
	for _, s := range stats {
		if s.Rows != s.FooterRows || s.Decoder != "arrow" {
			t.Errorf("%+v", s)
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
