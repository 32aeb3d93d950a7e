package iceberg_test

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/apache/iceberg-go/table"

	"github.com/strand-db/strand/iceberg"
	"github.com/strand-db/strand/tests/strandtest"
)

// TestDropDuringCompaction drops a table in the middle of a compaction pass,
// after the pass took its snapshot and before it reached the table: the pass
// stops converting the dropped table at its first full batch (it never
// reaches the point where files are committed), leaves no file and no status
// behind, returns no error, and still commits the other tables.
func TestDropDuringCompaction(t *testing.T) {
	srv := strandtest.Start(t, "")
	c := srv.Connect(t)
	drop := srv.Connect(t)
	ctx := context.Background()
	exec(t, c,
		`CREATE TABLE a_first (id bigint PRIMARY KEY, v text)`,
		`CREATE TABLE b_gone (id bigint PRIMARY KEY, v text)`,
		`INSERT INTO a_first SELECT i, 'a' || i FROM generate_series(1, 50) AS s(i)`,
		// More rows than one batch (BatchRows 300), so the scan hands
		// over a full batch before it ends.
		`INSERT INTO b_gone SELECT i, 'b' || i FROM generate_series(1, 2000) AS s(i)`)
	wh := t.TempDir()
	var (
		mu      sync.Mutex
		reached []string
		dropped bool
	)
	// Parallelism 1: tables one at a time, in catalog order, so a_first's
	// commits come before b_gone's scan.
	comp, err := iceberg.New(srv.Log, iceberg.Options{Warehouse: wh, FileRows: 1000, BatchRows: 300, Parallelism: 1,
		BeforeCommit: func(id table.Identifier, _ []string) error {
			mu.Lock()
			defer mu.Unlock()
			reached = append(reached, id[1])
			if !dropped {
				dropped = true
				if _, err := drop.Exec(context.Background(), `DROP TABLE b_gone`); err != nil {
					return fmt.Errorf("drop: %w", err)
				}
			}
			return nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	if err := comp.CompactOnce(ctx); err != nil {
		t.Fatalf("pass with a dropped table: %v", err)
	}
	for _, name := range reached {
		if name == "b_gone" || name == "b_gone"+iceberg.ChangesSuffix {
			t.Errorf("the dropped table's files were written to the end (commit reached for %s)", name)
		}
	}
	for _, name := range []string{"b_gone", "b_gone" + iceberg.ChangesSuffix} {
		if n := countFiles(t, filepath.Join(wh, "public", name, "data")); n != 0 {
			t.Errorf("%s: %d data files left behind", name, n)
		}
	}
	var names []string
	for _, st := range comp.Status() {
		names = append(names, st.Name)
		if st.LastError != "" {
			t.Errorf("status of %s: %s", st.Name, st.LastError)
		}
	}
	if !slices.Equal(names, []string{"a_first"}) {
		t.Errorf("status lists %v, want a_first only", names)
	}
	equalRows(t, "a_first", scanRows(t, comp, table.Identifier{"public", "a_first"}, "id", "v"),
		selectRows(t, c, `SELECT id, v FROM a_first`))
}
