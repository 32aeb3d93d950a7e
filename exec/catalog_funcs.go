package exec

import (
	"strconv"
	"strings"

	"github.com/strand-db/strand/sql/pgerr"
	"github.com/strand-db/strand/sql/types"
)

// The functions PostgreSQL clients call while reading pg_catalog: psql's
// backslash commands, JDBC's DatabaseMetaData, psycopg and pgx type
// loading. Their answers come from the session's catalog (Env.Catalog), the
// same catalog the pg_catalog relations are built from, so an OID read from
// pg_class resolves here to the same relation.

// CatalogReader is the session's catalog as the catalog functions see it,
// with PostgreSQL OIDs. The session implements it and sets Env.Catalog.
type CatalogReader interface {
	// RoleName is pg_get_userbyid.
	RoleName(oid int64) (string, bool)
	// RelationVisible is pg_table_is_visible: the relation is the first of
	// its name along the search path.
	RelationVisible(oid int64) bool
	// IndexDef is pg_get_indexdef: col 0 is the CREATE INDEX statement,
	// col n the n-th key column.
	IndexDef(oid int64, col int) (string, bool)
	// ConstraintDef is pg_get_constraintdef.
	ConstraintDef(oid int64) (string, bool)
	// ViewDef is pg_get_viewdef: the defining SELECT.
	ViewDef(oid int64) (string, bool)
	// Description is a relation's COMMENT (col 0) or a column's
	// (obj_description, col_description).
	Description(oid int64, col int) (string, bool)
	// SerialSequence is pg_get_serial_sequence: the qualified name of the
	// sequence a serial or identity column's default reads (NULL: none).
	SerialSequence(table, column string) (types.Datum, error)
	// RelationSize is pg_table_size (and pg_relation_size,
	// pg_total_relation_size): the bytes a table's or a materialized
	// view's data takes on disk, in sstables; ok is false for an OID
	// that names no relation.
	RelationSize(oid int64) (int64, bool, error)
	// DatabaseSize is pg_database_size: the bytes of every sstable.
	DatabaseSize() (int64, error)
	// RegIn reads a name as an object of a reg* type ("regclass",
	// "regtype", "regnamespace", "regproc", "regrole"): 'name'::regclass.
	RegIn(kind, name string) (int64, error)
	// RegOut names an object: oid::regclass::text.
	RegOut(kind string, oid int64) string
	// Session facts.
	CurrentUser() string
	SessionUser() string
	CurrentDatabase() string
	// SearchPath lists the schemas searched, pg_catalog first when
	// implicit is true (current_schemas(true)).
	SearchPath(implicit bool) []string
	BackendPID() int64
	ServerVersion() string
}

// RegTypes are the OID alias types: PostgreSQL reads 'name'::regclass as
// the OID of that relation and prints it back as the name. Strand carries
// their values as oid; the planner turns the casts into RegIn/RegOut calls.
var RegTypes = map[string]bool{"regclass": true, "regtype": true, "regnamespace": true, "regproc": true, "regprocedure": true, "regrole": true, "regoper": true, "regconfig": true}

func catalogOf(env *Env) (CatalogReader, error) {
	if env == nil || env.Catalog == nil {
		return nil, pgerr.New(pgerr.FeatureNotSupported, "catalog functions need a session")
	}
	return env.Catalog, nil
}

// registerCatalog registers fs unless a function of the same name and
// argument types is already there (the built-in function files may
// provide the generic ones, such as array_to_string).
func registerCatalog(fs ...*Func) {
	for _, f := range fs {
		f.Stable = true
		dup := false
		key := f.Name
		if f.Op != "" {
			key = f.Op
		}
		for _, g := range builtins[key] {
			if sameArgs(g.Args, f.Args) && g.Variadic == f.Variadic {
				dup = true
			}
		}
		if !dup {
			register(f)
		}
	}
}

func sameArgs(a, b []types.OID) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

const catAny = types.OID(2276)

var (
	catOID       = types.OIDOID
	catText      = types.TextOID
	catInt4      = types.Int4OID
	catBool      = types.BoolOID
	catTOID      = t(types.OIDOID)
	catTextArray = t(types.TextArrayOID)
)

