package job

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow/go/v15/parquet/file"

	"github.com/recal-project/recal/pipeline/collect"
	"github.com/recal-project/recal/pipeline/gen"
	"github.com/recal-project/recal/pipeline/refdata"
	"github.com/recal-project/recal/pipeline/storage/local"
	"github.com/recal-project/recal/pipeline/sysexit"
)

// TestQuarantine puts three bad objects beside a good export: one that is
// not Parquet, one cut in half (no footer), and one that fails in the
// middle of decoding, after two of its batches were delivered (a page
// header of its last row group overwritten). With --on-corrupt=fail the
// run exits 65 naming an object; with quarantine it commits, lists the
// three in the manifest and the report, counts none of their rows (not
// even the delivered batches), and its data files are those of a run over
// the good objects alone.
func TestQuarantine(t *testing.T) {
	if testing.Short() {
		t.Skip("full pass only")
	}
	ctx := context.Background()
	good := t.TempDir()
	genData(t, good, 2500)

	in := t.TempDir()
	if err := os.CopyFS(in, os.DirFS(good)); err != nil {
		t.Fatal(err)
	}
	exp := filepath.Join(in, "export")
	if err := os.WriteFile(filepath.Join(exp, "part-90000-notes.parquet"), []byte("not parquet: a stray text file"), 0o644); err != nil {
		t.Fatal(err)
	}
	first, err := os.ReadFile(filepath.Join(exp, "part-00000.parquet"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(exp, "part-90001-cut.parquet"), first[:len(first)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	// 150,000 rows in 64k-row row groups: batches 1 and 2 decode, the
	// third row group's first page header is garbage.
	big := t.TempDir()
	ref, _ := refdata.Load(refdata.Paths{})
	if _, err := gen.Generate(ctx, local.New(big), ref, gen.Options{Rows: 150_000, Seed: 3, Objects: 1, Layout: "reference", TempDir: t.TempDir()}); err != nil {
		t.Fatal(err)
	}
	midPath := filepath.Join(exp, "part-90002-mid.parquet")
	b, err := os.ReadFile(filepath.Join(big, "export", "part-00000.parquet"))
	if err != nil {
		t.Fatal(err)
	}
	pf, err := file.OpenParquetFile(filepath.Join(big, "export", "part-00000.parquet"), false)
	if err != nil {
		t.Fatal(err)
	}
	if pf.NumRowGroups() != 3 {
		t.Fatalf("%d row groups, want 3", pf.NumRowGroups())
	}
	cc, err := pf.MetaData().RowGroup(2).ColumnChunk(0)
	if err != nil {
		t.Fatal(err)
	}
	off := cc.DataPageOffset()
	if cc.HasDictionaryPage() && cc.DictionaryPageOffset() > 0 {
		off = cc.DictionaryPageOffset()
	}
	pf.Close()
	for i := off; i < off+24; i++ {
		b[i] = 0xff
	}
	if err := os.WriteFile(midPath, b, 0o644); err != nil {
		t.Fatal(err)
	}

	// Fail (the default): exit 65, naming the first bad object.
	_, err = Run(ctx, baseConfig(in, t.TempDir()))
	if sysexit.Code(err) != sysexit.DataErr || !strings.Contains(err.Error(), "part-9000") {
		t.Fatalf("--on-corrupt=fail: %v (exit %d), want exit 65 naming a bad object", err, sysexit.Code(err))
	}

	// Quarantine under the default limit: the bad objects are 3 of 8 and
	// hold 98% of the rows by footer (the mid object's 150,000), so the run
	// fails naming both counts and commits nothing.
	limited := t.TempDir()
	cfg := baseConfig(in, limited)
	cfg.OnCorrupt = "quarantine"
	_, err = Run(ctx, cfg)
	if sysexit.Code(err) != sysexit.DataErr || !errors.Is(err, collect.ErrQuarantineLimit) ||
		!strings.Contains(err.Error(), "3 of 8 objects") || !strings.Contains(err.Error(), "150,000 of 152,500 rows") {
		t.Fatalf("quarantine over the default limit: %v (exit %d), want exit 65 naming both counts", err, sysexit.Code(err))
	}
	if _, err := os.Stat(filepath.Join(limited, "_SUCCESS")); !os.IsNotExist(err) {
		t.Fatalf("_SUCCESS after a run over the quarantine limit (%v)", err)
	}

	// Quarantine, with the limit raised by an operator who means it.
	qOut := t.TempDir()
	cfg = baseConfig(in, qOut)
	cfg.OnCorrupt = "quarantine"
	cfg.QuarantineLimit = 1
	res, err := Run(ctx, cfg)
	if err != nil {
		t.Fatalf("--on-corrupt=quarantine: %v", err)
	}
	m := res.Manifest
	want := []string{"part-90000-notes.parquet", "part-90001-cut.parquet", "part-90002-mid.parquet"}
	if strings.Join(m.QuarantinedObjects, ",") != strings.Join(want, ",") {
		t.Fatalf("quarantined %v, want %v", m.QuarantinedObjects, want)
	}
	for _, inp := range m.Inputs {
		bad := strings.HasPrefix(inp.Key, "part-9000")
		if bad != (inp.Quarantined != "") || bad && inp.Rows != 0 {
			t.Errorf("input %s: rows %d, quarantined %q", inp.Key, inp.Rows, inp.Quarantined)
		}
	}
	checkRun(t, in, qOut, m)
	for _, inp := range m.Inputs {
		if inp.Quarantined != "" {
			t.Logf("%s: %s", inp.Key, inp.Quarantined)
		}
		// The undo path is exercised only if the object failed after
		// delivering its first two batches (arrow v15 stops at the garbage
		// page without an error; the footer row-count check catches it).
		if inp.Key == "part-90002-mid.parquet" && !strings.Contains(inp.Quarantined, "131072 decoded") {
			t.Errorf("%s failed with %q, not after its first two batches", inp.Key, inp.Quarantined)
		}
	}

	// The reference: the good objects alone.
	refOut := t.TempDir()
	refRes, err := Run(ctx, baseConfig(good, refOut))
	if err != nil {
		t.Fatal(err)
	}
	if m.Counts != refRes.Manifest.Counts {
		t.Errorf("counts %+v, want those of the good objects alone %+v", m.Counts, refRes.Manifest.Counts)
	}
	norm := func(d map[string]string, runID string) map[string]string {
		out := map[string]string{}
		for k, v := range d {
			out[strings.Replace(k, runID, "RUN", 1)] = v
		}
		return out
	}
	got, wantData := norm(outputDigest(t, qOut), m.RunID), norm(outputDigest(t, refOut), refRes.Manifest.RunID)
	if len(got) == 0 || len(got) != len(wantData) {
		t.Fatalf("%d data files, want %d", len(got), len(wantData))
	}
	for k, v := range wantData {
		if got[k] != v {
			t.Errorf("%s differs from the run over the good objects alone", k)
		}
	}
	report, err := os.ReadFile(filepath.Join(qOut, "reports", "impact.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range want {
		if !strings.Contains(string(report), k) {
			t.Errorf("impact.md does not list the quarantined object %s", k)
		}
	}
	if q := m.Quarantine; q == nil || q.Objects != 3 || q.InputObjects != 8 || q.FooterRows != 150_000 || q.InputFooter != 152_500 || q.Limit != 1 {
		t.Errorf("manifest quarantine %+v", m.Quarantine)
	}
	if !strings.Contains(string(report), "holding 150,000 of 152,500 rows by their footers (98.4%)") {
		t.Error("impact.md does not give the quarantined share of the rows")
	}
}

// TestQuarantineLimits: quarantine never commits an empty schedule, and its
// limit holds on both of its measures, objects and rows by footer, each
// tried on both sides.
func TestQuarantineLimits(t *testing.T) {
	if testing.Short() {
		t.Skip("full pass only")
	}
	ctx := context.Background()
	ref, _ := refdata.Load(refdata.Paths{})
	// 40 objects of 100 rows, and the calendar.
	base := t.TempDir()
	if _, err := gen.Generate(ctx, local.New(base), ref, gen.Options{Rows: 4000, Seed: 5, Objects: 40, TempDir: t.TempDir()}); err != nil {
		t.Fatal(err)
	}
	// A 1,000-row object whose footer reads but whose first data page is
	// garbage: quarantined while decoding, its 1,000 rows known.
	big := t.TempDir()
	if _, err := gen.Generate(ctx, local.New(big), ref, gen.Options{Rows: 1000, Seed: 6, Objects: 1, Layout: "reference", TempDir: t.TempDir()}); err != nil {
		t.Fatal(err)
	}
	bigPath := filepath.Join(big, "export", "part-00000.parquet")
	corrupt, err := os.ReadFile(bigPath)
	if err != nil {
		t.Fatal(err)
	}
	pf, err := file.OpenParquetFile(bigPath, false)
	if err != nil {
		t.Fatal(err)
	}
	cc, err := pf.MetaData().RowGroup(0).ColumnChunk(0)
	if err != nil {
		t.Fatal(err)
	}
	for i := cc.DataPageOffset(); i < cc.DataPageOffset()+24; i++ {
		corrupt[i] = 0xff
	}
	pf.Close()

	// with builds an input: the base export plus extra objects (name ->
	// bytes), or only the extra objects when alone is set.
	with := func(t *testing.T, alone bool, extra map[string][]byte) string {
		in := t.TempDir()
		if err := os.CopyFS(in, os.DirFS(base)); err != nil {
			t.Fatal(err)
		}
		if alone {
			os.RemoveAll(filepath.Join(in, "export"))
			os.MkdirAll(filepath.Join(in, "export"), 0o755)
		}
		for k, b := range extra {
			if err := os.WriteFile(filepath.Join(in, "export", k), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return in
	}
	notParquet := []byte("not parquet: an export job's error page")
	tests := []struct {
		name  string
		alone bool
		extra map[string][]byte
		limit float64
		// ok: the run commits, with this quarantine share; else exit 65.
		ok               bool
		objects, ofObjs  int
		rows, ofRows     int64
		reportSays, says string
	}{
		{name: "every object unreadable", alone: true, extra: map[string][]byte{"a.parquet": notParquet, "b.parquet": notParquet},
			limit: 1, says: "no row would be left after quarantine (2 of 2 objects"},
		{name: "the only object with rows unreadable", alone: true, extra: map[string][]byte{"a.parquet": corrupt},
			limit: 1, says: "no row would be left after quarantine (1 of 1 objects, 1,000 of 1,000 rows"},
		{name: "one unreadable footer of 41 objects, default limit", extra: map[string][]byte{"part-90000.parquet": notParquet},
			ok: true, objects: 1, ofObjs: 41, rows: 0, ofRows: 4000, reportSays: "1 of 41 export objects (2.4%), holding 0 of 4,000 rows"},
		{name: "objects over a 2% limit", extra: map[string][]byte{"part-90000.parquet": notParquet},
			limit: 0.02, says: "1 of 41 objects (2.4%) and 0 of 4,000 rows by footer (0.0%), more than --quarantine-limit 0.02"},
		{name: "rows over the default limit", extra: map[string][]byte{"part-90000.parquet": corrupt},
			says: "1 of 41 objects (2.4%) and 1,000 of 5,000 rows by footer (20.0%), more than --quarantine-limit 0.05"},
		{name: "rows under a 20% limit", extra: map[string][]byte{"part-90000.parquet": corrupt}, limit: 0.2,
			ok: true, objects: 1, ofObjs: 41, rows: 1000, ofRows: 5000, reportSays: "holding 1,000 of 5,000 rows by their footers (20.0%), could not be read and were quarantined (the run allows 20%)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := with(t, tc.alone, tc.extra)
			out := t.TempDir()
			cfg := baseConfig(in, out)
			cfg.OnCorrupt = "quarantine"
			cfg.QuarantineLimit = tc.limit
			res, err := Run(ctx, cfg)
			if !tc.ok {
				if sysexit.Code(err) != sysexit.DataErr || !errors.Is(err, collect.ErrQuarantineLimit) || !strings.Contains(err.Error(), tc.says) {
					t.Fatalf("got %v (exit %d), want exit 65 saying %q", err, sysexit.Code(err), tc.says)
				}
				if ents, _ := os.ReadDir(out); len(ents) != 0 {
					t.Fatalf("a refused run left %d entries in its output", len(ents))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			q := res.Manifest.Quarantine
			if q == nil || q.Objects != tc.objects || q.InputObjects != tc.ofObjs || q.FooterRows != tc.rows || q.InputFooter != tc.ofRows {
				t.Fatalf("manifest quarantine %+v", q)
			}
			checkRun(t, in, out, res.Manifest)
			md, err := os.ReadFile(filepath.Join(out, "reports", "impact.md"))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(md), tc.reportSays) {
				t.Errorf("impact.md does not say %q", tc.reportSays)
			}
		})
	}
}
