package session

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"

	"github.com/strand-db/strand/log"
	"github.com/strand-db/strand/planner"
	"github.com/strand-db/strand/sql"
	"github.com/strand-db/strand/sql/pgerr"
	"github.com/strand-db/strand/sql/types"
)

// createTableAs runs CREATE TABLE name [(cols)] AS query: a table with
// no key (a stream) of the query's columns, then, WITH DATA (the
// default), INSERT INTO it of the query, both in one transaction (the
// session's, or one of their own), as PostgreSQL's is atomic. The tag is
// PostgreSQL's, SELECT and the rows inserted.
func (s *Session) createTableAs(ctx context.Context, x *sql.CreateTableAs) (string, error) {
	if skip, err := s.checkCreate(x.Name, x.IfNotExists); skip || err != nil {
		return "CREATE TABLE AS", err
	}
	p, err := s.prepare(&sql.Query{AST: x.Query.(ast.StmtNode)}, nil)
	if err != nil {
		return "", err
	}
	if len(x.Columns) > len(p.cols) {
		return "", pgerr.New(pgerr.SyntaxError, "too many column names were specified")
	}
	ct := &sql.CreateTable{Name: x.Name}
	for i, c := range p.cols {
		t := c.T
		if t.OID == types.UnknownOID {
			t = types.Make(types.TextOID)
		}
		name := c.Name
		if i < len(x.Columns) {
			name = x.Columns[i]
		}
		ct.Columns = append(ct.Columns, &sql.ColumnDef{Name: name, Type: t.String()})
	}
	var n int64
	err = s.atomically(func() error {
		var err error
		n, err = s.createAndFill(ctx, ct, x)
		return err
	})
	if err != nil {
		return "", err
	}
	if !x.WithData {
		return "CREATE TABLE AS", nil
	}
	return "SELECT " + strconv.FormatInt(n, 10), nil
}

// atomically runs fn inside the session's transaction, or inside one of
// its own that commits if fn succeeds and rolls back if not.
func (s *Session) atomically(fn func() error) error {
	if s.txn != nil {
		return fn()
	}
	if _, err := s.transaction(&sql.Transaction{Kind: sql.TxBegin}); err != nil {
		return err
	}
	err := fn()
	kind := sql.TxCommit
	if err != nil {
		kind = sql.TxRollback
	}
	if _, cerr := s.transaction(&sql.Transaction{Kind: kind}); err == nil {
		err = cerr
	}
	return err
}

// truncate runs TRUNCATE: each table's rows deleted (a delete event per
// key, which materialized views follow), all in one transaction. A
// stream, whose events cannot be deleted, is refused as DELETE refuses it.
func (s *Session) truncate(ctx context.Context, x *sql.Truncate) error {
	inBlock := s.txn != nil
	err := s.atomically(func() error {
		for _, n := range x.Names {
			stmts, err := sql.Parse("DELETE FROM " + n.String())
			if err != nil {
				return err
			}
			p, err := s.prepare(stmts[0], nil)
			if err != nil {
				return err
			}
			if _, _, err := s.execStatement(ctx, p, nil); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil || !x.RestartIdentity {
		return err
	}
	// RESTART IDENTITY: each table's serial and identity sequences start
	// over, as ALTER SEQUENCE ... RESTART does: when the truncation
	// commits (at once without a transaction block; at its COMMIT in
	// one, and not after a ROLLBACK).
	cat := s.catalog()
	var seqs []log.TableID
	for _, n := range x.Names {
		td, err := s.builder(cat, nil).LookupTable(n.Schema, n.Name)
		if err != nil {
			return err
		}
		seqs = append(seqs, planner.OwnedSequences(cat, td.ID)...)
	}
	if inBlock {
		s.seqRestarts = append(s.seqRestarts, seqs...)
		return nil
	}
	return s.restartSequences(ctx, seqs)
}

// restartSequences starts sequences over at their START values.
func (s *Session) restartSequences(ctx context.Context, ids []log.TableID) error {
	cat := s.catalog()
	for _, id := range ids {
		if seq, ok := cat.Table(id); ok {
			if err := s.eng.setVal(ctx, seq.ID, seq.Name, seqParamsOf(seq).start, false); err != nil {
				return err
			}
		}
	}
	return nil
}

// createAndFill creates the table and inserts the query's rows.
func (s *Session) createAndFill(ctx context.Context, ct *sql.CreateTable, x *sql.CreateTableAs) (int64, error) {
	if err := s.ddl(ctx, func(b *planner.Builder) (func(*log.Catalog) error, error) { return b.CreateTable(ct) }); err != nil {
		return 0, err
	}
	if !x.WithData {
		return 0, nil
	}
	stmts, err := sql.Parse("INSERT INTO " + x.Name.String() + " " + x.QueryText)
	if err != nil {
		return 0, fmt.Errorf("create table as: %w", err)
	}
	ip, err := s.prepare(stmts[0], nil)
	if err != nil {
		return 0, err
	}
	_, tag, err := s.execStatement(ctx, ip, nil)
	if err != nil {
		return 0, err
	}
	f := strings.Fields(tag)
	return strconv.ParseInt(f[len(f)-1], 10, 64)
}
