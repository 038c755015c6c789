// Package claim gives one process at a time the right to write an output
// prefix. A run claims its output before it writes anything, keeps the
// claim alive while it works, checks it still holds it before each step
// that makes something visible, and releases it after its commit.
//
// A claim is an object under <prefix>_claims/, named by a generation
// number, created with Store.CreateExclusive (If-None-Match on S3, a hard
// link on local files): only one process can create a generation. The
// current claim is the highest generation. Taking over a claim means
// creating the next generation, so two processes that both judge a claim
// dead cannot both take it over, and nothing ever deletes another
// process's live claim. The holder rewrites its own object as a heartbeat
// (no other process writes that key), and a holder that finds a higher
// generation, or its own gone, has lost the output.
//
// The rules for taking over an existing claim are the caller's (Decide);
// docs/contract-additions.md states recal's.
package claim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/recal-project/recal/pipeline/storage"
)

// Dir is the folder, under a claimed prefix, that holds the claims.
const Dir = "_claims/"

// ErrClaimed is wrapped when the output is claimed by another live run.
var ErrClaimed = errors.New("output claimed by another run")

// ErrLost is wrapped when a holder finds its claim taken over.
var ErrLost = errors.New("claim on the output lost")

// Store is what claims need of a storage.Store.
type Store interface {
	// List returns the objects under a prefix, sorted by key.
	List(ctx context.Context, prefix string) ([]storage.ObjectInfo, error)
	// Open opens an object for reading (ErrNotExist if missing).
	Open(ctx context.Context, key string) (storage.ReaderAt, error)
	// Create starts a write that replaces key when closed.
	Create(ctx context.Context, key string) (io.WriteCloser, error)
	// CreateExclusive writes key only if it does not exist (ErrExist).
	CreateExclusive(ctx context.Context, key string, data []byte) error
	// Delete removes key; a missing key is not an error.
	Delete(ctx context.Context, key string) error
	// String names the store for messages.
	String() string
}

// Record is what a claim object holds: who claims the output.
type Record struct {
	// RunID is the claiming run's id (its fingerprint: a rerun of the same
	// job has the same one).
	RunID string `json:"run_id"`
	// Command is what claims it: run, merge or import-eoir.
	Command string `json:"command"`
	Host    string `json:"host"`
	PID     int    `json:"pid"`
	// Started is when the claim was made; Heartbeat when its holder last
	// said it is alive (UTC, RFC 3339).
	Started   time.Time `json:"started"`
	Heartbeat time.Time `json:"heartbeat"`
}

// Current is the claim found on an output: its generation and record.
type Current struct {
	Gen    int
	Record Record
}

// Decide is asked about an existing claim: nil to take it over, or an
// error (wrapping ErrClaimed) to leave it. It may take the time since the
// claim's last heartbeat into account.
type Decide func(cur Current, sinceHeartbeat time.Duration) error

// DefaultStale is how long a claim may go without a heartbeat before
// Rules takes it over (its holder rewrites it every 30 s).
const DefaultStale = 10 * time.Minute

// Rules is recal's rule for taking over a claim (docs/contract-additions.md):
// an existing claim is taken over when it is the same job's (a rerun
// after a kill, or a duplicate start: both write the same bytes), when its
// run is the one committed there (it committed, then died before
// releasing), when it has had no heartbeat for Stale, or with Force;
// otherwise the claimant stops with ErrClaimed, having written nothing.
type Rules struct {
	// RunID is the claimant's run id; Committed the run id the output
	// holds committed ("" for none).
	RunID, Committed string
	Force            bool
	// Stale is the heartbeat age past which a claim is dead (0:
	// DefaultStale).
	Stale time.Duration
	// Output names the output in messages; Log hears of takeovers.
	Output string
	Log    *slog.Logger
}

