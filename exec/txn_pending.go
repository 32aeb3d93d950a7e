package exec

import "github.com/strand-db/strand/log"

// HasPendingWrites reports whether the transaction has uncommitted writes
// to a table: readers that go to the snapshot directly (the vectorized
// scans of exec/vec) must then take the merging path of Scan instead.
func (t *Txn) HasPendingWrites(id log.TableID) bool {
	for i := range t.writes {
		if t.writes[i].w.Table == id {
			return true
		}
	}
	return false
}
