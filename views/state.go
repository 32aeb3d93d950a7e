package views

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"strings"

	"github.com/RaduBerinde/btreemap"
	"github.com/cockroachdb/pebble/v2"

	"github.com/strand-db/strand/log"
	"github.com/strand-db/strand/sql/types"
)

// Key layout of view state, in the first hook namespace:
//
//	0x10 view(u32) 'o' row                          → count, encoded output row
//	0x10 view(u32) 'o' group                        → 1, encoded output row (a grouped view)
//	0x10 view(u32) 'g' op(u8) group                 → encoded group state
//	0x10 view(u32) 'm' op(u8) agg(u8) group value   → count, value (min/max multisets)
//	0x10 view(u32) 'd' op(u8) agg(u8) group value   → count   (count(DISTINCT))
//	0x10 view(u32) 'j' op(u8) side(u8) joinkey row  → count, matches, encoded input row
//	0x10 view(u32) 't' op(u8) partition order row   → count, encoded input row (top-N)
//	0x10 view(u32) 'c' op(u8) row                   → count (DISTINCT below the root)
//
// op numbers the stateful operators of the plan. row, group, joinkey,
// partition and value are tuples in the order-preserving key encoding with
// a NULL marker per value, so each is self-delimiting and a group's, join
// key's or partition's entries form a range; order is the top-N's sort key,
// encoded so that byte order is the ORDER BY order.
const nsView = log.NSHookFirst

func viewPrefix(id log.TableID) []byte {
	return binary.BigEndian.AppendUint32([]byte{nsView}, uint32(id))
}

func sub(id log.TableID, kind byte) []byte { return append(viewPrefix(id), kind) }

// OutputRange is the key range of a view's output rows.
func OutputRange(id log.TableID) (start, end []byte) {
	start = sub(id, 'o')
	return start, prefixEnd(start)
}

func prefixEnd(p []byte) []byte {
	end := append([]byte(nil), p...)
	for i := len(end) - 1; i >= 0; i-- {
		end[i]++
		if end[i] != 0 {
			return end[:i+1]
		}
	}
	return nil
}

// appendTuple encodes values with a NULL marker each.
func appendTuple(buf []byte, ts []types.T, vals []types.Datum) []byte {
	for i, v := range vals {
		buf = appendValue(buf, ts[i], v)
	}
	return buf
}

func appendValue(buf []byte, t types.T, v types.Datum) []byte {
	if v == nil {
		return append(buf, 0)
	}
	return types.AppendKey(append(buf, 1), t, v)
}

func decodeValue(t types.T, b []byte) (types.Datum, []byte, error) {
	if len(b) == 0 {
		return nil, nil, io.ErrUnexpectedEOF
	}
	if b[0] == 0 {
		return nil, b[1:], nil
	}
	return types.DecodeKey(t, b[1:])
}

// counted values: a varint count, then an optional payload.
func encodeCounted(n int64, payload []byte) []byte {
	out := binary.AppendVarint(nil, n)
	return append(out, payload...)
}

func decodeCounted(v []byte) (int64, []byte) {
	n, k := binary.Varint(v)
	if k <= 0 {
		return 0, nil
	}
	return n, v[k:]
}

// overlay holds the state changes of the intent being prepared: the hook
// state (the batch) does not see them until the sequencer writes them. They
// are kept ordered, so a range read (a join key's rows, a partition's top
// candidates, a group's min) costs the size of the range, not of
// everything pending: a backfill leaves the whole view pending.
type overlay struct {
	st      log.HookState
	pending *btreemap.BTreeMap[string, pendingValue]
}

type pendingValue struct {
	v       []byte
	deleted bool
}

func newOverlay(st log.HookState) *overlay {
	return &overlay{st: st, pending: btreemap.New[string, pendingValue](16, strings.Compare)}
}

