// Package clients tests Strand through real PostgreSQL clients: psql,
// pgx, psycopg 3, the PostgreSQL JDBC driver and pgbench. Each test
// installs what it needs idempotently into a cache folder
// (~/.cache/strand-test, or $STRAND_TEST_CACHE) and fails, never skips,
// when a client cannot be installed: a missing client is a broken test
// machine, not a passing test.
package clients
