package job

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/recal-project/recal/pipeline/claim"
	"github.com/recal-project/recal/pipeline/location"
	"github.com/recal-project/recal/pipeline/manifest"
	"github.com/recal-project/recal/pipeline/storage"
	"github.com/recal-project/recal/pipeline/storage/s3store/s3servertest"
	"github.com/recal-project/recal/pipeline/sysexit"
)

// wholeCommit checks a committed output as a consumer would trust it:
// _SUCCESS names the manifest's run, every object the manifest lists is
// there with its sha256, and the prefix holds nothing else (no claim, no
// other run's part, no stray report). It returns the manifest.
func wholeCommit(t *testing.T, ctx context.Context, st storage.Store) *manifest.Manifest {
	t.Helper()
	marker, err := storage.ReadAll(ctx, st, "_SUCCESS")
	if err != nil {
		t.Fatalf("no _SUCCESS: %v", err)
	}
	b, err := storage.ReadAll(ctx, st, "manifest.json")
	if err != nil {
		t.Fatal(err)
	}
	m, err := manifest.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	if strings.TrimSpace(string(marker)) != m.RunID {
		t.Fatalf("_SUCCESS names run %s, manifest.json is run %s", strings.TrimSpace(string(marker)), m.RunID)
	}
	listed := map[string]bool{"_SUCCESS": true, "manifest.json": true}
	for _, o := range m.Outputs {
		listed[o.Key] = true
		d, err := storage.ReadAll(ctx, st, o.Key)
		if err != nil {
			t.Fatalf("run %s lists %s: %v", m.RunID, o.Key, err)
		}
		if sum := fmt.Sprintf("%x", sha256.Sum256(d)); sum != o.SHA256 {
			t.Fatalf("%s: sha256 %s, manifest of run %s says %s", o.Key, sum, m.RunID, o.SHA256)
		}
	}
	all, err := st.List(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range all {
		if !listed[o.Key] {
			t.Fatalf("the committed prefix holds %s, which run %s's manifest does not list", o.Key, m.RunID)
		}
	}
	return m
}

// concurrencySetup generates a 2,000-row input and starts the S3 server
// with a fresh bucket, for the concurrency tests' two backends.
func concurrencySetup(t *testing.T, prefix string) (in, bucket string) {
	t.Helper()
	in = t.TempDir()
	genData(t, in, 2000)
	srv := s3servertest.Start(t)
	srv.Env(t)
	_, bucket = srv.NewBucket(t, prefix)
	return in, bucket
}

// TestConcurrentRunsOneOutput starts two and three runs of different jobs
// (other as-of dates, so other run ids) together on one output, on local
// files and on the S3 server, several times over. The first to claim the
// output is held until the others have returned, so that they overlap for
// certain: every other run must exit 75 at once having written nothing,
// and the output must then be the winner's whole commit, nothing else.
func TestConcurrentRunsOneOutput(t *testing.T) {
	if testing.Short() {
		t.Skip("full pass only")
	}
	ctx := context.Background()
	in, bucket := concurrencySetup(t, "x")
	backends := []struct {
		name string
		uri  func(round int) string
	}{
		{"local", func(int) string { return t.TempDir() }},
		{"s3", func(r int) string { return fmt.Sprintf("s3://%s/concurrent-%d", bucket, r) }},
	}
	asOfs := []string{"2026-01-15", "2026-01-16", "2026-01-19"}
	round := 0
	for _, be := range backends {
		for _, n := range []int{2, 3} {
			for rep := range 8 {
				round++
				t.Run(fmt.Sprintf("%s/%d runs/%d", be.name, n, rep), func(t *testing.T) {
					uri := be.uri(round)
					var wg sync.WaitGroup
					others := make(chan struct{}, n)
					start := make(chan struct{})
					errs := make([]error, n)
					ids := make([]string, n)
					for i := range n {
						cfg := baseConfig(in, uri)
						cfg.AsOf = asOfs[i]
						cfg.afterClaim = func() {
							// Hold the winner until the others have
							// returned (or 20 s, if one wrongly goes on).
							deadline := time.After(20 * time.Second)
							for range n - 1 {
								select {
								case <-others:
								case <-deadline:
									return
								}
							}
						}
						wg.Add(1)
						go func() {
							defer wg.Done()
							<-start
							res, err := Run(ctx, cfg)
							errs[i] = err
							if res != nil {
								ids[i] = res.Manifest.RunID
							}
							if err != nil {
								others <- struct{}{}
							}
						}()
					}
					close(start)
					wg.Wait()
					winner := -1
					for i, err := range errs {
						switch {
						case err == nil && winner < 0:
							winner = i
						case err == nil:
							t.Fatalf("runs %d and %d both committed", winner, i)
						case sysexit.Code(err) != sysexit.TempFail || !errors.Is(err, claim.ErrClaimed):
							t.Fatalf("run %d: exit %d, want 75 (claimed): %v", i, sysexit.Code(err), err)
						}
					}
					if winner < 0 {
						t.Fatalf("no run committed: %v", errs)
					}
					st, err := location.Open(ctx, uri, location.Options{})
					if err != nil {
						t.Fatal(err)
					}
					if m := wholeCommit(t, ctx, st); m.RunID != ids[winner] || m.AsOf != asOfs[winner] {
						t.Fatalf("the output holds run %s (as of %s), the winner was %s (as of %s)", m.RunID, m.AsOf, ids[winner], asOfs[winner])
					}
				})
			}
		}
	}
}

// TestConcurrentMerges runs the shards of one job, then two merges of it
// together, on local files and on the S3 server, several times: each merge
// exits 0 or 75 (never 65 or 66, from objects the other removed), at least
// one commits, and the output is whole.
func TestConcurrentMerges(t *testing.T) {
	if testing.Short() {
		t.Skip("full pass only")
	}
	ctx := context.Background()
	in, bucket := concurrencySetup(t, "m")
	const shards = 3
	round := 0
	for _, be := range []string{"local", "s3"} {
		for rep := range 6 {
			round++
			t.Run(fmt.Sprintf("%s/%d", be, rep), func(t *testing.T) {
				uri := t.TempDir()
				if be == "s3" {
					uri = fmt.Sprintf("s3://%s/merge-%d", bucket, round)
				}
				for i := range shards {
					cfg := baseConfig(in, uri)
					cfg.ShardIndex, cfg.ShardCount = i, shards
					if _, err := Run(ctx, cfg); err != nil {
						t.Fatal(err)
					}
				}
				var wg sync.WaitGroup
				errs := make([]error, 2)
				start := make(chan struct{})
				for i := range errs {
					wg.Add(1)
					go func() {
						defer wg.Done()
						<-start
						_, errs[i] = Merge(ctx, MergeConfig{Output: uri, ShardCount: shards, Workers: 2, TempDir: t.TempDir(), Log: quiet()})
					}()
				}
				close(start)
				wg.Wait()
				ok := 0
				for i, err := range errs {
					if err == nil {
						ok++
					} else if sysexit.Code(err) != sysexit.TempFail {
						t.Fatalf("merge %d: exit %d, want 0 or 75: %v", i, sysexit.Code(err), err)
					}
				}
				if ok == 0 {
					t.Fatalf("no merge committed: %v", errs)
				}
				st, err := location.Open(ctx, uri, location.Options{})
				if err != nil {
					t.Fatal(err)
				}
				wholeCommit(t, ctx, st)
			})
		}
	}
}
