package exec

import (
	"context"
	"errors"
	"fmt"

	"github.com/strand-db/strand/log"
	"github.com/strand-db/strand/sql/types"
)

// History reads every version of every key of a table (or of the keys a
// prefix selects), in key order and, per key, in version order: the table's
// columns, then _version, _op (insert, update, delete, append), _lsn and
// _commit_time. A delete's row shows only its key columns.
type History struct {
	Layout     *TableLayout
	Cols       []Column
	Prefix     Expr
	PrefixDesc string
}

// HistoryReader reads key histories as of a transaction's snapshot.
type HistoryReader interface {
	History(ctx context.Context, l *TableLayout, prefix []byte, fn func(Row) error) error
}

// postgresEpochMicros is 2000-01-01 in Unix microseconds.
const postgresEpochMicros = 946684800000000

func (h *History) Columns() []Column { return h.Cols }

func (h *History) Run(rt *Runtime, emit func(Row) error) error {
	hr, ok := rt.Tables.(HistoryReader)
	if !ok {
		return errors.New("exec: this reader cannot read history")
	}
	var prefix []byte
	if h.Prefix != nil {
		v, err := h.Prefix.Eval(rt.Env, nil)
		if err != nil || v == nil {
			return err
		}
		prefix = v.([]byte)
	}
	return runStop(hr.History(rt.Ctx, h.Layout, prefix, emit))
}

func (h *History) Explain(e *Explainer) {
	e.Add("History Scan on %s", h.Layout.Desc.Name)
	if h.Prefix != nil {
		e.Detail("Key: %s", h.PrefixDesc)
	}
}

// History implements HistoryReader. Only committed versions are shown: the
// transaction's own pending writes have no version yet.
func (t *Txn) History(ctx context.Context, l *TableLayout, prefix []byte, fn func(Row) error) error {
	nt := len(l.Types)
	row := make(Row, nt+4)
	// Histories reads versions tiered to Iceberg once for all keys.
	n := 0
	return t.Snap.Histories(l.Desc.ID, prefix, func(_ []byte, e *log.Event) error {
		if n++; n%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return context.Cause(ctx)
			}
		}
		if e.Op == log.OpDelete {
			for i := range row[:nt] {
				row[i] = nil
			}
			rest := e.Key
			for _, ki := range l.KeyIdx {
				v, r, err := types.DecodeKey(l.Types[ki], rest)
				if err != nil {
					return fmt.Errorf("history of %s: %w", l.Desc.Name, err)
				}
				row[ki], rest = v, r
			}
		} else {
			r, err := l.Decode(e.SchemaVersion, e.Row, e.Version, row[:nt+1])
			if err != nil {
				return err
			}
			copy(row, r[:nt])
		}
		row[nt] = int64(e.Version)
		row[nt+1] = e.Op.String()
		row[nt+2] = int64(e.LSN)
		row[nt+3] = types.TimestampTZ(e.CommitTime - postgresEpochMicros)
		return fn(row)
	})
}

// HistoryColumns are the columns History adds after the table's.
func HistoryColumns() []Column {
	return []Column{
		{Name: VersionColumn, T: types.Make(types.Int8OID)},
		{Name: "_op", T: types.Make(types.TextOID)},
		{Name: "_lsn", T: types.Make(types.Int8OID)},
		{Name: "_commit_time", T: types.Make(types.TimestampTZOID)},
	}
}
