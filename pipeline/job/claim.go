package job

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/recal-project/recal/pipeline/claim"
	"github.com/recal-project/recal/pipeline/storage"
)

// DefaultClaimStale is how long a claim may go without a heartbeat (its
// holder rewrites it every 30 s) before another run may take it over:
// --claim-stale.
const DefaultClaimStale = claim.DefaultStale

// outputClaim is a run's claim on the prefix it commits to (the output,
// or a shard's stage under it).
type outputClaim struct {
	cl     *claim.Claim
	out    storage.Store
	prefix string
	runID  string
	log    *slog.Logger
}

// claimSettings are what a command passes to claimOutput.
type claimSettings struct {
	command string
	// committed is the run id of the run the output holds committed ("":
	// none).
	committed string
	force     bool
	stale     time.Duration
	heartbeat time.Duration
}

// claimOutput claims prefix of out for runID before anything is written
// there, by claim.Rules; a refusal is claim.ErrClaimed (exit 75), with
// nothing written.
func claimOutput(ctx context.Context, out storage.Store, prefix, runID string, s claimSettings, log *slog.Logger) (*outputClaim, error) {
	rules := claim.Rules{RunID: runID, Committed: s.committed, Force: s.force, Stale: s.stale, Output: out.String(), Log: log}
	cl, err := claim.Acquire(ctx, out, prefix, claim.Record{RunID: runID, Command: s.command}, rules.Decide, claim.Options{Heartbeat: s.heartbeat})
	if err != nil {
		return nil, err
	}
	log.Debug("output claimed", "generation", cl.Generation())
	return &outputClaim{cl: cl, out: out, prefix: prefix, runID: runID, log: log}, nil
}

// verify returns nil while the claim is still this run's.
func (c *outputClaim) verify(ctx context.Context) error { return c.cl.Verify(ctx) }

// end releases the claim when the run ends, and says what a failure was:
// if a run of the same job committed the output meanwhile, the job is done
// (a duplicate start that lost the race); if another run took the claim
// over, the failure is that (exit 75), whatever step it broke. c may be
// nil (the run ended before it claimed anything).
func (c *outputClaim) end(ctx context.Context, res *Result, err error) (*Result, error) {
	if c == nil {
		return res, err
	}
	bg := context.WithoutCancel(ctx)
	if err != nil && ctx.Err() == nil {
		if m, cerr := committed(bg, c.out, c.prefix); cerr == nil && m != nil && m.RunID == c.runID {
			c.log.Info("a run of the same job committed the output meanwhile; nothing left to do", "run_id", m.RunID, "this_run_failed_with", err.Error())
			res, err = &Result{Manifest: m, Output: c.out.String(), ManifestKey: c.prefix + "manifest.json", AlreadyComplete: true}, nil
		} else if verr := c.cl.Verify(bg); errors.Is(verr, claim.ErrLost) && !errors.Is(err, claim.ErrLost) {
			err = fmt.Errorf("%w; this run then failed with: %v", verr, err)
		}
	}
	if rerr := c.cl.Release(bg); rerr != nil {
		// The claim stays; the next run takes it over (its run committed,
		// or it ages out).
		c.log.Warn("claim not released", "error", rerr)
	}
	return res, err
}

// claimKeys lists the claim objects under prefix, for cleanup to keep.
func claimKeys(ctx context.Context, out storage.Store, prefix string) ([]string, error) {
	objs, err := out.List(ctx, prefix+claim.Dir)
	if err != nil {
		return nil, err
	}
	keys := make([]string, len(objs))
	for i, o := range objs {
		keys[i] = o.Key
	}
	return keys, nil
}
