package views

import (
	"bytes"
	"fmt"
	"sort"

	"github.com/RaduBerinde/btreemap"

	"github.com/strand-db/strand/exec"
	"github.com/strand-db/strand/log"
	"github.com/strand-db/strand/sql/types"
)

// A top-N keeps every input row as a candidate under 't' op partition
// order row, where order encodes the ORDER BY keys so that byte order is
// their order (a descending key's bytes are inverted; NULLs get a marker
// below or above every value as NULLS FIRST/LAST asks) and the row breaks
// ties. The output is the candidates at positions [Offset, Offset+N) of a
// partition. A delta row reads the first Offset+N candidates of its
// partition before and after it is applied and emits the difference; a row
// that sorts after a full window changes nothing and costs one bounded
// read. Deleting a row of the window thus refills it from the next
// candidate, and the cost per delta is O(Offset+N), not the partition's
// size.

type topEntry struct {
	key []byte
	row exec.Row
	n   int64
}

func (r *run) topN(t *TopN, row exec.Row, w int64) error {
	pvals, err := evalAll(r.env, t.Partition, row)
	if err != nil {
		return err
	}
	prefix := append(opPrefix(r.p.View, 't', t.ID), appendTuple(nil, exprTypes(t.Partition), pvals)...)
	sk, err := t.sortKey(r.env, row)
	if err != nil {
		return err
	}
	k := append(append(append([]byte(nil), prefix...), sk...), appendTuple(nil, t.Types, row)...)
	limit := t.Offset + t.N
	before, full, err := r.topEntries(t, prefix, limit)
	if err != nil {
		return err
	}
	payload, err := types.EncodeRow(nil, t.Types, row)
	if err != nil {
		return err
	}
	// The scan read every candidate up to its last key, so a key at or
	// before it has the count the scan saw (zero when it is not there):
	// no read is needed for it.
	var n int64
	covered := !full || bytes.Compare(k, before[len(before)-1].key) <= 0
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
			r.ov.set(k, encodeCounted(n, payload))
		}
	} else if w > 0 && t.fresh {
		n = w
		r.ov.setFresh(k, encodeCounted(n, payload))
	} else if _, n, err = r.ov.addCount(k, w, payload); err != nil {
		return err
	}
	if n < 0 {
		return fmt.Errorf("materialized view %d: negative top-N multiplicity %d", r.p.View, n)
	}
	if !covered {
		return nil // sorts after the window, before and after
	}
	var after []topEntry
	if w > 0 {
		// An insertion only pushes candidates down: the window after it is
		// the one before with the row added, which needs no second read.
		after = withEntry(before, topEntry{key: k, row: row, n: n})
	} else if after, _, err = r.topEntries(t, prefix, limit); err != nil {
		return err
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

// topEntries reads a partition's candidates in order until they cover
// limit positions; full reports whether they do.
func (r *run) topEntries(t *TopN, prefix []byte, limit int64) (out []topEntry, full bool, err error) {
	if limit <= 0 {
		return nil, true, nil
	}
	// The window as the earlier intents left it, when this intent has not
	// touched the partition (the entries are shared: never modified).
	cacheable := false
	if c := r.ov.cache; c != nil {
		hi := btreemap.Max[string]()
		if end := prefixEnd(prefix); end != nil {
			hi = btreemap.LT(string(end))
		}
		if !r.ov.pendingWithin(prefix, hi) {
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

// topDiff emits the change from one window to the other: rows that left
// it out, rows that entered in, and with row_number every row whose
// position moved out at the old position and in at the new one.
func (r *run) topDiff(t *TopN, before, after []topEntry) error {
	type item struct {
		row  exec.Row
		rank int64
		w    int64
	}
	items := map[string]*item{}
	add := func(es []topEntry, w int64) {
		var pos int64
		for _, e := range es {
			for c := int64(0); c < e.n; c++ {
				if pos >= t.Offset && pos < t.Offset+t.N {
					id := string(e.key)
					rank := pos - t.Offset + 1
					if t.RowNumber && !t.ConstRank {
						id = fmt.Sprintf("%s/%d", e.key, rank)
					}
					it := items[id]
					if it == nil {
						it = &item{row: e.row, rank: rank}
						items[id] = it
					}
					it.w += w
				}
				pos++
			}
		}
	}
	add(before, -1)
	add(after, 1)
	ids := make([]string, 0, len(items))
	for id, it := range items {
		if it.w != 0 {
			ids = append(ids, id)
		}
	}
	// Retractions first, so a downstream count never dips below zero.
	sort.Slice(ids, func(i, j int) bool {
		if wi, wj := items[ids[i]].w, items[ids[j]].w; (wi < 0) != (wj < 0) {
			return wi < 0
		}
		return ids[i] < ids[j]
	})
	for _, id := range ids {
		it := items[id]
		row := it.row
		if t.RowNumber {
			rank := it.rank
			if t.ConstRank {
				rank = 1
			}
			row = append(append(exec.Row(nil), it.row...), rank)
		}
		if err := r.emit(t, row, it.w); err != nil {
			return err
		}
	}
	return nil
}

// sortKey encodes a row's ORDER BY values so that byte order is their
// order.
func (t *TopN) sortKey(env *exec.Env, row exec.Row) ([]byte, error) {
	var out []byte
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
