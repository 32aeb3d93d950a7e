package session

import (
	"context"
	"strconv"

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
	// The same reader as a cursor FOR SUBSCRIBE: COPY fetches everything
	// pending, waiting for the next change when nothing is.
	sc, err := s.newSubCursor(sub)
	if err != nil {
		return 0, err
	}
	out, err := w.CopyOut(0, make([]int16, len(sc.cols)))
	if err != nil {
		return 0, err
	}
	var n int64
	var line, val []byte
	for {
		rows, err := sc.fetch(ctx, s, -1)
		if err != nil {
			return n, err
		}
		for _, row := range rows {
			line = line[:0]
			for i, c := range sc.cols {
				if i > 0 {
					line = append(line, o.delimiter)
				}
				if row[i] == nil {
					line = append(line, o.null...)
					continue
				}
				val = types.AppendText(val[:0], c.T, row[i], s.vars.types)
				line = escapeText(line, val, o.delimiter)
			}
			line = append(line, '\n')
			if _, err := out.Write(line); err != nil {
				return n, err
			}
			n++
		}
		if f, ok := out.(interface{ Flush() error }); ok {
			if err := f.Flush(); err != nil {
				return n, err
			}
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