func init() {
	nullText := func(*Env, *Call, []types.Datum) (types.Datum, error) { return nil, nil }
	yes := func(*Env, *Call, []types.Datum) (types.Datum, error) { return true, nil }
	no := func(*Env, *Call, []types.Datum) (types.Datum, error) { return false, nil }
	withCat := func(f func(c CatalogReader, a []types.Datum) (types.Datum, error)) func(*Env, *Call, []types.Datum) (types.Datum, error) {
		return func(env *Env, _ *Call, a []types.Datum) (types.Datum, error) {
			c, err := catalogOf(env)
			if err != nil {
				return nil, err
			}
			return f(c, a)
		}
	}
	formatType := func(_ *Env, _ *Call, a []types.Datum) (types.Datum, error) {
		if a[0] == nil {
			return nil, nil
		}
		typmod := int32(-1)
		if len(a) > 1 && a[1] != nil {
			typmod = int32(a[1].(int64))
		}
		return FormatType(uint32(a[0].(int64)), typmod), nil
	}
	pretty := []types.OID{catOID, catBool}
	registerCatalog(
		&Func{Name: "format_type", Args: []types.OID{catOID, catInt4}, Ret: tText, Impl: formatType},
		&Func{Name: "pg_get_userbyid", Args: []types.OID{catOID}, Ret: tText, Strict: true, Impl: withCat(func(c CatalogReader, a []types.Datum) (types.Datum, error) {
			if n, ok := c.RoleName(a[0].(int64)); ok {
				return n, nil
			}
			return "unknown (OID=" + strconv.FormatInt(a[0].(int64), 10) + ")", nil
		})},
		&Func{Name: "pg_table_is_visible", Args: []types.OID{catOID}, Ret: tBool, Strict: true, Impl: withCat(func(c CatalogReader, a []types.Datum) (types.Datum, error) {
			return c.RelationVisible(a[0].(int64)), nil
		})},
		&Func{Name: "pg_type_is_visible", Args: []types.OID{catOID}, Ret: tBool, Strict: true, Impl: yes},
		&Func{Name: "pg_function_is_visible", Args: []types.OID{catOID}, Ret: tBool, Strict: true, Impl: yes},
		// pg_node_tree is carried as text: the expression's SQL.
		&Func{Name: "pg_get_expr", Args: []types.OID{catText, catOID}, Ret: tText, Strict: true, Impl: identity},
		&Func{Name: "pg_get_expr", Args: []types.OID{catText, catOID, catBool}, Ret: tText, Strict: true, Impl: identity},
		&Func{Name: "pg_get_indexdef", Args: []types.OID{catOID}, Ret: tText, Strict: true, Impl: withCat(indexDef)},
		&Func{Name: "pg_get_indexdef", Args: []types.OID{catOID, catInt4, catBool}, Ret: tText, Strict: true, Impl: withCat(indexDef)},
		&Func{Name: "pg_get_constraintdef", Args: []types.OID{catOID}, Ret: tText, Strict: true, Impl: withCat(constraintDef)},
		&Func{Name: "pg_get_constraintdef", Args: pretty, Ret: tText, Strict: true, Impl: withCat(constraintDef)},
		&Func{Name: "pg_get_viewdef", Args: []types.OID{catOID}, Ret: tText, Strict: true, Impl: withCat(viewDef)},
		&Func{Name: "pg_get_viewdef", Args: pretty, Ret: tText, Strict: true, Impl: withCat(viewDef)},
		&Func{Name: "pg_get_viewdef", Args: []types.OID{catText}, Ret: tText, Strict: true, Impl: withCat(func(c CatalogReader, a []types.Datum) (types.Datum, error) {
			oid, err := c.RegIn("regclass", a[0].(string))
			if err != nil {
				return nil, err
			}
			return viewDef(c, []types.Datum{oid})
		})},
		&Func{Name: "pg_get_ruledef", Args: []types.OID{catOID}, Ret: tText, Strict: true, Impl: nullText},
		&Func{Name: "pg_get_ruledef", Args: pretty, Ret: tText, Strict: true, Impl: nullText},
		&Func{Name: "pg_get_triggerdef", Args: []types.OID{catOID}, Ret: tText, Strict: true, Impl: nullText},
		&Func{Name: "pg_get_triggerdef", Args: pretty, Ret: tText, Strict: true, Impl: nullText},
		&Func{Name: "pg_get_statisticsobjdef_columns", Args: []types.OID{catOID}, Ret: tText, Strict: true, Impl: nullText},
		&Func{Name: "pg_get_partkeydef", Args: []types.OID{catOID}, Ret: tText, Strict: true, Impl: nullText},
		&Func{Name: "pg_get_serial_sequence", Args: []types.OID{catText, catText}, Ret: tText, Strict: true, Impl: withCat(func(c CatalogReader, a []types.Datum) (types.Datum, error) {
			return c.SerialSequence(a[0].(string), a[1].(string))
		})},
		&Func{Name: "pg_relation_is_publishable", Args: []types.OID{catOID}, Ret: tBool, Strict: true, Impl: no},
		&Func{Name: "obj_description", Args: []types.OID{catOID}, Ret: tText, Strict: true, Impl: withCat(describe)},
		&Func{Name: "obj_description", Args: []types.OID{catOID, catText}, Ret: tText, Strict: true, Impl: withCat(describe)},
		&Func{Name: "col_description", Args: []types.OID{catOID, catInt4}, Ret: tText, Strict: true, Impl: withCat(func(c CatalogReader, a []types.Datum) (types.Datum, error) {
			if d, ok := c.Description(a[0].(int64), int(a[1].(int64))); ok {
				return d, nil
			}
			return nil, nil
		})},
		&Func{Name: "shobj_description", Args: []types.OID{catOID, catText}, Ret: tText, Impl: nullText},
		&Func{Name: "pg_encoding_to_char", Args: []types.OID{catInt4}, Ret: tText, Strict: true, Impl: func(_ *Env, _ *Call, a []types.Datum) (types.Datum, error) {
			if a[0].(int64) == 6 {
				return "UTF8", nil
			}
			if a[0].(int64) == 0 {
				return "SQL_ASCII", nil
			}
			return "", nil
		}},
		&Func{Name: "pg_char_to_encoding", Args: []types.OID{catText}, Ret: tInt4, Strict: true, Impl: func(_ *Env, _ *Call, a []types.Datum) (types.Datum, error) {
			if strings.EqualFold(a[0].(string), "UTF8") {
				return int64(6), nil
			}
			return int64(-1), nil
		}},
		&Func{Name: "current_schema", Ret: tText, Impl: withCat(func(c CatalogReader, _ []types.Datum) (types.Datum, error) {
			if p := c.SearchPath(false); len(p) > 0 {
				return p[0], nil
			}
			return nil, nil
		})},
		&Func{Name: "current_schemas", Args: []types.OID{catBool}, Ret: catTextArray, Strict: true, Impl: withCat(func(c CatalogReader, a []types.Datum) (types.Datum, error) {
			arr := &types.Array{Elem: tText}
			for _, s := range c.SearchPath(a[0].(bool)) {
				arr.Elems = append(arr.Elems, s)
			}
			return arr, nil
		})},
		&Func{Name: "current_database", Ret: tText, Impl: withCat(func(c CatalogReader, _ []types.Datum) (types.Datum, error) { return c.CurrentDatabase(), nil })},
		&Func{Name: "current_catalog", Ret: tText, Impl: withCat(func(c CatalogReader, _ []types.Datum) (types.Datum, error) { return c.CurrentDatabase(), nil })},
		&Func{Name: "current_user", Ret: tText, Impl: withCat(func(c CatalogReader, _ []types.Datum) (types.Datum, error) { return c.CurrentUser(), nil })},
		&Func{Name: "current_role", Ret: tText, Impl: withCat(func(c CatalogReader, _ []types.Datum) (types.Datum, error) { return c.CurrentUser(), nil })},
		&Func{Name: "session_user", Ret: tText, Impl: withCat(func(c CatalogReader, _ []types.Datum) (types.Datum, error) { return c.SessionUser(), nil })},
		&Func{Name: "user", Ret: tText, Impl: withCat(func(c CatalogReader, _ []types.Datum) (types.Datum, error) { return c.CurrentUser(), nil })},
		&Func{Name: "pg_backend_pid", Ret: tInt4, Impl: withCat(func(c CatalogReader, _ []types.Datum) (types.Datum, error) { return c.BackendPID(), nil })},
		&Func{Name: "version", Ret: tText, Impl: withCat(func(c CatalogReader, _ []types.Datum) (types.Datum, error) { return c.ServerVersion(), nil })},
		&Func{Name: "pg_postmaster_start_time", Ret: tTimestampTZ, Impl: func(env *Env, _ *Call, _ []types.Datum) (types.Datum, error) {
			return types.TimestampFromTime(env.Now), nil
		}},
		&Func{Name: "pg_table_size", Args: []types.OID{catOID}, Ret: tInt8, Strict: true, Impl: withCat(relationSize)},
		&Func{Name: "pg_relation_size", Args: []types.OID{catOID}, Ret: tInt8, Strict: true, Impl: withCat(relationSize)},
		&Func{Name: "pg_total_relation_size", Args: []types.OID{catOID}, Ret: tInt8, Strict: true, Impl: withCat(relationSize)},
		// PostgreSQL's take regclass, so pg_table_size('t') names the
		// relation: the text overloads read the name as regclass does.
		&Func{Name: "pg_table_size", Args: []types.OID{catText}, Ret: tInt8, Strict: true, Impl: withCat(relationSizeByName)},
		&Func{Name: "pg_relation_size", Args: []types.OID{catText}, Ret: tInt8, Strict: true, Impl: withCat(relationSizeByName)},
		&Func{Name: "pg_total_relation_size", Args: []types.OID{catText}, Ret: tInt8, Strict: true, Impl: withCat(relationSizeByName)},
		&Func{Name: "pg_database_size", Args: []types.OID{catText}, Ret: tInt8, Strict: true, Impl: withCat(databaseSize)},
		&Func{Name: "pg_database_size", Args: []types.OID{catOID}, Ret: tInt8, Strict: true, Impl: withCat(databaseSize)},
		&Func{Name: "pg_size_pretty", Args: []types.OID{types.Int8OID}, Ret: tText, Strict: true, Impl: sizePretty},
		&Func{Name: "quote_ident", Args: []types.OID{catText}, Ret: tText, Strict: true, Impl: func(_ *Env, _ *Call, a []types.Datum) (types.Datum, error) {
			return QuoteIdent(a[0].(string)), nil
		}},
		&Func{Name: "array_to_string", Args: []types.OID{catAny, catText}, Ret: tText, Strict: true, Impl: arrayToString},
		&Func{Name: "array_to_string", Args: []types.OID{catAny, catText, catText}, Ret: tText, Impl: arrayToString},
		&Func{Name: "array_upper", Args: []types.OID{catAny, catInt4}, Ret: tInt4, Strict: true, Impl: arrayBound(true)},
		&Func{Name: "array_lower", Args: []types.OID{catAny, catInt4}, Ret: tInt4, Strict: true, Impl: arrayBound(false)},
		&Func{Name: "array_length", Args: []types.OID{catAny, catInt4}, Ret: tInt4, Strict: true, Impl: arrayBound(true)},
		&Func{Name: "regclass_in", Args: []types.OID{catText}, Ret: catTOID, Strict: true, Impl: regIn("regclass")},
	)
	// to_regclass and friends: NULL instead of an error for a missing name.
	for _, kind := range []string{"regclass", "regtype", "regnamespace", "regrole", "regproc"} {
		in := regIn(kind)
		registerCatalog(&Func{Name: "to_" + kind, Args: []types.OID{catText}, Ret: catTOID, Strict: true, Impl: func(env *Env, c *Call, a []types.Datum) (types.Datum, error) {
			v, err := in(env, c, a)
			if err != nil {
				return nil, nil
			}
			return v, nil
		}})
	}
	for _, name := range []string{"has_table_privilege", "has_schema_privilege", "has_database_privilege", "has_column_privilege",
		"has_function_privilege", "has_sequence_privilege", "has_type_privilege", "has_any_column_privilege", "has_tablespace_privilege",
		"has_foreign_data_wrapper_privilege", "has_server_privilege", "has_language_privilege", "pg_has_role"} {
		registerCatalog(
			&Func{Name: name, Args: []types.OID{catAny, catText}, Ret: tBool, Strict: true, Impl: yes},
			&Func{Name: name, Args: []types.OID{catAny, catAny, catText}, Ret: tBool, Strict: true, Impl: yes},
			&Func{Name: name, Args: []types.OID{catAny, catAny, catAny, catText}, Ret: tBool, Strict: true, Impl: yes},
		)
	}
	// Comparisons of the array columns the catalog relations carry.
	for _, oid := range []types.OID{types.OIDArrayOID, types.Int2ArrayOID, types.TextArrayOID} {
		for _, op := range []string{"=", "<>"} {
			registerCatalog(&Func{Name: opName(op), Op: op, Args: []types.OID{oid, oid}, Ret: tBool, Strict: true, Impl: compareImpl(op, types.Make(oid))})
		}
	}
}

