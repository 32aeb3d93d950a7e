package pgwire

import (
	"bytes"
	"encoding/binary"
	"errors"
)

// Decoders for the messages of the extended-protocol round trip (Bind and
// Execute, sent for every execution of a prepared statement). pgproto3's
// decoders allocate the names, the format codes and the parameter list on
// every message; these reuse the connection's slices and leave names as
// views into the message body, which map lookups take without copying.

var errBodyInvalid = errors.New("body is invalid")

// bindMsg is a decoded Bind. Its slices are reused by the next decode and
// point into the message body: valid until the next read.
type bindMsg struct {
	portal, stmt  []byte
	paramFormats  []int16
	params        [][]byte
	resultFormats []int16
}

func (m *bindMsg) decode(src []byte) error {
	var ok bool
	if m.portal, src, ok = cstring(src); !ok {
		return errBodyInvalid
	}
	if m.stmt, src, ok = cstring(src); !ok {
		return errBodyInvalid
	}
	if m.paramFormats, src, ok = int16s(m.paramFormats[:0], src); !ok {
		return errBodyInvalid
	}
	if len(src) < 2 {
		return errBodyInvalid
	}
	n := int(binary.BigEndian.Uint16(src))
	src = src[2:]
	m.params = m.params[:0]
	for range n {
		if len(src) < 4 {
			return errBodyInvalid
		}
		size := int(int32(binary.BigEndian.Uint32(src)))
		src = src[4:]
		if size == -1 {
			m.params = append(m.params, nil)
			continue
		}
		if size < 0 || len(src) < size {
			return errBodyInvalid
		}
		m.params = append(m.params, src[:size:size])
		src = src[size:]
	}
	if m.resultFormats, _, ok = int16s(m.resultFormats[:0], src); !ok {
		return errBodyInvalid
	}
	return nil
}

// decodeExecute returns the portal name (a view into src) and row limit.
func decodeExecute(src []byte) (portal []byte, maxRows uint32, err error) {
	portal, src, ok := cstring(src)
	if !ok || len(src) < 4 {
		return nil, 0, errBodyInvalid
	}
	return portal, binary.BigEndian.Uint32(src), nil
}

// cstring splits a NUL-terminated string off src.
func cstring(src []byte) (s, rest []byte, ok bool) {
	i := bytes.IndexByte(src, 0)
	if i < 0 {
		return nil, nil, false
	}
	return src[:i:i], src[i+1:], true
}

// int16s reads a count and that many int16s, appending them to dst.
func int16s(dst []int16, src []byte) ([]int16, []byte, bool) {
	if len(src) < 2 {
		return dst, nil, false
	}
	n := int(binary.BigEndian.Uint16(src))
	src = src[2:]
	if len(src) < 2*n {
		return dst, nil, false
	}
	for i := range n {
		dst = append(dst, int16(binary.BigEndian.Uint16(src[2*i:])))
	}
	return dst, src[2*n:], true
}
