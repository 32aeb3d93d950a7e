package views

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"slices"
	"strings"
	"unsafe"

	"github.com/RaduBerinde/btreemap"
	"github.com/cockroachdb/pebble/v2"

	"github.com/strand-db/strand/exec"
	"github.com/strand-db/strand/log"
	"github.com/strand-db/strand/sql/types"
)

// Key layout of view state, in the first hook namespace:
//
//	0x10 view(u32) 'o' row                          → count, encoded output row
//	0x10 view(u32) 'o' group                        → -1, uvarint length, encoded output row, encoded group state
//	                                                  (a root GROUP BY without HAVING; older views: 1, encoded output row)
//	0x10 view(u32) 'g' op(u8) group                 → encoded group state (below the root, with HAVING, older views)
//	0x10 view(u32) 'm' op(u8) agg(u8) group value   → count, value (min/max multisets)
//	0x10 view(u32) 'd' op(u8) agg(u8) group value   → count   (count(DISTINCT))
//	0x10 view(u32) 'j' op(u8) side(u8) joinkey row  → count, matches, encoded input row
//	0x10 view(u32) 't' op(u8) partition order row   → count, encoded input row (top-N)
//	0x10 view(u32) 'c' op(u8) row                   → count (DISTINCT below the root)
//	0x10 view(u32) 'e' op(u8) time(u64) row         → count, encoded input row (temporal filter, temporal.go)
//	0x10 view(u32) 'T'                              → the view's time, timestamptz (u64; temporal filters)
//	0x10 view(u32) 'W' op(u8) partition row         → count, encoded input row (window functions, window.go)
//	0x10 view(u32) 'a' op(u8) row                   → left count, right count (INTERSECT/EXCEPT ALL, setop.go)
//	0x10 view(u32) 'b'                              → backfill record (JSON)
//
// op numbers the stateful operators of the plan. row, group, joinkey,
// partition and value are tuples in the order-preserving key encoding with
// a NULL marker per value, so each is self-delimiting and a group's, join
// key's or partition's entries form a range; order is the top-N's sort key,
// encoded so that byte order is the ORDER BY order. In 'j' and 't' keys of a
// view with short keys (its backfill record says), row is only the key
// columns when the input rows are a keyed table's, and an 'o' row of such
// a view whose rows each stand for a keyed table's row (freshOutput) is
// that table's key columns (plan.go, setLayout). In a fact-dimension join
// view made with fact_output in its record (plan.go, factJoin), an 'o' row
// is the join key then the fact table's key, and the join's 'j' entries of
// the fact side hold only the fact rows without a dimension row. In a view
// made with compact_keys, an integer value in any of these tuples and sort
// keys is its marker then appendInt's bytes (1 to 9 of them) instead of
// types.AppendKey's nine. A view made with top_output in its record has
// no 'o' rows: they are read from its root top-N's 't' entries
// (topout.go).
const nsView = log.NSHookFirst

func viewPrefix(id log.TableID) []byte {
	return binary.BigEndian.AppendUint32([]byte{nsView}, uint32(id))
}

func sub(id log.TableID, kind byte) []byte { return append(viewPrefix(id), kind) }

// StateRange is the key range of all of a view's state: its output rows,
// its operators' state, its backfill record.
func StateRange(id log.TableID) (start, end []byte) {
	start = viewPrefix(id)
	return start, prefixEnd(start)
}

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

// appendValueIn is appendValue in a view's key layout: with compact
// (compact_keys in its backfill record) an integer takes as few bytes as
// its value needs (appendInt) instead of a marker and eight bytes, which
// shortens every key with an id, an account or an amount in it.
func appendValueIn(buf []byte, compact bool, t types.T, v types.Datum) []byte {
	if i, ok := v.(int64); ok && compact && isInt(t) {
		return appendInt(append(buf, 1), i)
	}
	return appendValue(buf, t, v)
}

// appendTupleIn is appendTuple in a view's key layout (appendValueIn).
func appendTupleIn(buf []byte, compact bool, ts []types.T, vals []types.Datum) []byte {
	for i, v := range vals {
		buf = appendValueIn(buf, compact, ts[i], v)
	}
	return buf
}

func isInt(t types.T) bool {
	return t.OID == types.Int2OID || t.OID == types.Int4OID || t.OID == types.Int8OID
}

