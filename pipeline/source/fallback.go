package source

import (
	"fmt"

	"github.com/recal-project/recal/pipeline/storage"
)

// decodeFallback decodes an object arrow v15 cannot (feature names why).
func (d *decoder) decodeFallback(ra storage.ReaderAt, proj projection, feature string) (int64, error) {
	return 0, fmt.Errorf("%w: %s (arrow v15 cannot decode it)", ErrUnsupported, feature)
}
