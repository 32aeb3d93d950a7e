-- The three views Strand maintains inside each INSERT's commit.
-- Top-N is not supported yet, so the third view is a filter ("large events").
CREATE MATERIALIZED VIEW ev_by_acct AS
    SELECT acct, count(*) AS n, sum(amount) AS total FROM ev GROUP BY acct;
CREATE MATERIALIZED VIEW ev_with_region AS
    SELECT e.id, e.acct, a.region, e.amount FROM ev e JOIN acct a ON e.acct = a.id;
CREATE MATERIALIZED VIEW ev_large AS
    SELECT id, acct, amount FROM ev WHERE amount >= 900;