// appendInt encodes an integer so that byte order is numeric order and no
// encoding is a prefix of another: a header byte that gives the sign and
// the number of bytes that follow, then those bytes big-endian (0 to 8 of
// them: 0x88+n and the value for v >= 0, 0x87-n and v's low n bytes for
// v < 0, where n is the length of ^v). Values below 2^16 take three bytes.
// Inverting the bytes (a descending sort key) reverses the order.
func appendInt(buf []byte, v int64) []byte {
	u, h := uint64(v), byte(0x88)
	n := (bits.Len64(u) + 7) / 8
	if v < 0 {
		n = (bits.Len64(^u) + 7) / 8
		h = 0x87 - byte(n)
	} else {
		h += byte(n)
	}
	buf = append(buf, h)
	for i := n - 1; i >= 0; i-- {
		buf = append(buf, byte(u>>(8*i)))
	}
	return buf
}

// skipValueIn returns what follows the value that starts b, encoded by
// appendValueIn with the same compact and type.
func skipValueIn(b []byte, compact bool, t types.T) ([]byte, error) {
	if compact && isInt(t) && len(b) > 0 && b[0] == 1 {
		// The marker, appendInt's header, and the bytes it announces.
		if len(b) < 2 {
			return nil, io.ErrUnexpectedEOF
		}
		n := int(b[1]) - 0x88
		if b[1] < 0x88 {
			n = 0x87 - int(b[1])
		}
		if n < 0 || n > 8 || len(b) < 2+n {
			return nil, fmt.Errorf("corrupt integer in a view key: %x", b)
		}
		return b[2+n:], nil
	}
	_, rest, err := decodeValue(t, b)
	return rest, err
}

// recodeKey re-encodes a tuple from appendTuple's encoding into a view's
// compact one (a point lookup's key prefix, built without the layout).
func recodeKey(b []byte, ts []types.T) ([]byte, error) {
	var out []byte
	for i := 0; len(b) > 0; i++ {
		if i >= len(ts) {
			return nil, errors.New("view key prefix longer than the key")
		}
		v, rest, err := decodeValue(ts[i], b)
		if err != nil {
			return nil, err
		}
		out, b = appendValueIn(out, true, ts[i], v), rest
	}
	return out, nil
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
	it      *pebble.Iterator
	// getIt serves point reads (get) past the first few of an intent
	// (gets counts them): see storedGet.
	getIt *pebble.Iterator
	gets  int
	// cache, when set, holds state values as the earlier intents left
	// them; get consults it before the hook state.
	cache *stateCache
	// absent are keys a read found missing from the stored state.
	absent map[string]struct{}
}

type pendingValue struct {
	v       []byte
	deleted bool
	// fresh: the stored state has no such key, so deleting the entry
	// removes it from pending instead of leaving a tombstone. Without this
	// an intent that moves a row through many keys (a count in a join
	// key, say) would leave a tombstone per step for every later scan of
	// the range to walk over.
	fresh bool
	// plen is the length of the top-N partition prefix of a candidate's
	// key, when the top-N wrote it (0: unknown): stateCache.written.
	plen uint16
}

func newOverlay(st log.HookState) *overlay {
	return &overlay{st: st, pending: btreemap.New[string, pendingValue](16, strings.Compare), absent: map[string]struct{}{}}
}

// reuse readies an overlay for the next intent: its tree nodes and map
// are reused (an intent of one row would otherwise allocate them anew),
// unless the last intent made them large (a backfill step), when
// clearing them would cost more than new ones.
func (o *overlay) reuse(st log.HookState) *overlay {
	if o == nil || o.pending.Len() > 1024 || len(o.absent) > 1024 {
		return newOverlay(st)
	}
	o.pending.Clear(true)
	clear(o.absent)
	o.st, o.it, o.getIt, o.cache, o.gets = st, nil, nil, nil, 0
	return o
}