// RegOutFunc names the function that prints an OID of a reg* type.
func RegOutFunc(kind string) *Func {
	return &Func{Name: kind + "out", Args: []types.OID{catOID}, Ret: tText, Strict: true, Impl: func(env *Env, _ *Call, a []types.Datum) (types.Datum, error) {
		c, err := catalogOf(env)
		if err != nil {
			return nil, err
		}
		return c.RegOut(kind, a[0].(int64)), nil
	}}
}

// RegInFunc names the function that reads a name as an OID of a reg* type.
func RegInFunc(kind string) *Func {
	return &Func{Name: kind + "in", Args: []types.OID{catText}, Ret: catTOID, Strict: true, Impl: regIn(kind)}
}

func regIn(kind string) func(*Env, *Call, []types.Datum) (types.Datum, error) {
	return func(env *Env, _ *Call, a []types.Datum) (types.Datum, error) {
		s := strings.TrimSpace(a[0].(string))
		// A number is an OID as it stands, as in PostgreSQL.
		if n, err := strconv.ParseUint(s, 10, 32); err == nil {
			return int64(n), nil
		}
		c, err := catalogOf(env)
		if err != nil {
			return nil, err
		}
		return c.RegIn(kind, s)
	}
}

func indexDef(c CatalogReader, a []types.Datum) (types.Datum, error) {
	col := 0
	if len(a) > 1 && a[1] != nil {
		col = int(a[1].(int64))
	}
	if s, ok := c.IndexDef(a[0].(int64), col); ok {
		return s, nil
	}
	return nil, nil
}

