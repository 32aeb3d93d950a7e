// Package planner binds parsed statements to the catalog and builds
// executable plans: it resolves names, types every expression with
// PostgreSQL's rules (unknown literals and parameters take their type from
// context, overloads are chosen as PostgreSQL chooses them, implicit casts
// follow pg_cast), and turns SELECT, INSERT, UPDATE and DELETE into exec
// nodes and log writes. The incremental (delta) plans of materialized views
// are derived here too.
package planner
