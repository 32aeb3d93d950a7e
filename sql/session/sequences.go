package session

import (
	"context"
	"maps"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/strand-db/strand/log"
	"github.com/strand-db/strand/planner"
	"github.com/strand-db/strand/sql"
	"github.com/strand-db/strand/sql/pgerr"
	"github.com/strand-db/strand/sql/types"
)

// A sequence hands out values from a block the engine has allocated: the
// catalog records the last value of the block (planner.OptSeqAllocated),
// so after a crash or restart nothing already handed out comes again; the
// values of a block not handed out are skipped, as PostgreSQL's cached
// sequence values are. A block is one catalog commit; blocks double from
// 32 values to 65,536 while a sequence is in use, so a bulk load makes few
// catalog changes. nextval is not transactional (a rollback does not give
// a value back), as in PostgreSQL.

type seqState struct {
	mu sync.Mutex
	// next is the next value to hand out, valid while it has not passed
	// limit (the allocated block's last value) in the increment's
	// direction.
	next, limit, inc int64
	valid            bool
	block            int64
}

type sequenceAlloc struct {
	mu sync.Mutex
	m  map[log.TableID]*seqState
}

func (a *sequenceAlloc) state(id log.TableID) *seqState {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.m == nil {
		a.m = map[log.TableID]*seqState{}
	}
	s := a.m[id]
	if s == nil {
		s = &seqState{block: 32}
		a.m[id] = s
	}
	return s
}

type seqParams struct{ start, inc, min, max int64 }

func seqParamsOf(td *log.TableDesc) seqParams {
	n := func(k string) int64 { v, _ := strconv.ParseInt(td.Options[k], 10, 64); return v }
	return seqParams{start: n(planner.OptSeqStart), inc: n(planner.OptSeqIncrement), min: n(planner.OptSeqMin), max: n(planner.OptSeqMax)}
}

// nextVal hands out sequence id's next value.
func (e *Engine) nextVal(ctx context.Context, id log.TableID, name string) (int64, error) {
	s := e.seqs.state(id)
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.valid {
		first, limit, inc, err := e.allocate(ctx, id, name, s.block)
		if err != nil {
			return 0, err
		}
		s.next, s.limit, s.inc, s.valid = first, limit, inc, true
		s.block = min(s.block*2, 65536)
	}
	v := s.next
	if v == s.limit {
		s.valid = false
	} else {
		s.next = v + s.inc
	}
	return v, nil
}

// allocate commits a block of up to n values of sequence id after its
// last allocated one, and returns the block's first and last values.
func (e *Engine) allocate(ctx context.Context, id log.TableID, name string, n int64) (first, last, inc int64, err error) {
	change := func(c *log.Catalog) error {
		td, ok := c.Table(id)
		if !ok || td.Kind != log.Sequence {
			return pgerr.New(pgerr.UndefinedTable, "sequence %q was dropped", name)
		}
		p := seqParamsOf(td)
		cur := p.start - p.inc
		if v, ok := td.Options[planner.OptSeqAllocated]; ok {
			cur, _ = strconv.ParseInt(v, 10, 64)
		}
		if p.inc > 0 && cur > p.max-p.inc || p.inc < 0 && cur < p.min-p.inc {
			bound := p.max
			what := "maximum"
			if p.inc < 0 {
				bound, what = p.min, "minimum"
			}
			return pgerr.New(pgerr.Code("2200H"), "nextval: reached %s value of sequence %q (%d)", what, name, bound)
		}
		first, inc = cur+p.inc, p.inc
		// As many as fit, up to n.
		k := n - 1
		if p.inc > 0 {
			k = min(k, (p.max-first)/p.inc)
		} else {
			k = min(k, (first-p.min)/(-p.inc))
		}
		last = first + k*p.inc
		return setAllocated(c, td, last)
	}
	if _, err := e.Log.Commit(ctx, &log.Intent{Catalog: change}); err != nil {
		return 0, 0, 0, err
	}
	return first, last, inc, nil
}

// setAllocated records in the catalog that sequence td may have handed
// out values up to last.
func setAllocated(c *log.Catalog, td *log.TableDesc, last int64) error {
	nt := *td
	nt.Options = maps.Clone(td.Options)
	nt.Options[planner.OptSeqAllocated] = strconv.FormatInt(last, 10)
	return c.ReplaceTable(&nt)
}

// setVal makes v the sequence's last value (the next is v plus the
// increment, or v itself when called is false).
func (e *Engine) setVal(ctx context.Context, id log.TableID, name string, v int64, called bool) error {
	s := e.seqs.state(id)
	s.mu.Lock()
	defer s.mu.Unlock()
	change := func(c *log.Catalog) error {
		td, ok := c.Table(id)
		if !ok || td.Kind != log.Sequence {
			return pgerr.New(pgerr.UndefinedTable, "sequence %q was dropped", name)
		}
		p := seqParamsOf(td)
		if v < p.min || v > p.max {
			return pgerr.New(pgerr.NumericValueOutOfRange, "setval: value %d is out of bounds for sequence %q (%d..%d)", v, name, p.min, p.max)
		}
		last := v
		if !called {
			last = v - p.inc
		}
		return setAllocated(c, td, last)
	}
	if _, err := e.Log.Commit(ctx, &log.Intent{Catalog: change}); err != nil {
		return err
	}
	s.valid, s.block = false, 32
	return nil
}

