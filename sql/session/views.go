package session

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/strand-db/strand/exec"
	"github.com/strand-db/strand/log"
	"github.com/strand-db/strand/planner"
	"github.com/strand-db/strand/sql"
	"github.com/strand-db/strand/sql/pgerr"
	"github.com/strand-db/strand/sql/types"
	"github.com/strand-db/strand/views"
)

// NewMaintainer makes the view maintainer to give the log as its commit
// hook, compiling views with the planner. STRAND_VIEW_BACKFILL_CHUNK_ROWS,
// when set, bounds the rows of one backfill step (tests make it small so
// that a backfill takes many steps).
func NewMaintainer() *views.Maintainer {
	m := views.NewMaintainer()
	m.Compile = planner.CompileView
	if n, err := strconv.Atoi(os.Getenv("STRAND_VIEW_BACKFILL_CHUNK_ROWS")); err == nil && n > 0 {
		m.ChunkRows = n
	}
	return m
}

// awaitView waits, after CREATE MATERIALIZED VIEW committed, until the
// view's backfill has finished, with a NOTICE of its progress every few
// seconds; other sessions' writes go on meanwhile. A backfill that fails
// drops the view and returns its error. Inside a transaction block the
// view does not exist before COMMIT: nothing to wait for.
func (s *Session) awaitView(ctx context.Context, st *sql.CreateMaterializedView) error {
	if s.txn != nil {
		return nil
	}
	b := s.builder(s.catalog(), nil)
	td, err := b.LookupTable(st.Name.Schema, st.Name.Name)
	if err != nil || td.Kind != log.View {
		return nil
	}
	const noticeEvery = 5 * time.Second
	lastNotice := time.Now()
	for {
		changed := s.eng.Log.Changed()
		snap := s.eng.Log.Snapshot()
		status, err := views.ReadStatus(snap, td.ID)
		_, exists := snap.Catalog().Table(td.ID)
		snap.Release()
		switch {
		case err != nil:
			return err
		case !exists:
			return pgerr.New(pgerr.UndefinedTable, "materialized view %q was dropped during its backfill", td.Name)
		case status.Live():
			return nil
		case status.Err != nil:
			drop := func(c *log.Catalog) error {
				if _, ok := c.Table(td.ID); ok {
					return c.DropTable(td.ID)
				}
				return nil
			}
			if _, derr := s.eng.Log.Commit(context.Background(), &log.Intent{Catalog: drop}); derr != nil {
				s.eng.Logger.Error("drop failed materialized view", "view", td.Name, "err", derr)
			}
			return status.Err
		}
		if time.Since(lastNotice) >= noticeEvery {
			lastNotice = time.Now()
			msg := fmt.Sprintf("materialized view %q: backfill %d rows done", td.Name, status.RowsDone)
			if status.RowsTotal > 0 {
				msg = fmt.Sprintf("materialized view %q: backfill %d of about %d rows done", td.Name, status.RowsDone, status.RowsTotal)
			}
			s.info.Client.Notice(&pgerr.Error{Code: pgerr.SuccessfulCompletion, Severity: pgerr.SeverityNotice, Message: msg})
		}
		select {
		case <-changed:
		case <-time.After(time.Second):
		case <-ctx.Done():
			return pgerr.Wrap(ctx.Err(), pgerr.QueryCanceled, fmt.Sprintf("waiting for materialized view %q to backfill (it goes on; see pg_catalog.strand_views)", td.Name))
		}
	}
}

// createdViewRows counts the rows of a view CREATE just made, for the
// command tag. Outside a transaction block the view is live and is read;
// inside one it exists only at COMMIT, and its definition is counted over
// the transaction's snapshot instead.
func (s *Session) createdViewRows(ctx context.Context, st *sql.CreateMaterializedView) (int64, error) {
	from := st.Name.String()
	if s.txn != nil {
		from = "(" + st.QueryText + ") AS v"
	}
	stmts, err := sql.Parse("SELECT count(*) FROM " + from)
	if err != nil {
		return 0, err
	}
	p, err := s.prepare(stmts[0], nil)
	if err != nil {
		return 0, err
	}
	rows, _, err := s.execStatement(ctx, p, nil)
	if err != nil {
		return 0, err
	}
	var n int64
	for r, err := range rows {
		if err != nil {
			return 0, err
		}
		n, _ = r[0].(int64)
	}
	return n, nil
}

// relStrandViews is pg_catalog.strand_views: every materialized view with
// its backfill state (backfilling, live, failed) and progress, and the
// time (now()) it is at when it has a temporal filter (as_of), and the
// size of its state in sstables (state_bytes, an estimate that leaves out
// what only the memtables hold). rows_total
// is the size of the sources when the backfill started (an estimate:
// writes go on during it); views made before backfills kept progress show
// live with NULL progress. changelog says whether the view keeps its
// changes as events (CREATE ... WITH (changelog = true)).
var relStrandViews *sysRelation

func init() {
	relStrandViews = sysRel("pg_catalog", "strand_views", oidSystemRel+0x7002, `schema, name, state,
		rows_done int8, rows_total int8, started timestamptz, finished timestamptz, error, definition,
		as_of timestamptz, state_bytes int8, changelog bool`, strandViewRows)
}

func strandViewRows(st *systemTables) []exec.Row {
	snap := st.s.eng.Log.Snapshot()
	defer snap.Release()
	var out []exec.Row
	for _, td := range st.cat.SortedTables() {
		if td.Kind != log.View {
			continue
		}
		row := []any{"schema", td.Schema, "name", td.Name, "definition", td.Definition, "changelog", td.LogsChanges()}
		status, err := views.ReadStatus(snap, td.ID)
		if err != nil {
			row = append(row, "state", "unknown", "error", err.Error())
			out = append(out, relStrandViews.row(row...))
			continue
		}
		row = append(row, "state", status.State)
		if !status.Started.IsZero() {
			row = append(row, "rows_done", status.RowsDone, "started", types.TimestampTZ(status.Started.UnixMicro()-pgEpochMicros))
			if status.RowsTotal > 0 {
				row = append(row, "rows_total", status.RowsTotal)
			}
		}
		if !status.Finished.IsZero() {
			row = append(row, "finished", types.TimestampTZ(status.Finished.UnixMicro()-pgEpochMicros))
		}
		if status.Err != nil {
			row = append(row, "error", status.Err.Error())
		}
		if at, ok, err := views.ReadTime(snap, td.ID); err == nil && ok {
			row = append(row, "as_of", at)
		}
		if n, err := st.s.eng.Log.DiskUsage(views.StateRange(td.ID)); err == nil {
			row = append(row, "state_bytes", int64(n))
		}
		out = append(out, relStrandViews.row(row...))
	}
	return out
}
