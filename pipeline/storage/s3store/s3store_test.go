package s3store_test

import (
	"testing"

	"github.com/recal-project/recal/pipeline/storage"
	"github.com/recal-project/recal/pipeline/storage/s3store/s3servertest"
	"github.com/recal-project/recal/pipeline/storage/storagetest"
)

func TestConformanceS3Server(t *testing.T) {
	srv := s3servertest.Start(t)
	srv.Env(t)
	storagetest.Run(t, func(t *testing.T) storage.Store {
		st, _ := srv.NewBucket(t, "some/prefix")
		return st
	}, 12<<20) // > two 5 MiB parts: exercises multipart upload and its abort
}
