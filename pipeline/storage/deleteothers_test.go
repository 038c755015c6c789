package storage_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/recal-project/recal/pipeline/storage"
	"github.com/recal-project/recal/pipeline/storage/local"
)

// TestDeleteOthers deletes, under the prefixes only, what keep lacks.
func TestDeleteOthers(t *testing.T) {
	ctx := context.Background()
	st := local.New(t.TempDir())
	for _, k := range []string{"a/keep", "a/stale", "b/stale", "c/other", "manifest.json"} {
		if err := storage.Put(ctx, st, k, strings.NewReader("x")); err != nil {
			t.Fatal(err)
		}
	}
	if err := storage.DeleteOthers(ctx, st, []string{"a/", "b/"}, map[string]bool{"a/keep": true}); err != nil {
		t.Fatal(err)
	}
	objs, err := st.List(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	var left []string
	for _, o := range objs {
		left = append(left, o.Key)
	}
	slices.Sort(left)
	if want := []string{"a/keep", "c/other", "manifest.json"}; !slices.Equal(left, want) {
		t.Fatalf("left %v, want %v", left, want)
	}
}
