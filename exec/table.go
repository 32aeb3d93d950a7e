package exec

import (
	"fmt"

	"github.com/strand-db/strand/log"
	"github.com/strand-db/strand/sql/types"
)

// The row layout of a table as queries see it: the columns of its current
// schema version in order, then the system column _version. Rows written
// under older schema versions are mapped by column ID: a column added since
// reads as its missing value (NULL unless the ADD COLUMN had a default), a
// dropped one is skipped.

// VersionColumn is the read-only system column every row has.
const VersionColumn = "_version"

// TableLayout caches how to decode and encode rows of one table.
type TableLayout struct {
	Desc    *log.TableDesc
	Cur     *log.SchemaVersion
	Types   []types.T // current columns
	KeyIdx  []int     // positions of the key columns in Types
	byVer   map[uint32][]int
	verType map[uint32][]types.T
}

// NewTableLayout prepares the layout of a table.
func NewTableLayout(td *log.TableDesc) *TableLayout {
	cur := td.Current()
	l := &TableLayout{Desc: td, Cur: cur, byVer: map[uint32][]int{}, verType: map[uint32][]types.T{}}
	pos := map[uint32]int{}
	for i, c := range cur.Columns {
		l.Types = append(l.Types, types.T{OID: types.OID(c.TypeOID), Typmod: c.Typmod})
		pos[c.ID] = i
	}
	for _, k := range cur.Key {
		l.KeyIdx = append(l.KeyIdx, pos[k])
	}
	for vi := range td.Versions {
		v := &td.Versions[vi]
		m := make([]int, len(v.Columns))
		ts := make([]types.T, len(v.Columns))
		for i, c := range v.Columns {
			m[i] = -1
			if p, ok := pos[c.ID]; ok {
				m[i] = p
			}
			ts[i] = types.T{OID: types.OID(c.TypeOID), Typmod: c.Typmod}
		}
		l.byVer[v.Version] = m
		l.verType[v.Version] = ts
	}
	return l
}

// Width is the number of columns including _version.
func (l *TableLayout) Width() int { return len(l.Types) + 1 }

// Decode turns a stored row into a query row (current columns + _version).
func (l *TableLayout) Decode(schemaVersion uint32, data []byte, version uint64, dst Row) (Row, error) {
	ts, ok := l.verType[schemaVersion]
	if !ok {
		return nil, fmt.Errorf("table %s: unknown schema version %d", l.Desc.Name, schemaVersion)
	}
	vals, err := types.DecodeRow(ts, data)
	if err != nil {
		return nil, fmt.Errorf("table %s: decode row: %w", l.Desc.Name, err)
	}
	if cap(dst) < l.Width() {
		dst = make(Row, l.Width())
	}
	dst = dst[:l.Width()]
	if schemaVersion == l.Cur.Version {
		copy(dst, vals)
	} else {
		for i := range l.Types {
			dst[i] = nil
		}
		for i, p := range l.byVer[schemaVersion] {
			if p >= 0 {
				dst[p] = vals[i]
			}
		}
	}
	dst[len(l.Types)] = int64(version)
	return dst, nil
}

// Encode encodes the current columns of row (row may be longer: _version is
// ignored).
func (l *TableLayout) Encode(row Row) ([]byte, error) {
	return types.EncodeRow(nil, l.Types, row[:len(l.Types)])
}

// Key encodes the key columns of row, order-preserving.
func (l *TableLayout) Key(row Row) []byte {
	var k []byte
	for _, i := range l.KeyIdx {
		k = types.AppendKey(k, l.Types[i], row[i])
	}
	return k
}
