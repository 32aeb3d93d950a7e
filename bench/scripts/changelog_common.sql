-- The changelog workload (Strand only): two tables like ev, each under a
-- per-account GROUP BY view; cl_ev's keeps a changelog (its changes as
-- events of its own, in the same commit), cg_ev's does not.
CREATE TABLE cg_ev (id bigint PRIMARY KEY, acct bigint NOT NULL, amount bigint NOT NULL);
CREATE TABLE cl_ev (id bigint PRIMARY KEY, acct bigint NOT NULL, amount bigint NOT NULL);
CREATE MATERIALIZED VIEW cg_by_acct AS
    SELECT acct, count(*) AS n, sum(amount) AS total FROM cg_ev GROUP BY acct;
CREATE MATERIALIZED VIEW cl_by_acct WITH (changelog = true) AS
    SELECT acct, count(*) AS n, sum(amount) AS total FROM cl_ev GROUP BY acct;
