package log

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"github.com/cockroachdb/pebble/v2"
)

// TableID names a table (or a view) inside the log. IDs are never reused.
type TableID uint32

// Namespaces: the first byte of every Pebble key.
const (
	nsMeta    byte = 0x01
	nsCatalog byte = 0x02
	nsHead    byte = 0x03
	nsVersion byte = 0x04
	nsEvent   byte = 0x05
	// NSHookFirst..NSHookLast are free for commit hooks (view state).
	NSHookFirst byte = 0x10
	NSHookLast  byte = 0x1f
)

var (
	keyLastLSN = []byte{nsMeta, 'l', 's', 'n'}
	keyCatalog = []byte{nsCatalog, 'c', 'a', 't', 'a', 'l', 'o', 'g'}
)

// appendEscaped appends k so that the result is self-delimiting and sorts like
// k: 0x00 becomes 0x00 0xFF and the key ends with 0x00 0x01.
func appendEscaped(dst, k []byte) []byte {
	dst = appendEscapedPrefix(dst, k)
	return append(dst, 0x00, 0x01)
}

// appendEscapedPrefix escapes k without the terminator: every key that starts
// with k encodes to bytes that start with the result.
func appendEscapedPrefix(dst, k []byte) []byte {
	for {
		i := bytes.IndexByte(k, 0)
		if i < 0 {
			return append(dst, k...)
		}
		dst = append(dst, k[:i]...)
		dst = append(dst, 0x00, 0xFF)
		k = k[i+1:]
	}
}

// decodeEscaped reads one escaped key from b and returns it and the rest.
func decodeEscaped(b []byte) (key, rest []byte, err error) {
	var out []byte
	for {
		i := bytes.IndexByte(b, 0)
		if i < 0 || i+1 >= len(b) {
			return nil, nil, fmt.Errorf("unterminated key")
		}
		out = append(out, b[:i]...)
		switch b[i+1] {
		case 0xFF:
			out = append(out, 0)
			b = b[i+2:]
		case 0x01:
			if out == nil {
				out = []byte{}
			}
			return out, b[i+2:], nil
		default:
			return nil, nil, fmt.Errorf("bad key escape 0x%02x", b[i+1])
		}
	}
}

func appendTable(dst []byte, ns byte, t TableID) []byte {
	dst = append(dst, ns)
	return binary.BigEndian.AppendUint32(dst, uint32(t))
}

func headKey(dst []byte, t TableID, k []byte) []byte {
	return appendEscaped(appendTable(dst, nsHead, t), k)
}

func versionKey(dst []byte, t TableID, k []byte, v uint64) []byte {
	dst = appendEscaped(appendTable(dst, nsVersion, t), k)
	return binary.BigEndian.AppendUint64(dst, v)
}

func eventKey(dst []byte, t TableID, lsn uint64) []byte {
	return binary.BigEndian.AppendUint64(appendTable(dst, nsEvent, t), lsn)
}

// tableSpans is Pebble's SpanPolicyFunc: it ends a flush's or a
// compaction's output file at every boundary between namespaces and, in the
// namespaces keyed by table (heads, version entries, events, hook state),
// between tables. Without it an output file of a flush spans a table's heads,
// version entries and events, and every newer table's key range in each
// namespace lies inside that file's bounds. A bulk chunk ingested into a new
// table (COPY) overlapped the bounds of such a file, could not go into its
// level and was compacted down later: after 10 s of INSERTs into one table, a
// 10M-row COPY into a new one used 7.7 s of CPU instead of 5.8 s. With the
// split, a new table's chunks are ingested at the bottom, and a table's
// events, whose keys only grow, no longer share files with its heads.
func tableSpans(start []byte) (pebble.SpanPolicy, []byte, error) {
	if len(start) == 0 {
		return pebble.SpanPolicy{}, nil, nil
	}
	n := 1
	if tableScoped(start[0]) && len(start) >= 5 {
		n = 5
	}
	return pebble.SpanPolicy{}, prefixEnd(start[:n]), nil
}

// tableScoped reports whether the keys of namespace ns start with a table
// (or view) ID.
func tableScoped(ns byte) bool {
	return ns == nsHead || ns == nsVersion || ns == nsEvent || (ns >= NSHookFirst && ns <= NSHookLast)
}

// prefixEnd returns the smallest key greater than every key with prefix p.
func prefixEnd(p []byte) []byte {
	end := append([]byte(nil), p...)
	for i := len(end) - 1; i >= 0; i-- {
		end[i]++
		if end[i] != 0 {
			return end[:i+1]
		}
	}
	return nil // p is all 0xFF: no upper bound
}

// describeKey renders a Pebble key for error messages.
func describeKey(k []byte) string {
	if len(k) < 5 {
		return fmt.Sprintf("%x", k)
	}
	t := binary.BigEndian.Uint32(k[1:5])
	switch k[0] {
	case nsHead:
		uk, _, err := decodeEscaped(k[5:])
		if err == nil {
			return fmt.Sprintf("head table=%d key=%q", t, uk)
		}
	case nsVersion:
		uk, rest, err := decodeEscaped(k[5:])
		if err == nil && len(rest) == 8 {
			return fmt.Sprintf("version table=%d key=%q version=%d", t, uk, binary.BigEndian.Uint64(rest))
		}
	case nsEvent:
		if len(k) == 13 {
			return fmt.Sprintf("event table=%d lsn=%d", t, binary.BigEndian.Uint64(k[5:]))
		}
	}
	return fmt.Sprintf("%x", k)
}
