package job

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/recal-project/recal/pipeline/manifest"
	"github.com/recal-project/recal/pipeline/storage"
	"github.com/recal-project/recal/pipeline/sysexit"
)

// publish is the commit protocol's tail, the one run and merge share
// (docs/contract-additions.md): while the claim holds, manifest.json; the
// removal, under dirs, of every object the manifest does not list (what an
// unfinished or replaced run left; claims are kept); then prefix/_SUCCESS,
// written only if absent, so two runs racing on one prefix cannot both
// commit.
func publish(ctx context.Context, out storage.Store, prefix string, m *manifest.Manifest, oc *outputClaim, dirs []string, started time.Time, t *stageTimer, log *slog.Logger) error {
	m.Timing = manifest.Timing{StartedAt: started.Format(time.RFC3339Nano), FinishedAt: time.Now().UTC().Format(time.RFC3339Nano), Seconds: t.seconds}
	mb, err := m.Marshal()
	if err != nil {
		return sysexit.With(sysexit.ErrInternal, err)
	}
	if err := oc.verify(ctx); err != nil {
		return err
	}
	if err := storage.Put(ctx, out, prefix+"manifest.json", bytes.NewReader(mb)); err != nil {
		return err
	}
	log.Info("committing", "run_id", m.RunID, "objects", len(m.Outputs))
	keep, err := claimKeys(ctx, out, prefix)
	if err != nil {
		return err
	}
	if err := cleanup(ctx, out, m, dirs, append(keep, prefix+"manifest.json")...); err != nil {
		return err
	}
	if err := oc.verify(ctx); err != nil {
		return err
	}
	return commit(ctx, out, prefix, m.RunID)
}

// withdraw removes prefix/_SUCCESS before a run rewrites the prefix,
// unless the marker names runID: then a run of this same job committed
// (perhaps this very moment, as a duplicate start), and withdraw reports
// the job done instead. It never removes a marker of the same job: the
// claim keeps other jobs out, but not a duplicate of this one.
func withdraw(ctx context.Context, out storage.Store, prefix, runID string) (done bool, err error) {
	b, err := storage.ReadAll(ctx, out, prefix+"_SUCCESS")
	switch {
	case errors.Is(err, storage.ErrNotExist):
		return false, nil
	case err != nil:
		return false, err
	case strings.TrimSpace(string(b)) == runID:
		return true, nil
	}
	return false, out.Delete(ctx, prefix+"_SUCCESS")
}
