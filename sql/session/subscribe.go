package session

import (
	"context"
	"strconv"
	"strings"

	"github.com/strand-db/strand/exec"
	"github.com/strand-db/strand/log"
	"github.com/strand-db/strand/pgwire"
	"github.com/strand-db/strand/sql"
	"github.com/strand-db/strand/sql/pgerr"
	"github.com/strand-db/strand/sql/types"
)

// subscribe streams a table's changes as COPY rows until the client cancels
// (COPY (SUBSCRIBE t) TO STDOUT): every event from the beginning of the
// table in commit order, then each new one as soon as it is durable. Each
// row is the change's position (LSN), the table, the key, _version, the op
// (insert, update, delete, append) and the row's columns (NULL for a
// delete). Options: start = 'beginning' (default), 'now', or a position
// (resume after that LSN: a position printed earlier); key_prefix = 'p'
// keeps only keys whose text starts with p (path keys: 'eu/'). Only durable changes are sent, so nothing a subscriber saw can
// vanish in a crash; a key's changes arrive in version order.
func (s *Session) subscribe(ctx context.Context, sub *sql.Subscribe, o copyOptions, w pgwire.ResultWriter) (int64, error) {
	if o.format == "binary" {
		return 0, pgerr.New(pgerr.FeatureNotSupported, "SUBSCRIBE in binary COPY format is not supported yet")
	}
	b := s.builder(s.catalog(), nil)
	td, err := b.LookupTable(sub.Target.Schema, sub.Target.Name)
	if err != nil {
		return 0, err
	}
	if td.Kind == log.View {
		return 0, pgerr.New(pgerr.FeatureNotSupported, "SUBSCRIBE to a materialized view is not supported yet")
	}
	pos, keyPrefix, err := s.subscribeOptions(sub)
	if err != nil {
		return 0, err
	}
	out, err := w.CopyOut(0, make([]int16, 5+len(td.Current().Columns)))
	if err != nil {
		return 0, err
	}
	var (
		n       int64
		line    []byte
		val     []byte
		row     exec.Row
		layouts = map[*log.Catalog]*exec.TableLayout{}
	)
	for {
		changed := s.eng.Log.Changed()
		snap := s.eng.Log.Snapshot()
		cur, ok := snap.Catalog().Table(td.ID)
		if !ok {
			snap.Release()
			return n, pgerr.New(pgerr.UndefinedTable, "relation %q was dropped", td.Name)
		}
		l := layouts[snap.Catalog()]
		if l == nil {
			l = exec.NewTableLayout(cur)
			layouts = map[*log.Catalog]*exec.TableLayout{snap.Catalog(): l}
		}
		err := snap.Events(td.ID, pos, func(e *log.Event) error {
			keyText := l.KeyText(e.Key)
			if keyPrefix != "" && !strings.HasPrefix(keyText, keyPrefix) {
				pos = e.LSN
				return nil
			}
			line = line[:0]
			line = strconv.AppendUint(line, e.LSN, 10)
			line = append(line, o.delimiter)
			line = escapeText(line, []byte(cur.Name), o.delimiter)
			line = append(line, o.delimiter)
			line = escapeText(line, []byte(keyText), o.delimiter)
			line = append(line, o.delimiter)
			line = strconv.AppendUint(line, e.Version, 10)
			line = append(line, o.delimiter)
			line = append(line, e.Op.String()...)
			var err error
			if e.Op != log.OpDelete {
				if row, err = l.Decode(e.SchemaVersion, e.Row, e.Version, row); err != nil {
					return err
				}
			}
			for i, t := range l.Types {
				line = append(line, o.delimiter)
				if e.Op == log.OpDelete || row[i] == nil {
					line = append(line, o.null...)
					continue
				}
				val = types.AppendText(val[:0], t, row[i], s.vars.types)
				line = escapeText(line, val, o.delimiter)
			}
			line = append(line, '\n')
			if _, err := out.Write(line); err != nil {
				return err
			}
			pos = e.LSN
			n++
			return nil
		})
		snap.Release()
		if err != nil {
			return n, err
		}
		if f, ok := out.(interface{ Flush() error }); ok {
			if err := f.Flush(); err != nil {
				return n, err
			}
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return n, context.Cause(ctx)
		}
	}
}

// subscribeOptions reads SUBSCRIBE's WITH options: start = 'beginning'
// (default), 'now' or a position; key_prefix = 'text'.
func (s *Session) subscribeOptions(sub *sql.Subscribe) (pos uint64, keyPrefix string, err error) {
	for _, op := range sub.Options {
		switch op.Name {
		case "start":
			switch op.Value {
			case "beginning":
			case "now":
				snap := s.eng.Log.Snapshot()
				pos = snap.LSN()
				snap.Release()
			default:
				p, perr := strconv.ParseUint(op.Value, 10, 64)
				if perr != nil {
					return 0, "", pgerr.New(pgerr.InvalidParameterValue, "SUBSCRIBE start must be 'beginning', 'now' or a position, not %q", op.Value)
				}
				pos = p
			}
		case "key_prefix":
			keyPrefix = op.Value
		default:
			return 0, "", pgerr.New(pgerr.SyntaxError, "SUBSCRIBE option %q not recognized", op.Name)
		}
	}
	return pos, keyPrefix, nil
}
