package local_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/recal-project/recal/pipeline/storage"
	"github.com/recal-project/recal/pipeline/storage/local"
	"github.com/recal-project/recal/pipeline/storage/storagetest"
)

func TestConformance(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) storage.Store { return local.New(t.TempDir()) }, 3<<20)
}

// TestContentTag: the tag follows the bytes, not the file's times.
func TestContentTag(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := local.New(dir)
	write := func(name, body string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("a", "same bytes")
	write("b", "same bytes")
	write("c", "other bytes")
	tag := func(k string) string {
		v, err := s.ContentTag(ctx, k)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	a := tag("a")
	os.Chtimes(filepath.Join(dir, "a"), time.Unix(1, 0), time.Unix(1, 0))
	if tag("a") != a || tag("b") != a || tag("c") == a || !strings.HasPrefix(a, "sha256:") {
		t.Fatalf("tags: a %s (after touch %s), b %s, c %s", a, tag("a"), tag("b"), tag("c"))
	}
	if _, err := s.ContentTag(ctx, "missing"); !errors.Is(err, storage.ErrNotExist) {
		t.Fatalf("missing object: %v", err)
	}
}
