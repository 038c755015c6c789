package job

import (
	"context"

	"github.com/recal-project/recal/pipeline/commit"
	"github.com/recal-project/recal/pipeline/storage"
)

// endClaim releases o's claim as Run or Merge ends and gives the result:
// a failure that another run of the same job's commit made moot is that
// commit, already complete.
func endClaim(ctx context.Context, o *commit.Output, out storage.Store, res *Result, err error) (*Result, error) {
	if o == nil {
		return res, err // o is set only once out is open
	}
	done, err := o.End(ctx, err)
	if done != nil {
		return &Result{Manifest: done, Output: out.String(), ManifestKey: o.Prefix() + "manifest.json", AlreadyComplete: true}, nil
	}
	return res, err
}
