package views

import (
	"bytes"
	"encoding/binary"
	"io"
	"sort"

	"github.com/cockroachdb/pebble/v2"

	"github.com/strand-db/strand/log"
	"github.com/strand-db/strand/sql/types"
)

// Key layout of view state, in the first hook namespace:
//
//	0x10 view(u32) 'o' row                   → count, encoded output row
//	0x10 view(u32) 'g' group                 → encoded group state
//	0x10 view(u32) 'm' agg(u8) group value   → count   (min/max multisets)
//	0x10 view(u32) 'd' agg(u8) group value   → count   (count(DISTINCT))
//	0x10 view(u32) 'j' side(u8) joinkey row  → count, encoded source row
//
// row, group, joinkey and value are tuples in the order-preserving key
// encoding with a NULL marker per value, so each is self-delimiting and a
// group's or join key's entries form a range.
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
// state (the batch) does not see them until the sequencer writes them.
type overlay struct {
	st      log.HookState
	pending map[string][]byte // nil value: deleted
}

func newOverlay(st log.HookState) *overlay {
	return &overlay{st: st, pending: map[string][]byte{}}
}

func (o *overlay) get(k []byte) ([]byte, bool, error) {
	if v, ok := o.pending[string(k)]; ok {
		return v, v != nil, nil
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

func (o *overlay) set(k, v []byte) { o.pending[string(k)] = v }
func (o *overlay) del(k []byte)    { o.pending[string(k)] = nil }

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

// scan calls fn for the live entries with a prefix, in key order, merging
// pending changes over the stored state.
func (o *overlay) scan(prefix []byte, fn func(k, v []byte) error) error {
	var pend []string
	for k := range o.pending {
		if bytes.HasPrefix([]byte(k), prefix) {
			pend = append(pend, k)
		}
	}
	sort.Strings(pend)
	pi := 0
	emitPending := func(upto []byte) error {
		for pi < len(pend) && (upto == nil || pend[pi] < string(upto)) {
			k := pend[pi]
			pi++
			if v := o.pending[k]; v != nil {
				if err := fn([]byte(k), v); err != nil {
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
		if _, ok := o.pending[string(k)]; ok {
			return nil // overridden; emitted (or deleted) from pending
		}
		return fn(k, v)
	})
	if err != nil {
		return err
	}
	return emitPending(nil)
}

// extreme returns the first (or last) live key with a prefix, without
// reading the whole range: the stored range is walked from the wanted end,
// skipping keys the intent deleted, and compared with the intent's own
// pending keys.
func (o *overlay) extreme(prefix []byte, last bool) ([]byte, error) {
	var best []byte
	for k, v := range o.pending {
		if v == nil || !bytes.HasPrefix([]byte(k), prefix) {
			continue
		}
		if best == nil || (!last && k < string(best)) || (last && k > string(best)) {
			best = []byte(k)
		}
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
		if v, ok := o.pending[string(k)]; ok && v == nil {
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
	out := make([]log.Mutation, 0, len(o.pending))
	for k, v := range o.pending {
		if v == nil {
			out = append(out, log.Mutation{Key: []byte(k), Delete: true})
		} else {
			out = append(out, log.Mutation{Key: []byte(k), Value: v})
		}
	}
	sort.Slice(out, func(i, j int) bool { return bytes.Compare(out[i].Key, out[j].Key) < 0 })
	return out
}
