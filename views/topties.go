package views

import (
	"bytes"
	"encoding/binary"
)

// Ties is how a top-N numbers candidates that are equal in its order.
//
// rank() <= N and dense_rank() <= N keep every row tied with the N-th, so
// a partition's window is not a fixed number of positions: it is its
// first candidates up to the last whose rank is at most N. A change still
// costs the window (N rows and their ties), never the partition, as with
// row_number().
type Ties uint8

const (
	// NoTies: LIMIT and row_number(): each position is its own.
	NoTies Ties = iota
	// TiesRank: rank(): one more than the number of rows that sort
	// strictly before.
	TiesRank
	// TiesDense: dense_rank(): one more than the number of distinct
	// order values before.
	TiesDense
)

func (t Ties) String() string {
	switch t {
	case TiesRank:
		return "rank()"
	case TiesDense:
		return "dense_rank()"
	}
	return "row_number()"
}

// A top-N with ties ends each candidate's key with the length of its sort
// key (sortLenSize bytes, big-endian), so that a window tells tied
// candidates from others by comparing bytes, without decoding rows. The
// suffix leaves the keys' order as it was: the row key before it is
// self-delimiting, so two candidates' keys differ before either's suffix.
const sortLenSize = 4

// appendSortLen ends a candidate key with its sort key's length.
func appendSortLen(k []byte, n int) []byte {
	return binary.BigEndian.AppendUint32(k, uint32(n))
}

// sortKeyOf returns the sort key of candidate key k, whose partition
// prefix is plen bytes long.
func sortKeyOf(k []byte, plen int) []byte {
	if len(k) < plen+sortLenSize {
		return nil
	}
	n := int(binary.BigEndian.Uint32(k[len(k)-sortLenSize:]))
	if plen+n > len(k)-sortLenSize {
		return nil
	}
	return k[plen : plen+n]
}

// tieCounter ranks a partition's candidates read in key order.
type tieCounter struct {
	ties Ties
	plen int
	// seen: a candidate was counted; last is its sort key (a copy).
	seen bool
	last []byte
	// covered counts positions (candidates times their counts), distinct
	// the sort keys; rank is the last candidate's rank.
	covered, distinct, rank int64
}

// next counts candidate k (held n times) and returns its rank.
func (c *tieCounter) next(k []byte, n int64) int64 {
	sk := sortKeyOf(k, c.plen)
	if !c.seen || !bytes.Equal(sk, c.last) {
		c.distinct++
		if c.ties == TiesDense {
			c.rank = c.distinct
		} else {
			c.rank = c.covered + 1
		}
		c.seen = true
		c.last = append(c.last[:0], sk...)
	}
	c.covered += n
	return c.rank
}

// full reports whether a candidate sorting strictly after every one
// counted would rank past limit.
func (c *tieCounter) full(limit int64) bool {
	if c.ties == TiesDense {
		return c.distinct >= limit
	}
	return c.covered >= limit
}

// trim cuts a partition's first candidates (in key order) to its window:
// limit positions, or with ties every candidate ranked within limit; full
// reports whether a candidate after them could not be in the window.
func (t *TopN) trim(es []topEntry, limit int64, plen int) ([]topEntry, bool) {
	if t.Ties == NoTies {
		return trimWindow(es, limit)
	}
	tc := tieCounter{ties: t.Ties, plen: plen}
	for i, e := range es {
		if tc.next(e.key, e.n) > limit {
			return es[:i:i], true
		}
	}
	return es, tc.full(limit)
}

// atOrBefore reports whether candidate key k sorts at or before last,
// the last candidate of a full window, so that it belongs in the window:
// with ties, a candidate tied with last does, even after it in key order
// (the window holds all of last's ties).
func (t *TopN) atOrBefore(k, last []byte, plen int) bool {
	if t.Ties == NoTies {
		return bytes.Compare(k, last) <= 0
	}
	return bytes.Compare(sortKeyOf(k, plen), sortKeyOf(last, plen)) <= 0
}
