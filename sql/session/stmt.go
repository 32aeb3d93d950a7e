package session

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"strconv"
	"strings"
	"time"

	"github.com/strand-db/strand/exec"
	"github.com/strand-db/strand/log"
	"github.com/strand-db/strand/pgwire"
	"github.com/strand-db/strand/planner"
	"github.com/strand-db/strand/sql"
	"github.com/strand-db/strand/sql/pgerr"
	"github.com/strand-db/strand/sql/types"
)

// rowSeq is a statement's result rows.
type rowSeq = iter.Seq2[exec.Row, error]

// maxRetries bounds how often an autocommit write is retried after losing
// an optimistic race.
const maxRetries = 50

// describe returns the result columns of a statement (nil: no rows), and
// fills in parameter types.
func (s *Session) describe(st sql.Statement, params *planner.Params) ([]exec.Column, error) {
	cat := s.catalog()
	b := s.builder(cat, params)
	switch x := st.(type) {
	case *sql.Query:
		n, err := b.BuildQuery(x.AST)
		if err != nil {
			return nil, err
		}
		return n.Columns(), nil
	case *sql.Insert, *sql.Update, *sql.Delete:
		w, err := s.buildWrite(b, st)
		if err != nil {
			return nil, err
		}
		if w.Returning == nil {
			return nil, nil
		}
		return w.Cols, nil
	case *sql.Show:
		if x.Name == "all" {
			return []exec.Column{{Name: "name", T: types.Make(types.TextOID)}, {Name: "setting", T: types.Make(types.TextOID)}, {Name: "description", T: types.Make(types.TextOID)}}, nil
		}
		return []exec.Column{{Name: x.Name, T: types.Make(types.TextOID)}}, nil
	case *sql.Explain:
		return []exec.Column{{Name: "QUERY PLAN", T: types.Make(types.TextOID)}}, nil
	case *sql.Execute:
		p, err := s.sqlPrepared1(x.Name)
		if err != nil {
			return nil, err
		}
		return p.cols, nil
	case *sql.Fetch:
		return s.cursorColumns(x.Cursor)
	case *sql.FetchGroup:
		return groupFetchColumns, nil
	case *sql.AckGroup:
		groupParamTypes(x, params)
		return nil, nil
	case *sql.DeclareCursor:
		// Type the query's parameters now; the rows come with FETCH.
		if q, ok := x.Query.(*sql.Query); ok {
			if _, err := b.BuildQuery(q.AST); err != nil {
				return nil, err
			}
		}
		return nil, nil
	}
	return nil, nil
}

func (s *Session) buildWrite(b *planner.Builder, st sql.Statement) (*planner.Write, error) {
	switch x := st.(type) {
	case *sql.Insert:
		return b.BuildInsert(x)
	case *sql.Update:
		return b.BuildUpdate(x)
	case *sql.Delete:
		return b.BuildDelete(x)
	}
	return nil, pgerr.New(pgerr.InternalError, "not a write: %T", st)
}

