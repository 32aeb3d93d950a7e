package session

import (
	"time"

	"github.com/strand-db/strand/exec"
	"github.com/strand-db/strand/log"
	"github.com/strand-db/strand/sql/types"
)

// IcebergTableStatus is one table's compaction and tiering state, as the
// Iceberg compactor reports it (cmd/strand converts iceberg.TableStatus;
// the session does not import the compactor).
type IcebergTableStatus struct {
	Schema, Name       string
	Watermark          uint64
	LagRows            int64
	Lag                time.Duration
	Files, Bytes, Rows int64
	LastCommit         time.Time
	LastError          string
	LocalRetention     string
	TierFloor          uint64
	// DurableLSN is the log position of the pass that made this status:
	// LagRows and Lag are as of it.
	DurableLSN uint64
}

// relIcebergTables is pg_catalog.strand_iceberg_tables: one row per table
// or stream. The compactor's columns are NULL for a table it has not
// reached yet (or when compaction is off); retention_floor comes from the
// catalog and local_events / local_versions count what Pebble holds now
// (a read of the table's local log: cheap when tiering keeps it short).
var relIcebergTables *sysRelation

func init() {
	relIcebergTables = sysRel("pg_catalog", "strand_iceberg_tables", oidSystemRel+0x7001, `schema, name, kind,
		watermark_lsn int8, lag_rows int8, lag_seconds float8, files int8, bytes int8, rows int8,
		last_commit timestamptz, last_error, local_retention, retention_floor int8, local_events int8, local_versions int8`,
		icebergTableRows)
}

func icebergTableRows(st *systemTables) []exec.Row {
	byName := map[string]IcebergTableStatus{}
	if f := st.s.eng.IcebergStatus; f != nil {
		for _, ts := range f() {
			byName[ts.Schema+"."+ts.Name] = ts
		}
	}
	snap := st.s.eng.Log.Snapshot()
	defer snap.Release()
	var out []exec.Row
	for _, td := range st.cat.SortedTables() {
		if td.Kind != log.Stream && td.Kind != log.Keyed {
			continue
		}
		row := []any{"schema", td.Schema, "name", td.Name, "kind", td.Kind.String(), "retention_floor", int64(td.TierFloor)}
		if ev, ver, err := snap.LocalEvents(td.ID); err == nil {
			row = append(row, "local_events", ev, "local_versions", ver)
		}
		if ts, ok := byName[td.Schema+"."+td.Name]; ok {
			liveLag(snap, td, &ts)
			row = append(row, "watermark_lsn", int64(ts.Watermark), "lag_rows", ts.LagRows, "lag_seconds", ts.Lag.Seconds(),
				"files", ts.Files, "bytes", ts.Bytes, "rows", ts.Rows, "local_retention", ts.LocalRetention)
			if !ts.LastCommit.IsZero() {
				row = append(row, "last_commit", types.TimestampTZ(ts.LastCommit.UnixMicro()-pgEpochMicros))
			}
			if ts.LastError != "" {
				row = append(row, "last_error", ts.LastError)
			}
		}
		out = append(out, relIcebergTables.row(row...))
	}
	return out
}

// liveLag brings a status's lag up to snap: the compactor counted the
// events after its watermark as of its last pass (DurableLSN), and events
// committed since are not in Iceberg either. Without them, a table
// written right after a pass that found it caught up showed lag_rows = 0
// until the next pass. The cost is a read of the events since that pass.
func liveLag(snap *log.Snapshot, td *log.TableDesc, ts *IcebergTableStatus) {
	if ts.DurableLSN >= snap.LSN() {
		return
	}
	var n int64
	var oldest int64
	_ = snap.Events(td.ID, max(ts.DurableLSN, ts.Watermark, td.TierFloor), func(e *log.Event) error {
		if n == 0 {
			oldest = e.CommitTime
		}
		n++
		return nil
	})
	if n == 0 {
		return
	}
	if ts.LagRows == 0 {
		ts.Lag = max(time.Since(time.UnixMicro(oldest)), 0)
	}
	ts.LagRows += n
}
