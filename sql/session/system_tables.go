package session

import (
	"sort"
	"strconv"
	"sync"

	"github.com/strand-db/strand/exec"
	"github.com/strand-db/strand/log"
	"github.com/strand-db/strand/planner"
	"github.com/strand-db/strand/sql/types"
)

// The pg_catalog and information_schema relations. Columns follow
// PostgreSQL 15 (a client may select any of them); relations Strand has
// nothing for (inheritance, partitions, triggers, policies, publications,
// extended statistics, rules) are empty with the right columns.

var pgCatalogRels = map[string]*sysRelation{}
var infoSchemaRels = map[string]*sysRelation{}
var sysRelsByOID = map[uint32]*sysRelation{}

func sysRelByOID(oid int64) *sysRelation { return sysRelsByOID[uint32(oid)] }

// sysRel defines a relation; oid 0 takes the next free system OID.
func sysRel(schema, name string, oid uint32, spec string, rows func(st *systemTables) []exec.Row) *sysRelation {
	if oid == 0 {
		oid = oidSystemRel + uint32(len(sysRelsByOID))
	}
	r := &sysRelation{schema: schema, name: name, oid: oid, cols: cols(spec), rows: rows}
	if schema == "pg_catalog" {
		pgCatalogRels[name] = r
	} else {
		infoSchemaRels[name] = r
	}
	sysRelsByOID[oid] = r
	return r
}

// row builds a row of r from name/value pairs; columns not named are NULL.
func (r *sysRelation) row(kv ...any) exec.Row {
	out := make(exec.Row, len(r.cols))
	for i := 0; i < len(kv); i += 2 {
		name := kv[i].(string)
		found := false
		for j, c := range r.cols {
			if c.name == name {
				out[j] = normalize(kv[i+1])
				found = true
				break
			}
		}
		if !found {
			panic("system relation " + r.name + " has no column " + name)
		}
	}
	return out
}

func normalize(v any) any {
	switch x := v.(type) {
	case int:
		return int64(x)
	case uint32:
		return int64(x)
	case int32:
		return int64(x)
	case int16:
		return int64(x)
	case float32:
		return float64(x)
	case byte:
		return string(rune(x))
	}
	return v
}

// relOptions is a relation's pg_class.reloptions: the storage options
// it was created WITH that PostgreSQL's \d+ shows (a materialized view's
// changelog); nil for none.
func relOptions(td *log.TableDesc) types.Datum {
	if !td.LogsChanges() {
		return nil
	}
	return &types.Array{Elem: types.Make(types.TextOID), Elems: []types.Datum{log.OptChangelog + "=true"}}
}

func int2s(ns ...int) *types.Array {
	a := &types.Array{Elem: types.Make(types.Int2OID)}
	for _, n := range ns {
		a.Elems = append(a.Elems, int64(n))
	}
	return a
}

func oids(ns ...int64) *types.Array {
	a := &types.Array{Elem: types.Make(types.OIDOID)}
	for _, n := range ns {
		a.Elems = append(a.Elems, n)
	}
	return a
}

var (
	relPgNamespace, relPgClass, relPgAttribute, relPgType, relPgIndex, relPgConstraint, relPgRoles,
	relPgAuthid, relPgUser, relPgDatabase, relPgSettings, relPgAttrdef, relPgAm, relPgProc, relPgCollation,
	relPgTablespace, relPgTables, relPgMatviews, relPgIndexes, relPgViews *sysRelation
	relISTables, relISColumns, relISSchemata, relISTableConstraints, relISKeyColumnUsage, relISViews *sysRelation
	relPgSequences, relPgSequence                                                                    *sysRelation
)

