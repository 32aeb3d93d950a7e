package log

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
)

// Op is what an event did to its key.
type Op uint8

const (
	// OpInsert created the key (it had no live version).
	OpInsert Op = 1
	// OpUpdate replaced the live version of the key.
	OpUpdate Op = 2
	// OpDelete made the key a tombstone.
	OpDelete Op = 3
	// OpAppend is an event of an append-only stream.
	OpAppend Op = 4
)

func (o Op) String() string {
	switch o {
	case OpInsert:
		return "insert"
	case OpUpdate:
		return "update"
	case OpDelete:
		return "delete"
	case OpAppend:
		return "append"
	}
	return fmt.Sprintf("op(%d)", o)
}

// Event is one version of one key: what an append wrote.
type Event struct {
	Table         TableID
	Key           []byte
	Version       uint64
	LSN           uint64
	Op            Op
	SchemaVersion uint32
	// CommitTime is the commit's wall-clock time in Unix microseconds.
	CommitTime int64
	// Row is the encoded row (sql/types row codec); nil for a delete.
	Row []byte
}

// Head is the state of one key: its latest version.
type Head struct {
	Version uint64
	LSN     uint64
	// FirstVersion is the oldest version still stored; retention raises it.
	FirstVersion uint64
	Tombstone    bool
	// SchemaVersion and Row hold the latest row of a keyed table (nil for
	// streams and tombstones), so a table scan never visits the event log.
	SchemaVersion uint32
	Row           []byte
}

// Live reports whether the key currently has a row.
func (h Head) Live() bool { return h.Version > 0 && !h.Tombstone }

// Every stored value starts with a CRC-32C (Castagnoli) of the rest and a
// format byte, so corruption below Pebble's own checks (or a bug) is caught
// and reported with its location instead of being returned as data.
var crcTable = crc32.MakeTable(crc32.Castagnoli)

const (
	recordFormat byte = 1
	headFormat   byte = 1
)

// CorruptionError reports a stored value that failed its checksum or could
// not be decoded.
type CorruptionError struct {
	Where  string // the Pebble key, described
	Reason string
}

func (e *CorruptionError) Error() string {
	return fmt.Sprintf("log corruption at %s: %s", e.Where, e.Reason)
}

// SQLState makes corruption reach clients as data_corrupted.
func (e *CorruptionError) SQLState() string { return "XX001" }

// ErrCorrupt matches every CorruptionError with errors.Is.
var ErrCorrupt = errors.New("log corruption")

func (e *CorruptionError) Is(target error) bool { return target == ErrCorrupt }

func sealValue(buf []byte) []byte {
	binary.LittleEndian.PutUint32(buf[:4], crc32.Checksum(buf[4:], crcTable))
	return buf
}

func openValue(key, v []byte, format byte) ([]byte, error) {
	if len(v) < 5 {
		return nil, &CorruptionError{describeKey(key), fmt.Sprintf("value truncated to %d bytes", len(v))}
	}
	if got, want := crc32.Checksum(v[4:], crcTable), binary.LittleEndian.Uint32(v[:4]); got != want {
		return nil, &CorruptionError{describeKey(key), fmt.Sprintf("checksum mismatch (stored %08x, computed %08x)", want, got)}
	}
	if v[4] != format {
		return nil, &CorruptionError{describeKey(key), fmt.Sprintf("unknown format %d", v[4])}
	}
	return v[5:], nil
}

// encodeRecord lays out an event (its table and LSN are in the Pebble key):
// crc | format | op | schemaVersion | version | commitTime | len(key) key | row.
func encodeRecord(buf []byte, e *Event) []byte {
	buf = append(buf[:0], 0, 0, 0, 0, recordFormat, byte(e.Op))
	buf = binary.AppendUvarint(buf, uint64(e.SchemaVersion))
	buf = binary.AppendUvarint(buf, e.Version)
	buf = binary.AppendVarint(buf, e.CommitTime)
	buf = binary.AppendUvarint(buf, uint64(len(e.Key)))
	buf = append(buf, e.Key...)
	buf = append(buf, e.Row...)
	return sealValue(buf)
}

