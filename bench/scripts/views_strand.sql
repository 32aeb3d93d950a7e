-- The three views Strand maintains inside each INSERT's commit: a GROUP BY,
-- a join, and a top-N per group (each account's 3 largest events).
CREATE MATERIALIZED VIEW ev_by_acct AS
    SELECT acct, count(*) AS n, sum(amount) AS total FROM ev GROUP BY acct;
CREATE MATERIALIZED VIEW ev_with_region AS
    SELECT e.id, e.acct, a.region, e.amount FROM ev e JOIN acct a ON e.acct = a.id;
CREATE MATERIALIZED VIEW ev_top3 AS
    SELECT acct, id, amount FROM (
        SELECT acct, id, amount, row_number() OVER (PARTITION BY acct ORDER BY amount DESC, id) AS rn FROM ev
    ) s WHERE rn <= 3;