func init() {
	relPgNamespace = sysRel("pg_catalog", "pg_namespace", 2615, "oid oid, nspname, nspowner oid, nspacl text[]", func(st *systemTables) []exec.Row {
		var out []exec.Row
		for _, s := range st.schemas() {
			out = append(out, relPgNamespace.row("oid", schemaOID(s), "nspname", s, "nspowner", oidBootstrapRole))
		}
		return out
	})
	relPgClass = sysRel("pg_catalog", "pg_class", 1259, `oid oid, relname, relnamespace oid, reltype oid, reloftype oid, relowner oid,
		relam oid, relfilenode oid, reltablespace oid, relpages int4, reltuples float4, relallvisible int4, reltoastrelid oid,
		relhasindex bool, relisshared bool, relpersistence, relkind, relnatts int2, relchecks int2, relhasrules bool,
		relhastriggers bool, relhassubclass bool, relrowsecurity bool, relforcerowsecurity bool, relispopulated bool,
		relreplident, relispartition bool, relrewrite oid, relfrozenxid int8, relminmxid int8, relacl text[], reloptions text[],
		relpartbound`, pgClassRows)
	relPgAttribute = sysRel("pg_catalog", "pg_attribute", 1249, `attrelid oid, attname, atttypid oid, attstattarget int4, attlen int2,
		attnum int2, attndims int4, attcacheoff int4, atttypmod int4, attbyval bool, attalign, attstorage, attcompression,
		attnotnull bool, atthasdef bool, atthasmissing bool, attidentity, attgenerated, attisdropped bool, attislocal bool,
		attinhcount int4, attcollation oid, attacl text[], attoptions text[], attfdwoptions text[], attmissingval`, pgAttributeRows)
	relPgAttrdef = sysRel("pg_catalog", "pg_attrdef", 2604, "oid oid, adrelid oid, adnum int2, adbin", func(st *systemTables) []exec.Row {
		var out []exec.Row
		for _, td := range st.cat.SortedTables() {
			for i, c := range td.Current().Columns {
				if c.Default != "" {
					out = append(out, relPgAttrdef.row("oid", oidAttrDef+int64(td.ID)*4096+int64(i+1), "adrelid", relOID(td), "adnum", i+1, "adbin", st.displayDefault(c.Default)))
				}
			}
		}
		return out
	})
	relPgType = sysRel("pg_catalog", "pg_type", 1247, `oid oid, typname, typnamespace oid, typowner oid, typlen int2, typbyval bool,
		typtype, typcategory, typispreferred bool, typisdefined bool, typdelim, typrelid oid, typsubscript oid, typelem oid,
		typarray oid, typinput oid, typoutput oid, typreceive oid, typsend oid, typmodin oid, typmodout oid, typanalyze oid,
		typalign, typstorage, typnotnull bool, typbasetype oid, typtypmod int4, typndims int4, typcollation oid,
		typdefaultbin, typdefault, typacl text[]`, pgTypeRows)
	relPgIndex = sysRel("pg_catalog", "pg_index", 2610, `indexrelid oid, indrelid oid, indnatts int2, indnkeyatts int2, indisunique bool,
		indnullsnotdistinct bool, indisprimary bool, indisexclusion bool, indimmediate bool, indisclustered bool, indisvalid bool,
		indcheckxmin bool, indisready bool, indislive bool, indisreplident bool, indkey int2[], indcollation oid[], indclass oid[],
		indoption int2[], indexprs, indpred`, func(st *systemTables) []exec.Row {
		var out []exec.Row
		for _, td := range st.cat.SortedTables() {
			if !hasPrimaryKey(td) {
				continue
			}
			keys := keyAttnums(td)
			zeros := make([]int64, len(keys))
			out = append(out, relPgIndex.row("indexrelid", indexOID(td), "indrelid", relOID(td), "indnatts", len(keys),
				"indnkeyatts", len(keys), "indisunique", true, "indnullsnotdistinct", false, "indisprimary", true,
				"indisexclusion", false, "indimmediate", true, "indisclustered", false, "indisvalid", true, "indcheckxmin", false,
				"indisready", true, "indislive", true, "indisreplident", false, "indkey", int2s(keys...),
				"indcollation", oids(zeros...), "indclass", oids(zeros...), "indoption", int2s(make([]int, len(keys))...)))
		}
		return out
	})
	relPgConstraint = sysRel("pg_catalog", "pg_constraint", 2606, `oid oid, conname, connamespace oid, contype, condeferrable bool,
		condeferred bool, convalidated bool, conrelid oid, contypid oid, conindid oid, conparentid oid, confrelid oid,
		confupdtype, confdeltype, confmatchtype, conislocal bool, coninhcount int4, connoinherit bool, conkey int2[],
		confkey int2[], conpfeqop oid[], conppeqop oid[], conffeqop oid[], confdelsetcols int2[], conexclop oid[], conbin`,
		func(st *systemTables) []exec.Row {
			var out []exec.Row
			for _, td := range st.cat.SortedTables() {
				if !hasPrimaryKey(td) {
					continue
				}
				out = append(out, relPgConstraint.row("oid", conOID(td), "conname", td.Name+"_pkey", "connamespace", schemaOID(td.Schema),
					"contype", "p", "condeferrable", false, "condeferred", false, "convalidated", true, "conrelid", relOID(td),
					"contypid", 0, "conindid", indexOID(td), "conparentid", 0, "confrelid", 0, "confupdtype", " ", "confdeltype", " ",
					"confmatchtype", " ", "conislocal", true, "coninhcount", 0, "connoinherit", true, "conkey", int2s(keyAttnums(td)...)))
			}
			return out
		})
	roleCols := `rolname, rolsuper bool, rolinherit bool, rolcreaterole bool, rolcreatedb bool, rolcanlogin bool,
		rolreplication bool, rolconnlimit int4, rolpassword, rolvaliduntil timestamptz, rolbypassrls bool, rolconfig text[], oid oid`
	roleRows := func(rel **sysRelation, hidePassword bool) func(st *systemTables) []exec.Row {
		return func(st *systemTables) []exec.Row {
			var out []exec.Row
			for _, r := range st.roles() {
				pw := any(nil)
				if r.Verifier != "" {
					pw = r.Verifier
					if hidePassword {
						pw = "********"
					}
				}
				out = append(out, (*rel).row("rolname", r.Name, "rolsuper", r.Superuser, "rolinherit", true, "rolcreaterole", r.Superuser,
					"rolcreatedb", r.Superuser, "rolcanlogin", r.Login || r.Superuser, "rolreplication", false, "rolconnlimit", -1,
					"rolpassword", pw, "rolbypassrls", r.Superuser, "oid", roleOID(r.Name)))
			}
			return out
		}
	}
	relPgRoles = sysRel("pg_catalog", "pg_roles", 0, roleCols, roleRows(&relPgRoles, true))
	relPgAuthid = sysRel("pg_catalog", "pg_authid", 1260, roleCols, roleRows(&relPgAuthid, false))
	relPgUser = sysRel("pg_catalog", "pg_user", 0, `usename, usesysid oid, usecreatedb bool, usesuper bool, userepl bool,
		usebypassrls bool, passwd, valuntil timestamptz, useconfig text[]`, func(st *systemTables) []exec.Row {
		var out []exec.Row
		for _, r := range st.roles() {
			if !r.Login && !r.Superuser {
				continue
			}
			out = append(out, relPgUser.row("usename", r.Name, "usesysid", roleOID(r.Name), "usecreatedb", r.Superuser,
				"usesuper", r.Superuser, "userepl", false, "usebypassrls", r.Superuser, "passwd", "********"))
		}
		return out
	})
	sysRel("pg_catalog", "pg_auth_members", 1261, "oid oid, roleid oid, member oid, grantor oid, admin_option bool", nil)
	relPgDatabase = sysRel("pg_catalog", "pg_database", 1262, `oid oid, datname, datdba oid, encoding int4, datlocprovider,
		datistemplate bool, datallowconn bool, datconnlimit int4, datfrozenxid int8, datminmxid int8, dattablespace oid,
		datcollate, datctype, daticulocale, datcollversion, datacl text[]`, func(st *systemTables) []exec.Row {
		names := []string{"postgres"}
		if db := st.CurrentDatabase(); db != "postgres" {
			names = append(names, db)
		}
		sort.Strings(names)
		var out []exec.Row
		for _, n := range names {
			out = append(out, relPgDatabase.row("oid", databaseOID(n), "datname", n, "datdba", oidBootstrapRole, "encoding", 6,
				"datlocprovider", "c", "datistemplate", false, "datallowconn", true, "datconnlimit", -1, "dattablespace", 1663,
				"datcollate", "C", "datctype", "C"))
		}
		return out
	})
	relPgSettings = sysRel("pg_catalog", "pg_settings", 0, `name, setting, unit, category, short_desc, extra_desc, context,
		vartype, source, min_val, max_val, enumvals text[], boot_val, reset_val, sourcefile, sourceline int4,
		pending_restart bool`, func(st *systemTables) []exec.Row {
		names := make([]string, 0, len(st.s.vars.values))
		for k := range st.s.vars.values {
			names = append(names, k)
		}
		sort.Strings(names)
		var out []exec.Row
		for _, k := range names {
			ctx := "user"
			if readOnly[k] {
				ctx = "internal"
			}
			out = append(out, relPgSettings.row("name", k, "setting", st.s.vars.values[k], "category", "Strand",
				"context", ctx, "vartype", "string", "source", "default", "boot_val", defaultSettings[k],
				"reset_val", defaultSettings[k], "pending_restart", false))
		}
		return out
	})
	sysRel("pg_catalog", "pg_description", 2609, "objoid oid, classoid oid, objsubid int4, description", nil)
	sysRel("pg_catalog", "pg_shdescription", 2396, "objoid oid, classoid oid, description", nil)
	relPgAm = sysRel("pg_catalog", "pg_am", 2601, "oid oid, amname, amhandler oid, amtype", func(st *systemTables) []exec.Row {
		return []exec.Row{
			relPgAm.row("oid", 2, "amname", "heap", "amhandler", 0, "amtype", "t"),
			relPgAm.row("oid", 403, "amname", "btree", "amhandler", 0, "amtype", "i"),
		}
	})
	relPgProc = sysRel("pg_catalog", "pg_proc", 1255, `oid oid, proname, pronamespace oid, proowner oid, prolang oid, procost float4,
		prorows float4, provariadic oid, prosupport oid, prokind, prosecdef bool, proleakproof bool, proisstrict bool,
		proretset bool, provolatile, proparallel, pronargs int2, pronargdefaults int2, prorettype oid, proargtypes oid[],
		proallargtypes oid[], proargmodes text[], proargnames text[], proargdefaults, protrftypes oid[], prosrc, probin,
		prosqlbody, proconfig text[], proacl text[]`, func(st *systemTables) []exec.Row {
		var out []exec.Row
		for _, p := range procs() {
			args := make([]int64, len(p.fn.Args))
			for i, a := range p.fn.Args {
				args[i] = int64(a)
			}
			kind := "f"
			if p.agg {
				kind = "a"
			}
			vol := "i"
			if p.fn.Volatile {
				vol = "v"
			}
			out = append(out, relPgProc.row("oid", p.oid, "proname", p.name, "pronamespace", oidPgCatalog, "proowner", oidBootstrapRole,
				"prolang", 12, "procost", 1.0, "prorows", 0.0, "provariadic", 0, "prosupport", 0, "prokind", kind, "prosecdef", false,
				"proleakproof", false, "proisstrict", p.fn.Strict, "proretset", false, "provolatile", vol, "proparallel", "s",
				"pronargs", len(args), "pronargdefaults", 0, "prorettype", int64(p.fn.Ret.OID), "proargtypes", oids(args...),
				"prosrc", p.name))
		}
		return out
	})
	sysRel("pg_catalog", "pg_inherits", 2611, "inhrelid oid, inhparent oid, inhseqno int4, inhdetachpending bool", nil)
	sysRel("pg_catalog", "pg_partitioned_table", 3350, `partrelid oid, partstrat, partnatts int2, partdefid oid, partattrs int2[],
		partclass oid[], partcollation oid[], partexprs`, nil)
	relPgTablespace = sysRel("pg_catalog", "pg_tablespace", 1213, "oid oid, spcname, spcowner oid, spcacl text[], spcoptions text[]", func(st *systemTables) []exec.Row {
		return []exec.Row{
			relPgTablespace.row("oid", 1663, "spcname", "pg_default", "spcowner", oidBootstrapRole),
			relPgTablespace.row("oid", 1664, "spcname", "pg_global", "spcowner", oidBootstrapRole),
		}
	})
	relPgCollation = sysRel("pg_catalog", "pg_collation", 3456, `oid oid, collname, collnamespace oid, collowner oid, collprovider,
		collisdeterministic bool, collencoding int4, collcollate, collctype, colliculocale, collversion`, func(st *systemTables) []exec.Row {
		var out []exec.Row
		for _, c := range []struct {
			oid  int
			name string
		}{{100, "default"}, {950, "C"}, {951, "POSIX"}} {
			prov, loc := "c", any("C")
			if c.oid == 100 {
				prov, loc = "d", nil
			}
			out = append(out, relPgCollation.row("oid", c.oid, "collname", c.name, "collnamespace", oidPgCatalog, "collowner", oidBootstrapRole,
				"collprovider", prov, "collisdeterministic", true, "collencoding", -1, "collcollate", loc, "collctype", loc))
		}
		return out
	})
	sysRel("pg_catalog", "pg_extension", 3079, `oid oid, extname, extowner oid, extnamespace oid, extrelocatable bool, extversion,
		extconfig oid[], extcondition text[]`, nil)
	sysRel("pg_catalog", "pg_trigger", 2620, `oid oid, tgrelid oid, tgparentid oid, tgname, tgfoid oid, tgtype int2, tgenabled,
		tgisinternal bool, tgconstrrelid oid, tgconstrindid oid, tgconstraint oid, tgdeferrable bool, tginitdeferred bool,
		tgnargs int2, tgattr int2[], tgargs bytea, tgqual, tgoldtable, tgnewtable`, nil)
	sysRel("pg_catalog", "pg_policy", 3256, `oid oid, polname, polrelid oid, polcmd, polpermissive bool, polroles oid[], polqual,
		polwithcheck`, nil)
	sysRel("pg_catalog", "pg_statistic_ext", 3381, `oid oid, stxrelid oid, stxname, stxnamespace oid, stxowner oid,
		stxstattarget int4, stxkeys int2[], stxkind text[], stxexprs`, nil)
	sysRel("pg_catalog", "pg_publication", 6104, `oid oid, pubname, pubowner oid, puballtables bool, pubinsert bool, pubupdate bool,
		pubdelete bool, pubtruncate bool, pubviaroot bool`, nil)
	sysRel("pg_catalog", "pg_publication_rel", 6106, "oid oid, prpubid oid, prrelid oid, prqual, prattrs int2[]", nil)
	sysRel("pg_catalog", "pg_publication_namespace", 6237, "oid oid, pnpubid oid, pnnspid oid", nil)
	sysRel("pg_catalog", "pg_rewrite", 2618, "oid oid, rulename, ev_class oid, ev_type, ev_enabled, is_instead bool, ev_qual, ev_action", nil)
	sysRel("pg_catalog", "pg_depend", 2608, `classid oid, objid oid, objsubid int4, refclassid oid, refobjid oid, refobjsubid int4,
		deptype`, nil)
	sysRel("pg_catalog", "pg_enum", 3501, "oid oid, enumtypid oid, enumsortorder float4, enumlabel", nil)
	sysRel("pg_catalog", "pg_range", 3541, `rngtypid oid, rngsubtype oid, rngmultitypid oid, rngcollation oid, rngsubopc oid,
		rngcanonical oid, rngsubdiff oid`, nil)
	relPgSequence = sysRel("pg_catalog", "pg_sequence", 2224, `seqrelid oid, seqtypid oid, seqstart int8, seqincrement int8, seqmax int8,
		seqmin int8, seqcache int8, seqcycle bool`, func(st *systemTables) []exec.Row {
		var out []exec.Row
		for _, td := range st.cat.SortedTables() {
			if td.Kind == log.Sequence {
				p := seqParamsOf(td)
				typ, _ := strconv.ParseInt(td.Options[planner.OptSeqType], 10, 64)
				if typ == 0 {
					typ = int64(types.Int8OID)
				}
				out = append(out, relPgSequence.row("seqrelid", relOID(td), "seqtypid", typ, "seqstart", p.start,
					"seqincrement", p.inc, "seqmax", p.max, "seqmin", p.min, "seqcache", int64(1), "seqcycle", false))
			}
		}
		return out
	})
	sysRel("pg_catalog", "pg_foreign_table", 3118, "ftrelid oid, ftserver oid, ftoptions text[]", nil)
	sysRel("pg_catalog", "pg_event_trigger", 3466, "oid oid, evtname, evtevent, evtowner oid, evtfoid oid, evtenabled, evttags text[]", nil)
	sysRel("pg_catalog", "pg_stat_activity", 0, `datid oid, datname, pid int4, leader_pid int4, usesysid oid, usename,
		application_name, client_addr, client_hostname, client_port int4, backend_start timestamptz, xact_start timestamptz,
		query_start timestamptz, state_change timestamptz, wait_event_type, wait_event, state, backend_xid int8,
		backend_xmin int8, query_id int8, query, backend_type`, nil)
	relPgTables = sysRel("pg_catalog", "pg_tables", 0, `schemaname, tablename, tableowner, tablespace, hasindexes bool,
		hasrules bool, hastriggers bool, rowsecurity bool`, func(st *systemTables) []exec.Row {
		var out []exec.Row
		for _, td := range st.cat.SortedTables() {
			if !td.Kind.HasEvents() {
				continue
			}
			out = append(out, relPgTables.row("schemaname", td.Schema, "tablename", td.Name, "tableowner", bootstrapRole,
				"hasindexes", hasPrimaryKey(td), "hasrules", false, "hastriggers", false, "rowsecurity", false))
		}
		return out
	})
	relPgMatviews = sysRel("pg_catalog", "pg_matviews", 0, `schemaname, matviewname, matviewowner, tablespace, hasindexes bool,
		ispopulated bool, definition`, func(st *systemTables) []exec.Row {
		var out []exec.Row
		for _, td := range st.cat.SortedTables() {
			if td.Kind == log.View {
				def, _ := st.ViewDef(relOID(td))
				out = append(out, relPgMatviews.row("schemaname", td.Schema, "matviewname", td.Name, "matviewowner", bootstrapRole,
					"hasindexes", false, "ispopulated", true, "definition", def))
			}
		}
		return out
	})
	relPgSequences = sysRel("pg_catalog", "pg_sequences", 0, `schemaname, sequencename, sequenceowner, data_type,
		start_value int8, min_value int8, max_value int8, increment_by int8, cycle bool, cache_size int8, last_value int8`,
		func(st *systemTables) []exec.Row {
			var out []exec.Row
			for _, td := range st.cat.SortedTables() {
				if td.Kind != log.Sequence {
					continue
				}
				p := seqParamsOf(td)
				row := []any{"schemaname", td.Schema, "sequencename", td.Name, "sequenceowner", bootstrapRole,
					"data_type", seqTypeName(td), "start_value", p.start, "min_value", p.min, "max_value", p.max,
					"increment_by", p.inc, "cycle", false, "cache_size", int64(1)}
				if v, ok := td.Options[planner.OptSeqAllocated]; ok {
					n, _ := strconv.ParseInt(v, 10, 64)
					row = append(row, "last_value", n)
				}
				out = append(out, relPgSequences.row(row...))
			}
			return out
		})
	relPgViews = sysRel("pg_catalog", "pg_views", 0, "schemaname, viewname, viewowner, definition", func(st *systemTables) []exec.Row {
		var out []exec.Row
		for _, td := range st.cat.SortedTables() {
			if td.Kind == log.PlainView {
				def, _ := st.ViewDef(relOID(td))
				out = append(out, relPgViews.row("schemaname", td.Schema, "viewname", td.Name, "viewowner", bootstrapRole, "definition", def))
			}
		}
		return out
	})
	relPgIndexes = sysRel("pg_catalog", "pg_indexes", 0, "schemaname, tablename, indexname, tablespace, indexdef", func(st *systemTables) []exec.Row {
		var out []exec.Row
		for _, td := range st.cat.SortedTables() {
			if hasPrimaryKey(td) {
				def, _ := st.IndexDef(indexOID(td), 0)
				out = append(out, relPgIndexes.row("schemaname", td.Schema, "tablename", td.Name, "indexname", td.Name+"_pkey", "indexdef", def))
			}
		}
		return out
	})
	infoSchemaInit()
}