func constraintDef(c CatalogReader, a []types.Datum) (types.Datum, error) {
	if s, ok := c.ConstraintDef(a[0].(int64)); ok {
		return s, nil
	}
	return nil, nil
}

func viewDef(c CatalogReader, a []types.Datum) (types.Datum, error) {
	if s, ok := c.ViewDef(a[0].(int64)); ok {
		return s, nil
	}
	return nil, nil
}

// FormatType is format_type(oid, typmod).
func FormatType(oid uint32, typmod int32) string {
	if name, ok := extraTypeNames[oid]; ok {
		return name
	}
	t := types.T{OID: types.OID(oid), Typmod: typmod}
	if !t.Known() {
		return "???"
	}
	return t.String()
}

// extraTypeNames are the catalog's own types that sql/types does not
// implement as values but pg_type lists.
var extraTypeNames = map[uint32]string{18: "\"char\"", 22: "int2vector", 30: "oidvector", 24: "regproc", 2205: "regclass", 2206: "regtype",
	4089: "regnamespace", 4096: "regrole", 194: "pg_node_tree", 1034: "aclitem[]", 1033: "aclitem", 2276: "\"any\"", 2277: "anyarray",
	2283: "anyelement", 2249: "record", 2278: "void", 28: "xid", 3220: "pg_lsn"}

