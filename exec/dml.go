package exec

import (
	"fmt"

	"github.com/strand-db/strand/log"
	"github.com/strand-db/strand/sql/pgerr"
	"github.com/strand-db/strand/sql/types"
)

// Writes run inside a Txn: they read the snapshot (and the transaction's
// own earlier writes), compute new rows and queue them with the optimistic
// condition of what they read. The session commits (at once in autocommit,
// at COMMIT otherwise).

// WriteResult is what a write statement did.
type WriteResult struct {
	Count int64
	// Returning rows (the table's columns then _version, as RETURNING's
	// expressions were evaluated over them) and, for each, the index of its
	// write in the transaction so _version can be filled in after commit.
	Returning []Row
	Writes    []int
}

// RowCheck validates a full table row before it is written.
type RowCheck struct {
	Expr Expr
	Name string
}

// Insert inserts the rows of Source. Source rows have one value per
// table column in table order (the planner fills defaults) plus, last,
// the _version the row must become (NULL: any).
type Insert struct {
	Layout *TableLayout
	Source Node
	Checks []RowCheck
	// OnConflict: DoNothing skips rows whose key exists; Set (with Where)
	// updates the existing row. Set expressions read [existing row +
	// _version, excluded row + _version].
	DoNothing bool
	Set       []Assign
	SetWhere  Expr
	Returning []Expr
}

// Assign sets column Idx to Expr.
type Assign struct {
	Idx  int
	Expr Expr
}

