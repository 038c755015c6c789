package local_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"

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

// TestDeletePrunesEmptyDirs checks that deleting the last key under a
// folder removes the folders it emptied, never the root or a folder that
// still holds a key, and that creates racing the pruning still succeed.
func TestDeletePrunesEmptyDirs(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	st := local.New(root)
	for _, k := range []string{"a/b/c/x", "a/y"} {
		if err := storage.Put(ctx, st, k, strings.NewReader(k)); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.Delete(ctx, "a/b/c/x"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "a", "b")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a/b still there after its last key went: %v", err)
	}
	if _, err := os.Stat(filepath.Join(root, "a", "y")); err != nil {
		t.Fatal(err)
	}
	if err := st.Delete(ctx, "a/y"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(root); err != nil {
		t.Fatalf("the root went: %v", err)
	}
	// Creates and deletes in one folder at once: no create fails.
	var g errgroup.Group
	for i := range 8 {
		g.Go(func() error {
			for j := range 50 {
				k := fmt.Sprintf("d/e/k%d-%d", i, j)
				if err := storage.Put(ctx, st, k, strings.NewReader("v")); err != nil {
					return err
				}
				if err := st.Delete(ctx, k); err != nil {
					return err
				}
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
}
