// Package local implements storage.Store over a directory of the local
// filesystem. Writes go to a hidden temporary file in the destination
// directory and are renamed into place on Close, so a reader never sees a
// partial object.
package local

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/recal-project/recal/pipeline/storage"
)

// tmpPrefix marks in-flight writes; List never returns them.
const tmpPrefix = ".recal-tmp-"

// Store is a storage.Store rooted at a directory.
type Store struct {
	root string
}

// New returns a Store rooted at dir. The directory need not exist yet; it
// is created on the first write.
func New(dir string) *Store {
	return &Store{root: filepath.Clean(dir)}
}

// String returns the root directory.
func (s *Store) String() string { return s.root }

func (s *Store) path(key string) (string, error) {
	if err := storage.ValidKey(key); err != nil {
		return "", err
	}
	return filepath.Join(s.root, filepath.FromSlash(key)), nil
}

// List implements storage.Store.
func (s *Store) List(ctx context.Context, prefix string) ([]storage.ObjectInfo, error) {
	if err := storage.ValidPrefix(prefix); err != nil {
		return nil, err
	}
	var out []storage.ObjectInfo
	err := filepath.WalkDir(s.root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) && p == s.root {
				return fs.SkipAll
			}
			return err
		}
		if ctxErr := ctx.Err(); ctxErr != nil {
			return ctxErr
		}
		rel, _ := filepath.Rel(s.root, p)
		key := filepath.ToSlash(rel)
		if d.IsDir() {
			if p != s.root && !strings.HasPrefix(key+"/", prefix) && !strings.HasPrefix(prefix, key+"/") {
				return fs.SkipDir
			}
			return nil
		}
		if strings.HasPrefix(d.Name(), tmpPrefix) || !strings.HasPrefix(key, prefix) || !d.Type().IsRegular() {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		out = append(out, objectInfo(key, info))
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list %s under %q: %w", s.root, prefix, err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}

func objectInfo(key string, info fs.FileInfo) storage.ObjectInfo {
	// The tag changes whenever the file is rewritten (size or mtime).
	return storage.ObjectInfo{
		Key:  key,
		Size: info.Size(),
		ETag: fmt.Sprintf("%x-%x", info.ModTime().UnixNano(), info.Size()),
	}
}

// Stat implements storage.Store.
func (s *Store) Stat(ctx context.Context, key string) (storage.ObjectInfo, error) {
	p, err := s.path(key)
	if err != nil {
		return storage.ObjectInfo{}, err
	}
	info, err := os.Stat(p)
	if err != nil {
		return storage.ObjectInfo{}, wrapNotExist(key, err)
	}
	if !info.Mode().IsRegular() {
		return storage.ObjectInfo{}, fmt.Errorf("stat %s: not a regular file: %w", key, storage.ErrNotExist)
	}
	return objectInfo(key, info), nil
}

func wrapNotExist(key string, err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%s: %w", key, storage.ErrNotExist)
	}
	return fmt.Errorf("%s: %w", key, err)
}

type file struct {
	*os.File
	size int64
}

func (f file) Size() int64 { return f.size }

// Open implements storage.Store.
func (s *Store) Open(ctx context.Context, key string) (storage.ReaderAt, error) {
	p, err := s.path(key)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, wrapNotExist(key, err)
	}
	info, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("stat %s: %w", key, err)
	}
	if !info.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("open %s: not a regular file: %w", key, storage.ErrNotExist)
	}
	return file{File: f, size: info.Size()}, nil
}

// Create implements storage.Store.
func (s *Store) Create(ctx context.Context, key string) (io.WriteCloser, error) {
	p, err := s.path(key)
	if err != nil {
		return nil, err
	}
	f, err := createTemp(filepath.Dir(p))
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", key, err)
	}
	w := &writer{ctx: ctx, f: f, dst: p, key: key}
	w.stop = context.AfterFunc(ctx, w.abort)
	return w, nil
}

type writer struct {
	ctx  context.Context
	mu   sync.Mutex
	f    *os.File
	dst  string
	key  string
	done bool
	stop func() bool
}

func (w *writer) abort() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done {
		return
	}
	w.done = true
	w.f.Close()
	os.Remove(w.f.Name())
}