// Decide is the rules as a Decide.
func (r Rules) Decide(cur Current, since time.Duration) error {
	if r.Stale <= 0 {
		r.Stale = DefaultStale
	}
	c := cur.Record
	why := ""
	switch {
	case c.RunID == r.RunID:
		why = "the same job (a rerun)"
	case r.Committed != "" && c.RunID == r.Committed:
		why = "its run committed the output"
	case since > r.Stale:
		why = fmt.Sprintf("no heartbeat for %s (more than --claim-stale %s)", since.Round(time.Second), r.Stale)
	case r.Force:
		why = "--force"
	default:
		return fmt.Errorf("%w: output %s is claimed by recal %s, run %s (host %s, pid %d, claimed %s, last heartbeat %s ago): another run is writing it; this run wrote nothing. A run that died is taken over once its claim has had no heartbeat for %s, or at once with --force",
			ErrClaimed, r.Output, c.Command, c.RunID, c.Host, c.PID, c.Started.Format(time.RFC3339), since.Round(time.Second), r.Stale)
	}
	if r.Log != nil {
		r.Log.Warn("taking over the claim on the output", "reason", why, "claim_run_id", c.RunID, "claim_host", c.Host, "claim_generation", cur.Gen)
	}
	return nil
}

// Options tune a claim.
type Options struct {
	// Heartbeat is how often the holder rewrites its record (default 30 s).
	Heartbeat time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Claim is a held claim on an output prefix.
type Claim struct {
	st     Store
	prefix string
	gen    int
	rec    Record
	now    func() time.Time
	// TookOver is the claim this one replaced, if any (for the log).
	TookOver *Current

	mu      sync.Mutex
	stop    context.CancelFunc
	done    chan struct{}
	beatErr error
}

// key is the object of generation gen.
func key(prefix string, gen int) string { return fmt.Sprintf("%s%s%010d.json", prefix, Dir, gen) }

// Acquire claims prefix of st for rec. If a claim exists, decide says
// whether to take it over; a claim created by another process between
// the look and the create makes Acquire fail with ErrClaimed (nothing is
// written then). The claim's heartbeat runs until Release.
func Acquire(ctx context.Context, st Store, prefix string, rec Record, decide Decide, o Options) (*Claim, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Heartbeat <= 0 {
		o.Heartbeat = 30 * time.Second
	}
	if rec.Host == "" {
		rec.Host, _ = os.Hostname()
	}
	if rec.PID == 0 {
		rec.PID = os.Getpid()
	}
	cur, err := Look(ctx, st, prefix)
	if err != nil {
		return nil, err
	}
	c := &Claim{st: st, prefix: prefix, now: o.Now, done: make(chan struct{})}
	if cur != nil {
		if err := decide(*cur, o.Now().Sub(cur.Record.Heartbeat)); err != nil {
			return nil, err
		}
		c.gen, c.TookOver = cur.Gen, cur
	}
	c.gen++
	now := o.Now().UTC()
	rec.Started, rec.Heartbeat = now, now
	c.rec = rec
	b, err := json.Marshal(rec)
	if err != nil {
		return nil, err
	}
	if err := st.CreateExclusive(ctx, key(prefix, c.gen), append(b, '\n')); err != nil {
		if errors.Is(err, storage.ErrExist) {
			who := "another run"
			if cur, lerr := Look(ctx, st, prefix); lerr == nil && cur != nil {
				who = fmt.Sprintf("recal %s, run %s (host %s, pid %d)", cur.Record.Command, cur.Record.RunID, cur.Record.Host, cur.Record.PID)
			}
			return nil, fmt.Errorf("%w: output %s was claimed by %s at the same moment; this run wrote nothing", ErrClaimed, st, who)
		}
		return nil, fmt.Errorf("claim output %s: %w", st, err)
	}
	hctx, stop := context.WithCancel(context.WithoutCancel(ctx))
	c.stop = stop
	go c.beat(hctx, o.Heartbeat)
	return c, nil
}

// Look returns the current claim on prefix (the highest generation), or
// nil when there is none.
func Look(ctx context.Context, st Store, prefix string) (*Current, error) {
	gens, err := generations(ctx, st, prefix)
	if err != nil || len(gens) == 0 {
		return nil, err
	}
	g := gens[len(gens)-1]
	b, err := readAll(ctx, st, key(prefix, g))
	if errors.Is(err, storage.ErrNotExist) {
		return Look(ctx, st, prefix) // released meanwhile: look again
	}
	if err != nil {
		return nil, fmt.Errorf("read the claim on %s: %w", st, err)
	}
	cur := &Current{Gen: g}
	if err := json.Unmarshal(b, &cur.Record); err != nil {
		// An unreadable claim (a torn write of some other tool) names no
		// live run: it counts as one with no heartbeat.
		cur.Record = Record{}
	}
	return cur, nil
}

// generations lists the claim generations on prefix, ascending.
func generations(ctx context.Context, st Store, prefix string) ([]int, error) {
	objs, err := st.List(ctx, prefix+Dir)
	if err != nil {
		return nil, fmt.Errorf("list the claims on %s: %w", st, err)
	}
	var gens []int
	for _, o := range objs {
		name := strings.TrimSuffix(strings.TrimPrefix(o.Key, prefix+Dir), ".json")
		if g, err := strconv.Atoi(name); err == nil && g > 0 && !strings.Contains(name, "/") {
			gens = append(gens, g)
		}
	}
	sort.Ints(gens)
	return gens, nil
}

// Verify returns nil if c is still the current claim, else an error
// wrapping ErrLost that names the run that took the output over.
func (c *Claim) Verify(ctx context.Context) error {
	gens, err := generations(ctx, c.st, c.prefix)
	if err != nil {
		return err
	}
	if len(gens) > 0 && gens[len(gens)-1] == c.gen {
		return nil
	}
	if len(gens) > 0 && gens[len(gens)-1] > c.gen {
		if cur, err := Look(ctx, c.st, c.prefix); err == nil && cur != nil {
			return fmt.Errorf("%w: output %s was taken over by run %s (%s on %s, claimed %s)", ErrLost, c.st,
				cur.Record.RunID, cur.Record.Command, cur.Record.Host, cur.Record.Started.Format(time.RFC3339))
		}
	}
	return fmt.Errorf("%w: output %s: this run's claim (generation %d) is gone", ErrLost, c.st, c.gen)
}

// beat rewrites the claim's record every interval until stopped. A failed
// rewrite is kept for Err; the claim then ages, and another run may take
// it over once it looks dead.
func (c *Claim) beat(ctx context.Context, every time.Duration) {
	defer close(c.done)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := c.Verify(ctx); err != nil {
			c.setErr(err)
			return // never rewrite a claim that is no longer ours
		}
		c.rec.Heartbeat = c.now().UTC()
		b, _ := json.Marshal(c.rec)
		if err := put(ctx, c.st, key(c.prefix, c.gen), append(b, '\n')); err != nil && ctx.Err() == nil {
			c.setErr(err)
		}
	}
}