// ustr views b as a string without copying, for lookups that do not keep
// the key.
func ustr(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// unsafeBytes views s as bytes, never to be modified.
func unsafeBytes(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }

func (o *overlay) get(k []byte) ([]byte, bool, error) {
	if _, p, ok := o.pending.Get(ustr(k)); ok {
		return p.v, !p.deleted, nil
	}
	if o.cache != nil {
		if v, found, ok := o.cache.get(k); ok {
			if !found {
				o.absent[string(k)] = struct{}{}
			}
			return v, found, nil
		}
	}
	out, found, err := o.storedGet(k)
	if err != nil {
		return nil, false, err
	}
	if !found {
		if o.cache != nil {
			o.cache.put(ustr(k), nil, false)
		}
		o.absent[string(k)] = struct{}{}
		return nil, false, nil
	}
	if o.cache != nil {
		o.cache.put(ustr(k), out, true)
	}
	return out, true, nil
}

// getIterOptions: most point reads of view state look for keys that do
// not exist yet (a new output row, a join's or a top-N's first row for a
// value), and a Get consults no bloom filter in the last level, so it
// loads and searches an L6 index and data block for each of them. A
// prefix seek with the L6 filters skips every file the filter rules out
// (the default comparer's prefix is the whole key). For a COPY of 10,000
// bids into a stream under a projection view, Get was a fifth of the
// process's CPU.
var getIterOptions = pebble.IterOptions{UseL6Filters: true}

// getsBeforeIter is how many point reads an intent makes with Get before
// it makes an iterator for the rest.
const getsBeforeIter = 8

// storedGet reads k from the hook state (a copy of its value). An
// intent's first few reads are Gets: an iterator over the indexed batch
// costs more to make than a single-row intent's reads (mostly answered by
// the cache) save. Later ones go through one iterator per intent, which
// keeps its level iterators and blocks from one read to the next.
func (o *overlay) storedGet(k []byte) ([]byte, bool, error) {
	if o.gets++; o.gets <= getsBeforeIter {
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
	if o.getIt == nil {
		it, err := o.st.NewIter(&getIterOptions)
		if err != nil {
			return nil, false, err
		}
		o.getIt = it
	}
	if !o.getIt.SeekPrefixGE(k) || !bytes.Equal(o.getIt.Key(), k) {
		return nil, false, o.getIt.Error()
	}
	v, err := o.getIt.ValueAndErr()
	if err != nil {
		return nil, false, err
	}
	return append([]byte(nil), v...), true, nil
}

// commit appends an intent's state changes to muts as mutations, and puts
// them into the cache, in one pass over them. Only keys the cache already
// holds (read before, by this intent or an earlier one) are refreshed:
// most written keys are written without being read (a join's or a
// top-N's stored rows, an output row), are read again, if ever, by a
// range scan, and would only push the hot state out. The top-N windows in
// replaced (the intent's, which the caller installs next) are left alone.
// The mutations' keys share the pending strings' bytes (the sequencer
// copies mutations into its batch and never modifies them).
func (o *overlay) commit(replaced map[string]int, muts []log.Mutation) []log.Mutation {
	muts = slices.Grow(muts, o.pending.Len())
	o.pending.AscendFunc(btreemap.Min[string](), btreemap.Max[string](), func(k string, p pendingValue) bool {
		key := unsafe.Slice(unsafe.StringData(k), len(k))
		if p.deleted {
			muts = append(muts, log.Mutation{Key: key, Delete: true})
		} else {
			muts = append(muts, log.Mutation{Key: key, Value: p.v})
		}
		if o.cache != nil {
			o.cache.refresh(k, p.v, !p.deleted)
			o.cache.written(k, int(p.plen), replaced)
		}
		return true
	})
	return muts
}

func (o *overlay) set(k, v []byte) { o.setCandidate(k, v, false, 0) }

// setCandidate is set (fresh: setFresh) of a top-N candidate whose
// partition prefix is k[:plen] (0: not a candidate, or unknown).
func (o *overlay) setCandidate(k, v []byte, fresh bool, plen int) {
	if !fresh {
		fresh = o.isFresh(k)
	}
	o.pending.ReplaceOrInsert(string(k), pendingValue{v: v, fresh: fresh, plen: partLen(plen)})
}

// delCandidate is del of a top-N candidate whose partition prefix is
// k[:plen] (0: not a candidate, or unknown).
func (o *overlay) delCandidate(k []byte, plen int) {
	if o.isFresh(k) {
		o.pending.Delete(ustr(k))
		return
	}
	o.pending.ReplaceOrInsert(string(k), pendingValue{deleted: true, plen: partLen(plen)})
}

func partLen(n int) uint16 {
	if n > 0xffff {
		return 0 // unknown: written tries every length
	}
	return uint16(n)
}

// pendingHas reports whether the intent has changed k.
func (o *overlay) pendingHas(k []byte) bool {
	_, _, ok := o.pending.Get(ustr(k))
	return ok
}

// setFresh sets a key the caller knows the stored state does not hold.
func (o *overlay) setFresh(k, v []byte) { o.setCandidate(k, v, true, 0) }

func (o *overlay) del(k []byte) { o.delCandidate(k, 0) }

// isFresh reports whether the stored state is known not to hold k.
func (o *overlay) isFresh(k []byte) bool {
	if _, p, ok := o.pending.Get(ustr(k)); ok {
		return p.fresh
	}
	_, ok := o.absent[string(k)]
	return ok
}

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
// pending changes over the stored state. fn may return log.ErrStop to end
// the scan early. k and v are valid only during the call, and fn must
// not change the overlay's state.
func (o *overlay) scan(prefix []byte, fn func(k, v []byte) error) error {
	if o.cache != nil && !o.pendingUnder(prefix) {
		return o.scanStored(prefix, nil, func(k, v []byte, _ exec.Row) error { return fn(k, v) })
	}
	return o.merge(prefix, prefixEnd(prefix), fn)
}

// rowDecoder decodes a state entry's row. Every scan of a given prefix
// decodes its entries with the same decoder (the prefix names the
// operator and what it stores).
type rowDecoder func(v []byte) (exec.Row, error)

// scanRows is scan that also hands fn each entry's row, decoded by dec.
// A range remembered by the cache keeps the rows it decoded, so a range
// read again and again (a join key's rows on the other side, for every
// delta row with that key) is decoded once. The rows are shared: never
// modified, and copied by whoever keeps them.
func (o *overlay) scanRows(prefix []byte, dec rowDecoder, fn func(k, v []byte, row exec.Row) error) error {
	if o.cache != nil && !o.pendingUnder(prefix) {
		return o.scanStored(prefix, dec, fn)
	}
	return o.mergeRows(prefix, prefixEnd(prefix), dec, fn)
}

// mergeRows is merge that also hands fn each entry's row, decoded by dec.
func (o *overlay) mergeRows(lower, end []byte, dec rowDecoder, fn func(k, v []byte, row exec.Row) error) error {
	return o.merge(lower, end, func(k, v []byte) error {
		row, err := dec(v)
		if err != nil {
			return err
		}
		return fn(k, v, row)
	})
}

// merge is scan of the range [lower, end) (end nil: no bound), merging
// pending changes over the stored state, without the cache.
func (o *overlay) merge(lower, end []byte, fn func(k, v []byte) error) error {
	return o.mergeDir(lower, end, false, fn)
}

// mergeBack is merge from the range's end down to its start.
func (o *overlay) mergeBack(lower, end []byte, fn func(k, v []byte) error) error {
	return o.mergeDir(lower, end, true, fn)
}

func (o *overlay) mergeDir(lower, end []byte, back bool, fn func(k, v []byte) error) error {
	hi := btreemap.Max[string]()
	if end != nil {
		hi = btreemap.LT(string(end))
	}
	it, err := o.iter(lower, end)
	if err != nil {
		return err
	}
	var valid bool
	if back {
		valid = it.Last()
	} else {
		valid = it.First()
	}
	// ahead reports whether the stored key comes before pending key k in
	// the walk's direction.
	ahead := func(k string) bool {
		if back {
			return string(it.Key()) > k
		}
		return string(it.Key()) < k
	}
	// The pending entries drive the merge: stored keys before each one are
	// emitted first, a stored key equal to it is overridden by it.
	var ferr error
	visit := func(k string, p pendingValue) bool {
		for valid && ahead(k) {
			v, err := it.ValueAndErr()
			if err != nil {
				ferr = err
				return false
			}
			if ferr = fn(it.Key(), v); ferr != nil {
				return false
			}
			valid = step(it, back)
		}
		if valid && string(it.Key()) == k {
			valid = step(it, back)
		}
		if !p.deleted {
			if ferr = fn(unsafe.Slice(unsafe.StringData(k), len(k)), p.v); ferr != nil {
				return false
			}
		}
		return true
	}
	if back {
		o.pending.DescendFunc(hi, btreemap.GE(string(lower)), visit)
	} else {
		o.pending.AscendFunc(btreemap.GE(string(lower)), hi, visit)
	}
	for ; ferr == nil && valid; valid = step(it, back) {
		v, err := it.ValueAndErr()
		if err != nil {
			return err
		}
		ferr = fn(it.Key(), v)
	}
	if ferr == nil {
		ferr = it.Error()
	}
	if errors.Is(ferr, log.ErrStop) {
		return nil
	}
	return ferr
}

// pendingUnder reports whether the intent has pending entries with a
// prefix: the first pending key at or after it has it.
func (o *overlay) pendingUnder(prefix []byte) bool {
	p := ustr(prefix)
	found := false
	o.pending.AscendFunc(btreemap.GE(p), btreemap.Max[string](), func(k string, _ pendingValue) bool {
		found = strings.HasPrefix(k, p)
		return false
	})
	return found
}

// scanStored is scan of a range the intent has not touched: it is served
// from the cache when an earlier scan read the whole range and it was
// small, and otherwise read from the stored state and, when small,
// remembered. A join's lookup of the other side's rows for a key is the
// case this is for: the same keys are looked up again and again.
func (o *overlay) scanStored(prefix []byte, dec rowDecoder, fn func(k, v []byte, row exec.Row) error) error {
	if kvs, ok := o.cache.rangeOf(prefix); ok {
		for i := range kvs {
			e := &kvs[i]
			if dec != nil && e.row == nil {
				row, err := dec(e.v)
				if err != nil {
					return err
				}
				e.row = row
				o.cache.bytes += rowSize(row)
			}
			if err := fn(unsafe.Slice(unsafe.StringData(e.k), len(e.k)), e.v, e.row); err != nil {
				if errors.Is(err, log.ErrStop) {
					return nil
				}
				return err
			}
		}
		return nil
	}
	it, err := o.iter(prefix, prefixEnd(prefix))
	if err != nil {
		return err
	}
	var seen []cachedKV
	keep := true
	for valid := it.First(); valid; valid = it.Next() {
		v, err := it.ValueAndErr()
		if err != nil {
			return err
		}
		var row exec.Row
		if dec != nil {
			if row, err = dec(v); err != nil {
				return err
			}
		}
		if keep {
			if len(seen) < maxCachedRange {
				seen = append(seen, cachedKV{k: string(it.Key()), v: append([]byte(nil), v...), row: row})
			} else {
				keep = false
			}
		}
		if err := fn(it.Key(), v, row); err != nil {
			if errors.Is(err, log.ErrStop) {
				return nil // read only in part: not remembered
			}
			return err
		}
	}
	if err := it.Error(); err != nil {
		return err
	}
	if keep {
		o.cache.putRange(string(prefix), seen)
	}
	return nil
}

// iter returns the overlay's iterator over the stored state, bounded to
// [lower, upper). One iterator serves every read of a Prepare: the state
// does not change while the hook runs (its writes are pending here), and
// an iterator over an indexed batch is costly to create.
func (o *overlay) iter(lower, upper []byte) (*pebble.Iterator, error) {
	if o.it == nil {
		it, err := o.st.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: upper})
		if err != nil {
			return nil, err
		}
		o.it = it
		return it, nil
	}
	o.it.SetBounds(lower, upper)
	return o.it, nil
}

// close releases the iterator.
func (o *overlay) close() {
	if o.it != nil {
		o.it.Close()
		o.it = nil
	}
	if o.getIt != nil {
		o.getIt.Close()
		o.getIt = nil
	}
}

// extreme returns the first (or last) live key with a prefix, without
// reading the whole range: the stored range is walked from the wanted end,
// skipping keys the intent deleted, and compared with the intent's own
// first (or last) pending key.
func (o *overlay) extreme(prefix []byte, last bool) ([]byte, error) {
	var best []byte
	end := prefixEnd(prefix)
	hi := btreemap.Max[string]()
	if end != nil {
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
	it, err := o.iter(prefix, end)
	if err != nil {
		return nil, err
	}
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

// countedRow is a counted value whose payload is a row's encoding, in one
// allocation.
func countedRow(n int64, ts []types.T, row []types.Datum) ([]byte, error) {
	buf := binary.AppendVarint(make([]byte, 0, 12+10*len(row)), n)
	return types.EncodeRow(buf, ts, row)
}
