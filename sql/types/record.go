package types

import (
	"encoding/binary"
	"math"
)

// RecordOID is PostgreSQL's record pseudo-type: a row value whose fields
// are known only to the expression that made it. Strand produces records
// only from functions that return them (information_schema._pg_expandarray);
// they can be selected, passed through subqueries and taken apart with
// (r).field, never stored in a table or read from text (ParseText refuses
// them, as PostgreSQL refuses input of anonymous composite types).
//
// As in PostgreSQL, a record type's Typmod identifies its row shape (the
// field names and types) when the producer knows it; the planner keeps the
// shapes. The value itself carries the field types, so printing and
// comparing need no shape.
const RecordOID OID = 2249

// Record is a value of type record: Fields[i] (nil for NULL) has type
// Types[i].
type Record struct {
	Types  []T
	Fields []Datum
}

// appendRecord is record_out: (a,b) with a NULL field left empty, and a
// field quoted when it is empty or holds a quote, backslash, parenthesis,
// comma or space (quotes and backslashes doubled inside).
func appendRecord(buf []byte, r *Record, set *Settings) []byte {
	buf = append(buf, '(')
	var tmp []byte
	for i, f := range r.Fields {
		if i > 0 {
			buf = append(buf, ',')
		}
		if f == nil {
			continue
		}
		tmp = AppendText(tmp[:0], r.Types[i], f, set)
		if !recordNeedsQuote(tmp) {
			buf = append(buf, tmp...)
			continue
		}
		buf = append(buf, '"')
		for _, c := range tmp {
			if c == '"' || c == '\\' {
				buf = append(buf, c)
			}
			buf = append(buf, c)
		}
		buf = append(buf, '"')
	}
	return append(buf, ')')
}

func recordNeedsQuote(s []byte) bool {
	if len(s) == 0 {
		return true
	}
	for _, c := range s {
		switch c {
		case '"', '\\', '(', ')', ',':
			return true
		}
		if isSpace(c) {
			return true
		}
	}
	return false
}

// appendRecordBinary is record_send: the field count, then each field's
// type OID, length (-1 for NULL) and binary value.
func appendRecordBinary(buf []byte, r *Record) []byte {
	buf = binary.BigEndian.AppendUint32(buf, uint32(len(r.Fields)))
	for i, f := range r.Fields {
		buf = binary.BigEndian.AppendUint32(buf, uint32(r.Types[i].OID))
		if f == nil {
			buf = binary.BigEndian.AppendUint32(buf, math.MaxUint32)
			continue
		}
		at := len(buf)
		buf = append(buf, 0, 0, 0, 0)
		buf = AppendBinary(buf, r.Types[i], f)
		binary.BigEndian.PutUint32(buf[at:], uint32(len(buf)-at-4))
	}
	return buf
}

// appendRecordKey orders records field by field, a NULL field after every
// value (record_cmp), a shorter record before a longer one it prefixes.
func appendRecordKey(buf []byte, r *Record) []byte {
	for i, f := range r.Fields {
		if f == nil {
			buf = append(buf, 0x02)
			continue
		}
		buf = appendKeyBody(append(buf, 0x01), r.Types[i], f)
	}
	return append(buf, 0x00)
}
