\set id random(1, 1000000000)
INSERT INTO kv (id, v) VALUES (:id, 'strand-bench-payload-0123456789') ON CONFLICT DO NOTHING;
