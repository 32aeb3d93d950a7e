package log

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCorruptTableFileIsReported flips bytes inside the data block of a
// flushed sstable on a real disk: reads report the corruption with the file
// it is in, and never return the damaged rows as data.
func TestCorruptTableFileIsReported(t *testing.T) {
	dir := t.TempDir()
	l, err := Open(Options{Dir: dir, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	tab := createTable(t, l, "t", Stream)
	in := &Intent{}
	for i := 0; i < 2000; i++ {
		in.Writes = append(in.Writes, Write{Table: tab, Key: []byte(fmt.Sprint("k", i%10)), Row: randomRow(i)})
	}
	if _, err := l.Commit(context.Background(), in); err != nil {
		t.Fatal(err)
	}
	if err := l.db.Flush(); err != nil {
		t.Fatal(err)
	}
	l.Close()

	ssts, _ := filepath.Glob(filepath.Join(dir, "*.sst"))
	if len(ssts) == 0 {
		t.Fatal("no sstable after flush")
	}
	for _, f := range ssts {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		// Damage data blocks in the middle of the file, where the events
		// are (catalog and meta keys sort first; footer and index last).
		for i := len(b) / 3; i < len(b)*2/3; i += 97 {
			b[i] ^= 0x5a
		}
		os.WriteFile(f, b, 0o644)
	}

	l, err = Open(Options{Dir: dir, Logger: quiet})
	if err != nil {
		// Refusing to open a damaged store, naming the file, is also right.
		if !strings.Contains(err.Error(), "file") {
			t.Fatalf("open error does not name the file: %v", err)
		}
		return
	}
	defer l.Close()
	s := l.Snapshot()
	defer s.Release()
	rows := 0
	err = s.Events(tab, 0, func(e *Event) error {
		rows++
		return nil
	})
	if err == nil {
		t.Fatalf("read %d rows from a damaged table file without an error", rows)
	}
	if !strings.Contains(err.Error(), "corrupt") && !strings.Contains(err.Error(), "checksum") {
		t.Fatalf("error does not say corruption: %v", err)
	}
	if !strings.Contains(err.Error(), ".sst") && !strings.Contains(err.Error(), "file") {
		t.Fatalf("error does not name where: %v", err)
	}
	t.Logf("reported: %v", err)
}

// randomRow returns incompressible bytes, so the table file has many blocks.
func randomRow(i int) []byte {
	b := make([]byte, 100)
	x := uint64(i)*0x9E3779B97F4A7C15 + 1
	for j := range b {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		b[j] = byte(x)
	}
	return b
}
