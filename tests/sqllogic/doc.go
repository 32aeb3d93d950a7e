// Package sqllogic is Strand's differential SQL test suite. Test files in
// testdata/*.test are written in the sqllogictest manner (statement ok,
// statement error, query with sort modes), but carry no expected output:
// every block runs on a throwaway PostgreSQL 15 (tests/pgoracle) and on an
// in-process Strand (tests/strandtest), and the two answers must agree —
// column names and types, rows (as the text both servers send, in order or
// as multisets), command tags, and the SQLSTATE of errors. A seeded random
// query generator (Generator) does the same for thousands of generated
// queries over a fixed schema with NULLs.
//
// # File format
//
//	# a comment
//	statement ok
//	CREATE TABLE t (id int PRIMARY KEY, v int)
//
//	statement error 22012        (a class such as 22, or a full SQLSTATE)
//	SELECT 1/0
//
//	query IT rowsort             (one letter per column; nosort, rowsort or valuesort)
//	SELECT id, v::text FROM t
//	params: 1, NULL              (optional: run through the extended protocol)
//
// A block ends at a blank line. A line "known: <reason>" before a block
// marks a difference Strand still has; the runner checks it is still a
// difference and fails when it is not, so that a stale marker goes.
package sqllogic
