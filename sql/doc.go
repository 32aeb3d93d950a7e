// Package sql is Strand's PostgreSQL-dialect front end: a Postgres
// tokenizer (Tokenize), statement splitting for the simple query protocol
// (Split), and Parse, which turns a query string into Statements.
//
// # How a statement is parsed
//
// The TiDB parser (github.com/pingcap/tidb/pkg/parser) speaks MySQL. Rather
// than feed it Postgres text, the front end tokenizes with PostgreSQL's
// scan.l rules and rewrites the token stream into text that the TiDB
// grammar reads exactly, with SQL mode ANSI_QUOTES|NO_BACKSLASH_ESCAPES:
//
//   - every identifier is written double-quoted with its Postgres value
//     (unquoted names folded to lower case, quoted ones exact), so the
//     CIStr.O of a TiDB name is the Postgres name; use .O, never .L;
//   - every string constant ('..', E'..', $$..$$, continued '..') is written
//     as one '..' literal with ” doubling; backslashes are literal;
//   - expressions are parsed with PostgreSQL's precedence and written with
//     the parentheses TiDB needs to build the same tree;
//   - Postgres constructs without a MySQL equivalent become calls to pg_*
//     functions (below) that only Strand's planner implements.
//
// Statements the TiDB grammar lacks or misreads (CREATE TABLE with Postgres
// types, materialized views, SET/SHOW, COPY, ON CONFLICT, RETURNING, DROP
// ... CASCADE, ...) are parsed by this package; only their SELECT, VALUES
// and expression parts go through TiDB. A construct that cannot be carried
// exactly is an error: 42601 (syntax) or 0A000 (feature not supported,
// naming the construct), with a 1-based character Position into the query
// string. Unknown operators are 42883 at parse time.
//
// # Parameters
//
// $n is written as ? (a test_driver.ParamMarkerExpr). Info.Params maps a
// marker's Order to n: the marker with Order i is $Params[i]; $1 used twice
// gives two markers that both map to 1. Orders are unique across all the
// ASTs of one statement (INSERT, its ON CONFLICT and RETURNING parts).
// Info.NumParams is the highest n.
//
// # Functions the planner must implement
//
// Types are carried as the PostgreSQL type name text, normalised (lower
// case, single spaces, "numeric(10,2)", "timestamp(3) with time zone",
// "int[]", "interval day to second"), for sql/types.ParseTypeName; they are
// never MySQL types.
//
//	pg_cast(x, 'type')          x::type, CAST(x AS type), typed literals
//	                            (date '2024-01-01', timestamptz '...',
//	                            INTERVAL '1 day' → pg_cast('1 day',
//	                            'interval'), INTERVAL '1' DAY → pg_cast('1',
//	                            'interval day')), and TRUE/FALSE →
//	                            pg_cast('true'|'false', 'boolean') because
//	                            TiDB reads TRUE as the integer 1.
//	pg_op('op', a, b)           binary operators other than + - * / % and
//	                            comparisons: || (NULL if either side is NULL,
//	                            as in Postgres), -> ->> #> #>> @> <@ ? ?| ?&
//	                            ~ ~* !~ !~* ^ & | # << >> @@ #- <->.
//	pg_op('op', a)              prefix operators: ~ @ |/ ||/ and so on.
//	pg_distinct(a, b)           a IS DISTINCT FROM b; IS NOT DISTINCT FROM is
//	                            NOT pg_distinct(a, b).
//	pg_any(x, 'op', arr)        x op ANY/SOME (array); pg_all for ALL. With a
//	                            subquery, the TiDB CompareSubqueryExpr is kept.
//	pg_array(e, ...)            ARRAY[e, ...]; nested [..] inside are nested
//	                            pg_array calls, meaning a multidimensional
//	                            array, as in Postgres.
//	pg_array_query((subq))      ARRAY(subquery).
//	pg_subscript(a, i)          a[i]; pg_slice(a, lo, hi) for a[lo:hi], with
//	                            NULL for an omitted bound.
//	pg_filter(agg, cond)        agg(...) FILTER (WHERE cond); agg is a TiDB
//	                            aggregate node.
//	pg_agg_distinct(f(args))    f(DISTINCT args) for an aggregate whose
//	                            DISTINCT TiDB does not read (all but count,
//	                            sum, avg, min, max).
//	pg_agg_order(agg, key, ...) agg(args ORDER BY key, ...); agg is the call
//	                            (or its pg_agg_distinct); a key is e,
//	                            pg_desc(e) for DESC, either wrapped in
//	                            pg_nulls_first/pg_nulls_last. FILTER wraps
//	                            the whole: pg_filter(pg_agg_order(...), c).
//	pg_distinct_on(e, ...)      SELECT DISTINCT ON (e, ...): written as the
//	                            first select field, which the planner removes.
//	pg_nulls_first(e)           ORDER BY e NULLS FIRST (pg_nulls_last for
//	                            LAST); only ever the whole ByItem expression,
//	                            so ORDER BY 1 NULLS FIRST is pg_nulls_first(1)
//	                            and keeps its positional meaning. ASC/DESC stay
//	                            on the ByItem. Without NULLS, the planner
//	                            applies Postgres's default (NULLs sort high).
//	pg_field(x, 'name')         (x).name, field selection from a composite
//	                            value; x is a parenthesised expression or a
//	                            parameter, name the field's Postgres name.
//	                            (x).* is 0A000.
//	pg_extract('field', x)      EXTRACT(field FROM x).
//	pg_sqlvalue('name'[, p])    CURRENT_DATE, CURRENT_TIME[(p)],
//	                            CURRENT_TIMESTAMP[(p)], LOCALTIME[(p)],
//	                            LOCALTIMESTAMP[(p)], CURRENT_USER, USER,
//	                            SESSION_USER, CURRENT_ROLE, CURRENT_SCHEMA,
//	                            CURRENT_CATALOG, SYSTEM_USER.
//
// As in PostgreSQL's own grammar, these are rewritten to ordinary
// functions: a AT TIME ZONE z → timezone(z, a); position(a IN b) →
// strpos(b, a); substring(s FROM a FOR b) → substring(s, a, b);
// trim([LEADING|TRAILING|BOTH] c FROM s) → ltrim/rtrim/btrim(s, c);
// overlay(a PLACING b FROM c FOR d) → overlay(a, b, c, d). LIKE, ILIKE,
// NOT LIKE, ~~, ~~* and friends become TiDB's PatternLikeOrIlikeExpr; the
// planner gives them Postgres semantics (case-sensitive LIKE, backslash as
// the default escape).
//
// FULL [OUTER] JOIN, which TiDB's grammar lacks, is written STRAIGHT_JOIN
// (ast.Join.StraightJoin, with its ON or USING); nothing else writes
// STRAIGHT_JOIN. NATURAL FULL JOIN is 0A000.
//
// A column alias list on a FROM item, alias(a, b), which TiDB's grammar
// takes only after LATERAL, is written LATERAL (query) AS alias (a, b)
// (ast.TableSource.Lateral with ColumnNames); a table or view with one is
// the query (SELECT * FROM t). LATERAL items and functions in FROM (which
// PostgreSQL makes LATERAL implicitly) are written LATERAL too. The
// planner lets every LATERAL item read the items before it, and runs it
// once per row of them only when it does (a per-row nested loop); one
// that reads nothing of them is joined as any subquery. VALUES (a, b), (c, d) as a query, a statement or in
// FROM, is SELECT a AS column1, b AS column2 UNION ALL SELECT c, d; the
// VALUES of INSERT stays as it is. A parenthesized join in FROM is passed
// through (ast.Join.ExplicitParens).
//
// fn(args) WITHIN GROUP (ORDER BY key) is pg_within_group(fn(args), key)
// (an ordered-set aggregate: percentile_cont, percentile_disc, mode).
//
// fn(args) OVER w, for an aggregate TiDB's grammar does not read with OVER
// (bool_and, bool_or, every, stddev, variance, array_agg, json_agg, ...),
// is max(pg_window_call(fn(args))) OVER w; the parse turns it back into
// fn(args) OVER w (parse.go, unwrapWindowCarrier), so the planner never
// sees the carrier. fn(args) FILTER (WHERE c) OVER w, for any aggregate,
// is max(pg_window_call(fn(args), pg_window_filter(c))) OVER w, unwrapped
// to fn(args, pg_window_filter(c)) OVER w: the planner takes the last
// argument off as the FILTER.
//
// GROUP BY ROLLUP (...), CUBE (...) and GROUPING SETS (...) are written
// pg_rollup, pg_cube and pg_grouping_sets calls of pg_gset(e, ...) lists,
// one per element (planner/groupingsets.go expands them).
//
// nextval, setval, currval and lastval, which TiDB reads as its own
// sequence functions, are written quoted too (so are column defaults
// that call them, stored in that form).
//
// stddev and variance, which TiDB reads as MySQL's population aggregates
// (PostgreSQL's are the sample ones), are written quoted, so that they
// reach the planner as calls by name.
//
// Other conventions: LIMIT ALL and LIMIT NULL are dropped; OFFSET without
// LIMIT is written LIMIT 18446744073709551615 OFFSET n; FETCH FIRST n ROWS
// ONLY is LIMIT n. Function names are written unquoted when they are plain
// lower-case words (so count(*) is TiDB's aggregate; TiDB turns count(*)
// into count(1)). '#' is Postgres's XOR operator, not a comment.
//
// # The cache
//
// Parse keeps a bounded LRU of query strings to their statements, so a
// driver's repeated single-row INSERT costs a map lookup. Statements from
// Parse are shared: callers must not mutate them or their TiDB ASTs (clone
// before rewriting). ParseUncached returns fresh statements.
package sql
