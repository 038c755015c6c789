package job

import (
	"context"

	"github.com/recal-project/recal/pipeline/commit"
)

// endClaim releases o's claim as Run or Merge ends and gives the result:
// a failure that another run of the same job's commit made moot is that
// commit, already complete.
func endClaim(ctx context.Context, o *commit.Output, out string, res *Result, err error) (*Result, error) {
	if o == nil {
		return res, err
	}
	done, err := o.End(ctx, err)
	if done != nil {
		return &Result{Manifest: done, Output: out, ManifestKey: o.Prefix() + "manifest.json", AlreadyComplete: true}, nil
	}
	return res, err
}