// pgClassRows lists tables, views, their primary key indexes and the
// system relations.
func pgClassRows(st *systemTables) []exec.Row {
	r := relPgClass
	var out []exec.Row
	for _, td := range st.cat.SortedTables() {
		kind := "r"
		switch td.Kind {
		case log.View:
			kind = "m"
		case log.PlainView:
			kind = "v"
		case log.Sequence:
			kind = "S"
		}
		cur := td.Current()
		out = append(out, r.row("oid", relOID(td), "relname", td.Name, "relnamespace", schemaOID(td.Schema), "reltype", 0,
			"reloftype", 0, "relowner", oidBootstrapRole, "relam", 2, "relfilenode", relOID(td), "reltablespace", 0,
			"relpages", 0, "reltuples", -1.0, "relallvisible", 0, "reltoastrelid", 0, "relhasindex", hasPrimaryKey(td),
			"relisshared", false, "relpersistence", "p", "relkind", kind, "relnatts", len(cur.Columns), "relchecks", len(cur.Checks),
			"relhasrules", false, "relhastriggers", false, "relhassubclass", false, "relrowsecurity", false,
			"relforcerowsecurity", false, "relispopulated", true, "relreplident", "d", "relispartition", false, "relrewrite", 0,
			"relfrozenxid", 0, "relminmxid", 0, "reloptions", relOptions(td)))
		if hasPrimaryKey(td) {
			out = append(out, r.row("oid", indexOID(td), "relname", td.Name+"_pkey", "relnamespace", schemaOID(td.Schema), "reltype", 0,
				"reloftype", 0, "relowner", oidBootstrapRole, "relam", 403, "relfilenode", indexOID(td), "reltablespace", 0,
				"relpages", 0, "reltuples", -1.0, "relallvisible", 0, "reltoastrelid", 0, "relhasindex", false,
				"relisshared", false, "relpersistence", "p", "relkind", "i", "relnatts", len(cur.Key), "relchecks", 0,
				"relhasrules", false, "relhastriggers", false, "relhassubclass", false, "relrowsecurity", false,
				"relforcerowsecurity", false, "relispopulated", true, "relreplident", "n", "relispartition", false, "relrewrite", 0,
				"relfrozenxid", 0, "relminmxid", 0))
		}
	}
	for _, sr := range sortedSysRels() {
		kind := "v"
		if sr.oid < oidSystemRel {
			kind = "r"
		}
		out = append(out, r.row("oid", sr.oid, "relname", sr.name, "relnamespace", schemaOID(sr.schema), "reltype", 0,
			"reloftype", 0, "relowner", oidBootstrapRole, "relam", 0, "relfilenode", 0, "reltablespace", 0,
			"relpages", 0, "reltuples", -1.0, "relallvisible", 0, "reltoastrelid", 0, "relhasindex", false,
			"relisshared", false, "relpersistence", "p", "relkind", kind, "relnatts", len(sr.cols), "relchecks", 0,
			"relhasrules", false, "relhastriggers", false, "relhassubclass", false, "relrowsecurity", false,
			"relforcerowsecurity", false, "relispopulated", true, "relreplident", "n", "relispartition", false, "relrewrite", 0,
			"relfrozenxid", 0, "relminmxid", 0))
	}
	return out
}

