package release

import (
	"context"

	"github.com/recal-project/recal/pipeline/storage"
)

// OpenZipForTest opens the zip key of st as Open does for a zip URI.
func OpenZipForTest(ctx context.Context, st storage.Store, key string) (Release, error) {
	z, err := openZip(ctx, st, key, nil)
	if err != nil {
		return nil, err
	}
	return z, nil
}
