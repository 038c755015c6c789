package eoirimport_test

import (
	"os"
	"testing"

	"github.com/recal-project/recal/pipeline/storage/s3store/s3servertest"
)

func TestMain(m *testing.M) { os.Exit(s3servertest.Main(m)) }
