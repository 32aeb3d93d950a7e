\set id random(2000000000, 3000000000)
\set k random(1, 1000000)
\set v random(1, 1000)
INSERT INTO t (id, k, v) VALUES (:id, :k, :v) ON CONFLICT DO NOTHING;