// execStatement runs a statement. Queries return their rows as a sequence
// (run lazily, so a portal can suspend); other statements return a tag.
func (s *Session) execStatement(ctx context.Context, p *prepared, params []types.Datum) (rowSeq, string, error) {
	st := p.stmt
	if tx, ok := st.(*sql.Transaction); ok {
		tag, err := s.transaction(tx)
		return nil, tag, err
	}
	if s.failed {
		return nil, "", pgerr.New(pgerr.InFailedSQLTransaction, "current transaction is aborted, commands ignored until end of transaction block")
	}
	if s.txn == nil {
		s.txStart = time.Now()
	}
	if rows, tag, ok, err := s.groupStatement(ctx, st, params); ok {
		return rows, tag, err
	}
	switch x := st.(type) {
	case *sql.Query:
		return s.query(ctx, p, params, x)
	case *sql.Insert, *sql.Update, *sql.Delete:
		return s.write(ctx, p, params)
	case *sql.Explain:
		return s.explain(ctx, x, params)
	case *sql.CreateTable:
		// Without IF NOT EXISTS, PostgreSQL finds a taken name after the
		// columns, and so does the catalog change.
		if x.IfNotExists {
			if skip, _ := s.checkCreate(x.Name, true); skip {
				return nil, "CREATE TABLE", nil
			}
		}
		return nil, "CREATE TABLE", s.ddl(ctx, func(b *planner.Builder) (func(*log.Catalog) error, error) { return b.CreateTable(x) })
	case *sql.AlterTable:
		tag := "ALTER " + string(x.Object)
		return nil, tag, s.ddl(ctx, func(b *planner.Builder) (func(*log.Catalog) error, error) { return b.AlterTable(x) })
	case *sql.CreateSchema:
		return nil, "CREATE SCHEMA", s.ddl(ctx, func(*planner.Builder) (func(*log.Catalog) error, error) { return planner.CreateSchema(x), nil })
	case *sql.Drop:
		switch x.Kind {
		case sql.ObjTable, sql.ObjView, sql.ObjMaterializedView, sql.ObjSequence:
			s.noticeMissing(x)
			return nil, "DROP " + string(x.Kind), s.ddl(ctx, func(b *planner.Builder) (func(*log.Catalog) error, error) { return b.DropTables(x) })
		case sql.ObjSchema:
			return nil, "DROP SCHEMA", s.ddl(ctx, func(*planner.Builder) (func(*log.Catalog) error, error) { return planner.DropSchemas(x), nil })
		case sql.ObjRole:
			return nil, "DROP ROLE", s.ddl(ctx, func(*planner.Builder) (func(*log.Catalog) error, error) { return dropRoles(x), nil })
		}
	case *sql.Role:
		tag := "CREATE ROLE"
		if x.Alter {
			tag = "ALTER ROLE"
		}
		return nil, tag, s.ddl(ctx, func(*planner.Builder) (func(*log.Catalog) error, error) { return roleChange(x), nil })
	case *sql.Set:
		if err := s.set(x.Name, x.Values, x.Default); err != nil {
			return nil, "", err
		}
		return nil, "SET", nil
	case *sql.Reset:
		if x.Name == "all" {
			s.vars = newSettings()
			return nil, "RESET", nil
		}
		return nil, "RESET", s.set(x.Name, nil, true)
	case *sql.Show:
		return s.show(x)
	case *sql.Checkpoint:
		return nil, "CHECKPOINT", s.eng.Log.Flush()
	case *sql.Discard:
		if x.What == "all" {
			s.sqlPrepared = nil
		}
		s.vars = newSettings()
		return nil, "DISCARD " + strings.ToUpper(x.What), nil
	case *sql.DeclareCursor:
		return nil, "DECLARE CURSOR", s.declare(ctx, x, params)
	case *sql.Listen:
		s.eng.listen(s, x.Channel)
		return nil, "LISTEN", nil
	case *sql.Unlisten:
		s.eng.unlisten(s, x.Channel, x.All)
		return nil, "UNLISTEN", nil
	case *sql.Notify:
		return nil, "NOTIFY", s.notifyStatement(x)
	case *sql.Fetch:
		return s.fetch(ctx, x)
	case *sql.Close:
		return nil, "CLOSE CURSOR", s.closeCursor(x)
	case *sql.Prepare:
		return nil, "PREPARE", s.sqlPrepare(x)
	case *sql.Execute:
		return s.sqlExecute(ctx, x, params)
	case *sql.Deallocate:
		if x.All {
			s.sqlPrepared = nil
			return nil, "DEALLOCATE ALL", nil
		}
		if _, ok := s.sqlPrepared[x.Name]; !ok {
			return nil, "", pgerr.New(pgerr.Code("26000"), "prepared statement %q does not exist", x.Name)
		}
		delete(s.sqlPrepared, x.Name)
		return nil, "DEALLOCATE", nil
	case *sql.CreateMaterializedView:
		if skip, err := s.checkCreate(x.Name, x.IfNotExists); skip || err != nil {
			return nil, "CREATE MATERIALIZED VIEW", err
		}
		if err := s.ddl(ctx, func(b *planner.Builder) (func(*log.Catalog) error, error) { return b.CreateView(x) }); err != nil {
			return nil, "", err
		}
		// The view backfills while writes go on; CREATE returns when it
		// is live (views.go), with PostgreSQL's tag: SELECT and the
		// view's row count.
		if err := s.awaitView(ctx, x); err != nil {
			return nil, "", err
		}
		n, err := s.createdViewRows(ctx, x)
		return nil, "SELECT " + strconv.FormatInt(n, 10), err
	case *sql.AlterSequence:
		return nil, "ALTER SEQUENCE", s.alterSequence(ctx, x)
	case *sql.CreateSequence:
		if x.IfNotExists {
			if skip, _ := s.checkCreate(x.Name, true); skip {
				return nil, "CREATE SEQUENCE", nil
			}
		}
		return nil, "CREATE SEQUENCE", s.ddl(ctx, func(b *planner.Builder) (func(*log.Catalog) error, error) { return b.CreateSequence(x) })
	case *sql.Comment:
		if x.Kind == sql.ObjSchema {
			// pg_dump writes COMMENT ON SCHEMA public: accepted, with a
			// notice that schemas keep no comments.
			if !s.catalog().Schemas[x.Name.Name] {
				return nil, "", pgerr.New(pgerr.UndefinedSchema, "schema %q does not exist", x.Name.Name)
			}
			s.info.Client.Notice(&pgerr.Error{Code: pgerr.SuccessfulCompletion, Severity: pgerr.SeverityNotice,
				Message: fmt.Sprintf("schema %q keeps no comment: Strand does not store comments on schemas", x.Name.Name)})
			return nil, "COMMENT", nil
		}
		return nil, "COMMENT", s.ddl(ctx, func(b *planner.Builder) (func(*log.Catalog) error, error) { return b.Comment(x) })
	case *sql.Truncate:
		return nil, "TRUNCATE TABLE", s.truncate(ctx, x)
	case *sql.CreateTableAs:
		tag, err := s.createTableAs(ctx, x)
		return nil, tag, err
	case *sql.CreateView:
		if !x.OrReplace {
			if _, err := s.checkCreate(x.Name, false); err != nil {
				return nil, "CREATE VIEW", err
			}
		}
		return nil, "CREATE VIEW", s.ddl(ctx, func(b *planner.Builder) (func(*log.Catalog) error, error) { return b.CreatePlainView(x) })
	case *sql.RefreshMaterializedView:
		// Views are maintained inside every write: always fresh.
		b := s.builder(s.catalog(), nil)
		td, err := b.LookupTable(x.Name.Schema, x.Name.Name)
		if err != nil {
			return nil, "", err
		}
		if td.Kind != log.View {
			// PostgreSQL's SQLSTATE for this, as its differential test shows.
			return nil, "", pgerr.New(pgerr.FeatureNotSupported, "%q is not a materialized view", x.Name.Name)
		}
		return nil, "REFRESH MATERIALIZED VIEW", nil
	}
	return nil, "", pgerr.New(pgerr.FeatureNotSupported, "%s is not supported yet", statementName(st))
}