func (w *writer) Write(p []byte) (int, error) {
	if err := w.ctx.Err(); err != nil {
		return 0, fmt.Errorf("write %s: %w", w.key, err)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done {
		return 0, fmt.Errorf("write %s: writer closed or aborted", w.key)
	}
	return w.f.Write(p)
}

func (w *writer) Close() error {
	w.stop()
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done {
		if err := w.ctx.Err(); err != nil {
			return fmt.Errorf("close %s: aborted: %w", w.key, err)
		}
		return fmt.Errorf("close %s: already closed", w.key)
	}
	w.done = true
	name := w.f.Name()
	if err := w.ctx.Err(); err != nil {
		w.f.Close()
		os.Remove(name)
		return fmt.Errorf("close %s: aborted: %w", w.key, err)
	}
	if err := w.f.Chmod(0o644); err != nil { // CreateTemp makes 0600
		w.f.Close()
		os.Remove(name)
		return fmt.Errorf("chmod %s: %w", w.key, err)
	}
	if err := w.f.Sync(); err != nil {
		w.f.Close()
		os.Remove(name)
		return fmt.Errorf("sync %s: %w", w.key, err)
	}
	if err := w.f.Close(); err != nil {
		os.Remove(name)
		return fmt.Errorf("close %s: %w", w.key, err)
	}
	if err := os.Rename(name, w.dst); err != nil {
		os.Remove(name)
		return fmt.Errorf("publish %s: %w", w.key, err)
	}
	return nil
}

// CreateExclusive implements storage.Store atomically with a hard link from
// a fully written temporary file: link fails if the destination exists.
func (s *Store) CreateExclusive(ctx context.Context, key string, data []byte) error {
	p, err := s.path(key)
	if err != nil {
		return err
	}
	f, err := createTemp(filepath.Dir(p))
	if err != nil {
		return fmt.Errorf("create %s: %w", key, err)
	}
	name := f.Name()
	defer os.Remove(name)
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", key, err)
	}
	if err := f.Chmod(0o644); err != nil {
		f.Close()
		return fmt.Errorf("chmod %s: %w", key, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("sync %s: %w", key, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close %s: %w", key, err)
	}
	if err := os.Link(name, p); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("create %s: %w", key, storage.ErrExist)
		}
		return fmt.Errorf("create %s: %w", key, err)
	}
	return nil
}

// Delete implements storage.Store.
func (s *Store) Delete(ctx context.Context, key string) error {
	p, err := s.path(key)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("delete %s: %w", key, err)
	}
	// Directories are only how keys are laid out: the ones the deletion
	// emptied go too (a non-empty one stops the climb), as keys vanish
	// from an object store.
	for d := filepath.Dir(p); d != s.root && strings.HasPrefix(d, s.root+string(filepath.Separator)); d = filepath.Dir(d) {
		if os.Remove(d) != nil {
			break
		}
	}
	return nil
}

// createTemp creates a temporary file in dir, creating dir first. A
// concurrent Delete may remove the new, empty dir before the file is in
// it; then it tries again.
func createTemp(dir string) (*os.File, error) {
	for try := 0; ; try++ {
		err := os.MkdirAll(dir, 0o755)
		var f *os.File
		if err == nil {
			f, err = os.CreateTemp(dir, tmpPrefix+"*")
		}
		if err == nil || !errors.Is(err, fs.ErrNotExist) || try == 100 {
			return f, err
		}
	}
}

// ContentTag returns a tag of the object's bytes ("sha256:<hex>"): unlike
// the ETag of List and Stat (modification time and size, cheap), it is the
// same on every machine for the same content, so a run's fingerprint does
// not depend on when its inputs were copied.
func (s *Store) ContentTag(ctx context.Context, key string) (string, error) {
	p, err := s.path(key)
	if err != nil {
		return "", err
	}
	f, err := os.Open(p)
	if err != nil {
		return "", fmt.Errorf("hash: %w", wrapNotExist(key, err))
	}
	defer f.Close()
	h := sha256.New()
	buf := make([]byte, 1<<20)
	for {
		if err := ctx.Err(); err != nil {
			return "", err
		}
		n, err := f.Read(buf)
		h.Write(buf[:n])
		if err == io.EOF {
			break
		}
		if err != nil {
			return "", fmt.Errorf("hash %s: %w", key, err)
		}
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), nil
}
