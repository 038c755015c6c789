package job

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/recal-project/recal/pipeline/location"
	"github.com/recal-project/recal/pipeline/storage"
	"github.com/recal-project/recal/pipeline/storage/local"
	"github.com/recal-project/recal/pipeline/storage/s3store/s3servertest"
	"github.com/recal-project/recal/pipeline/sysexit"
)

// listing returns every key under a store with its sha-bearing content.
func listing(t *testing.T, st storage.Store) map[string][]byte {
	t.Helper()
	ctx := context.Background()
	objs, err := st.List(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, o := range objs {
		b, err := storage.ReadAll(ctx, st, o.Key)
		if err != nil {
			t.Fatal(err)
		}
		out[o.Key] = b
	}
	return out
}

func keys(m map[string][]byte) string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return strings.Join(ks, "\n")
}

// TestCommitProtocol, on local files and on the S3 server (versitygw): a rerun of the same
// inputs is a no-op; other inputs are refused without --force and replace
// the output completely with it; what an unfinished run left is cleaned up.
// TestRunIDFollowsContent: a copy of the same inputs, made later (other
// modification times), is the same run: same id, so a rerun from the copy
// is a no-op, and the same names and bytes on any machine.
func TestRunIDFollowsContent(t *testing.T) {
	fullPassOnly(t)
	in := t.TempDir()
	genData(t, in, 300)
	out := t.TempDir()
	first, err := Run(context.Background(), baseConfig(in, out))
	if err != nil {
		t.Fatal(err)
	}
	later := t.TempDir()
	copyTree(t, in, later)
	for _, f := range []string{"export", "capacity.csv"} {
		filepath.Walk(filepath.Join(later, f), func(p string, _ os.FileInfo, _ error) error {
			return os.Chtimes(p, time.Unix(1e9, 0), time.Unix(1e9, 0))
		})
	}
	again, err := Run(context.Background(), baseConfig(later, out))
	if err != nil {
		t.Fatal(err)
	}
	if !again.AlreadyComplete || again.Manifest.RunID != first.Manifest.RunID {
		t.Fatalf("a later copy of the same inputs: run %s (already complete %v), first run %s", again.Manifest.RunID, again.AlreadyComplete, first.Manifest.RunID)
	}
}

func TestCommitProtocol(t *testing.T) {
	fullPassOnly(t)
	in := t.TempDir()
	genData(t, in, 1200)
	backends := []string{"local", "s3"}
	for _, backend := range backends {
		t.Run(backend, func(t *testing.T) {
			ctx := context.Background()
			cfg := baseConfig(in, t.TempDir())
			if backend == "s3" {
				srv := s3servertest.Start(t)
				srv.Env(t)
				_, bucket := srv.NewBucket(t, "out")
				cfg.Output = "s3://" + bucket + "/runs/nightly"
			}
			out, err := location.Open(ctx, cfg.Output, location.Options{})
			if err != nil {
				t.Fatal(err)
			}
			first, err := Run(ctx, cfg)
			if err != nil {
				t.Fatal(err)
			}
			committedBytes := listing(t, out)
			for _, o := range first.Manifest.Outputs {
				if !strings.HasSuffix(o.Key, "-"+first.Manifest.RunID+".parquet") && !strings.HasPrefix(o.Key, "reports/") {
					t.Fatalf("%s is not a run-unique name", o.Key)
				}
			}

			// Same inputs: nothing to do, nothing touched.
			again, err := Run(ctx, cfg)
			if err != nil || !again.AlreadyComplete || again.Manifest.RunID != first.Manifest.RunID {
				t.Fatalf("rerun: %v, already complete %v", err, again != nil && again.AlreadyComplete)
			}
			if after := listing(t, out); keys(after) != keys(committedBytes) || !bytes.Equal(after["manifest.json"], committedBytes["manifest.json"]) {
				t.Fatal("a no-op rerun changed the output")
			}

			// Other inputs (another as-of date): refused without --force.
			other := cfg
			other.AsOf = "2026-02-02"
			_, err = Run(ctx, other)
			if sysexit.Code(err) != sysexit.Usage || !strings.Contains(err.Error(), "--force") {
				t.Fatalf("different inputs without --force: %v (exit %d)", err, sysexit.Code(err))
			}
			if after := listing(t, out); keys(after) != keys(committedBytes) {
				t.Fatal("a refused run changed the output")
			}

			// An unfinished run's leftovers: a crash removed _SUCCESS after
			// writing a part; the rerun must clean it up.
			if err := storage.Put(ctx, out, "assignments/base_city_code=NYC/part-00000-00000-0123456789abcdef.parquet", strings.NewReader("partial")); err != nil {
				t.Fatal(err)
			}
			other.Force = true
			res, err := Run(ctx, other)
			if err != nil {
				t.Fatal(err)
			}
			final := listing(t, out)
			want := []string{"_SUCCESS", "manifest.json"}
			for _, o := range res.Manifest.Outputs {
				want = append(want, o.Key)
			}
			sort.Strings(want)
			if keys(final) != strings.Join(want, "\n") {
				t.Fatalf("after --force the prefix holds\n%s\nwant exactly the new manifest's objects\n%s", keys(final), strings.Join(want, "\n"))
			}
			if string(final["_SUCCESS"]) != res.Manifest.RunID+"\n" || res.Manifest.RunID == first.Manifest.RunID {
				t.Fatalf("_SUCCESS %q for run %s", final["_SUCCESS"], res.Manifest.RunID)
			}

			// A crashed run (no _SUCCESS) of the same inputs: rerun repairs.
			if err := out.Delete(ctx, "_SUCCESS"); err != nil {
				t.Fatal(err)
			}
			if err := storage.Put(ctx, out, "rejects/part-00000-00009-feedfacefeedface.parquet", strings.NewReader("junk")); err != nil {
				t.Fatal(err)
			}
			if _, err := Run(ctx, other); err != nil {
				t.Fatal(err)
			}
			if repaired := listing(t, out); keys(repaired) != keys(final) || !bytes.Equal(repaired["manifest.json"][:200], final["manifest.json"][:200]) {
				t.Fatalf("repair left\n%s", keys(repaired))
			}
		})
	}
}

// shuffled lists a store's objects in reverse order.
type shuffled struct{ storage.Store }

func (s shuffled) List(ctx context.Context, prefix string) ([]storage.ObjectInfo, error) {
	objs, err := s.Store.List(ctx, prefix)
	for i, j := 0, len(objs)-1; i < j; i, j = i+1, j-1 {
		objs[i], objs[j] = objs[j], objs[i]
	}
	return objs, err
}

// TestListingOrderIgnored: the export's objects are taken in key order
// whatever order the store lists them in ("first idnproceeding wins"
// depends on it), and marker and hidden files are skipped.
func TestListingOrderIgnored(t *testing.T) {
	dir := t.TempDir()
	st := local.New(dir)
	ctx := context.Background()
	for _, k := range []string{"b/part-1.parquet", "a.parquet", "_SUCCESS", "c/.part-2.crc", "b/part-0.parquet"} {
		if err := storage.Put(ctx, st, k, strings.NewReader("x")); err != nil {
			t.Fatal(err)
		}
	}
	for _, s := range []storage.Store{st, shuffled{st}} {
		objs, err := listInputs(ctx, s, dir)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, o := range objs {
			got = append(got, o.Key)
		}
		if strings.Join(got, ",") != "a.parquet,b/part-0.parquet,b/part-1.parquet" {
			t.Fatalf("inputs %v", got)
		}
	}
}