// sequence resolves a sequence function's OID argument.
func (st *systemTables) sequence(oid int64) (*log.TableDesc, error) {
	td, ok := st.tableByOID(oid)
	if !ok {
		return nil, pgerr.New(pgerr.UndefinedTable, "relation with OID %d does not exist", oid)
	}
	if td.Kind != log.Sequence {
		return nil, pgerr.New(pgerr.WrongObjectType, "%q is not a sequence", td.Name)
	}
	return td, nil
}

// NextVal implements exec.Sequences.
func (st *systemTables) NextVal(oid int64) (int64, error) {
	td, err := st.sequence(oid)
	if err != nil {
		return 0, err
	}
	v, err := st.s.eng.nextVal(context.Background(), td.ID, td.Name)
	if err != nil {
		return 0, err
	}
	if st.s.seqLast == nil {
		st.s.seqLast = map[log.TableID]int64{}
	}
	st.s.seqLast[td.ID], st.s.lastSeq, st.s.haveLast = v, v, true
	return v, nil
}

// CurrVal implements exec.Sequences: the session's last nextval of it.
func (st *systemTables) CurrVal(oid int64) (int64, error) {
	td, err := st.sequence(oid)
	if err != nil {
		return 0, err
	}
	v, ok := st.s.seqLast[td.ID]
	if !ok {
		return 0, pgerr.New(pgerr.ObjectNotInPrerequisiteState, "currval of sequence %q is not yet defined in this session", td.Name)
	}
	return v, nil
}

// SetVal implements exec.Sequences.
func (st *systemTables) SetVal(oid, v int64, called bool) (int64, error) {
	td, err := st.sequence(oid)
	if err != nil {
		return 0, err
	}
	if err := st.s.eng.setVal(context.Background(), td.ID, td.Name, v, called); err != nil {
		return 0, err
	}
	return v, nil
}

// LastVal implements exec.Sequences: the session's last nextval.
func (st *systemTables) LastVal() (int64, error) {
	if !st.s.haveLast {
		return 0, pgerr.New(pgerr.ObjectNotInPrerequisiteState, "lastval is not yet defined in this session")
	}
	return st.s.lastSeq, nil
}

// serialDefault is the default a serial or identity column stores
// (planner.CreateTable): the front end's quoted nextval of a
// schema-qualified name.
var serialDefault = regexp.MustCompile(`^"nextval"\('([^'.]+)\.([^']+)'\)$`)

// displayDefault is a stored default as PostgreSQL shows it (near
// enough: a literal's type is not spelled out). A serial
// column's is nextval('t_id_seq'::regclass), the sequence named as
// regclass prints it (with its schema only when the search path does not
// find it there): ORMs read it to tell serial columns. Elsewhere the
// front end's quoted sequence function names (sql/expr.go) are unquoted.
func (st *systemTables) displayDefault(s string) string {
	if m := serialDefault.FindStringSubmatch(s); m != nil {
		name := m[2]
		if td, ok := st.cat.Lookup(m[1], m[2]); !ok || !st.RelationVisible(relOID(td)) {
			name = m[1] + "." + m[2]
		}
		return "nextval('" + name + "'::regclass)"
	}
	for _, f := range []string{"nextval", "setval", "currval", "lastval"} {
		s = strings.ReplaceAll(s, `"`+f+`"(`, f+"(")
	}
	// TiDB's restore writes a string literal with its charset
	// introducer, which PostgreSQL has not.
	return strings.ReplaceAll(s, "_UTF8MB4'", "'")
}

// SerialSequence implements exec.CatalogReader: the sequence table's
// column owns, as schema.name.
func (st *systemTables) SerialSequence(table, column string) (types.Datum, error) {
	oid, err := st.RegIn("regclass", table)
	if err != nil {
		return nil, err
	}
	td, ok := st.tableByOID(oid)
	if !ok {
		return nil, nil
	}
	found := false
	for _, c := range td.Current().Columns {
		found = found || c.Name == column
	}
	if !found {
		return nil, pgerr.New(pgerr.UndefinedColumn, "column %q of relation %q does not exist", column, td.Name)
	}
	if s, ok := planner.OwnedSequence(st.cat, td.ID, column); ok {
		return quoteIdent(s.Schema) + "." + quoteIdent(s.Name), nil
	}
	return nil, nil
}

// alterSequence runs ALTER SEQUENCE ... RESTART [WITH n].
func (s *Session) alterSequence(ctx context.Context, x *sql.AlterSequence) error {
	td, err := s.builder(s.catalog(), nil).LookupTable(x.Name.Schema, x.Name.Name)
	if err != nil {
		if x.IfExists && pgerr.CodeOf(err) == pgerr.UndefinedTable {
			s.info.Client.Notice(&pgerr.Error{Code: pgerr.SuccessfulCompletion, Severity: pgerr.SeverityNotice,
				Message: "relation \"" + x.Name.Name + "\" does not exist, skipping"})
			return nil
		}
		return err
	}
	if td.Kind != log.Sequence {
		return pgerr.New(pgerr.WrongObjectType, "%q is not a sequence", td.Name)
	}
	v := seqParamsOf(td).start
	if x.Restart != nil {
		v = *x.Restart
	}
	return s.eng.setVal(ctx, td.ID, td.Name, v, false)
}

// seqTypeName is a sequence's type as pg_sequences shows it.
func seqTypeName(td *log.TableDesc) string {
	switch td.Options[planner.OptSeqType] {
	case "21":
		return "smallint"
	case "23":
		return "integer"
	}
	return "bigint"
}