func (o *overlay) get(k []byte) ([]byte, bool, error) {
	if _, p, ok := o.pending.Get(string(k)); ok {
		return p.v, !p.deleted, nil
	}
	v, closer, err := o.st.Get(k)
	if err == pebble.ErrNotFound {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	out := append([]byte(nil), v...)
	closer.Close()
	return out, true, nil
}

func (o *overlay) set(k, v []byte) { o.pending.ReplaceOrInsert(string(k), pendingValue{v: v}) }
func (o *overlay) del(k []byte)    { o.pending.ReplaceOrInsert(string(k), pendingValue{deleted: true}) }

// addCount adds w to a counted entry, deleting it at zero; it returns the
// count before and after.
func (o *overlay) addCount(k []byte, w int64, payload []byte) (before, after int64, err error) {
	v, ok, err := o.get(k)
	if err != nil {
		return 0, 0, err
	}
	if ok {
		before, _ = decodeCounted(v)
	}
	after = before + w
	if after == 0 {
		o.del(k)
	} else {
		o.set(k, encodeCounted(after, payload))
	}
	return before, after, nil
}

type pendingEntry struct {
	k string
	pendingValue
}

// pendingIn lists the pending entries with a prefix, in key order.
func (o *overlay) pendingIn(prefix []byte) []pendingEntry {
	var out []pendingEntry
	hi := btreemap.Max[string]()
	if end := prefixEnd(prefix); end != nil {
		hi = btreemap.LT(string(end))
	}
	o.pending.AscendFunc(btreemap.GE(string(prefix)), hi, func(k string, v pendingValue) bool {
		out = append(out, pendingEntry{k, v})
		return true
	})
	return out
}

// scan calls fn for the live entries with a prefix, in key order, merging
// pending changes over the stored state. fn may return log.ErrStop to end
// the scan early.
func (o *overlay) scan(prefix []byte, fn func(k, v []byte) error) error {
	pend := o.pendingIn(prefix)
	pi := 0
	emitPending := func(upto []byte) error {
		for pi < len(pend) && (upto == nil || pend[pi].k < string(upto)) {
			p := pend[pi]
			pi++
			if !p.deleted {
				if err := fn([]byte(p.k), p.v); err != nil {
					return err
				}
			}
		}
		return nil
	}
	err := log.ScanHookRange(o.st, prefix, prefixEnd(prefix), func(k, v []byte) error {
		if err := emitPending(k); err != nil {
			return err
		}
		if pi < len(pend) && pend[pi].k == string(k) {
			return nil // overridden; emitted (or deleted) from pending
		}
		return fn(k, v)
	})
	if err == nil {
		err = emitPending(nil)
	}
	if errors.Is(err, log.ErrStop) {
		return nil
	}
	return err
}

// extreme returns the first (or last) live key with a prefix, without
// reading the whole range: the stored range is walked from the wanted end,
// skipping keys the intent deleted, and compared with the intent's own
// first (or last) pending key.
func (o *overlay) extreme(prefix []byte, last bool) ([]byte, error) {
	var best []byte
	hi := btreemap.Max[string]()
	if end := prefixEnd(prefix); end != nil {
		hi = btreemap.LT(string(end))
	}
	pick := func(k string, v pendingValue) bool {
		if v.deleted {
			return true
		}
		best = []byte(k)
		return false
	}
	if last {
		o.pending.DescendFunc(hi, btreemap.GE(string(prefix)), pick)
	} else {
		o.pending.AscendFunc(btreemap.GE(string(prefix)), hi, pick)
	}
	it, err := o.st.NewIter(&pebble.IterOptions{LowerBound: prefix, UpperBound: prefixEnd(prefix)})
	if err != nil {
		return nil, err
	}
	defer it.Close()
	valid := it.First()
	if last {
		valid = it.Last()
	}
	for ; valid; valid = step(it, last) {
		k := it.Key()
		if _, p, ok := o.pending.Get(string(k)); ok && p.deleted {
			continue
		}
		if best == nil || (!last && bytes.Compare(k, best) < 0) || (last && bytes.Compare(k, best) > 0) {
			best = append([]byte(nil), k...)
		}
		break
	}
	return best, it.Error()
}

func step(it *pebble.Iterator, back bool) bool {
	if back {
		return it.Prev()
	}
	return it.Next()
}

func (o *overlay) mutations() []log.Mutation {
	out := make([]log.Mutation, 0, o.pending.Len())
	o.pending.AscendFunc(btreemap.Min[string](), btreemap.Max[string](), func(k string, p pendingValue) bool {
		if p.deleted {
			out = append(out, log.Mutation{Key: []byte(k), Delete: true})
		} else {
			out = append(out, log.Mutation{Key: []byte(k), Value: p.v})
		}
		return true
	})
	return out
}
