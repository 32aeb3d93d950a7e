package views

import (
	"bytes"
	"fmt"

	"github.com/strand-db/strand/exec"
	"github.com/strand-db/strand/log"
	"github.com/strand-db/strand/sql/types"
)

// A view whose plan is a top-N at the root (under projections of plain
// columns only) stores no output rows: its rows are each partition's
// candidates at positions [Offset, Offset+N), which the top-N keeps
// anyway, and a read takes them from there. Writing the output rows as
// well cost a key per event that enters a partition's top and a deletion
// per event pushed out of it; for the benchmark's "3 largest events per
// account" that was about a tenth of the INSERT's CPU. Nothing is lost:
// the candidates are the rows' only source of truth in either layout.
//
// The view's backfill record holds the read's description (topOutput), so
// a reader needs neither the plan nor the maintainer. Views made before
// this keep their stored output rows. Views that read such a view see its
// changes as before (the top-N computes its diff when another view reads
// it); their backfill reads it partition by partition, and a delta's key,
// which admits it to such a backfill, is the candidate's key.

// topOutput describes how a view's rows derive from its root top-N's
// candidates.
type topOutput struct {
	// Op is the top-N's operator number: its candidates are under 0x10
	// view 't' Op.
	Op uint8 `json:"op"`
	// Offset and N bound the positions that are rows.
	Offset int64 `json:"offset"`
	N      int64 `json:"n"`
	// RowNumber: the candidate row is followed by its position (from 1),
	// or by 1 with ConstRank.
	RowNumber bool `json:"row_number,omitempty"`
	ConstRank bool `json:"const_rank,omitempty"`
	// Ties: the rows are those ranked within N by rank() or
	// dense_rank(), the position appended is the rank, and the keys end
	// with their sort key's length (topties.go).
	Ties Ties `json:"ties,omitempty"`
	// Part are the partition's types and Cand the candidate rows' types.
	Part []types.T `json:"part"`
	Cand []types.T `json:"cand"`
	// Cols gives, per output column, the column of the candidate row
	// (with the position appended) it is.
	Cols []int `json:"cols"`
	// Compact: the view's keys use the compact integer encoding.
	Compact bool `json:"compact,omitempty"`
}

// topPrefixLen is the length of a derived view's candidate prefix
// (0x10 view 't' op); the rest of a candidate key is the row's key, by
// which a view reading this one admits its changes during a backfill.
const topPrefixLen = outKeyStart + 1

// topOutputOf describes a view's rows as derived from its root top-N, or
// returns nil when the view is not of that shape.
func topOutputOf(p *Plan, compact bool) *topOutput {
	if p.Distinct {
		return nil
	}
	// cols[i] is the column of the current node's rows that output
	// column i is.
	cols := make([]int, len(p.OutTypes))
	for i := range cols {
		cols[i] = i
	}
	n := p.Root
	for {
		pr, ok := n.(*Project)
		if !ok {
			break
		}
		throughProject(cols, pr)
		n = pr.Input
	}
	t, ok := n.(*TopN)
	if !ok || t.N < 0 {
		return nil
	}
	width := len(t.Types)
	if t.RowNumber {
		width++
	}
	for _, c := range cols {
		if c < 0 || c >= width {
			return nil
		}
	}
	return &topOutput{Op: t.ID, Offset: t.Offset, N: t.N, RowNumber: t.RowNumber, ConstRank: t.ConstRank, Ties: t.Ties,
		Part: exprTypes(t.Partition), Cand: t.Types, Cols: cols, Compact: compact}
}

// partLen returns the length of the partition tuple that starts a
// candidate key (after its prefix).
func (d *topOutput) partLen(k []byte) (int, error) {
	rest := k
	for _, t := range d.Part {
		var err error
		if rest, err = skipValueIn(rest, d.Compact, t); err != nil {
			return 0, err
		}
	}
	return len(k) - len(rest), nil
}

// topScan walks a key range in order: fn returns a key to go on from
// (nil: the next key), or log.ErrStop to end the walk without an error.
type topScan func(start, end []byte, fn func(k, v []byte) (seek []byte, err error)) error

// restartScan is a topScan over a plain range scan (the overlay of the
// intent being prepared): a seek starts a new scan.
func restartScan(scan func(start, end []byte, fn func(k, v []byte) error) error) topScan {
	return func(start, end []byte, fn func(k, v []byte) ([]byte, error)) error {
		for start != nil {
			var next []byte
			err := scan(start, end, func(k, v []byte) error {
				seek, err := fn(k, v)
				if err == nil && seek != nil {
					next = seek
					return log.ErrStop
				}
				return err
			})
			if err != nil {
				return err
			}
			start = next
		}
		return nil
	}
}

