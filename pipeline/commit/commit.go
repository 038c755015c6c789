// Package commit is recal's commit protocol for an output prefix
// (docs/contract-additions.md), the one recal run, recal merge and, for
// reading, recal run --previous and recal report use:
//
//   - Committed reads what a prefix holds committed: a _SUCCESS and its
//     manifest;
//   - Claim claims the prefix (one writer per output, pipeline/claim)
//     before anything is written there;
//   - Output.Withdraw withdraws the old _SUCCESS (never one of this job);
//   - Output.Publish makes the run visible while the claim holds:
//     manifest.json, the cleanup of what the manifest does not list, then
//     _SUCCESS, created only if absent;
//   - Output.End releases the claim and says what a failure was.
package commit

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/recal-project/recal/pipeline/claim"
	"github.com/recal-project/recal/pipeline/manifest"
	"github.com/recal-project/recal/pipeline/storage"
	"github.com/recal-project/recal/pipeline/sysexit"
)

// Committed returns the manifest of the run committed under prefix, or
// nil when prefix holds no _SUCCESS.
func Committed(ctx context.Context, st storage.Store, prefix string) (*manifest.Manifest, error) {
	if _, err := st.Stat(ctx, prefix+"_SUCCESS"); errors.Is(err, storage.ErrNotExist) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	b, err := storage.ReadAll(ctx, st, prefix+"manifest.json")
	if err != nil {
		return nil, fmt.Errorf("output %s has %s_SUCCESS but its manifest cannot be read: %w", st, prefix, err)
	}
	m, err := manifest.Parse(b)
	if err != nil {
		return nil, sysexit.With(sysexit.ErrData, fmt.Errorf("output %s: %smanifest.json: %w", st, prefix, err))
	}
	return m, nil
}

// Cleanup deletes every object under the prefixes dirs that neither the
// manifest nor also lists: parts of an unfinished or replaced run.
func Cleanup(ctx context.Context, st storage.Store, m *manifest.Manifest, dirs []string, also ...string) error {
	keep := make(map[string]bool, len(m.Outputs)+len(also))
	for _, o := range m.Outputs {
		keep[o.Key] = true
	}
	for _, k := range also {
		keep[k] = true
	}
	if err := storage.DeleteOthers(ctx, st, dirs, keep); err != nil {
		return fmt.Errorf("clean up: %w", err)
	}
	return nil
}

// Settings are how a command claims its output.
type Settings struct {
	// Command is what claims it: run, merge, import-eoir.
	Command string
	// Committed is the run id the output holds committed ("": none).
	Committed string
	// Force takes over another live run's claim; Stale is the heartbeat
	// age past which a claim is dead (0: claim.DefaultStale); Heartbeat how often
	// the claim is rewritten (0: 30 s).
	Force            bool
	Stale, Heartbeat time.Duration
}

// Output is a run's claimed output prefix.
type Output struct {
	cl     *claim.Claim
	st     storage.Store
	prefix string
	runID  string
	log    *slog.Logger
}

// Claim claims prefix of st for runID, by claim.Rules; a refusal wraps
// claim.ErrClaimed (exit 75), with nothing written.
func Claim(ctx context.Context, st storage.Store, prefix, runID string, s Settings, log *slog.Logger) (*Output, error) {
	rules := claim.Rules{RunID: runID, Committed: s.Committed, Force: s.Force, Stale: s.Stale, Output: st.String(), Log: log}
	cl, err := claim.Acquire(ctx, st, prefix, claim.Record{RunID: runID, Command: s.Command}, rules.Decide, claim.Options{Heartbeat: s.Heartbeat})
	if err != nil {
		return nil, err
	}
	log.Debug("output claimed", "generation", cl.Generation())
	return &Output{cl: cl, st: st, prefix: prefix, runID: runID, log: log}, nil
}

// Prefix is the claimed prefix.
func (o *Output) Prefix() string { return o.prefix }

// Verify returns nil while the claim is still this run's.
func (o *Output) Verify(ctx context.Context) error { return o.cl.Verify(ctx) }

