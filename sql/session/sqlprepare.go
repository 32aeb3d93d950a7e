package session

import (
	"context"

	"github.com/strand-db/strand/sql"
	"github.com/strand-db/strand/sql/pgerr"
	"github.com/strand-db/strand/sql/types"
)

// SQL-level PREPARE, EXECUTE and DEALLOCATE: a named statement planned
// once for its parameter types and run with the arguments EXECUTE gives,
// each converted to its parameter's type as an assignment converts. The
// names are the session's (DISCARD ALL drops them); the protocol's named
// statements are the connection's, apart.

const errUndefinedPrepared = pgerr.Code("26000") // invalid_sql_statement_name

func (s *Session) sqlPrepare(x *sql.Prepare) error {
	if _, ok := s.sqlPrepared[x.Name]; ok {
		return pgerr.New(pgerr.Code("42P05"), "prepared statement %q already exists", x.Name)
	}
	switch x.Stmt.(type) {
	case *sql.Query, *sql.Insert, *sql.Update, *sql.Delete:
	default:
		return pgerr.New(pgerr.SyntaxError, "PREPARE takes SELECT, VALUES, INSERT, UPDATE or DELETE")
	}
	var given []types.T
	for _, name := range x.ArgTypes {
		t, err := types.ParseTypeName(name)
		if err != nil {
			return err
		}
		given = append(given, t)
	}
	p, err := s.prepare(x.Stmt, given)
	if err != nil {
		return err
	}
	if s.sqlPrepared == nil {
		s.sqlPrepared = map[string]*prepared{}
	}
	s.sqlPrepared[x.Name] = p
	return nil
}

func (s *Session) sqlPrepared1(name string) (*prepared, error) {
	p, ok := s.sqlPrepared[name]
	if !ok {
		return nil, pgerr.New(errUndefinedPrepared, "prepared statement %q does not exist", name)
	}
	return p, nil
}

// sqlExecute runs EXECUTE name (args); params are the EXECUTE statement's
// own protocol parameters, which its arguments may read.
func (s *Session) sqlExecute(ctx context.Context, x *sql.Execute, params []types.Datum) (rowSeq, string, error) {
	p, err := s.sqlPrepared1(x.Name)
	if err != nil {
		return nil, "", err
	}
	if len(x.Args) != len(p.params) {
		return nil, "", pgerr.New(pgerr.SyntaxError, "wrong number of parameters for prepared statement %q", x.Name).
			WithDetail("Expected %d parameters but got %d.", len(p.params), len(x.Args))
	}
	b := s.builder(s.catalog(), nil)
	env := s.env(params)
	args := make([]types.Datum, len(x.Args))
	for i, a := range x.Args {
		e, err := b.BindValue(a, p.params[i], "parameter")
		if err != nil {
			return nil, "", err
		}
		if args[i], err = e.Eval(env, nil); err != nil {
			return nil, "", err
		}
	}
	return s.execStatement(ctx, p, args)
}