func sortedSysRels() []*sysRelation {
	out := make([]*sysRelation, 0, len(sysRelsByOID))
	for _, r := range sysRelsByOID {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].oid < out[j].oid })
	return out
}

// pgAttributeRows lists every column of every relation; a table's
// _version is attnum -1.
func pgAttributeRows(st *systemTables) []exec.Row {
	var out []exec.Row
	add := func(rel int64, num int, name string, t types.T, notNull, hasDef bool) {
		out = append(out, attrRow(rel, num, name, t, notNull, hasDef))
	}
	for _, td := range st.cat.SortedTables() {
		cur := td.Current()
		key := map[uint32]bool{}
		for _, id := range cur.Key {
			key[id] = true
		}
		for i, c := range cur.Columns {
			notNull := c.NotNull || (td.Kind == log.Keyed && key[c.ID])
			add(relOID(td), i+1, c.Name, types.T{OID: types.OID(c.TypeOID), Typmod: c.Typmod}, notNull, c.Default != "")
		}
		if td.Kind.HasEvents() {
			add(relOID(td), -1, exec.VersionColumn, types.Make(types.Int8OID), true, false)
		}
		if hasPrimaryKey(td) {
			for i, n := range keyAttnums(td) {
				c := cur.Columns[n-1]
				add(indexOID(td), i+1, c.Name, types.T{OID: types.OID(c.TypeOID), Typmod: c.Typmod}, false, false)
			}
		}
	}
	for _, sr := range sortedSysRels() {
		for i, c := range sr.cols {
			add(int64(sr.oid), i+1, c.name, c.t, false, false)
		}
	}
	return out
}

