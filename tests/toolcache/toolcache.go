// Package toolcache is where the test command keeps the programs it
// installs for the tests (the psycopg and pyiceberg/pyspark virtualenvs,
// Maven jars, versitygw), so a second run finds them at once. Installs are
// serialized with a file lock per item: go test runs packages in parallel,
// and two installs into one place at once can corrupt it.
package toolcache

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
)

// Dir is the cache folder: $STRAND_TEST_CACHE, else ~/.cache/strand-test.
// It exists when Dir returns.
func Dir() (string, error) {
	dir := os.Getenv("STRAND_TEST_CACHE")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("toolcache: %w", err)
		}
		dir = filepath.Join(home, ".cache", "strand-test")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("toolcache: %w", err)
	}
	return dir, nil
}

// MustDir is Dir for a test: it fails the test on error.
func MustDir(t testing.TB) string {
	t.Helper()
	dir, err := Dir()
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// Lock takes an exclusive lock named name in the cache folder, waiting for
// another process that holds it, and returns its release.
func Lock(name string) (release func(), err error) {
	dir, err := Dir()
	if err != nil {
		return nil, err
	}
	f, err := os.OpenFile(filepath.Join(dir, name+".lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("toolcache: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("toolcache: lock %s: %w", f.Name(), err)
	}
	return func() {
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}

// MustLock is Lock for a test: it fails the test on error.
func MustLock(t testing.TB, name string) (release func()) {
	t.Helper()
	release, err := Lock(name)
	if err != nil {
		t.Fatal(err)
	}
	return release
}

// Tool finds a program on PATH or fails the test: a missing client is a
// failure of the run, never a skip.
func Tool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s is not installed: %v", name, err)
	}
	return p
}
