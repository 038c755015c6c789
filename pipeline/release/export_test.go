package release

import (
	"context"
	"io"

	"github.com/recal-project/recal/pipeline/storage"
)

// ReadAllForTest opens the zip key of st and reads every member.
func ReadAllForTest(ctx context.Context, st storage.Store, key string) error {
	z, err := openZip(ctx, st, key, nil)
	if err != nil {
		return err
	}
	defer z.Close()
	for _, tb := range z.Tables() {
		rc, err := z.Open(ctx, tb.Name)
		if err != nil {
			return err
		}
		_, err = io.Copy(io.Discard, rc)
		rc.Close()
		if err != nil {
			return err
		}
	}
	return nil
}