func attrRow(rel int64, num int, name string, t types.T, notNull, hasDef bool) exec.Row {
	storage, align := typeStorage(t)
	ndims := 0
	if t.IsArray() {
		ndims = 1
	}
	coll := 0
	if exec.Category(t.OID) == 'S' {
		coll = 100
	}
	return relPgAttribute.row("attrelid", rel, "attname", name, "atttypid", int64(t.OID), "attstattarget", -1, "attlen", int(t.Len()),
		"attnum", num, "attndims", ndims, "attcacheoff", -1, "atttypmod", int(t.Typmod), "attbyval", byVal(t), "attalign", align,
		"attstorage", storage, "attcompression", "", "attnotnull", notNull, "atthasdef", hasDef, "atthasmissing", false,
		"attidentity", "", "attgenerated", "", "attisdropped", false, "attislocal", true, "attinhcount", 0, "attcollation", coll)
}

func byVal(t types.T) bool {
	switch t.Len() {
	case 1, 2, 4, 8:
		return true
	}
	return false
}

func typeStorage(t types.T) (storage, align string) {
	switch t.Len() {
	case 1:
		return "p", "c"
	case 2:
		return "p", "s"
	case 4:
		return "p", "i"
	case 8:
		return "p", "d"
	case 16, 64:
		return "p", "d"
	}
	if t.OID == types.NumericOID {
		return "m", "i"
	}
	return "x", "i"
}

