package views

import (
	"bytes"
	"fmt"
	"slices"

	"github.com/strand-db/strand/exec"
	"github.com/strand-db/strand/log"
	"github.com/strand-db/strand/sql/types"
)

// Most window functions read a bounded neighbourhood of their row: lag
// and lead a constant number of rows away, an aggregate or
// first_value/last_value/nth_value over a ROWS frame bounded on both
// sides. When every function of a window operator does, and they share
// one ORDER BY, a change at position p can only change the outputs of
// the rows within fwd before p and back after it (the rows whose reach
// covers p), and those rows' outputs read only rows within back+fwd of
// p. So a change reads back+fwd rows (counting repeats) on each side of
// it, in key order, which is the functions' order when the view keys its
// rows by partition and ORDER BY values (Window.ordered), computes the
// outputs of those rows before and after with the query engine's code,
// and emits the difference. Its cost is its reach, not the partition.
//
// Ranking functions (row_number, rank, ...), running aggregates and any
// frame unbounded on a side number or sum every row before or after, so
// a change there moves its partition: they keep the whole-partition path.

// windowReach is how far a window operator's functions read: back rows
// before their own, fwd after.
type windowReach struct {
	back, fwd int64
}

// reachOf returns how far funcs read, or nil when some function reads an
// unbounded number of rows, or they do not share one ORDER BY.
func reachOf(funcs []*exec.WindowFunc) *windowReach {
	var r windowReach
	for _, f := range funcs {
		if len(f.Order) == 0 || !sameSortKeys(f.Order, funcs[0].Order) {
			return nil
		}
		switch {
		case f.Name == "lag" || f.Name == "lead":
			off := int64(1)
			if len(f.Args) > 1 {
				v, ok := constInt(f.Args[1])
				if !ok {
					return nil
				}
				off = v
			}
			if f.Name == "lag" {
				off = -off
			}
			if off < 0 {
				r.back = max(r.back, -off)
			} else {
				r.fwd = max(r.fwd, off)
			}
		case f.Agg != nil || f.Name == "first_value" || f.Name == "last_value" || f.Name == "nth_value":
			if f.Frame.Mode != exec.FrameRows {
				return nil
			}
			for _, b := range []exec.FrameBound{f.Frame.Start, f.Frame.End} {
				switch b.Kind {
				case exec.CurrentRow:
				case exec.OffsetPreceding, exec.OffsetFollowing:
					v, ok := constInt(b.Offset)
					if !ok || v < 0 {
						return nil
					}
					if b.Kind == exec.OffsetPreceding {
						r.back = max(r.back, v)
					} else {
						r.fwd = max(r.fwd, v)
					}
				default:
					return nil
				}
			}
		default:
			return nil
		}
	}
	return &r
}

// constInt returns the value of a constant integer expression (a literal,
// possibly cast).
func constInt(e exec.Expr) (int64, bool) {
	for {
		c, ok := e.(*exec.Cast)
		if !ok {
			break
		}
		e = c.Arg
	}
	c, ok := e.(*exec.Const)
	if !ok {
		return 0, false
	}
	v, ok := c.Val.(int64)
	return v, ok
}

func sameSortKeys(a, b []exec.SortKey) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Desc != b[i].Desc || a[i].NullsFirst != b[i].NullsFirst ||
			a[i].Expr.String() != b[i].Expr.String() || a[i].Expr.Type() != b[i].Expr.Type() {
			return false
		}
	}
	return true
}

// windowNear applies a weighted input row (its key k, whose partition
// prefix is k[:plen]) to a window whose functions have a bounded reach,
// reading only the rows within reach of it.
func (r *run) windowNear(x *Window, k []byte, plen int, row exec.Row, w int64) error {
	span := x.reach.back + x.reach.fwd
	part := k[:plen]
	// take reads rows into es, counting their positions in n, until the
	// read has span of them.
	take := func(es *[]windowEntry, n *int64) func(key, v []byte) error {
		return func(key, v []byte) error {
			c, payload := decodeCounted(v)
			rw, err := types.DecodeRow(x.Types, payload)
			if err != nil {
				return fmt.Errorf("materialized view %d: window row: %w", r.p.View, err)
			}
			*es = append(*es, windowEntry{key: bytes.Clone(key), row: rw, n: c})
			if *n += c; *n >= span {
				return log.ErrStop
			}
			return nil
		}
	}
	// The span rows before k, read backwards, then put in order.
	var pre []windowEntry
	var preN int64
	if span > 0 {
		if err := r.ov.mergeBack(part, k, take(&pre, &preN)); err != nil {
			return err
		}
		slices.Reverse(pre)
	}
	// The row's own count, then the span rows after it.
	var had int64
	var post []windowEntry
	var postN int64
	readPost := take(&post, &postN)
	err := r.ov.merge(k, prefixEnd(part), func(key, v []byte) error {
		if !bytes.Equal(key, k) {
			return readPost(key, v)
		}
		had, _ = decodeCounted(v)
		if span == 0 {
			return log.ErrStop
		}
		return nil
	})
	if err != nil {
		return err
	}
	n := had + w
	if n < 0 {
		return fmt.Errorf("materialized view %d: negative multiplicity %d in a window", r.p.View, n)
	}
	if n == 0 {
		r.ov.del(k)
	} else {
		payload, err := types.EncodeRow(nil, x.Types, row)
		if err != nil {
			return err
		}
		r.ov.set(k, encodeCounted(n, payload))
	}
	// The rows whose outputs may change: the last fwd before the row, its
	// own copies, and the first back after it. Each of them reads at most
	// back rows before it and fwd after it, all within the rows read (or
	// the partition ends there).
	outputs := func(count int64) ([]exec.Row, error) {
		es := slices.Clone(pre)
		if count > 0 {
			es = append(es, windowEntry{key: k, row: row, n: count})
		}
		es = append(es, post...)
		all, err := x.outputs(r, es)
		if err != nil {
			return nil, err
		}
		lo := max(preN-x.reach.fwd, 0)
		hi := min(preN+count+x.reach.back, int64(len(all)))
		return all[lo:hi], nil
	}
	before, err := outputs(had)
	if err != nil {
		return err
	}
	after, err := outputs(n)
	if err != nil {
		return err
	}
	return r.windowDiff(x, before, after)
}
