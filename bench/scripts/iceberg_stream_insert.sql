\set acct random(1, 10000)
\set amount random(1, 1000)
INSERT INTO s (acct, amount, note) VALUES (:acct, :amount, 'strand-bench-payload-0123456789');