// Execute queues the insert's writes in txn.
func (ins *Insert) Execute(rt *Runtime, txn *Txn) (*WriteResult, error) {
	l := ins.Layout
	res := &WriteResult{}
	nt := len(l.Types)
	if singleValuesRow(ins.Source) {
		// One row computed from no table: nothing can observe this
		// statement's write while the row is evaluated, so it is written
		// as it comes (a single-row INSERT collects and copies nothing).
		err := ins.Source.Run(rt, func(src Row) error {
			return ins.PutRow(rt, txn, src[:nt+1], res)
		})
		if err != nil {
			return nil, err
		}
		return res, nil
	}
	rows, err := Collect(rt, ins.Source)
	if err != nil {
		return nil, err
	}
	for _, src := range rows {
		if err := ins.PutRow(rt, txn, src[:nt+1], res); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// singleValuesRow reports whether n is a one-row VALUES under projections.
// Other sources are collected before the first write, so that they never
// read rows the statement itself inserts.
func singleValuesRow(n Node) bool {
	for {
		switch x := n.(type) {
		case *Project:
			n = x.Input
		case *Values:
			return len(x.Rows) == 1
		default:
			return false
		}
	}
}

// PutRow inserts one full row (table columns, then the _version it must
// become or NULL), counting it in res.
func (ins *Insert) PutRow(rt *Runtime, txn *Txn, row Row, res *WriteResult) error {
	l := ins.Layout
	nt := len(l.Types)
	if err := checkRow(rt, l, row, ins.Checks); err != nil {
		return err
	}
	cond := log.Cond{}
	if l.Desc.Kind == log.Stream {
		if v := row[nt]; v != nil {
			ver := v.(int64)
			if ver < 1 {
				return pgerr.New(pgerr.CheckViolation, "_version must be at least 1, not %d", ver)
			}
			cond = log.Cond{Kind: log.AtVersion, Version: uint64(ver - 1)}
		}
		if err := txn.Put(l, row, false, cond); err != nil {
			return err
		}
		res.Count++
		ins.returning(rt, res, txn, row, -1)
		return nil
	}
	if row[nt] != nil {
		return pgerr.New(pgerr.FeatureNotSupported, "cannot set _version when inserting into keyed table %q; use UPDATE ... WHERE _version = n", l.Desc.Name)
	}
	key := l.Key(row)
	if txn.Autocommit && !ins.DoNothing && ins.Set == nil {
		// The commit checks that the key does not exist (23505 if it
		// does); only this statement's own earlier rows need a look here.
		if _, pending := txn.Pending(l, key); pending {
			return duplicateKey(l, key)
		}
		if err := txn.PutKey(l, key, row, false, log.Cond{Kind: log.NotExists}); err != nil {
			return err
		}
		res.Count++
		ins.returning(rt, res, txn, row, -1)
		return nil
	}
	if txn.Autocommit && ins.DoNothing && ins.Returning == nil {
		// ON CONFLICT DO NOTHING in its own transaction: the commit skips
		// the row if the key exists by then, so there is nothing to read
		// here (the session takes skipped rows off the count). Only this
		// statement's own earlier rows need a look.
		if _, pending := txn.Pending(l, key); pending {
			return nil
		}
		if err := txn.PutKeyIfAbsent(l, key, row); err != nil {
			return err
		}
		res.Count++
		return nil
	}
	existing, found, err := txn.Get(l, key)
	if err != nil {
		return err
	}
	if found && (ins.DoNothing || ins.Set != nil) {
		if ins.DoNothing {
			return nil
		}
		pair := make(Row, 0, 2*(nt+1))
		pair = append(append(pair, existing...), row...)
		if ins.SetWhere != nil {
			ok, err := EvalBool(ins.SetWhere, rt.Env, pair)
			if err != nil {
				return err
			}
			if !ok {
				return nil
			}
		}
		updated := append(Row(nil), existing...)
		for _, a := range ins.Set {
			v, err := a.Expr.Eval(rt.Env, pair)
			if err != nil {
				return err
			}
			updated[a.Idx] = v
		}
		if err := checkRow(rt, l, updated, ins.Checks); err != nil {
			return err
		}
		if string(l.Key(updated)) != string(key) {
			return pgerr.New(pgerr.FeatureNotSupported, "ON CONFLICT DO UPDATE cannot change the key")
		}
		if err := txn.PutKey(l, key, updated, false, readCond(existing, nt)); err != nil {
			return err
		}
		res.Count++
		ins.returning(rt, res, txn, updated, 0)
		return nil
	}
	if found {
		return duplicateKey(l, key)
	}
	if err := txn.PutKey(l, key, row, false, log.Cond{Kind: log.NotExists}); err != nil {
		return err
	}
	res.Count++
	ins.returning(rt, res, txn, row, -1)
	return nil
}

// readCond is the condition for writing over a row read at _version v (0:
// the row is the transaction's own pending write, whose condition stands).
func readCond(row Row, nt int) log.Cond {
	if v, _ := row[nt].(int64); v > 0 {
		return log.Cond{Kind: log.AtVersion, Version: uint64(v)}
	}
	return log.Cond{Kind: log.Any}
}

func (ins *Insert) returning(rt *Runtime, res *WriteResult, txn *Txn, row Row, prevVersion int64) {
	if ins.Returning == nil {
		return
	}
	r := append(Row(nil), row...)
	r[len(ins.Layout.Types)] = nil
	res.Returning = append(res.Returning, r)
	res.Writes = append(res.Writes, txn.LastWrite())
}

// LastWrite is the index of the most recently queued write.
func (t *Txn) LastWrite() int {
	return len(t.writes) - 1
}

func checkRow(rt *Runtime, l *TableLayout, row Row, checks []RowCheck) error {
	for i, c := range l.Cur.Columns {
		if c.NotNull && row[i] == nil {
			return pgerr.New(pgerr.NotNullViolation, "null value in column %q of relation %q violates not-null constraint", c.Name, l.Desc.Name)
		}
	}
	for _, ck := range checks {
		v, err := ck.Expr.Eval(rt.Env, row)
		if err != nil {
			return err
		}
		if v == false {
			e := pgerr.New(pgerr.CheckViolation, "new row for relation %q violates check constraint %q", l.Desc.Name, ck.Name)
			e.Table, e.Constraint = l.Desc.Name, ck.Name
			return e
		}
	}
	return nil
}

func duplicateKey(l *TableLayout, key []byte) error {
	e := pgerr.New(pgerr.UniqueViolation, "duplicate key value violates unique constraint %q", l.Desc.Name+"_pkey")
	e.Detail = fmt.Sprintf("Key (%s)=(%s) already exists.", l.KeyNames(), l.KeyText(key))
	e.Table, e.Constraint = l.Desc.Name, l.Desc.Name+"_pkey"
	return e
}

// KeyNames lists the key columns, comma separated.
func (l *TableLayout) KeyNames() string {
	s := ""
	for i, k := range l.KeyIdx {
		if i > 0 {
			s += ", "
		}
		s += l.Cur.Columns[k].Name
	}
	return s
}

// KeyText renders an encoded key as PostgreSQL prints key values in
// errors.
func (l *TableLayout) KeyText(key []byte) string {
	s := ""
	for i, k := range l.KeyIdx {
		v, rest, err := types.DecodeKey(l.Types[k], key)
		if err != nil {
			return fmt.Sprintf("%x", key)
		}
		key = rest
		if i > 0 {
			s += ", "
		}
		if v == nil {
			s += "null"
		} else {
			s += types.FormatText(l.Types[k], v, nil)
		}
	}
	return s
}

// Update changes the rows Source yields (full table rows with _version).
// Set expressions read the old row.
type Update struct {
	Layout    *TableLayout
	Source    Node
	Set       []Assign
	Checks    []RowCheck
	Returning []Expr
}

// Execute queues the update's writes.
func (u *Update) Execute(rt *Runtime, txn *Txn) (*WriteResult, error) {
	l := u.Layout
	if l.Desc.Kind != log.Keyed {
		return nil, pgerr.New(pgerr.FeatureNotSupported, "cannot update %q: it is an append-only stream", l.Desc.Name)
	}
	nt := len(l.Types)
	rows, err := Collect(rt, u.Source)
	if err != nil {
		return nil, err
	}
	res := &WriteResult{}
	for _, old := range rows {
		nr := append(Row(nil), old...)
		for _, a := range u.Set {
			v, err := a.Expr.Eval(rt.Env, old)
			if err != nil {
				return nil, err
			}
			nr[a.Idx] = v
		}
		if err := checkRow(rt, l, nr, u.Checks); err != nil {
			return nil, err
		}
		oldKey, newKey := l.Key(old), l.Key(nr)
		if string(oldKey) != string(newKey) {
			// A key change is a delete of the old key and an insert of the
			// new one.
			if err := txn.PutKey(l, oldKey, old, true, readCond(old, nt)); err != nil {
				return nil, err
			}
			if _, found, err := txn.Get(l, newKey); err != nil {
				return nil, err
			} else if found {
				return nil, duplicateKey(l, newKey)
			}
			if err := txn.PutKey(l, newKey, nr, false, log.Cond{Kind: log.NotExists}); err != nil {
				return nil, err
			}
		} else if err := txn.PutKey(l, newKey, nr, false, readCond(old, nt)); err != nil {
			return nil, err
		}
		res.Count++
		if u.Returning != nil {
			nr[nt] = nil
			res.Returning = append(res.Returning, nr)
			res.Writes = append(res.Writes, txn.LastWrite())
		}
	}
	return res, nil
}

// Delete deletes the rows Source yields.
type Delete struct {
	Layout    *TableLayout
	Source    Node
	Returning []Expr
}

// Execute queues the delete's tombstones.
func (d *Delete) Execute(rt *Runtime, txn *Txn) (*WriteResult, error) {
	l := d.Layout
	if l.Desc.Kind != log.Keyed {
		return nil, pgerr.New(pgerr.FeatureNotSupported, "cannot delete from %q: it is an append-only stream", l.Desc.Name)
	}
	rows, err := Collect(rt, d.Source)
	if err != nil {
		return nil, err
	}
	res := &WriteResult{}
	for _, old := range rows {
		if err := txn.Put(l, old, true, readCond(old, len(l.Types))); err != nil {
			return nil, err
		}
		res.Count++
		if d.Returning != nil {
			res.Returning = append(res.Returning, old)
			res.Writes = append(res.Writes, -1)
		}
	}
	return res, nil
}
