\set id random(1, 1000000000)
\set acct random(1, 10000)
\set amount random(1, 1000)
INSERT INTO cg_ev (id, acct, amount) VALUES (:id, :acct, :amount) ON CONFLICT DO NOTHING;
