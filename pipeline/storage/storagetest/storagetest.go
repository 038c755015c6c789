// Package storagetest is the conformance suite every storage.Store passes,
// in the manner of gocloud.dev's blob/drivertest.
package storagetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/recal-project/recal/pipeline/storage"
)

// Run runs the conformance suite. newStore must return an empty store, a
// fresh one for each call. big is the size of the object used to exercise
// multipart streaming (pick one larger than an S3 part).
func Run(t *testing.T, newStore func(t *testing.T) storage.Store, big int) {
	t.Helper()
	ctx := context.Background()

	t.Run("PutListStatRead", func(t *testing.T) {
		s := newStore(t)
		want := map[string][]byte{
			"b/2.bin":   []byte("second"),
			"a.txt":     []byte("hello"),
			"b/1.bin":   []byte("first"),
			"b/c/3.bin": []byte(""),
			"bz":        []byte("z"),
		}
		for k, v := range want {
			mustPut(t, s, k, v)
		}
		all, err := s.List(ctx, "")
		if err != nil {
			t.Fatal(err)
		}
		if got := keys(all); fmt.Sprint(got) != "[a.txt b/1.bin b/2.bin b/c/3.bin bz]" {
			t.Fatalf("List(\"\") = %v", got)
		}
		sub, err := s.List(ctx, "b/")
		if err != nil {
			t.Fatal(err)
		}
		if got := keys(sub); fmt.Sprint(got) != "[b/1.bin b/2.bin b/c/3.bin]" {
			t.Fatalf("List(b/) = %v", got)
		}
		for _, o := range all {
			if o.Size != int64(len(want[o.Key])) {
				t.Errorf("%s: size %d, want %d", o.Key, o.Size, len(want[o.Key]))
			}
			if o.ETag == "" {
				t.Errorf("%s: empty ETag", o.Key)
			}
			got, err := storage.ReadAll(ctx, s, o.Key)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want[o.Key]) {
				t.Errorf("%s: read %q, want %q", o.Key, got, want[o.Key])
			}
			st, err := s.Stat(ctx, o.Key)
			if err != nil || st.Size != o.Size {
				t.Errorf("Stat(%s) = %+v, %v", o.Key, st, err)
			}
		}
	})

	t.Run("MissingObjects", func(t *testing.T) {
		s := newStore(t)
		if _, err := s.Stat(ctx, "nope"); !errors.Is(err, storage.ErrNotExist) {
			t.Errorf("Stat missing: %v, want ErrNotExist", err)
		}
		if _, err := s.Open(ctx, "nope"); !errors.Is(err, storage.ErrNotExist) {
			t.Errorf("Open missing: %v, want ErrNotExist", err)
		}
		if err := s.Delete(ctx, "nope"); err != nil {
			t.Errorf("Delete missing: %v", err)
		}
		if l, err := s.List(ctx, "none/"); err != nil || len(l) != 0 {
			t.Errorf("List empty prefix = %v, %v", l, err)
		}
	})

	t.Run("RangedReads", func(t *testing.T) {
		s := newStore(t)
		data := randomBytes(300 << 10)
		mustPut(t, s, "obj", data)
		r, err := s.Open(ctx, "obj")
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		if r.Size() != int64(len(data)) {
			t.Fatalf("Size = %d, want %d", r.Size(), len(data))
		}
		for _, rg := range [][2]int{{0, 10}, {1000, 5000}, {len(data) - 8, 8}, {len(data) - 70000, 70000}, {5, 200000}} {
			buf := make([]byte, rg[1])
			n, err := r.ReadAt(buf, int64(rg[0]))
			if err != nil && !errors.Is(err, io.EOF) {
				t.Fatalf("ReadAt(%d,%d): %v", rg[0], rg[1], err)
			}
			if n != rg[1] || !bytes.Equal(buf, data[rg[0]:rg[0]+rg[1]]) {
				t.Fatalf("ReadAt(%d,%d): wrong bytes (n=%d)", rg[0], rg[1], n)
			}
		}
		buf := make([]byte, 16)
		if n, err := r.ReadAt(buf, int64(len(data)-4)); n != 4 || !errors.Is(err, io.EOF) {
			t.Errorf("ReadAt past end = %d, %v; want 4, EOF", n, err)
		}
	})

	t.Run("StreamingWriteVisibleOnlyAfterClose", func(t *testing.T) {
		s := newStore(t)
		data := randomBytes(big)
		w, err := s.Create(ctx, "big/obj")
		if err != nil {
			t.Fatal(err)
		}
		for off := 0; off < len(data); off += 1 << 20 {
			end := min(off+1<<20, len(data))
			if _, err := w.Write(data[off:end]); err != nil {
				t.Fatal(err)
			}
			if off == 0 {
				if _, err := s.Stat(ctx, "big/obj"); !errors.Is(err, storage.ErrNotExist) {
					t.Fatalf("object visible before Close: %v", err)
				}
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		got, err := storage.ReadAll(ctx, s, "big/obj")
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("read back %d bytes, err %v; want %d equal bytes", len(got), err, len(data))
		}
	})

	t.Run("CancelAbortsWrite", func(t *testing.T) {
		s := newStore(t)
		cctx, cancel := context.WithCancel(ctx)
		w, err := s.Create(cctx, "aborted")
		if err != nil {
			t.Fatal(err)
		}
		data := randomBytes(big)
		if _, err := w.Write(data[:len(data)/2]); err != nil {
			t.Fatal(err)
		}
		cancel()
		if _, err := w.Write(data[len(data)/2:]); err == nil {
			// A write may still land in a buffer; Close must then fail.
			t.Log("write after cancel was buffered")
		}
		if err := w.Close(); err == nil {
			t.Fatal("Close after cancel succeeded; want an abort error")
		}
		if _, err := s.Stat(ctx, "aborted"); !errors.Is(err, storage.ErrNotExist) {
			t.Fatalf("aborted object exists: %v", err)
		}
		if l, _ := s.List(ctx, ""); len(l) != 0 {
			t.Fatalf("aborted write left objects: %v", keys(l))
		}
	})

	t.Run("CreateExclusive", func(t *testing.T) {
		s := newStore(t)
		if err := s.CreateExclusive(ctx, "_SUCCESS", []byte("one")); err != nil {
			t.Fatal(err)
		}
		if err := s.CreateExclusive(ctx, "_SUCCESS", []byte("two")); !errors.Is(err, storage.ErrExist) {
			t.Fatalf("second CreateExclusive: %v, want ErrExist", err)
		}
		got, _ := storage.ReadAll(ctx, s, "_SUCCESS")
		if string(got) != "one" {
			t.Fatalf("content %q, want one", got)
		}
		if err := s.Delete(ctx, "_SUCCESS"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Stat(ctx, "_SUCCESS"); !errors.Is(err, storage.ErrNotExist) {
			t.Fatalf("after Delete: %v", err)
		}
	})

	t.Run("InvalidKeys", func(t *testing.T) {
		s := newStore(t)
		for _, k := range []string{"", "/abs", "../escape", "a/../../b", "a//b", "a/./b", "a\\b", "a\x00b", "\u202egnp.exe"} {
			if _, err := s.Create(ctx, k); !errors.Is(err, storage.ErrInvalidKey) {
				t.Errorf("Create(%q): %v, want ErrInvalidKey", k, err)
			}
			if _, err := s.Open(ctx, k); !errors.Is(err, storage.ErrInvalidKey) {
				t.Errorf("Open(%q): %v, want ErrInvalidKey", k, err)
			}
			if err := s.Delete(ctx, k); !errors.Is(err, storage.ErrInvalidKey) {
				t.Errorf("Delete(%q): %v, want ErrInvalidKey", k, err)
			}
		}
	})
}

func mustPut(t *testing.T, s storage.Store, key string, data []byte) {
	t.Helper()
	if err := storage.Put(context.Background(), s, key, bytes.NewReader(data)); err != nil {
		t.Fatalf("put %s: %v", key, err)
	}
}

func keys(l []storage.ObjectInfo) []string {
	out := make([]string, len(l))
	for i, o := range l {
		out[i] = o.Key
	}
	return out
}

func randomBytes(n int) []byte {
	r := rand.New(rand.NewPCG(1, uint64(n)))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}