// checkCreate checks a CREATE TABLE or MATERIALIZED VIEW's name before
// its definition, as PostgreSQL does: a name in use fails with 42P07
// (not with what may be wrong in the definition), and under IF NOT EXISTS
// the statement is skipped with a notice saying so. The catalog change
// checks again, for a CREATE that races this one.
func (s *Session) checkCreate(n sql.ObjectName, ifNotExists bool) (skip bool, err error) {
	if !s.builder(s.catalog(), nil).Taken(n) {
		return false, nil
	}
	if !ifNotExists {
		return false, pgerr.New(pgerr.DuplicateTable, "relation %q already exists", n.Name)
	}
	s.info.Client.Notice(&pgerr.Error{Code: pgerr.DuplicateTable, Severity: pgerr.SeverityNotice,
		Message: fmt.Sprintf("relation %q already exists, skipping", n.Name)})
	return true, nil
}

// noticeMissing sends DROP ... IF EXISTS's notice for each name that is
// not there, as PostgreSQL does.
func (s *Session) noticeMissing(x *sql.Drop) {
	if !x.IfExists {
		return
	}
	b := s.builder(s.catalog(), nil)
	for _, n := range x.Names {
		if _, err := b.LookupTable(n.Schema, n.Name); err != nil {
			s.info.Client.Notice(&pgerr.Error{Code: pgerr.SuccessfulCompletion, Severity: pgerr.SeverityNotice,
				Message: fmt.Sprintf("%s %q does not exist, skipping", strings.ToLower(string(x.Kind)), n.Name)})
		}
	}
}

