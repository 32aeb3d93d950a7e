package views

import (
	"bytes"
	"cmp"
	"fmt"
	"slices"
	"sort"

	"github.com/strand-db/strand/exec"
	"github.com/strand-db/strand/log"
	"github.com/strand-db/strand/sql/types"
)

// A top-N keeps every input row as a candidate under 't' op partition
// order row, where order encodes the ORDER BY keys so that byte order is
// their order (a descending key's bytes are inverted; NULLs get a marker
// below or above every value as NULLS FIRST/LAST asks) and the row breaks
// ties (with short keys, the key columns of a keyed table's row break
// them, plan.go). The output is the candidates at positions
// [Offset, Offset+N) of a partition. A delta row reads the first Offset+N
// candidates of its partition before and after it is applied and emits
// the difference; a row that sorts after a full window changes nothing and
// costs one bounded read. Deleting a row of the window thus refills it
// from the next candidate, and the cost per delta is O(Offset+N), not the
// partition's size.

type topEntry struct {
	key []byte
	row exec.Row
	n   int64
}

func (r *run) topN(t *TopN, row exec.Row, w int64) error {
	// The candidate's key: prefix, partition, sort key, row (scratch: the
	// overlay copies the keys it keeps).
	buf := append(t.keyBuf[:0], t.prefix...)
	for i, e := range t.Partition {
		v, err := e.Eval(r.env, row)
		if err != nil {
			return err
		}
		buf = appendValueIn(buf, t.compact, t.partTypes[i], v)
	}
	plen := len(buf)
	buf, err := t.appendSortKey(buf, r.env, row)
	if err != nil {
		return err
	}
	buf = appendRowKey(buf, t.compact, t.rowKey, t.rowKeyTypes, t.Types, row)
	t.keyBuf = buf
	prefix, k := buf[:plen], buf
	limit := t.Offset + t.N
	before, full, err := r.topEntries(t, prefix, limit)
	if err != nil {
		return err
	}
	value := func(n int64) ([]byte, error) { return countedRow(n, t.Types, row) }
	// The window read every candidate up to its last key, so a key at or
	// before it has the count the window holds (zero when it is not
	// there): no read is needed for it.
	var n int64
	covered := !full || (len(before) > 0 && bytes.Compare(k, before[len(before)-1].key) <= 0)
	if covered {
		var was int64
		for _, e := range before {
			if bytes.Equal(e.key, k) {
				was = e.n
				break
			}
		}
		if n = was + w; n == 0 {
			r.ov.del(k)
		} else if n > 0 {
			v, err := value(n)
			if err != nil {
				return err
			}
			r.ov.set(k, v)
		}
	} else if w > 0 && t.fresh && !r.ov.pendingHas(k) {
		// (With short keys an updated row's old version, retracted just
		// before, has the same key: pending, and not fresh.)
		n = w
		v, err := value(n)
		if err != nil {
			return err
		}
		r.ov.setFresh(k, v)
	} else {
		payload, err := types.EncodeRow(nil, t.Types, row)
		if err != nil {
			return err
		}
		if _, n, err = r.ov.addCount(k, w, payload); err != nil {
			return err
		}
	}
	if n < 0 {
		return fmt.Errorf("materialized view %d: negative top-N multiplicity %d", r.p.View, n)
	}
	if !covered {
		// Sorts after the window, before and after: the window is as it
		// was, and later changes of this intent may use it.
		r.windows[string(prefix)] = topWindow{limit: limit, entries: before, full: full}
		return nil
	}
	var after []topEntry
	if w > 0 {
		// An insertion only pushes candidates down: the window after it is
		// the one before with the row added, which needs no second read.
		// The row is kept in the window past this call: a copy.
		after = withEntry(before, topEntry{key: bytes.Clone(k), row: append(exec.Row(nil), row...), n: n})
		var afterFull bool
		after, afterFull = trimWindow(after, limit)
		r.windows[string(prefix)] = topWindow{limit: limit, entries: after, full: afterFull}
	} else {
		// A removal may pull the next candidate in: read the window again
		// (through the intent's changes), and keep it for what follows.
		delete(r.windows, string(prefix))
		var afterFull bool
		if after, afterFull, err = r.topEntries(t, prefix, limit); err != nil {
			return err
		}
		r.windows[string(prefix)] = topWindow{limit: limit, entries: after, full: afterFull}
	}
	return r.topDiff(t, before, after)
}

// withEntry returns es (in key order) with e's key set to e, in order.
func withEntry(es []topEntry, e topEntry) []topEntry {
	i, found := sort.Find(len(es), func(i int) int { return bytes.Compare(e.key, es[i].key) })
	out := make([]topEntry, 0, len(es)+1)
	out = append(out, es[:i]...)
	out = append(out, e)
	if found {
		i++
	}
	return append(out, es[i:]...)
}

// trimWindow cuts a partition's first candidates (in order) to those that
// cover limit positions; full reports whether they do.
func trimWindow(es []topEntry, limit int64) ([]topEntry, bool) {
	var covered int64
	for i, e := range es {
		if covered += e.n; covered >= limit {
			return es[: i+1 : i+1], true
		}
	}
	return es, false
}

