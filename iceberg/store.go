package iceberg

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	icebergio "github.com/apache/iceberg-go/io"
	"github.com/google/uuid"
)

// store is the warehouse as the catalog sees it: objects named by keys
// relative to the warehouse root ("public/ev/metadata/v3.metadata.json").
// The one operation the catalog's safety rests on is putIfAbsent, which
// creates an object only if no object of that name exists, atomically: a
// link(2) on a local disk, a PUT with If-None-Match: * on S3.
type store interface {
	// location is the URI (or absolute path) of key, as Iceberg metadata
	// and data file paths name it.
	location(key string) string
	// get reads an object; fs.ErrNotExist when there is none.
	get(ctx context.Context, key string) ([]byte, error)
	// exists reports whether an object is there.
	exists(ctx context.Context, key string) (bool, error)
	// putIfAbsent creates an object durably, or fails with fs.ErrExist.
	putIfAbsent(ctx context.Context, key string, data []byte) error
	// put creates or replaces an object.
	put(ctx context.Context, key string, data []byte) error
	// mkdir records an empty folder (a namespace).
	mkdir(ctx context.Context, key string) error
	// isDir reports whether key is a folder: it holds something, or was
	// made by mkdir.
	isDir(ctx context.Context, key string) (bool, error)
	// dirs lists the names of the folders directly under key ("" = root).
	dirs(ctx context.Context, key string) ([]string, error)
	// files lists the names of the objects directly under key whose names
	// start with prefix, in name order; limit > 0 stops after that many.
	files(ctx context.Context, key, prefix string, limit int) ([]string, error)
	// fileIO is the Iceberg FileIO that reads and writes data files,
	// manifests and manifest lists of tables in this warehouse.
	fileIO() icebergio.IO
}

// joinKey joins key parts with "/".
func joinKey(parts ...string) string {
	return strings.Join(slices.DeleteFunc(parts, func(s string) bool { return s == "" }), "/")
}

// Observation points for tests of the local store's durability order;
// nil outside tests.
var (
	// afterSync runs after a file or folder is fsynced.
	afterSync func(path string)
	// beforeLink runs when a metadata file, synced under the temporary
	// name tmp, is about to be linked to path (the commit point).
	beforeLink func(tmp, path string, data []byte)
)

// localStore is a warehouse folder on the local file system. Everything the
// catalog or a table writes is fsynced, with its folder, before the write
// returns: a metadata file the catalog commits is only ever linked into
// place after it (and every data file and manifest it refers to, written
// earlier through fileIO) is on disk.
type localStore struct {
	root string // absolute
	fio  syncFS
}

func newLocalStore(root string) (*localStore, error) {
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("warehouse %s: %w", root, err)
	}
	if abs == "/" {
		return nil, errors.New("warehouse: refusing to use / as the warehouse folder")
	}
	return &localStore{root: abs, fio: syncFS{root: abs}}, nil
}

func (s *localStore) path(key string) string { return filepath.Join(s.root, filepath.FromSlash(key)) }

func (s *localStore) location(key string) string { return s.path(key) }

func (s *localStore) get(_ context.Context, key string) ([]byte, error) {
	return os.ReadFile(s.path(key))
}

func (s *localStore) exists(_ context.Context, key string) (bool, error) {
	_, err := os.Stat(s.path(key))
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	return err == nil, err
}

// putIfAbsent writes a temporary file, syncs it, and links it to its name:
// link(2) fails if the name exists, so of two writers only one succeeds.
func (s *localStore) putIfAbsent(_ context.Context, key string, data []byte) error {
	p := s.path(key)
	dir := filepath.Dir(p)
	if err := mkdirAllSync(s.root, dir); err != nil {
		return err
	}
	tmp := filepath.Join(dir, ".tmp-"+uuid.NewString())
	if err := writeFileSync(tmp, data); err != nil {
		return err
	}
	defer os.Remove(tmp)
	if beforeLink != nil {
		beforeLink(tmp, p, data)
	}
	if err := os.Link(tmp, p); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("%s: %w", p, fs.ErrExist)
		}
		return err
	}
	return syncDir(dir)
}