// pgType is one row of pg_type.
type pgType struct {
	oid      types.OID
	name     string
	elem     types.OID
	category byte
	len      int16
}

// typeNames are PostgreSQL's internal type names for the types Strand
// implements.
var typeNames = map[types.OID]string{
	types.BoolOID: "bool", types.ByteaOID: "bytea", types.NameOID: "name", types.Int8OID: "int8", types.Int2OID: "int2",
	types.Int4OID: "int4", types.TextOID: "text", types.OIDOID: "oid", types.JSONOID: "json", types.Float4OID: "float4",
	types.Float8OID: "float8", types.UnknownOID: "unknown", types.BpcharOID: "bpchar", types.VarcharOID: "varchar",
	types.DateOID: "date", types.TimeOID: "time", types.TimestampOID: "timestamp", types.TimestampTZOID: "timestamptz",
	types.IntervalOID: "interval", types.NumericOID: "numeric", types.UUIDOID: "uuid", types.JSONBOID: "jsonb",
}

var pgTypes = sync.OnceValue(func() []pgType {
	var out []pgType
	for oid, name := range typeNames {
		t := types.Make(oid)
		out = append(out, pgType{oid: oid, name: name, category: exec.Category(oid), len: t.Len()})
		if a := types.ArrayOf(t); a.OID != 0 {
			out = append(out, pgType{oid: a.OID, name: "_" + name, elem: oid, category: 'A', len: -1})
		}
	}
	// Catalog types that columns of pg_catalog are documented with.
	for _, x := range []pgType{{18, "char", 0, 'Z', 1}, {22, "int2vector", 21, 'A', -1}, {30, "oidvector", 26, 'A', -1},
		{24, "regproc", 0, 'N', 4}, {2205, "regclass", 0, 'N', 4}, {2206, "regtype", 0, 'N', 4}, {4089, "regnamespace", 0, 'N', 4},
		{4096, "regrole", 0, 'N', 4}, {194, "pg_node_tree", 0, 'Z', -1}, {2249, "record", 0, 'P', -1}, {2278, "void", 0, 'P', 4},
		{1033, "aclitem", 0, 'U', 12}} {
		out = append(out, x)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].oid < out[j].oid })
	return out
})