// topEntries reads a partition's candidates in order until they cover
// limit positions; full reports whether they do. The entries are shared
// (with the cache, and with later changes of the intent): never modified.
func (r *run) topEntries(t *TopN, prefix []byte, limit int64) (out []topEntry, full bool, err error) {
	if limit <= 0 {
		return nil, true, nil
	}
	// The window as an earlier change of this intent left it.
	if w, ok := r.windows[string(prefix)]; ok && w.limit == limit {
		return w.entries, w.full, nil
	}
	// The window as the earlier intents left it, when this intent has not
	// touched the partition.
	cacheable := false
	if c := r.ov.cache; c != nil {
		if !r.ov.pendingUnder(prefix) {
			if w, ok := c.windows[string(prefix)]; ok && w.limit == limit {
				return w.entries, w.full, nil
			}
			cacheable = true
		}
	}
	defer func() {
		if cacheable && err == nil && len(out) > 0 {
			r.ov.cache.putWindow(string(prefix), topWindow{limit: limit, entries: out, full: full})
		}
	}()
	var covered int64
	err = r.ov.scan(prefix, func(k, v []byte) error {
		n, payload := decodeCounted(v)
		row, err := types.DecodeRow(t.Types, payload)
		if err != nil {
			return err
		}
		out = append(out, topEntry{key: append([]byte(nil), k...), row: row, n: n})
		if covered += n; covered >= limit {
			full = true
			return log.ErrStop
		}
		return nil
	})
	return out, full, err
}

// windowItem is a row's place in a window's output: with row_number, one
// item per position (the same row at another position is another output
// row); otherwise one per candidate, weighted by its positions.
type windowItem struct {
	key  []byte
	rank int64
	row  exec.Row
	w    int64
}

// windowItems appends the output rows of a window to out, in key order
// (then rank).
func (t *TopN) windowItems(out []windowItem, es []topEntry, w int64) []windowItem {
	perPosition := t.RowNumber && !t.ConstRank
	start := len(out)
	var pos int64
	for _, e := range es {
		for c := int64(0); c < e.n; c++ {
			if pos >= t.Offset && pos < t.Offset+t.N {
				rank := pos - t.Offset + 1
				if !perPosition && len(out) > start && bytes.Equal(out[len(out)-1].key, e.key) {
					out[len(out)-1].w += w
				} else {
					out = append(out, windowItem{key: e.key, rank: rank, row: e.row, w: w})
				}
			}
			pos++
		}
		if pos >= t.Offset+t.N {
			break
		}
	}
	return out
}

// topDiff emits the change from one window to the other: rows that left
// it out, rows that entered in, and with row_number every row whose
// position moved out at the old position and in at the new one. Both
// windows list their rows in key order, so one merge pairs them.
func (r *run) topDiff(t *TopN, before, after []topEntry) error {
	perPosition := t.RowNumber && !t.ConstRank
	// The item lists live in one scratch slice of the operator (emit
	// never comes back into it): the old window's items, the new one's,
	// then the changed ones.
	items := t.windowItems(t.items[:0], before, -1)
	nOld := len(items)
	items = t.windowItems(items, after, 1)
	nCur := len(items)
	// At most every item changes.
	items = slices.Grow(items, nCur)
	old, cur := items[:nOld:nOld], items[nOld:nCur:nCur]
	changed := items[nCur:]
	i, j := 0, 0
	for i < len(old) || j < len(cur) {
		c := 0
		switch {
		case i == len(old):
			c = 1
		case j == len(cur):
			c = -1
		default:
			if c = bytes.Compare(old[i].key, cur[j].key); c == 0 && perPosition {
				c = cmp.Compare(old[i].rank, cur[j].rank)
			}
		}
		switch {
		case c < 0:
			changed = append(changed, old[i])
			i++
		case c > 0:
			changed = append(changed, cur[j])
			j++
		default:
			if it := old[i]; it.w+cur[j].w != 0 {
				it.w += cur[j].w
				changed = append(changed, it)
			}
			i++
			j++
		}
	}
	t.items = items[:0]
	// Retractions first, so a downstream count never dips below zero.
	for _, retract := range []bool{true, false} {
		for _, it := range changed {
			if (it.w < 0) != retract {
				continue
			}
			row := it.row
			if t.RowNumber {
				rank := it.rank
				if t.ConstRank {
					rank = 1
				}
				// Scratch too: operators never keep a row they are handed.
				t.rankRow = append(append(t.rankRow[:0], it.row...), rank)
				row = t.rankRow
			}
			if err := r.emit(t, row, it.w); err != nil {
				return err
			}
		}
	}
	return nil
}

// appendSortKey appends a row's ORDER BY values, encoded so that byte
// order is their order.
func (t *TopN) appendSortKey(out []byte, env *exec.Env, row exec.Row) ([]byte, error) {
	for _, k := range t.Order {
		v, err := k.Expr.Eval(env, row)
		if err != nil {
			return nil, err
		}
		start := len(out)
		if v == nil {
			// Stored as 0x00 (first) or 0x02 (last) around values' 0x01;
			// inverted below for a descending key.
			if k.NullsFirst != k.Desc {
				out = append(out, 0x00)
			} else {
				out = append(out, 0x02)
			}
		} else if i, ok := v.(int64); ok && t.compact && isInt(k.Expr.Type()) {
			// The value marker (0x01, as AppendKey writes), then the
			// compact integer.
			out = appendInt(append(out, 0x01), i)
		} else {
			out = types.AppendKey(out, k.Expr.Type(), v)
		}
		if k.Desc {
			for i := start; i < len(out); i++ {
				out[i] = ^out[i]
			}
		}
	}
	return out, nil
}
