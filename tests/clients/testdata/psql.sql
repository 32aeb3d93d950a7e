-- Run by TestPsql with psql -X -v ON_ERROR_STOP=1; output is testdata/psql.out.
CREATE SCHEMA psqltest;
SET search_path = psqltest, public;
CREATE TABLE accounts (id bigint PRIMARY KEY, owner text NOT NULL, balance numeric(12,2) DEFAULT 0, opened date, tags text[]);
CREATE TABLE events (account_id bigint, kind text, amount numeric) APPEND ONLY KEY (account_id);
CREATE MATERIALIZED VIEW balances AS SELECT owner, count(*) AS n FROM accounts GROUP BY owner;
INSERT INTO accounts (id, owner, balance, opened) VALUES (1, 'ann', 10.50, '2024-01-02'), (2, 'bob', 7, NULL);
SELECT id, owner, balance, opened, _version FROM accounts ORDER BY id;
\dn psqltest
\dt
\dm
\di
\d accounts
\d+ accounts
\d events
\d balances
\d+ balances
CREATE VIEW rich (account, who) AS SELECT id, owner FROM accounts WHERE balance > 8;
SELECT * FROM rich;
\dv
\d rich
\d+ rich
CREATE TABLE tickets (id serial PRIMARY KEY, title text);
INSERT INTO tickets (title) VALUES ('first'), ('second');
SELECT id, title FROM tickets ORDER BY id;
\ds
\d tickets
\d tickets_id_seq
REFRESH MATERIALIZED VIEW CONCURRENTLY balances;
CREATE MATERIALIZED VIEW IF NOT EXISTS balances AS SELECT 1;
CREATE TABLE IF NOT EXISTS accounts (id int);
DROP MATERIALIZED VIEW IF EXISTS no_such_view;
\d
SELECT current_database(), current_schema(), current_user, session_user;
SELECT 'accounts'::regclass = c.oid AS same, c.oid::regclass::text AS name FROM pg_class c WHERE c.relname = 'accounts';
SELECT format_type('numeric'::regtype, 786438), pg_get_indexdef('accounts_pkey'::regclass), pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 'accounts_pkey';
SELECT table_name, column_name, ordinal_position, data_type, is_nullable FROM information_schema.columns WHERE table_schema = 'psqltest' ORDER BY table_name, ordinal_position;
SELECT constraint_name, column_name FROM information_schema.key_column_usage WHERE table_schema = 'psqltest';
SELECT attname, attnum FROM pg_attribute WHERE attrelid = 'accounts'::regclass ORDER BY attnum;
SELECT has_table_privilege('accounts', 'SELECT'), pg_table_is_visible('accounts'::regclass), quote_ident('Mixed Case'), pg_encoding_to_char(6);
-- What psql 15 sends to complete "SELECT * FROM acc<TAB>" and "\d psqltest.<TAB>".
SELECT c.relname, NULL::pg_catalog.text FROM pg_catalog.pg_class c WHERE c.relkind IN ('r', 'S', 'v', 'm', 'f', 'p') AND (c.relname) LIKE 'acc%' AND pg_catalog.pg_table_is_visible(c.oid) AND c.relnamespace <> (SELECT oid FROM pg_catalog.pg_namespace WHERE nspname = 'pg_catalog')
UNION ALL
SELECT NULL::pg_catalog.text, n.nspname FROM pg_catalog.pg_namespace n WHERE n.nspname LIKE 'acc%' AND n.nspname NOT LIKE E'pg\\_%'
LIMIT 1000;
SELECT c.relname, n.nspname FROM pg_catalog.pg_class c, pg_catalog.pg_namespace n WHERE c.relnamespace = n.oid AND (c.relname) LIKE '%' AND n.nspname = 'psqltest' ORDER BY 1;