func statementName(st sql.Statement) string {
	return strings.ToUpper(strings.TrimPrefix(fmt.Sprintf("%T", st), "*sql."))
}

func (s *Session) env(params []types.Datum) *exec.Env {
	return s.envFor(params, s.catalog())
}

// envFor is env for a statement that reads catalog cat.
func (s *Session) envFor(params []types.Datum, cat *log.Catalog) *exec.Env {
	if s.runSubquery == nil {
		// Made once per session: every statement's Env carries it.
		s.runSubquery = s.subquery
	}
	// The Env and its Settings (the session's, with the statement's clock)
	// are one allocation.
	x := &struct {
		env exec.Env
		set types.Settings
	}{set: *s.vars.types}
	x.set.Now = s.txStart
	x.env = exec.Env{Params: params, Settings: &x.set, Now: s.txStart, Catalog: s.catalogReaderFor(cat), RunSubquery: s.runSubquery}
	return &x.env
}

// subquery is the Env's RunSubquery: it reads what the running statement
// reads.
func (s *Session) subquery(e *exec.Env, n exec.Node, limit int) ([]exec.Row, error) {
	rt := &exec.Runtime{Ctx: context.Background(), Env: e, Tables: s.currentReader}
	var rows []exec.Row
	err := n.Run(rt, func(r exec.Row) error {
		rows = append(rows, append(exec.Row(nil), r...))
		if limit > 0 && len(rows) >= limit {
			return exec.ErrStop
		}
		return nil
	})
	if errors.Is(err, exec.ErrStop) {
		err = nil
	}
	return rows, err
}

// query plans and runs a SELECT. Outside a transaction it reads a fresh
// durable snapshot, released when the rows are done.
func (s *Session) query(ctx context.Context, p *prepared, params []types.Datum, q *sql.Query) (rowSeq, string, error) {
	txn := s.txn
	own := txn == nil
	if own {
		txn = exec.NewTxn(s.eng.Log)
	}
	n := p.cachedPlan(txn.Catalog())
	if n == nil {
		b := s.builder(txn.Catalog(), &planner.Params{Types: p.params, Marker: q.Info.Params})
		var err error
		if n, err = b.BuildQuery(q.AST); err != nil {
			if own {
				txn.Release()
			}
			return nil, "", err
		}
		p.keepPlan(txn.Catalog(), n)
	}
	env := s.envFor(params, txn.Catalog())
	seq := func(yield func(exec.Row, error) bool) {
		if own {
			defer txn.Release()
		}
		s.currentReader = txn
		rt := &exec.Runtime{Ctx: ctx, Env: env, Tables: txn}
		err := n.Run(rt, func(r exec.Row) error {
			if !yield(r, nil) {
				return exec.ErrStop
			}
			return nil
		})
		if err != nil && !errors.Is(err, exec.ErrStop) {
			yield(nil, err)
		}
	}
	return seq, "SELECT", nil
}

// write runs INSERT/UPDATE/DELETE. Outside a transaction it commits at
// once, retrying on a fresh snapshot when it lost an optimistic race
// (except INSERT, whose conditions are the user's: a duplicate key or a
// stream's expected version).
func (s *Session) write(ctx context.Context, p *prepared, params []types.Datum) (rowSeq, string, error) {
	ins, isInsert := p.stmt.(*sql.Insert)
	// An upsert's conflict decision was made on its snapshot: when another
	// commit inserted or changed the key since, it is decided again, so
	// ON CONFLICT never reports the duplicate it exists to absorb.
	upsert := isInsert && ins.OnConflict != nil
	for attempt := 0; ; attempt++ {
		txn := s.txn
		own := txn == nil
		if own {
			txn = exec.NewTxn(s.eng.Log)
			txn.Autocommit = true
		}
		seq, tag, err := s.writeOnce(ctx, p, params, txn, own)
		if own {
			txn.Release()
		}
		if own && err != nil {
			var ce *log.ConflictError
			if errors.As(err, &ce) && (ce.SQLState() == "40001" && !isInsert || upsert) && attempt < maxRetries {
				continue
			}
			if errors.As(err, &ce) && ce.SQLState() == "23505" {
				return nil, "", s.duplicateError(ce)
			}
		}
		return seq, tag, err
	}
}