// topSkip is how many candidates past a partition's last row a read steps
// over before it seeks to the next partition instead: a seek costs more
// than a few steps.
const topSkip = 8

// scan reads the view's rows in candidate key order, from the partition
// at or after the key suffix from (nil: the first) to the key suffix to
// (nil: the last), handing fn each row with its candidate key's suffix
// and the key suffix where its partition ends (the row is scratch, valid
// during the call). fn may end the scan early with log.ErrStop: scan then
// returns nil.
func (d *topOutput) scan(view log.TableID, scan topScan, from, to []byte, fn func(key, partEnd []byte, row exec.Row) error) error {
	limit := d.Offset + d.N
	if d.N <= 0 {
		return nil
	}
	prefix := opPrefix(view, 't', d.Op)
	stop := prefixEnd(prefix)
	if to != nil {
		stop = append(append([]byte(nil), prefix...), to...)
	}
	start := append(append([]byte(nil), prefix...), from...)
	row := make(exec.Row, len(d.Cols))
	cand := make(exec.Row, len(d.Cand)+1)
	// part is the current partition's prefix, end the first key after
	// it, and partEnd end's suffix after the view's candidate prefix.
	var part, end, partEnd []byte
	var pos int64
	skipped := 0
	// With ties, tc ranks the partition's candidates; rank is the
	// current one's, and past is set at the first ranked past N.
	var tc tieCounter
	var rank int64
	var past bool
	return scan(start, stop, func(k, v []byte) ([]byte, error) {
		if part == nil || !bytes.HasPrefix(k, part) {
			pl, err := d.partLen(k[len(prefix):])
			if err != nil {
				return nil, fmt.Errorf("materialized view %d: %w", view, err)
			}
			part = append(part[:0], k[:len(prefix)+pl]...)
			end = prefixEnd(part)
			partEnd = end[len(prefix):]
			pos, skipped = 0, 0
			tc = tieCounter{ties: d.Ties, plen: len(part), last: tc.last[:0]}
			past = false
		}
		n, payload := decodeCounted(v)
		if d.Ties != NoTies && !past {
			if rank = tc.next(k, n); rank > d.N {
				past = true
			}
		}
		if pos >= limit && d.Ties == NoTies || past {
			if skipped++; skipped > topSkip {
				return end, nil
			}
			return nil, nil
		}
		// Each copy at a position in the window is a row, numbered by
		// its position (from Offset) or, with ties, by its rank.
		decoded := false
		for c := int64(0); c < n; c++ {
			at := pos + c
			if d.Ties == NoTies && at >= limit {
				break
			}
			if d.Ties == NoTies && at < d.Offset {
				continue
			}
			if !decoded {
				if err := types.DecodeRowInto(cand[:len(d.Cand)], d.Cand, payload); err != nil {
					return nil, fmt.Errorf("materialized view %d: top-N candidate: %w", view, err)
				}
				decoded = true
			}
			switch {
			case d.ConstRank:
				cand[len(d.Cand)] = int64(1)
			case d.Ties != NoTies:
				cand[len(d.Cand)] = rank
			default:
				cand[len(d.Cand)] = at - d.Offset + 1
			}
			for i, c := range d.Cols {
				row[i] = cand[c]
			}
			if err := fn(k[len(prefix):], partEnd, row); err != nil {
				return nil, err
			}
		}
		pos += n
		return nil, nil
	})
}

// TopOutputKey returns the output columns that hold a view's top-N
// partition, in partition order, when the view's rows will be read from
// the top-N's candidates (topOutputOf) and every partition value is a
// plain output column: a lookup by them reads one partition's window.
// It returns nil otherwise.
func TopOutputKey(p *Plan) []int {
	d := topOutputOf(p, false)
	if d == nil {
		return nil
	}
	t := rootTopN(p.Root)
	if len(t.Partition) == 0 {
		return nil
	}
	var key []int
	for _, e := range t.Partition {
		ref, ok := e.(*exec.ColRef)
		if !ok {
			return nil
		}
		found := -1
		for i, c := range d.Cols {
			if c == ref.Idx && p.OutTypes[i] == ref.T {
				found = i
				break
			}
		}
		if found < 0 {
			return nil
		}
		key = append(key, found)
	}
	return key
}