func decodeRecord(pkey, v []byte, e *Event) error {
	b, err := openValue(pkey, v, recordFormat)
	if err != nil {
		return err
	}
	bad := func(what string) error {
		return &CorruptionError{describeKey(pkey), "bad " + what}
	}
	if len(b) < 1 {
		return bad("op")
	}
	e.Op = Op(b[0])
	b = b[1:]
	sv, n := binary.Uvarint(b)
	if n <= 0 {
		return bad("schema version")
	}
	e.SchemaVersion = uint32(sv)
	b = b[n:]
	if e.Version, n = binary.Uvarint(b); n <= 0 {
		return bad("version")
	}
	b = b[n:]
	if e.CommitTime, n = binary.Varint(b); n <= 0 {
		return bad("commit time")
	}
	b = b[n:]
	kl, n := binary.Uvarint(b)
	if n <= 0 || uint64(len(b)-n) < kl {
		return bad("key length")
	}
	b = b[n:]
	e.Key = b[:kl:kl]
	e.Row = b[kl:]
	if e.Op == OpDelete {
		e.Row = nil
	}
	if len(pkey) == 13 {
		e.Table = TableID(binary.BigEndian.Uint32(pkey[1:5]))
		e.LSN = binary.BigEndian.Uint64(pkey[5:])
	}
	return nil
}

// encodeHead: crc | format | flags | version | lsn | firstVersion | schemaVersion | row.
func encodeHead(buf []byte, h *Head) []byte {
	var flags byte
	if h.Tombstone {
		flags |= 1
	}
	buf = append(buf[:0], 0, 0, 0, 0, headFormat, flags)
	buf = binary.AppendUvarint(buf, h.Version)
	buf = binary.AppendUvarint(buf, h.LSN)
	buf = binary.AppendUvarint(buf, h.FirstVersion)
	buf = binary.AppendUvarint(buf, uint64(h.SchemaVersion))
	buf = append(buf, h.Row...)
	return sealValue(buf)
}

func decodeHead(pkey, v []byte, h *Head) error {
	b, err := openValue(pkey, v, headFormat)
	if err != nil {
		return err
	}
	if len(b) < 1 {
		return &CorruptionError{describeKey(pkey), "bad head flags"}
	}
	h.Tombstone = b[0]&1 != 0
	b = b[1:]
	var vals [4]uint64
	for i := range vals {
		x, n := binary.Uvarint(b)
		if n <= 0 {
			return &CorruptionError{describeKey(pkey), "bad head field"}
		}
		vals[i] = x
		b = b[n:]
	}
	h.Version, h.LSN, h.FirstVersion, h.SchemaVersion = vals[0], vals[1], vals[2], uint32(vals[3])
	h.Row = nil
	if len(b) > 0 {
		h.Row = b
	}
	return nil
}

func decodeVersionValue(pkey, v []byte) (uint64, error) {
	if len(v) != 12 {
		return 0, &CorruptionError{describeKey(pkey), fmt.Sprintf("version entry of %d bytes", len(v))}
	}
	if crc32.Checksum(v[4:], crcTable) != binary.LittleEndian.Uint32(v[:4]) {
		return 0, &CorruptionError{describeKey(pkey), "version entry checksum mismatch"}
	}
	return binary.BigEndian.Uint64(v[4:]), nil
}

func encodeVersionValue(buf []byte, lsn uint64) []byte {
	buf = append(buf[:0], 0, 0, 0, 0)
	buf = binary.BigEndian.AppendUint64(buf, lsn)
	binary.LittleEndian.PutUint32(buf[:4], crc32.Checksum(buf[4:], crcTable))
	return buf
}