// writeTag is a write's command tag: base ("INSERT 0 ", "UPDATE ") and
// the row count. The tags of 0 and 1 rows are kept for the last base, so
// that a single-row write does not build its tag each time.
func (s *Session) writeTag(base string, n int64) string {
	if n > 1 || n < 0 {
		return base + strconv.FormatInt(n, 10)
	}
	if base != s.tagBase {
		s.tagBase = base
		s.tags = [2]string{base + "0", base + "1"}
	}
	return s.tags[n]
}

func (s *Session) writeOnce(ctx context.Context, p *prepared, params []types.Datum, txn *exec.Txn, commit bool) (rowSeq, string, error) {
	w := p.cachedWrite(txn.Catalog())
	if w == nil {
		info := p.stmt.StmtInfo()
		b := s.builder(txn.Catalog(), &planner.Params{Types: p.params, Marker: info.Params})
		var err error
		if w, err = s.buildWrite(b, p.stmt); err != nil {
			return nil, "", err
		}
		p.keepWrite(txn.Catalog(), w)
	}
	env := s.envFor(params, txn.Catalog())
	s.currentReader = txn
	rt := &exec.Runtime{Ctx: ctx, Env: env, Tables: txn}
	res, err := w.Plan.Execute(rt, txn)
	if err != nil {
		return nil, "", err
	}
	var commitRes *log.Result
	if commit {
		if commitRes, err = txn.Commit(ctx); err != nil {
			return nil, "", err
		}
		// Rows of ON CONFLICT DO NOTHING that the commit skipped (their
		// key existed by then) were not inserted.
		for _, ev := range commitRes.Events {
			if ev.Skipped {
				res.Count--
			}
		}
	}
	tag := s.writeTag(w.Tag, res.Count)
	if w.Returning == nil {
		return nil, tag, nil
	}
	// RETURNING: fill in _version from the commit, then evaluate.
	nt := len(w.Layout.Types)
	rows := make([]exec.Row, 0, len(res.Returning))
	for i, r := range res.Returning {
		if r[nt] == nil && commitRes != nil && res.Writes[i] >= 0 && res.Writes[i] < len(commitRes.Events) {
			r[nt] = int64(commitRes.Events[res.Writes[i]].Version)
		}
		out := make(exec.Row, len(w.Returning))
		for j, e := range w.Returning {
			v, err := e.Eval(env, r)
			if err != nil {
				return nil, "", err
			}
			out[j] = v
		}
		rows = append(rows, out)
	}
	seq := func(yield func(exec.Row, error) bool) {
		for _, r := range rows {
			if !yield(r, nil) {
				return
			}
		}
	}
	return seq, tag, nil
}

func (s *Session) duplicateError(ce *log.ConflictError) error {
	cat := s.eng.Log.Catalog()
	if td, ok := cat.Table(ce.Table); ok {
		l := exec.NewTableLayout(td)
		e := pgerr.New(pgerr.UniqueViolation, "duplicate key value violates unique constraint %q", td.Name+"_pkey")
		e.Detail = "Key (" + l.KeyNames() + ")=(" + l.KeyText(ce.Key) + ") already exists."
		e.Table, e.Constraint = td.Name, td.Name+"_pkey"
		return e
	}
	return mapError(ce)
}

// ddl commits a catalog change: at once outside a transaction, at COMMIT
// inside one (later statements of the transaction see it already).
func (s *Session) ddl(ctx context.Context, build func(*planner.Builder) (func(*log.Catalog) error, error)) error {
	b := s.builder(s.catalog(), nil)
	change, err := build(b)
	if err != nil {
		return err
	}
	if s.txn != nil {
		return s.txn.AddCatalogChange(change)
	}
	_, err = s.eng.Log.Commit(ctx, &log.Intent{Catalog: change})
	return err
}

