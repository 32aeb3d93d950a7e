package iceberg

import (
	"context"
	"path/filepath"
	"sync"
	"testing"

	"github.com/apache/iceberg-go/table"

	"github.com/strand-db/strand/log"
)

// TestLocalCommitIsDurableFirst watches the fsyncs of a local warehouse:
// when the catalog links a new metadata version into place (the commit),
// the metadata file, the manifest list, every manifest and every data file
// it refers to must already be fsynced, each followed by an fsync of its
// folder, so a power loss after the commit cannot leave a version that
// points at missing or torn files.
func TestLocalCommitIsDurableFirst(t *testing.T) {
	var (
		mu      sync.Mutex
		seq     int
		synced  = map[string]int{} // path → sequence number of its last fsync
		commits int
		fails   []string
	)
	durable := func(p string) {
		fs, okf := synced[p]
		ds, okd := synced[filepath.Dir(p)]
		if !okf || !okd || ds < fs {
			fails = append(fails, p)
		}
	}
	afterSync = func(p string) {
		mu.Lock()
		defer mu.Unlock()
		seq++
		synced[p] = seq
	}
	beforeLink = func(tmp, p string, data []byte) {
		mu.Lock()
		defer mu.Unlock()
		commits++
		if _, ok := synced[tmp]; !ok {
			fails = append(fails, "metadata "+p)
		}
		meta, err := table.ParseMetadataBytes(data)
		if err != nil {
			fails = append(fails, "unparsable "+p)
			return
		}
		snap := meta.CurrentSnapshot()
		if snap == nil {
			return
		}
		fio := syncFS{root: "/"}
		durable(snap.ManifestList)
		manifests, err := snap.Manifests(fio)
		if err != nil {
			fails = append(fails, err.Error())
			return
		}
		for _, m := range manifests {
			durable(m.FilePath())
			entries, err := m.FetchEntries(fio, true)
			if err != nil {
				fails = append(fails, err.Error())
				return
			}
			for _, e := range entries {
				durable(e.DataFile().FilePath())
			}
		}
	}
	defer func() { afterSync, beforeLink = nil, nil }()

	wh := t.TempDir()
	for _, kind := range []log.TableKind{log.Stream, log.Keyed} {
		l, id := narrowLog(t, kind)
		c, err := New(l, Options{Warehouse: filepath.Join(wh, kind.String()), Logger: quiet, FileRows: 500, BatchRows: 100})
		if err != nil {
			t.Fatal(err)
		}
		for round := 0; round < 3; round++ {
			writeNarrow(t, l, id, round*1000, 1000, 300)
			if err := c.CompactOnce(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if commits < 9 {
		t.Fatalf("only %d commits observed", commits)
	}
	if len(fails) > 0 {
		t.Fatalf("referenced before it was durable: %q", fails)
	}
}
