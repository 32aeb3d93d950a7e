package exec

import "github.com/strand-db/strand/sql/types"

// Sequences is what the sequence functions ask the session for: the
// sequence named by OID hands out, shows or is set to a value (the
// session implements it beside CatalogReader).
type Sequences interface {
	NextVal(oid int64) (int64, error)
	CurrVal(oid int64) (int64, error)
	SetVal(oid, v int64, called bool) (int64, error)
	LastVal() (int64, error)
}

func init() {
	i8 := types.Make(types.Int8OID)
	seqs := func(env *Env) (Sequences, CatalogReader, error) {
		c, err := catalogOf(env)
		if err != nil {
			return nil, nil, err
		}
		s, ok := c.(Sequences)
		if !ok {
			return nil, nil, pgErr("0A000", "sequences need a session")
		}
		return s, c, nil
	}
	// oidOf reads a sequence argument: an OID (regclass) or a name.
	oidOf := func(c CatalogReader, d types.Datum) (int64, error) {
		if s, ok := d.(string); ok {
			return c.RegIn("regclass", s)
		}
		return d.(int64), nil
	}
	// one makes a function of a sequence (its first argument) and the
	// rest of its arguments.
	one := func(f func(s Sequences, oid int64, a []types.Datum) (int64, error)) func(*Env, *Call, []types.Datum) (types.Datum, error) {
		return func(env *Env, _ *Call, a []types.Datum) (types.Datum, error) {
			s, c, err := seqs(env)
			if err != nil {
				return nil, err
			}
			oid, err := oidOf(c, a[0])
			if err != nil {
				return nil, err
			}
			return f(s, oid, a[1:])
		}
	}
	nextval := one(func(s Sequences, oid int64, _ []types.Datum) (int64, error) { return s.NextVal(oid) })
	currval := one(func(s Sequences, oid int64, _ []types.Datum) (int64, error) { return s.CurrVal(oid) })
	setval := one(func(s Sequences, oid int64, a []types.Datum) (int64, error) {
		called := true
		if len(a) > 1 {
			called = a[1].(bool)
		}
		return s.SetVal(oid, a[0].(int64), called)
	})
	var fs []*Func
	for _, arg := range []types.OID{catText, catOID} {
		fs = append(fs,
			&Func{Name: "nextval", Args: []types.OID{arg}, Ret: i8, Strict: true, Impl: nextval},
			&Func{Name: "currval", Args: []types.OID{arg}, Ret: i8, Strict: true, Impl: currval},
			&Func{Name: "setval", Args: []types.OID{arg, types.Int8OID}, Ret: i8, Strict: true, Impl: setval},
			&Func{Name: "setval", Args: []types.OID{arg, types.Int8OID, types.BoolOID}, Ret: i8, Strict: true, Impl: setval})
	}
	fs = append(fs, &Func{Name: "lastval", Ret: i8, Impl: func(env *Env, _ *Call, _ []types.Datum) (types.Datum, error) {
		s, _, err := seqs(env)
		if err != nil {
			return nil, err
		}
		return s.LastVal()
	}})
	for _, f := range fs {
		// Each call changes or reads state outside the row: never
		// folded, moved or maintained in a view.
		f.Volatile = true
	}
	registerCatalog(fs...)
}
