package claim

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/recal-project/recal/pipeline/storage"
	"github.com/recal-project/recal/pipeline/storage/local"
)

func refuse(cur Current, _ time.Duration) error {
	return fmt.Errorf("%w: held by %s", ErrClaimed, cur.Record.RunID)
}

func takeOver(Current, time.Duration) error { return nil }

func keys(t *testing.T, st storage.Store) []string {
	t.Helper()
	objs, err := st.List(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	var ks []string
	for _, o := range objs {
		ks = append(ks, o.Key)
	}
	return ks
}

// TestProtocol walks a claim's life: a first claim, a refused second one
// that writes nothing, a takeover that the first holder then detects, and
// a release that removes the dead claim and the holder's own.
func TestProtocol(t *testing.T) {
	ctx := context.Background()
	st := local.New(t.TempDir())
	a, err := Acquire(ctx, st, "out/", Record{RunID: "A", Command: "run"}, refuse, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if a.Generation() != 1 || a.TookOver != nil {
		t.Fatalf("first claim: generation %d, took over %v", a.Generation(), a.TookOver)
	}
	before := keys(t, st)
	if _, err := Acquire(ctx, st, "out/", Record{RunID: "B"}, refuse, Options{}); !errors.Is(err, ErrClaimed) {
		t.Fatalf("second claim: %v, want ErrClaimed", err)
	}
	if after := keys(t, st); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Fatalf("a refused claim wrote: %v -> %v", before, after)
	}
	if err := a.Verify(ctx); err != nil {
		t.Fatalf("holder's verify: %v", err)
	}
	var seen Current
	c, err := Acquire(ctx, st, "out/", Record{RunID: "C", Command: "merge"}, func(cur Current, _ time.Duration) error { seen = cur; return nil }, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if seen.Gen != 1 || seen.Record.RunID != "A" || seen.Record.Command != "run" || c.Generation() != 2 {
		t.Fatalf("takeover saw %+v, got generation %d", seen, c.Generation())
	}
	if err := a.Verify(ctx); !errors.Is(err, ErrLost) {
		t.Fatalf("the replaced holder's verify: %v, want ErrLost", err)
	}
	if err := c.Release(ctx); err != nil {
		t.Fatal(err)
	}
	if ks := keys(t, st); len(ks) != 0 {
		t.Fatalf("after release: %v", ks)
	}
	// The replaced holder releases too (it was stopped): nothing of a
	// later generation may go, and there is nothing left.
	if err := a.Release(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestReleaseKeepsLaterGeneration: a holder replaced by a takeover
// releases only generations up to its own.
func TestReleaseKeepsLaterGeneration(t *testing.T) {
	ctx := context.Background()
	st := local.New(t.TempDir())
	a, err := Acquire(ctx, st, "", Record{RunID: "A"}, refuse, Options{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := Acquire(ctx, st, "", Record{RunID: "B"}, takeOver, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Release(ctx); err != nil {
		t.Fatal(err)
	}
	if err := b.Verify(ctx); err != nil {
		t.Fatalf("the later holder lost its claim to the earlier one's release: %v", err)
	}
	b.Release(ctx)
}

// TestStaleness: the heartbeat keeps a claim fresh; the age the decider
// sees is the time since the last heartbeat, by the record's clock.
func TestStaleness(t *testing.T) {
	ctx := context.Background()
	st := local.New(t.TempDir())
	var mu sync.Mutex
	now := time.Date(2026, 1, 15, 3, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	a, err := Acquire(ctx, st, "", Record{RunID: "A"}, refuse, Options{Heartbeat: 10 * time.Millisecond, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	advance(time.Hour)
	// Wait for a heartbeat at the new time.
	deadline := time.Now().Add(5 * time.Second)
	for {
		cur, err := Look(ctx, st, "")
		if err != nil {
			t.Fatal(err)
		}
		if cur.Record.Heartbeat.Equal(clock()) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no heartbeat: %+v", cur.Record)
		}
		time.Sleep(5 * time.Millisecond)
	}
	a.stop() // the holder dies: no more heartbeats
	<-a.done
	advance(11 * time.Minute)
	var age time.Duration
	_, err = Acquire(ctx, st, "", Record{RunID: "B"}, func(_ Current, since time.Duration) error {
		age = since
		return fmt.Errorf("%w", ErrClaimed)
	}, Options{Now: clock})
	if !errors.Is(err, ErrClaimed) || age != 11*time.Minute {
		t.Fatalf("age seen %s (want 11m), err %v", age, err)
	}
}

// TestRace: of many processes claiming one output at once, exactly one
// holds it.
func TestRace(t *testing.T) {
	ctx := context.Background()
	st := local.New(t.TempDir())
	const n = 12
	var wg sync.WaitGroup
	claims := make([]*Claim, n)
	errs := make([]error, n)
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			claims[i], errs[i] = Acquire(ctx, st, "", Record{RunID: fmt.Sprint(i)}, refuse, Options{})
		}()
	}
	close(start)
	wg.Wait()
	held := 0
	for i := range n {
		switch {
		case errs[i] == nil:
			held++
			defer claims[i].Release(ctx)
		case !errors.Is(errs[i], ErrClaimed):
			t.Errorf("claim %d: %v", i, errs[i])
		}
	}
	if held != 1 {
		t.Fatalf("%d processes hold the output", held)
	}
}