// QuoteIdent quotes an identifier when PostgreSQL would need it quoted.
func QuoteIdent(s string) string {
	safe := s != ""
	for i, r := range s {
		if !(r >= 'a' && r <= 'z' || r == '_' || i > 0 && (r >= '0' && r <= '9' || r == '$')) {
			safe = false
			break
		}
	}
	if safe && !reservedWords[s] {
		return s
	}
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

var reservedWords = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`all analyse analyze and any array as asc asymmetric both case cast check collate column
		constraint create current_catalog current_date current_role current_time current_timestamp current_user default
		deferrable desc distinct do else end except false fetch for foreign from grant group having in initially intersect
		into lateral leading limit localtime localtimestamp not null offset on only or order placing primary references
		returning select session_user some symmetric table then to trailing true union unique user using variadic when
		where window with authorization binary collation concurrently cross current_schema freeze full ilike inner is
		isnull join left like natural notnull outer overlaps right similar tablesample verbose`) {
		m[w] = true
	}
	return m
}()

func sizePretty(_ *Env, _ *Call, a []types.Datum) (types.Datum, error) {
	n := a[0].(int64)
	units := []string{"bytes", "kB", "MB", "GB", "TB", "PB"}
	abs := n
	if abs < 0 {
		abs = -abs
	}
	// PostgreSQL switches unit once the value reaches 10240 of the current
	// one, rounding half up.
	u := 0
	for abs >= 10*1024 && u < len(units)-1 {
		abs = (abs/512 + 1) / 2
		if n < 0 {
			n = -abs
		} else {
			n = abs
		}
		u++
	}
	return strconv.FormatInt(n, 10) + " " + units[u], nil
}