// put replaces an object atomically (a rename) but does not sync: it is
// used for hints that may be lost.
func (s *localStore) put(_ context.Context, key string, data []byte) error {
	p := s.path(key)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	tmp := filepath.Join(filepath.Dir(p), ".tmp-"+uuid.NewString())
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return err
	}
	if err := os.Rename(tmp, p); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

func (s *localStore) mkdir(_ context.Context, key string) error {
	return mkdirAllSync(s.root, s.path(key))
}

func (s *localStore) isDir(_ context.Context, key string) (bool, error) {
	fi, err := os.Stat(s.path(key))
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return fi.IsDir(), nil
}

func (s *localStore) dirs(_ context.Context, key string) ([]string, error) {
	ents, err := os.ReadDir(s.path(key))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range ents {
		if e.IsDir() && !strings.HasPrefix(e.Name(), ".") {
			out = append(out, e.Name())
		}
	}
	return out, nil
}

func (s *localStore) files(_ context.Context, key, prefix string, limit int) ([]string, error) {
	ents, err := os.ReadDir(s.path(key))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range ents { // ReadDir sorts by name
		if !e.IsDir() && strings.HasPrefix(e.Name(), prefix) {
			out = append(out, e.Name())
			if limit > 0 && len(out) == limit {
				break
			}
		}
	}
	return out, nil
}

func (s *localStore) fileIO() icebergio.IO { return s.fio }

// syncFS is iceberg-go's LocalFS whose files are durable once closed: Close
// fsyncs the file and its folder (and any folder it had to create). A data
// file or manifest that a metadata file refers to is therefore on disk
// before the catalog can commit that metadata file.
type syncFS struct {
	icebergio.LocalFS
	root string
}

func (f syncFS) Create(name string) (icebergio.FileWriter, error) {
	p, err := f.localPath(name)
	if err != nil {
		return nil, err
	}
	if err := mkdirAllSync(f.root, filepath.Dir(p)); err != nil {
		return nil, err
	}
	out, err := os.Create(p)
	if err != nil {
		return nil, err
	}
	return &syncFile{File: out}, nil
}

func (f syncFS) WriteFile(name string, content []byte) error {
	p, err := f.localPath(name)
	if err != nil {
		return err
	}
	if err := mkdirAllSync(f.root, filepath.Dir(p)); err != nil {
		return err
	}
	if err := writeFileSync(p, content); err != nil {
		return err
	}
	return syncDir(filepath.Dir(p))
}

func (f syncFS) localPath(name string) (string, error) {
	if rest, ok := strings.CutPrefix(name, "file://"); ok {
		name = rest
	}
	if !filepath.IsAbs(name) {
		return "", fmt.Errorf("local warehouse: %q is not an absolute path", name)
	}
	return name, nil
}

// syncFile syncs itself and its folder on Close.
type syncFile struct {
	*os.File
	closed bool
}

func (f *syncFile) Close() error {
	if f.closed {
		return nil
	}
	f.closed = true
	err := f.File.Sync()
	if err == nil && afterSync != nil {
		afterSync(f.Name())
	}
	if cerr := f.File.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = syncDir(filepath.Dir(f.Name()))
	}
	if err != nil {
		return fmt.Errorf("sync %s: %w", f.Name(), err)
	}
	return nil
}

func writeFileSync(p string, data []byte) error {
	f, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(p)
		return fmt.Errorf("write %s: %w", p, err)
	}
	if afterSync != nil {
		afterSync(p)
	}
	return nil
}

// mkdirAllSync creates dir and its missing parents, syncing the parent of
// each folder it creates so the new entries survive a crash. Folders at or
// above root are created but their parents are not synced (the warehouse
// root is the operator's).
func mkdirAllSync(root, dir string) error {
	if fi, err := os.Stat(dir); err == nil && fi.IsDir() {
		return nil
	}
	var created []string
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(d); err == nil || d == filepath.Dir(d) {
			break
		}
		created = append(created, d)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, d := range created {
		parent := filepath.Dir(d)
		if len(parent) < len(root) {
			continue
		}
		if err := syncDir(parent); err != nil {
			return err
		}
	}
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("sync folder %s: %w", dir, err)
	}
	if afterSync != nil {
		afterSync(dir)
	}
	return nil
}