// explain shows a query's plan. EXPLAIN EXECUTE shows a prepared query's
// (its parameters as $n). With ANALYZE the query also runs, to the end:
// the plan's first line gets the rows it gave, and the planning and
// execution times follow (Strand times the whole plan, not each node).
func (s *Session) explain(ctx context.Context, x *sql.Explain, params []types.Datum) (rowSeq, string, error) {
	st := x.Stmt
	var given []types.T
	var ex *sql.Execute
	if e, ok := st.(*sql.Execute); ok {
		p, err := s.sqlPrepared1(e.Name)
		if err != nil {
			return nil, "", err
		}
		st, given, ex = p.stmt, p.params, e
	}
	if cv, ok := st.(*sql.CreateMaterializedView); ok {
		if x.Analyze {
			return nil, "", pgerr.New(pgerr.FeatureNotSupported, "EXPLAIN ANALYZE of CREATE MATERIALIZED VIEW is not supported")
		}
		lines, err := s.builder(s.catalog(), nil).ExplainView(cv)
		if err != nil {
			return nil, "", err
		}
		return func(yield func(exec.Row, error) bool) {
			for _, line := range lines {
				if !yield(exec.Row{line}, nil) {
					return
				}
			}
		}, "EXPLAIN", nil
	}
	q, ok := st.(*sql.Query)
	if !ok {
		return nil, "", pgerr.New(pgerr.FeatureNotSupported, "EXPLAIN of %s is not supported yet", statementName(st))
	}
	info := q.StmtInfo()
	start := time.Now()
	b := s.builder(s.catalog(), &planner.Params{Marker: info.Params, Types: append([]types.T(nil), given...)})
	n, err := b.BuildQuery(q.AST)
	if err != nil {
		return nil, "", err
	}
	planning := time.Since(start)
	var e exec.Explainer
	n.Explain(&e)
	if x.Analyze {
		start = time.Now()
		var rows rowSeq
		if ex != nil {
			rows, _, err = s.sqlExecute(ctx, ex, params)
		} else {
			var p *prepared
			if p, err = s.prepare(q, nil); err == nil {
				rows, _, err = s.execStatement(ctx, p, params)
			}
		}
		if err != nil {
			return nil, "", err
		}
		count := 0
		for _, err := range rows {
			if err != nil {
				return nil, "", err
			}
			count++
		}
		ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
		e.Lines[0] += fmt.Sprintf(" (actual rows=%d loops=1)", count)
		e.Lines = append(e.Lines, fmt.Sprintf("Planning Time: %.3f ms", ms(planning)), fmt.Sprintf("Execution Time: %.3f ms", ms(time.Since(start))))
	}
	seq := func(yield func(exec.Row, error) bool) {
		for _, line := range e.Lines {
			if !yield(exec.Row{line}, nil) {
				return
			}
		}
	}
	return seq, "EXPLAIN", nil
}

// transaction handles BEGIN, COMMIT and ROLLBACK.
func (s *Session) transaction(tx *sql.Transaction) (string, error) {
	switch tx.Kind {
	case sql.TxBegin:
		if s.txn != nil {
			s.info.Client.Notice(&pgerr.Error{Code: pgerr.ActiveSQLTransaction, Severity: pgerr.SeverityWarning, Message: "there is already a transaction in progress"})
			return "BEGIN", nil
		}
		s.txn = exec.NewTxn(s.eng.Log)
		s.txStart = time.Now()
		return "BEGIN", nil
	case sql.TxCommit:
		if s.txn == nil {
			s.info.Client.Notice(&pgerr.Error{Code: pgerr.NoActiveSQLTransaction, Severity: pgerr.SeverityWarning, Message: "there is no transaction in progress"})
			return "COMMIT", nil
		}
		if s.failed {
			s.endTxn()
			return "ROLLBACK", nil
		}
		txn := s.txn
		restarts := s.seqRestarts
		_, err := txn.Commit(context.Background())
		s.flushNotifies(err == nil)
		s.endTxn()
		if err == nil {
			err = s.restartSequences(context.Background(), restarts)
		}
		if err != nil {
			var ce *log.ConflictError
			if errors.As(err, &ce) && ce.SQLState() == "23505" {
				return "", s.duplicateError(ce)
			}
			return "", err
		}
		return "COMMIT", nil
	case sql.TxRollback:
		if s.txn == nil {
			s.info.Client.Notice(&pgerr.Error{Code: pgerr.NoActiveSQLTransaction, Severity: pgerr.SeverityWarning, Message: "there is no transaction in progress"})
		}
		s.endTxn()
		return "ROLLBACK", nil
	case sql.TxSetCharacteristics, sql.TxSetTransaction:
		return "SET", nil
	}
	return "", pgerr.New(pgerr.FeatureNotSupported, "%s is not supported yet", tx.Kind)
}

var _ pgwire.Session = (*Session)(nil)
