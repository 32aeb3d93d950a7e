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
	own := s.txn == nil
	if own {
		if _, err := s.transaction(&sql.Transaction{Kind: sql.TxBegin}); err != nil {
			return "", err
		}
	}
	n, err := s.createAndFill(ctx, ct, x)
	if own {
		kind := sql.TxCommit
		if err != nil {
			kind = sql.TxRollback
		}
		if _, cerr := s.transaction(&sql.Transaction{Kind: kind}); err == nil {
			err = cerr
		}
	}
	if err != nil {
		return "", err
	}
	if !x.WithData {
		return "CREATE TABLE AS", nil
	}
	return "SELECT " + strconv.FormatInt(n, 10), nil
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
