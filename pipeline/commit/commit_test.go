package commit

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/recal-project/recal/pipeline/manifest"
	"github.com/recal-project/recal/pipeline/storage"
	"github.com/recal-project/recal/pipeline/storage/local"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// commitAs writes a whole commit of run id under st (a manifest with no
// outputs, and _SUCCESS naming it).
func commitAs(t *testing.T, st storage.Store, id string) {
	t.Helper()
	b, err := (&manifest.Manifest{SchemaVersion: manifest.SchemaVersion, RunID: id}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := storage.Put(ctx, st, "manifest.json", strings.NewReader(string(b))); err != nil {
		t.Fatal(err)
	}
	if err := storage.Put(ctx, st, "_SUCCESS", strings.NewReader(id+"\n")); err != nil {
		t.Fatal(err)
	}
}

// TestEndNeverTurnsAnotherRunsCommitIntoSuccess: a failed run reports
// success only when the run committed meanwhile is its own job; over
// another run's commit, or none, its failure stands.
func TestEndNeverTurnsAnotherRunsCommitIntoSuccess(t *testing.T) {
	ctx := context.Background()
	failed := errors.New("a stage failed")
	for _, tc := range []struct {
		name, committed string // "" : nothing committed
		success         bool
	}{
		{"nothing committed", "", false},
		{"another run committed", "other-run", false},
		{"this job committed", "this-run", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := local.New(t.TempDir())
			o, err := Claim(ctx, st, "", "this-run", Settings{Command: "run"}, quiet)
			if err != nil {
				t.Fatal(err)
			}
			if tc.committed != "" {
				commitAs(t, st, tc.committed)
			}
			done, err := o.End(ctx, failed)
			if tc.success != (err == nil && done != nil && done.RunID == "this-run") {
				t.Fatalf("End: manifest %v, err %v", done, err)
			}
			if !tc.success && !errors.Is(err, failed) {
				t.Fatalf("the failure was replaced: %v", err)
			}
		})
	}
}

// TestWithdraw removes another run's _SUCCESS, keeps (and reports) this
// job's, and does nothing on an uncommitted prefix.
func TestWithdraw(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name, committed string
		done, kept      bool
	}{
		{"nothing", "", false, false},
		{"another run's marker", "other-run", false, false},
		{"this job's marker", "this-run", true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := local.New(t.TempDir())
			if tc.committed != "" {
				commitAs(t, st, tc.committed)
			}
			o, err := Claim(ctx, st, "", "this-run", Settings{Command: "run", Committed: tc.committed}, quiet)
			if err != nil {
				t.Fatal(err)
			}
			defer o.End(ctx, nil)
			m, err := o.Withdraw(ctx)
			if err != nil || (m != nil) != tc.done {
				t.Fatalf("Withdraw: %v, %v", m, err)
			}
			_, serr := st.Stat(ctx, "_SUCCESS")
			if kept := serr == nil; kept != tc.kept {
				t.Fatalf("_SUCCESS kept %v, want %v", kept, tc.kept)
			}
		})
	}
}
