\set id random(1, 5000)
\set amount random(1, 1000)
INSERT INTO bench_events (account_id, amount, note) VALUES (:id, :amount, 'pgbench');
SELECT count(*), sum(amount) FROM bench_events WHERE account_id = :id;
INSERT INTO bench_accounts (id, balance) VALUES (:id, :amount) ON CONFLICT (id) DO UPDATE SET balance = excluded.balance;
SELECT balance, _version FROM bench_accounts WHERE id = :id;
