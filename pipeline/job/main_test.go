package job

import (
	"os"
	"testing"

	"github.com/recal-project/recal/pipeline/storage/s3store/miniotest"
)

func TestMain(m *testing.M) { os.Exit(miniotest.Main(m)) }