func (c *Claim) setErr(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.beatErr == nil {
		c.beatErr = err
	}
}

// Generation is the claim's generation number.
func (c *Claim) Generation() int { return c.gen }

// Release stops the heartbeat and deletes every claim of generation up to
// c's: its own, and the dead ones it replaced. A later generation (a run
// that took over) is left alone.
func (c *Claim) Release(ctx context.Context) error {
	c.stop()
	<-c.done
	gens, err := generations(ctx, c.st, c.prefix)
	if err != nil {
		return err
	}
	for _, g := range gens {
		if g > c.gen {
			break
		}
		if err := c.st.Delete(ctx, key(c.prefix, g)); err != nil {
			return fmt.Errorf("release the claim on %s: %w", c.st, err)
		}
	}
	return nil
}

func readAll(ctx context.Context, st Store, key string) ([]byte, error) {
	ra, err := st.Open(ctx, key)
	if err != nil {
		return nil, err
	}
	defer ra.Close()
	return io.ReadAll(io.NewSectionReader(ra, 0, ra.Size()))
}

// put replaces key with b. A failed write is abandoned by cancelling its
// context (storage.Store.Create), never half-visible.
func put(ctx context.Context, st Store, key string, b []byte) error {
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w, err := st.Create(wctx, key)
	if err != nil {
		return err
	}
	if _, err := w.Write(b); err != nil {
		return err
	}
	return w.Close()
}