func arrayToString(env *Env, _ *Call, a []types.Datum) (types.Datum, error) {
	if a[0] == nil || a[1] == nil {
		return nil, nil
	}
	arr, ok := a[0].(*types.Array)
	if !ok {
		return nil, pgerr.New(pgerr.DatatypeMismatch, "array_to_string needs an array")
	}
	var nullStr *string
	if len(a) > 2 && a[2] != nil {
		s := a[2].(string)
		nullStr = &s
	}
	var sb strings.Builder
	first := true
	for _, e := range arr.Elems {
		var s string
		if e == nil {
			if nullStr == nil {
				continue
			}
			s = *nullStr
		} else {
			s = types.FormatText(arr.Elem, e, env.Settings)
		}
		if !first {
			sb.WriteString(a[1].(string))
		}
		first = false
		sb.WriteString(s)
	}
	return sb.String(), nil
}

func arrayBound(upper bool) func(*Env, *Call, []types.Datum) (types.Datum, error) {
	return func(_ *Env, _ *Call, a []types.Datum) (types.Datum, error) {
		arr, ok := a[0].(*types.Array)
		if !ok || len(arr.Elems) == 0 || a[1].(int64) != 1 {
			return nil, nil
		}
		if upper {
			return int64(len(arr.Elems)), nil
		}
		return int64(1), nil
	}
}

// relationSize is pg_table_size(regclass) and its kin: a relation's data
// in sstables (NULL for an OID that names none, as in PostgreSQL). Strand
// has no separate index or TOAST storage, so the three agree.
func relationSize(c CatalogReader, a []types.Datum) (types.Datum, error) {
	n, ok, err := c.RelationSize(a[0].(int64))
	if err != nil || !ok {
		return nil, err
	}
	return n, nil
}

// relationSizeByName is relationSize of a name read as regclass
// ('t'::regclass: 42P01 when there is no such relation).
func relationSizeByName(c CatalogReader, a []types.Datum) (types.Datum, error) {
	oid, err := c.RegIn("regclass", a[0].(string))
	if err != nil {
		return nil, err
	}
	return relationSize(c, []types.Datum{oid})
}

// databaseSize is pg_database_size: there is one database.
func databaseSize(c CatalogReader, _ []types.Datum) (types.Datum, error) {
	return c.DatabaseSize()
}

// describe is obj_description(oid[, catalog]).
func describe(c CatalogReader, a []types.Datum) (types.Datum, error) {
	if d, ok := c.Description(a[0].(int64), 0); ok {
		return d, nil
	}
	return nil, nil
}
