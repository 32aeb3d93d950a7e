package iceberg

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"sync"
	"testing"

	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/catalog"
	"github.com/apache/iceberg-go/table"

	"github.com/strand-db/strand/tests/s3server"
)

// The catalog's contract, on a local folder and on a real S3 server.

func TestCatalogLocal(t *testing.T) {
	dir := t.TempDir()
	testCatalog(t, func() *Catalog {
		c, err := OpenCatalog(context.Background(), dir, S3Config{}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return c
	})
}

func TestCatalogS3(t *testing.T) {
	s := s3server.Start(t)
	s.SetEnv(t)
	testCatalog(t, func() *Catalog {
		c, err := OpenCatalog(context.Background(), s.Warehouse("wh"), S3Config{Endpoint: s.Endpoint}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return c
	})
}

func testCatalog(t *testing.T, open func() *Catalog) {
	ctx := context.Background()
	c := open()
	ns := table.Identifier{"public"}
	ident := table.Identifier{"public", "t"}

	if _, err := c.LoadTable(ctx, ident); !errors.Is(err, catalog.ErrNoSuchTable) {
		t.Fatalf("load of a missing table: %v", err)
	}
	if _, err := c.CreateTable(ctx, ident, iceberg.NewSchema(0)); !errors.Is(err, catalog.ErrNoSuchNamespace) {
		t.Fatalf("create in a missing namespace: %v", err)
	}
	if err := c.CreateNamespace(ctx, ns, nil); err != nil {
		t.Fatal(err)
	}
	if err := c.CreateNamespace(ctx, ns, nil); !errors.Is(err, catalog.ErrNamespaceAlreadyExists) {
		t.Fatalf("second create namespace: %v", err)
	}
	sc := iceberg.NewSchema(0, iceberg.NestedField{ID: 1, Name: "k", Type: iceberg.PrimitiveTypes.Int64, Required: true})
	if _, err := c.CreateTable(ctx, ident, sc); err != nil {
		t.Fatal(err)
	}
	if _, err := open().CreateTable(ctx, ident, sc); !errors.Is(err, catalog.ErrTableAlreadyExists) {
		t.Fatalf("second create table: %v", err)
	}
	nss, err := c.ListNamespaces(ctx, nil)
	if err != nil || len(nss) != 1 || nss[0][0] != "public" {
		t.Fatalf("namespaces %v, %v", nss, err)
	}
	var tables []string
	for id, err := range c.ListTables(ctx, ns) {
		if err != nil {
			t.Fatal(err)
		}
		tables = append(tables, identString(id))
	}
	if len(tables) != 1 || tables[0] != "public.t" {
		t.Fatalf("tables %v", tables)
	}

	// Concurrent writers, each with its own catalog (as separate processes
	// would have): every commit that reports success is in the final
	// version, and versions are 1..N with no gaps. Two writers that both
	// wrote version N+1 would lose one of the two properties.
	const writers, each = 4, 8
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			cw := open()
			for i := 0; i < each; i++ {
				for {
					_, _, err := cw.CommitTable(ctx, ident, nil, []table.Update{
						table.NewSetPropertiesUpdate(iceberg.Properties{fmt.Sprintf("w%d.%d", w, i): "x"}),
					})
					if errors.Is(err, table.ErrCommitFailed) {
						continue // lost the race for this version: reload and retry
					}
					if err != nil {
						errs <- err
						return
					}
					break
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	tbl, v, err := open().loadTable(ctx, ident)
	if err != nil {
		t.Fatal(err)
	}
	if v != 1+writers*each {
		t.Fatalf("version %d after %d commits", v, writers*each)
	}
	for w := 0; w < writers; w++ {
		for i := 0; i < each; i++ {
			if _, ok := tbl.Properties()[fmt.Sprintf("w%d.%d", w, i)]; !ok {
				t.Fatalf("commit w%d.%d was acknowledged and lost", w, i)
			}
		}
	}
	for n := 1; n <= v; n++ {
		if ok, err := c.st.exists(ctx, metadataKey(ident, n)); err != nil || !ok {
			t.Fatalf("version %d missing (%v)", n, err)
		}
	}

	// The hint may lag or be gone: readers still find the last version.
	hint := joinKey(tableKey(ident), "metadata", hintName)
	for _, h := range []string{"1", "garbage", "99999"} {
		if err := c.st.put(ctx, hint, []byte(h)); err != nil {
			t.Fatal(err)
		}
		if _, got, err := c.loadTable(ctx, ident); err != nil || got != v {
			t.Fatalf("hint %q: loaded version %d (%v), want %d", h, got, err, v)
		}
	}

	// A snapshot's log range must start at the watermark.
	commitRange := func(cat *Catalog, from, to uint64) error {
		cur, err := cat.LoadTable(ctx, ident)
		if err != nil {
			return err
		}
		id := int64(1000 + to)
		snap := table.Snapshot{
			SnapshotID: id, SequenceNumber: cur.Metadata().LastSequenceNumber() + 1, TimestampMs: cur.Metadata().LastUpdatedMillis() + 1,
			ManifestList: cat.st.location(joinKey(tableKey(ident), "metadata", "none.avro")),
			Summary: &table.Summary{Operation: table.OpAppend, Properties: iceberg.Properties{
				PropLSNFrom: strconv.FormatUint(from, 10), PropLSNTo: strconv.FormatUint(to, 10),
			}},
		}
		if s := cur.CurrentSnapshot(); s != nil {
			snap.ParentSnapshotID = &s.SnapshotID
		}
		_, _, err = cat.CommitTable(ctx, ident, nil, []table.Update{
			table.NewAddSnapshotUpdate(&snap),
			table.NewSetSnapshotRefUpdate(table.MainBranch, id, table.BranchRef, -1, -1, -1),
		})
		return err
	}
	if err := commitRange(c, 0, 10); err != nil {
		t.Fatal(err)
	}
	if err := commitRange(c, 10, 20); err != nil {
		t.Fatal(err)
	}
	err = commitRange(open(), 10, 30) // a writer that missed (10, 20]
	if !errors.Is(err, ErrWatermarkMoved) || errors.Is(err, table.ErrCommitFailed) {
		t.Fatalf("stale log range: %v", err)
	}
	if tbl, err := c.LoadTable(ctx, ident); err != nil || tbl.CurrentSnapshot().Summary.Properties[PropLSNTo] != "20" {
		t.Fatalf("watermark after a refused commit: %v", err)
	}

	// Old metadata versions go after each commit (iceberg-go deletes what
	// left the metadata log); the table still loads, with or without the
	// hint.
	gc := table.Identifier{"public", "gc"}
	gtbl, err := c.CreateTable(ctx, gc, sc, catalog.WithProperties(iceberg.Properties{table.MetadataPreviousVersionsMaxKey: "2"}))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 6; i++ {
		tx := gtbl.NewTransaction()
		if err := tx.SetProperties(iceberg.Properties{"n": strconv.Itoa(i)}); err != nil {
			t.Fatal(err)
		}
		if gtbl, err = tx.Commit(ctx); err != nil {
			t.Fatal(err)
		}
	}
	for n := 1; n <= 7; n++ {
		ok, err := c.st.exists(ctx, metadataKey(gc, n))
		if err != nil {
			t.Fatal(err)
		}
		if want := n >= 5; ok != want {
			t.Fatalf("metadata version %d exists: %v, want %v", n, ok, want)
		}
	}
	for _, h := range []string{"1", "7"} {
		if err := c.st.put(ctx, joinKey(tableKey(gc), "metadata", hintName), []byte(h)); err != nil {
			t.Fatal(err)
		}
		if tbl, v, err := open().loadTable(ctx, gc); err != nil || v != 7 || tbl.Properties()["n"] != "5" {
			t.Fatalf("hint %s: loaded version %d (%v)", h, v, err)
		}
	}

	// The store's create-if-absent is exclusive.
	key := joinKey(tableKey(ident), "metadata", "x.json")
	if err := c.st.putIfAbsent(ctx, key, []byte("a")); err != nil {
		t.Fatal(err)
	}
	if err := open().st.putIfAbsent(ctx, key, []byte("b")); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("second put-if-absent: %v", err)
	}
	if b, err := c.st.get(ctx, key); err != nil || string(b) != "a" {
		t.Fatalf("object after a refused put: %q, %v", b, err)
	}
}
