-- The same three views as PostgreSQL users maintain them by hand: summary
-- tables kept up to date by AFTER INSERT ... FOR EACH ROW triggers, one per
-- view. Only INSERT on ev is covered (the workload only inserts); a complete
-- set would also need UPDATE/DELETE triggers on ev and triggers on acct for
-- the join, which cost nothing here.

CREATE TABLE ev_by_acct (acct bigint PRIMARY KEY, n bigint NOT NULL, total bigint NOT NULL);
CREATE TABLE ev_with_region (id bigint PRIMARY KEY, acct bigint NOT NULL, region text NOT NULL, amount bigint NOT NULL);
CREATE TABLE ev_top3 (acct bigint NOT NULL, id bigint NOT NULL, amount bigint NOT NULL, PRIMARY KEY (acct, id));

CREATE FUNCTION ev_by_acct_ins() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO ev_by_acct (acct, n, total) VALUES (NEW.acct, 1, NEW.amount)
    ON CONFLICT (acct) DO UPDATE SET n = ev_by_acct.n + 1, total = ev_by_acct.total + EXCLUDED.total;
    RETURN NULL;
END $$;

CREATE FUNCTION ev_with_region_ins() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO ev_with_region (id, acct, region, amount)
    SELECT NEW.id, NEW.acct, a.region, NEW.amount FROM acct a WHERE a.id = NEW.acct;
    RETURN NULL;
END $$;

-- Each account's 3 largest events (ties: smaller id first). The account's
-- row is locked first so that concurrent inserts for one account cannot
-- both see room for one more and leave 4 rows.
CREATE FUNCTION ev_top3_ins() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    n int;
    worst record;
BEGIN
    PERFORM 1 FROM acct WHERE id = NEW.acct FOR UPDATE;
    SELECT count(*) INTO n FROM ev_top3 WHERE acct = NEW.acct;
    IF n < 3 THEN
        INSERT INTO ev_top3 (acct, id, amount) VALUES (NEW.acct, NEW.id, NEW.amount);
        RETURN NULL;
    END IF;
    SELECT id, amount INTO worst FROM ev_top3 WHERE acct = NEW.acct ORDER BY amount, id DESC LIMIT 1;
    IF NEW.amount > worst.amount OR (NEW.amount = worst.amount AND NEW.id < worst.id) THEN
        DELETE FROM ev_top3 WHERE acct = NEW.acct AND id = worst.id;
        INSERT INTO ev_top3 (acct, id, amount) VALUES (NEW.acct, NEW.id, NEW.amount);
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER ev_by_acct_ins AFTER INSERT ON ev FOR EACH ROW EXECUTE FUNCTION ev_by_acct_ins();
CREATE TRIGGER ev_with_region_ins AFTER INSERT ON ev FOR EACH ROW EXECUTE FUNCTION ev_with_region_ins();
CREATE TRIGGER ev_top3_ins AFTER INSERT ON ev FOR EACH ROW EXECUTE FUNCTION ev_top3_ins();
