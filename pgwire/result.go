package pgwire

import (
	"context"
	"errors"
	"io"

	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/strand-db/strand/sql/pgerr"
)

// resultWriter is the ResultWriter of a connection, reset for each Query or
// Execute message.
type resultWriter struct {
	c        *conn
	extended bool
	// completed is set by Complete or EmptyQuery (extended protocol: once).
	completed bool
	// copyOut is set between CopyOut and Complete; copyIn while a COPY FROM
	// STDIN reader is live.
	copyOut bool
	copyIn  *copyInReader
	row     pgproto3.DataRow
	tag     []byte
}

func (w *resultWriter) reset(extended bool) {
	w.extended, w.completed, w.copyOut, w.copyIn = extended, false, false, nil
}

// finish checks the state the statement left and returns the error to
// report, if any.
func (w *resultWriter) finish(ctx context.Context, err error) error {
	if w.copyIn != nil && !w.copyIn.done && err == nil {
		err = pgerr.New(pgerr.InternalError, "COPY FROM STDIN ended before the client's CopyDone")
	}
	if w.copyIn != nil && w.copyIn.fatal != nil {
		// The client broke the COPY sub-protocol: no more messages can be
		// trusted.
		w.c.broken = true
		return w.copyIn.fatal
	}
	w.copyIn = nil
	return err
}

func (w *resultWriter) BeginRows(cols []Column, formats []int16) error {
	if w.extended {
		return pgerr.New(pgerr.InternalError, "pgwire: BeginRows in the extended protocol")
	}
	w.c.sendRowDescription(cols, formats)
	return w.c.writeErr()
}

func (w *resultWriter) WriteRow(values [][]byte) error {
	c := w.c
	w.row.Values = values
	c.w.Lock()
	defer c.w.Unlock()
	c.sendLocked(&w.row)
	w.row.Values = nil
	if len(c.w.out) >= flushAt {
		return c.flushLocked()
	}
	return c.w.err
}

func (w *resultWriter) Complete(tag string) error {
	if w.extended && w.completed {
		return pgerr.New(pgerr.InternalError, "pgwire: Complete called twice for one portal")
	}
	if w.copyOut {
		w.c.send(&pgproto3.CopyDone{})
		w.copyOut = false
	}
	w.completed = true
	w.tag = append(w.tag[:0], tag...)
	w.c.sendCommandComplete(w.tag)
	return w.c.writeErr()
}

func (w *resultWriter) EmptyQuery() error {
	w.completed = true
	w.c.send(&pgproto3.EmptyQueryResponse{})
	return w.c.writeErr()
}

func (w *resultWriter) CopyIn(format int16, columnFormats []int16) (io.Reader, error) {
	codes := make([]uint16, len(columnFormats))
	for i, f := range columnFormats {
		codes[i] = uint16(f)
	}
	w.c.send(&pgproto3.CopyInResponse{OverallFormat: byte(format), ColumnFormatCodes: codes})
	if err := w.c.flush(); err != nil {
		return nil, err
	}
	w.copyIn = &copyInReader{c: w.c}
	return w.copyIn, nil
}

func (w *resultWriter) CopyOut(format int16, columnFormats []int16) (io.Writer, error) {
	codes := make([]uint16, len(columnFormats))
	for i, f := range columnFormats {
		codes[i] = uint16(f)
	}
	w.c.send(&pgproto3.CopyOutResponse{OverallFormat: byte(format), ColumnFormatCodes: codes})
	w.copyOut = true
	return copyOutWriter{w.c}, w.c.writeErr()
}

func (w *resultWriter) Deallocate(name string) bool {
	_, ok := w.c.stmts[name]
	w.c.dropStatement(name)
	return ok
}

func (w *resultWriter) DeallocateAll() {
	for name := range w.c.stmts {
		w.c.dropStatement(name)
	}
}

// copyInReader reads the CopyData of COPY FROM STDIN as one stream.
type copyInReader struct {
	c     *conn
	chunk []byte
	done  bool
	err   error
	// fatal is a protocol violation inside COPY; it ends the connection.
	fatal error
}

func (r *copyInReader) Read(p []byte) (int, error) {
	for len(r.chunk) == 0 {
		if r.done {
			return 0, io.EOF
		}
		if r.err != nil {
			return 0, r.err
		}
		typ, body, err := r.c.readMessage()
		if err != nil {
			r.err = err
			var pe *pgerr.Error
			if errors.As(err, &pe) {
				r.fatal = pe
			}
			return 0, err
		}
		switch typ {
		case 'd':
			r.chunk = body
		case 'c':
			r.done = true
		case 'f':
			var m pgproto3.CopyFail
			if err := m.Decode(body); err != nil {
				r.fatal = malformed("CopyFail", err)
				r.err = r.fatal
				return 0, r.err
			}
			r.err = pgerr.New(pgerr.QueryCanceled, "COPY from stdin failed: %s", m.Message)
			return 0, r.err
		case 'H', 'S':
			// Ignored during COPY, as the protocol says.
		default:
			r.fatal = fatal(pgerr.ProtocolViolation, "unexpected message type 0x%02X during COPY from stdin", typ)
			r.err = r.fatal
			return 0, r.err
		}
	}
	n := copy(p, r.chunk)
	r.chunk = r.chunk[n:]
	return n, nil
}

// copyOutWriter sends each Write as one CopyData message.
type copyOutWriter struct{ c *conn }

func (w copyOutWriter) Write(p []byte) (int, error) {
	c := w.c
	c.w.Lock()
	defer c.w.Unlock()
	c.sendLocked(&pgproto3.CopyData{Data: p})
	if len(c.w.out) >= flushAt {
		if err := c.flushLocked(); err != nil {
			return 0, err
		}
	}
	if c.w.err != nil {
		return 0, c.w.err
	}
	return len(p), nil
}

// Flush sends what was written so far: a COPY TO STDOUT that streams
// without end (SUBSCRIBE) flushes before it waits for more data.
func (w copyOutWriter) Flush() error {
	c := w.c
	c.w.Lock()
	defer c.w.Unlock()
	return c.flushLocked()
}
