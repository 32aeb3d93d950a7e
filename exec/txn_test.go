package exec

import (
	"context"
	"fmt"
	"log/slog"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/strand-db/strand/log"
)

// TestTxnPendingWrites writes more keys in one transaction than Txn finds
// by a scan (so it switches to its map midway), rewrites and deletes some,
// and checks what the transaction reads back and what its commit appends.
func TestTxnPendingWrites(t *testing.T) {
	l, err := log.Open(log.Options{Dir: "data", FS: vfs.NewMem(), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var id log.TableID
	if _, err := l.Commit(context.Background(), &log.Intent{Catalog: func(c *log.Catalog) error {
		td := &log.TableDesc{Schema: "public", Name: "t", Kind: log.Keyed, Versions: []log.SchemaVersion{{
			Version: 1,
			Columns: []log.Column{{Name: "id", TypeOID: 20, Typmod: -1, NotNull: true}, {Name: "v", TypeOID: 25, Typmod: -1}},
			Key:     []uint32{1},
		}}}
		err := c.AddTable(td)
		id = td.ID
		return err
	}}); err != nil {
		t.Fatal(err)
	}
	const n = 3 * linearPending
	txn := NewTxn(l)
	defer txn.Release()
	td, _ := txn.Catalog().Table(id)
	lay := NewTableLayout(td)
	for i := 0; i < n; i++ {
		row := Row{int64(i), fmt.Sprint("a", i)}
		if err := txn.Put(lay, row, false, log.Cond{Kind: log.NotExists}); err != nil {
			t.Fatal(err)
		}
		// Rewrite an earlier key each step, before and after the map.
		if i >= 2 {
			row := Row{int64(i - 2), fmt.Sprint("b", i-2)}
			if err := txn.Put(lay, row, false, log.Cond{Kind: log.NotExists}); err != nil {
				t.Fatal(err)
			}
		}
	}
	// Inserted and deleted in the transaction: nothing to commit.
	if err := txn.Put(lay, Row{int64(1), nil}, true, log.Cond{}); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i++ {
		row, found := txn.Pending(lay, lay.Key(Row{int64(i), nil}))
		want := fmt.Sprint("b", i)
		switch {
		case i == 1:
			if !found || row != nil {
				t.Fatalf("key 1: pending %v %v, want a pending delete", row, found)
			}
		case i >= n-2:
			want = fmt.Sprint("a", i)
			fallthrough
		default:
			if !found || row[1] != want {
				t.Fatalf("key %d: pending %v %v, want %s", i, row, found, want)
			}
		}
	}
	if _, found := txn.Pending(lay, lay.Key(Row{int64(n), nil})); found {
		t.Fatalf("key %d was never written but is pending", n)
	}
	res, err := txn.Commit(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Events) != n-1 {
		t.Fatalf("commit appended %d events, want %d (one per key but the deleted one)", len(res.Events), n-1)
	}
	for _, ev := range res.Events {
		if ev.Version != 1 || ev.Op != log.OpInsert {
			t.Fatalf("event %+v: want version 1 inserts", ev)
		}
	}
}