// Withdraw removes prefix/_SUCCESS before the run rewrites the prefix,
// unless the marker names this run: then a run of this same job committed
// (perhaps this very moment, as a duplicate start), and Withdraw returns
// its manifest (the job is done). It never removes a marker of the same
// job: the claim keeps other jobs out, but not a duplicate of this one.
func (o *Output) Withdraw(ctx context.Context) (*manifest.Manifest, error) {
	b, err := storage.ReadAll(ctx, o.st, o.prefix+"_SUCCESS")
	switch {
	case errors.Is(err, storage.ErrNotExist):
		return nil, nil
	case err != nil:
		return nil, err
	case strings.TrimSpace(string(b)) == o.runID:
		return Committed(ctx, o.st, o.prefix)
	}
	return nil, o.st.Delete(ctx, o.prefix+"_SUCCESS")
}

// Publish makes the run visible while the claim holds: manifest.json, the
// removal under dirs of every object the manifest does not list (claims
// are kept), then prefix/_SUCCESS holding the run id, written only if
// absent, so two runs racing on one prefix cannot both commit.
func (o *Output) Publish(ctx context.Context, m *manifest.Manifest, dirs []string) error {
	mb, err := m.Marshal()
	if err != nil {
		return sysexit.With(sysexit.ErrInternal, err)
	}
	if err := o.Verify(ctx); err != nil {
		return err
	}
	if err := storage.Put(ctx, o.st, o.prefix+"manifest.json", bytes.NewReader(mb)); err != nil {
		return err
	}
	o.log.Info("committing", "run_id", m.RunID, "objects", len(m.Outputs))
	keep, err := o.claimKeys(ctx)
	if err != nil {
		return err
	}
	if err := Cleanup(ctx, o.st, m, dirs, append(keep, o.prefix+"manifest.json")...); err != nil {
		return err
	}
	if err := o.Verify(ctx); err != nil {
		return err
	}
	return o.Mark(ctx)
}

// Mark writes prefix/_SUCCESS holding the run id, only if it is absent
// (the last step of Publish; recal import-eoir, whose output has no
// manifest.json, calls it alone).
func (o *Output) Mark(ctx context.Context) error {
	key := o.prefix + "_SUCCESS"
	err := o.st.CreateExclusive(ctx, key, []byte(o.runID+"\n"))
	if errors.Is(err, storage.ErrExist) {
		// A retried conditional PUT whose first attempt reached the store
		// but whose answer was lost finds its own marker: that is a commit.
		if b, rerr := storage.ReadAll(ctx, o.st, key); rerr == nil && string(b) == o.runID+"\n" {
			return nil
		}
		return sysexit.Errorf(sysexit.ErrTemporary, "output %s: another run committed %s while this one was writing: %v", o.st, key, err)
	}
	return err
}

// claimKeys lists the claim objects under the prefix, for the cleanup to
// keep.
func (o *Output) claimKeys(ctx context.Context) ([]string, error) {
	objs, err := o.st.List(ctx, o.prefix+claim.Dir)
	if err != nil {
		return nil, err
	}
	keys := make([]string, len(objs))
	for i, x := range objs {
		keys[i] = x.Key
	}
	return keys, nil
}

// End releases the claim when the run ends (o may be nil: the run ended
// before it claimed anything), and says what a failure was: if a run of
// the same job committed the output meanwhile, End returns that run's
// manifest and nil (the job is done: a duplicate start that lost the
// race); if another run took the claim over, the failure is that (exit
// 75), whatever step it broke.
func (o *Output) End(ctx context.Context, err error) (*manifest.Manifest, error) {
	if o == nil {
		return nil, err
	}
	var done *manifest.Manifest
	bg := context.WithoutCancel(ctx)
	if err != nil && ctx.Err() == nil {
		if m, cerr := Committed(bg, o.st, o.prefix); cerr == nil && m != nil && m.RunID == o.runID {
			o.log.Info("a run of the same job committed the output meanwhile; nothing left to do", "run_id", m.RunID, "this_run_failed_with", err.Error())
			done, err = m, nil
		} else if verr := o.cl.Verify(bg); errors.Is(verr, claim.ErrLost) && !errors.Is(err, claim.ErrLost) {
			err = fmt.Errorf("%w; this run then failed with: %v", verr, err)
		}
	}
	if rerr := o.cl.Release(bg); rerr != nil {
		// The claim stays; the next run takes it over (its run committed,
		// or it ages out).
		o.log.Warn("claim not released", "error", rerr)
	}
	return done, err
}