func pgTypeRows(st *systemTables) []exec.Row {
	var out []exec.Row
	for _, ty := range pgTypes() {
		t := types.Make(ty.oid)
		storage, align := typeStorage(t)
		typtype := "b"
		if ty.category == 'P' {
			typtype = "p"
		}
		arr := int64(0)
		if a := types.ArrayOf(t); a.OID != 0 && a.OID != ty.oid {
			arr = int64(a.OID)
		}
		input, output := procOID(ty.name+"in"), procOID(ty.name+"out")
		if ty.category == 'A' {
			input, output = 750, 751
		}
		coll := 0
		if ty.category == 'S' {
			coll = 100
		}
		out = append(out, relPgType.row("oid", int64(ty.oid), "typname", ty.name, "typnamespace", oidPgCatalog, "typowner", oidBootstrapRole,
			"typlen", int(ty.len), "typbyval", ty.len == 1 || ty.len == 2 || ty.len == 4 || ty.len == 8, "typtype", typtype,
			"typcategory", string(rune(ty.category)), "typispreferred", exec.Preferred(ty.oid), "typisdefined", true, "typdelim", ",",
			"typrelid", 0, "typsubscript", 0, "typelem", int64(ty.elem), "typarray", arr, "typinput", input, "typoutput", output,
			"typreceive", 0, "typsend", 0, "typmodin", 0, "typmodout", 0, "typanalyze", 0, "typalign", align, "typstorage", storage,
			"typnotnull", false, "typbasetype", 0, "typtypmod", -1, "typndims", 0, "typcollation", coll))
	}
	return out
}

// proc is a pg_proc row: one overload of a registered function.
type proc struct {
	oid  int64
	name string
	fn   *exec.Func
	agg  bool
}

// procs lists the registered functions with stable OIDs (by name and
// overload order), plus array_in/array_out at PostgreSQL's OIDs, which
// JDBC compares typinput against.
var procs = sync.OnceValue(func() []proc {
	out := []proc{
		{oid: 750, name: "array_in", fn: &exec.Func{Name: "array_in", Ret: types.Make(types.TextArrayOID)}},
		{oid: 751, name: "array_out", fn: &exec.Func{Name: "array_out", Ret: types.Make(types.TextOID)}},
	}
	for i, name := range exec.FunctionNames() {
		for j, f := range exec.Overloads(name) {
			out = append(out, proc{oid: oidProc + int64(i)*16 + int64(j), name: name, fn: f, agg: exec.IsAggregate(name)})
		}
	}
	return out
})

func procOID(name string) int64 {
	for _, p := range procs() {
		if p.name == name {
			return p.oid
		}
	}
	return 0
}
