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

// topEntry is a candidate in a window: its key, its row's encoding (the
// stored value after the count) and its count. Rows are decoded only
// when they are emitted: a window is kept in the cache for every
// partition, and decoded rows (a slice and a boxed value per column) made
// the cache most of the objects the collector marks on every cycle.
type topEntry struct {
	key, val []byte
	n        int64
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
	slen := len(buf) - plen
	buf = appendRowKey(buf, t.compact, t.rowKey, t.rowKeyTypes, t.Types, row)
	if t.Ties != NoTies {
		buf = appendSortLen(buf, slen)
	}
	t.keyBuf = buf
	prefix, k := buf[:plen], buf
	limit := t.Offset + t.N
	win, err := r.topEntries(t, prefix, limit)
	if err != nil {
		return err
	}
	before, full := win.entries, win.full
	value := func(n int64) ([]byte, error) { return countedRow(n, t.Types, row) }
	// The window read every candidate up to its last key, so a key at or
	// before it has the count the window holds (zero when it is not
	// there): no read is needed for it.
	var n int64
	// stored is the value the candidate is stored with, when set.
	var stored []byte
	covered := !full || (len(before) > 0 && t.atOrBefore(k, before[len(before)-1].key, plen))
	if covered {
		var was int64
		for _, e := range before {
			if bytes.Equal(e.key, k) {
				was = e.n
				break
			}
		}
		if n = was + w; n == 0 {
			r.ov.delCandidate(k, plen)
		} else if n > 0 {
			v, err := value(n)
			if err != nil {
				return err
			}
			r.ov.setCandidate(k, v, false, plen)
			stored = v
		}
	} else if w > 0 && t.fresh && !r.ov.pendingHas(k) {
		// (With short keys an updated row's old version, retracted just
		// before, has the same key: pending, and not fresh.)
		n = w
		v, err := value(n)
		if err != nil {
			return err
		}
		r.ov.setCandidate(k, v, true, plen)
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
		r.setWindow(prefix, win)
		return nil
	}
	var after []topEntry
	if w > 0 {
		// An insertion only pushes candidates down: the window after it is
		// the one before with the row added, which needs no second read.
		// The key is kept in the window past this call: a copy (the
		// value is the stored one, never modified).
		_, payload := decodeCounted(stored)
		after = withEntry(before, topEntry{key: bytes.Clone(k), val: payload, n: n})
		var afterFull bool
		after, afterFull = t.trim(after, limit, plen)
		win.entries, win.full, win.changed = after, afterFull, true
		r.setWindow(prefix, win)
	} else {
		// A removal may pull the next candidate in: read the window again
		// (through the intent's changes), and keep it for what follows.
		delete(r.windows, ustr(prefix))
		next, err := r.topEntries(t, prefix, limit)
		if err != nil {
			return err
		}
		after = next.entries
		if next.slot == nil {
			next.slot, next.gen = win.slot, win.gen
		}
		next.changed = true
		r.setWindow(prefix, next)
	}
	if t == r.p.topNode && !r.keepsDeltas(r.p.View) {
		// The view's rows are read from the candidates (topout.go) and no
		// view or feed reads its changes: there is no diff to make.
		return nil
	}
	return r.topDiff(t, before, after, plen)
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

// setWindow records the window a change of the intent leaves in its
// partition.
func (r *run) setWindow(prefix []byte, w topWindow) {
	if i, ok := r.windows[ustr(prefix)]; ok {
		r.winList[i] = w
		return
	}
	r.windows[string(prefix)] = len(r.winList)
	r.winList = append(r.winList, w)
}

// topEntries reads a partition's candidates in order until they cover
// limit positions; the window's full reports whether they do. The
// entries are shared (with the cache, and with later changes of the
// intent): never modified. The window's slot is the cache's window of
// the partition, when the cache has one.
func (r *run) topEntries(t *TopN, prefix []byte, limit int64) (win topWindow, err error) {
	win.limit = limit
	if limit <= 0 {
		win.full = true
		return win, nil
	}
	// The window as an earlier change of this intent left it.
	if i, ok := r.windows[ustr(prefix)]; ok && r.winList[i].limit == limit {
		return r.winList[i], nil
	}
	// The window as the earlier intents left it, when this intent has not
	// touched the partition.
	cacheable := false
	c := r.ov.cache
	if c != nil {
		if !r.ov.pendingUnder(prefix) {
			if w := c.window(prefix); w != nil {
				if w.limit == limit {
					return topWindow{limit: limit, entries: w.entries, full: w.full, slot: w, gen: c.gen}, nil
				}
				win.slot, win.gen = w, c.gen
			}
			cacheable = true
		}
	}
	// The keys and values (valid only during the call) are copied back
	// to back into one buffer, which the entries view once the scan is
	// done (the buffer may move while it grows).
	var buf []byte
	var ends []entryEnd
	var full bool
	var covered int64
	// With ties, a window ends before the first candidate ranked past
	// limit, which must be read to be known.
	var tc *tieCounter
	if t.Ties != NoTies {
		tc = &tieCounter{ties: t.Ties, plen: len(prefix)}
		win.ties = true
	}
	err = r.ov.scan(prefix, func(k, v []byte) error {
		n, payload := decodeCounted(v)
		if tc != nil && tc.next(k, n) > limit {
			full = true
			return log.ErrStop
		}
		buf = append(buf, k...)
		kEnd := len(buf)
		buf = append(buf, payload...)
		ends = append(ends, entryEnd{kEnd, len(buf), n})
		if covered += n; tc == nil && covered >= limit {
			full = true
			return log.ErrStop
		}
		return nil
	})
	if err != nil {
		return win, err
	}
	if tc != nil && !full {
		full = tc.full(limit)
	}
	out := make([]topEntry, len(ends))
	start := 0
	for i, e := range ends {
		out[i] = topEntry{key: buf[start:e.key:e.key], val: buf[e.key:e.val:e.val], n: e.n}
		start = e.val
	}
	win.entries, win.full = out, full
	if cacheable && len(out) > 0 {
		win.slot = c.putWindow(string(prefix), win)
		win.gen = c.gen
	}
	return win, nil
}

// entryEnd is where a scanned candidate's key and value end in the
// buffer topEntries copies them into, and its count.
type entryEnd struct {
	key, val int
	n        int64
}

// packEntries copies a window's entries into two allocations (the
// entries, and their keys and values), for a window the cache keeps.
func packEntries(es []topEntry) []topEntry {
	n := 0
	for _, e := range es {
		n += len(e.key) + len(e.val)
	}
	buf := make([]byte, 0, n)
	out := make([]topEntry, len(es))
	for i, e := range es {
		k := len(buf)
		buf = append(buf, e.key...)
		v := len(buf)
		buf = append(buf, e.val...)
		out[i] = topEntry{key: buf[k:v:v], val: buf[v:len(buf):len(buf)], n: e.n}
	}
	return out
}

// windowItem is a row's place in a window's output: with row_number, one
// item per position (the same row at another position is another output
// row); otherwise one per candidate, weighted by its positions (with
// ties, all of a candidate's positions have its rank). val is the row's
// encoding.
type windowItem struct {
	key, val []byte
	rank     int64
	w        int64
}

// windowItems appends the output rows of a window to out, in key order
// (then rank); plen is the length of the window's partition prefix.
func (t *TopN) windowItems(out []windowItem, es []topEntry, w int64, plen int) []windowItem {
	if t.Ties != NoTies {
		tc := tieCounter{ties: t.Ties, plen: plen}
		for _, e := range es {
			rank := tc.next(e.key, e.n)
			if rank > t.N {
				break
			}
			out = append(out, windowItem{key: e.key, val: e.val, rank: rank, w: w * e.n})
		}
		return out
	}
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
					out = append(out, windowItem{key: e.key, val: e.val, rank: rank, w: w})
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
// position moved out at the old position and in at the new one (with
// ties, every row whose rank moved). Both windows list their rows in key
// order, so one merge pairs them.
func (r *run) topDiff(t *TopN, before, after []topEntry, plen int) error {
	numbered := t.RowNumber && !t.ConstRank
	// The item lists live in one scratch slice of the operator (emit
	// never comes back into it): the old window's items, the new one's,
	// then the changed ones.
	items := t.windowItems(t.items[:0], before, -1, plen)
	nOld := len(items)
	items = t.windowItems(items, after, 1, plen)
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
			if c = bytes.Compare(old[i].key, cur[j].key); c == 0 && numbered {
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
			// Scratch: operators never keep a row they are handed.
			if len(t.rankRow) != len(t.Types)+1 {
				t.rankRow = make(exec.Row, len(t.Types)+1)
			}
			if err := types.DecodeRowInto(t.rankRow[:len(t.Types)], t.Types, it.val); err != nil {
				return fmt.Errorf("materialized view %d: top-N candidate: %w", r.p.View, err)
			}
			// A derived view's change is keyed by its candidate (output).
			r.topKey = it.key
			row := t.rankRow[:len(t.Types)]
			if t.RowNumber {
				rank := it.rank
				if t.ConstRank {
					rank = 1
				}
				row = t.rankRow
				row[len(t.Types)] = rank
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
	return appendSortKeys(out, env, row, t.Order, t.compact)
}

// appendSortKeys appends the keys of order for row so that byte order is
// their order (a descending key's bytes inverted; NULLs first or last as
// asked).
func appendSortKeys(out []byte, env *exec.Env, row exec.Row, order []SortKey, compact bool) ([]byte, error) {
	for _, k := range order {
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
		} else if i, ok := v.(int64); ok && compact && isInt(k.Expr.Type()) {
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
