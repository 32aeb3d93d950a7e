// Package viewdiff proves materialized views equal to PostgreSQL's answer:
// a seeded random workload (inserts, updates, deletes, transactions over
// several tables) runs on Strand and on PostgreSQL 15; after every batch,
// each view's contents on Strand must equal its SELECT run by PostgreSQL
// over the same data.
package viewdiff

import (
	"context"
	"fmt"
	"math/rand"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/strand-db/strand/log"
	"github.com/strand-db/strand/sql/session"
	"github.com/strand-db/strand/tests/pgoracle"
	"github.com/strand-db/strand/tests/strandtest"
)

// viewDefs are the views under test: every operator the maintainer
// supports, alone and combined.
var viewDefs = []string{
	`SELECT id, amount FROM orders WHERE amount > 50`,
	`SELECT id, customer_id, amount * 2 AS double, status FROM orders WHERE status = 'open'`,
	`SELECT id, CASE WHEN amount IS NULL THEN 'none' WHEN amount < 30 THEN 'small' ELSE 'large' END AS size FROM orders`,
	`SELECT id, coalesce(amount, -1) AS a, status IS NULL AS no_status FROM orders`,
	`SELECT customer_id, count(*) AS n FROM orders GROUP BY customer_id`,
	`SELECT customer_id, count(amount) AS n, sum(amount) AS total FROM orders GROUP BY customer_id`,
	`SELECT status, min(amount) AS lo, max(amount) AS hi FROM orders GROUP BY status`,
	`SELECT region, avg(amount) AS mean FROM orders GROUP BY region`,
	`SELECT count(*) AS n, sum(amount) AS total, min(id) AS first_id, max(id) AS last_id FROM orders`,
	`SELECT customer_id, count(DISTINCT status) AS statuses FROM orders GROUP BY customer_id`,
	`SELECT region, bool_and(amount > 10) AS all_big, bool_or(status = 'open') AS any_open FROM orders GROUP BY region`,
	`SELECT customer_id, sum(amount) AS total FROM orders GROUP BY customer_id HAVING sum(amount) > 100`,
	`SELECT customer_id, status, count(*) AS n FROM orders WHERE amount IS NOT NULL GROUP BY customer_id, status`,
	`SELECT amount % 3 AS bucket, count(*) AS n, max(amount) AS hi FROM orders GROUP BY amount % 3`,
	`SELECT DISTINCT status FROM orders`,
	`SELECT DISTINCT customer_id, region FROM orders`,
	`SELECT o.id, c.name, o.amount FROM orders o JOIN customers c ON o.customer_id = c.id`,
	`SELECT o.id, c.tier FROM orders o JOIN customers c ON o.customer_id = c.id WHERE c.tier = 'gold' AND o.amount > 20`,
	`SELECT c.tier, count(*) AS n, sum(o.amount) AS total FROM orders o JOIN customers c ON o.customer_id = c.id GROUP BY c.tier`,
	`SELECT c.region, max(o.amount) AS hi, min(o.amount) AS lo FROM customers c JOIN orders o ON c.id = o.customer_id GROUP BY c.region`,
	`SELECT c.name, count(DISTINCT o.status) AS statuses FROM orders o JOIN customers c ON o.customer_id = c.id GROUP BY c.name`,
	`SELECT o.region, c.region AS home, count(*) AS n FROM orders o JOIN customers c ON o.customer_id = c.id AND o.region = c.region GROUP BY o.region, c.region`,
	`SELECT a.id AS a_id, b.id AS b_id FROM orders a JOIN orders b ON a.customer_id = b.customer_id WHERE a.id < b.id`,
	`SELECT a.name, b.name AS peer FROM customers a JOIN customers b ON a.tier = b.tier WHERE a.id <> b.id`,
	`SELECT kind, count(*) AS n, sum(v) AS total FROM events GROUP BY kind`,
	`SELECT k, max(v) AS hi FROM events WHERE v IS NOT NULL GROUP BY k HAVING count(*) > 1`,
	`SELECT e.kind, c.tier, count(*) AS n FROM events e JOIN customers c ON e.k = c.id GROUP BY e.kind, c.tier`,
	`SELECT tier, count(*) AS n FROM customers GROUP BY tier`,
	`SELECT id, upper_tier FROM (SELECT id, tier AS upper_tier FROM customers) s`,
	`SELECT status, sum(amount) AS total, count(*) AS n FROM orders WHERE region IN ('eu', 'us') GROUP BY status HAVING count(*) >= 2`,
	`SELECT customer_id, avg(amount) AS mean, count(*) AS n FROM orders WHERE amount BETWEEN 10 AND 90 GROUP BY customer_id`,

	// Outer joins: the NULL-padded row comes and goes with the matches.
	`SELECT o.id, c.name FROM orders o LEFT JOIN customers c ON o.customer_id = c.id`,
	`SELECT c.id, c.name, o.id AS order_id, o.amount FROM customers c LEFT JOIN orders o ON o.customer_id = c.id AND o.amount > 40`,
	`SELECT o.id, c.tier FROM customers c RIGHT JOIN orders o ON c.id = o.customer_id`,
	`SELECT c.tier, count(o.id) AS orders, sum(o.amount) AS total FROM customers c LEFT JOIN orders o ON o.customer_id = c.id GROUP BY c.tier`,
	`SELECT a.id, b.id AS other FROM orders a LEFT JOIN orders b ON a.customer_id = b.customer_id AND a.id <> b.id AND b.status = 'open'`,
	`SELECT c.name, e.kind, e.v FROM customers c LEFT JOIN events e ON e.k = c.id AND e.v > 40`,
	// Joins of three tables (left-deep chains of binary joins).
	`SELECT o.id, c.name, e.kind FROM orders o JOIN customers c ON o.customer_id = c.id JOIN events e ON e.k = c.id WHERE e.v > 40`,
	`SELECT c.tier, count(*) AS n, count(e.k) AS events FROM orders o JOIN customers c ON o.customer_id = c.id LEFT JOIN events e ON e.k = o.id GROUP BY c.tier`,
	`SELECT o.id, c.name, e.v FROM orders o LEFT JOIN customers c ON o.customer_id = c.id LEFT JOIN events e ON e.k = c.id AND e.kind = o.status`,
	`SELECT o.id, c.name, c2.name AS peer FROM orders o JOIN customers c ON o.customer_id = c.id RIGHT JOIN customers c2 ON c2.tier = c.tier AND c2.id <> c.id WHERE c2.region = 'eu'`,
	// UNION ALL (and UNION) of maintainable branches.
	`SELECT id, amount AS x FROM orders WHERE status = 'open' UNION ALL SELECT k, v FROM events WHERE kind = 'open'`,
	`SELECT region FROM orders UNION ALL SELECT region FROM customers`,
	`SELECT region, count(*) AS n FROM (SELECT region FROM orders UNION ALL SELECT region FROM customers) u GROUP BY region`,
	`SELECT tier AS word FROM customers UNION SELECT status FROM orders`,
	// Top-N: ORDER BY ... LIMIT, and row_number() per group.
	`SELECT id, amount FROM orders ORDER BY amount DESC, id LIMIT 5`,
	`SELECT id, amount FROM orders WHERE amount IS NOT NULL ORDER BY amount, id LIMIT 3 OFFSET 2`,
	`SELECT customer_id, sum(amount) AS total FROM orders GROUP BY customer_id ORDER BY total DESC NULLS LAST, customer_id LIMIT 3`,
	`SELECT id, customer_id, amount, rn FROM (SELECT id, customer_id, amount, row_number() OVER (PARTITION BY customer_id ORDER BY amount DESC NULLS LAST, id) AS rn FROM orders) s WHERE rn <= 2`,
	`SELECT k, v FROM (SELECT k, v, row_number() OVER (PARTITION BY k ORDER BY v, kind) AS rn FROM events) s WHERE rn = 1`,
	// Time buckets: tumbling windows by date_trunc and date_bin, and a
	// hopping window (1 hour every 30 minutes) as a UNION ALL of two
	// tumbling ones.
	`SELECT date_trunc('hour', ts) AS hour, count(*) AS n, sum(v) AS total FROM events GROUP BY date_trunc('hour', ts)`,
	`SELECT date_bin('15 minutes', ts, '2024-01-01'::timestamp) AS bucket, kind, count(*) AS n FROM events GROUP BY 1, 2`,
	`SELECT w, count(*) AS n, max(v) AS hi FROM (SELECT date_bin('1 hour', ts, '2024-01-01 00:00'::timestamp) AS w, v FROM events UNION ALL SELECT date_bin('1 hour', ts, '2024-01-01 00:30'::timestamp), v FROM events) h GROUP BY w`,
	// Views over views (v4: customer_id, n; v14: DISTINCT status; v16:
	// orders joined with customers; v53: n, customers; v50: hourly events).
	`SELECT n, count(*) AS customers FROM v4 GROUP BY n`,
	`SELECT v16.name, sum(v16.amount) AS total, count(*) AS n FROM v16 GROUP BY v16.name`,
	`SELECT status FROM v14 WHERE status <> 'void'`,
	`SELECT s.status, o.id FROM v14 s JOIN orders o ON o.status = s.status WHERE o.amount > 80`,
	`SELECT customers FROM v53 WHERE n > 1`,
	`SELECT v.customer_id, v.n, c.name FROM v4 v LEFT JOIN customers c ON c.id = v.customer_id`,
	`SELECT hour, n FROM v50 ORDER BY n DESC, hour LIMIT 2`,
	// An aggregate without GROUP BY over no rows has one row, as in PostgreSQL.
	`SELECT count(*) AS n, sum(v) AS total, max(v) AS hi FROM events WHERE kind = 'never'`,
	// FULL OUTER JOIN: rows of either side without a match, NULL-padded.
	`SELECT o.id, o.amount, c.id AS cid, c.name FROM orders o FULL JOIN customers c ON o.customer_id = c.id`,
	`SELECT c.tier, e.kind, count(*) AS n FROM customers c FULL OUTER JOIN events e ON e.k = c.id AND e.v > 25 GROUP BY c.tier, e.kind`,
	// rn read beyond its bound: the numbers matter (no constant rank).
	`SELECT id, amount FROM (SELECT id, amount, row_number() OVER (PARTITION BY region ORDER BY amount, id) AS rn FROM orders) s WHERE rn <= 3 AND rn > 1`,
	// Views over top-N views, whose rows are read from the candidates
	// (v45: the 5 largest orders; v48: each customer's 2 largest, with
	// rn): their changes and their backfill read partition by partition.
	`SELECT customer_id, count(*) AS n, max(rn) AS last_rn, sum(amount) AS total FROM v48 GROUP BY customer_id`,
	`SELECT x.id, x.rn, c.tier FROM v48 x JOIN customers c ON c.id = x.customer_id`,
	`SELECT id, amount FROM v45 ORDER BY amount, id LIMIT 2`,
	// Aggregates with FILTER (WHERE ...), grouped and not; count(*)
	// filtered counts the rows that pass.
	`SELECT customer_id, count(*) FILTER (WHERE status = 'paid') AS paid, sum(amount) FILTER (WHERE amount > 50) AS big, min(amount) FILTER (WHERE status <> 'void') AS lo, count(DISTINCT status) FILTER (WHERE amount IS NOT NULL) AS st, count(*) AS n FROM orders GROUP BY customer_id`,
	`SELECT count(*) FILTER (WHERE region = 'eu') AS eu, avg(amount) FILTER (WHERE status = 'open') AS open_avg, bool_or(amount > 90) FILTER (WHERE region <> 'us') AS big_outside_us FROM orders`,
	// WITH queries, planned where they are referenced: one used twice
	// (a self-join), one built on an earlier one, one with column names.
	`WITH s AS (SELECT customer_id, status, count(*) AS n FROM orders GROUP BY customer_id, status) SELECT a.customer_id, a.status, a.n, b.status AS other FROM s a JOIN s b ON a.customer_id = b.customer_id AND a.status < b.status`,
	`WITH paid AS (SELECT id, customer_id, amount FROM orders WHERE status = 'paid'), per AS (SELECT customer_id, count(*) AS n FROM paid GROUP BY customer_id) SELECT c.name, per.n FROM per JOIN customers c ON c.id = per.customer_id`,
	`WITH r (reg, n) AS (SELECT region, count(*) FROM orders GROUP BY region) SELECT reg, n FROM r WHERE n > 1`,
	// Comma joins: the WHERE equalities become the joins' ON.
	`SELECT o.id, c.name, o.amount FROM orders o, customers c WHERE o.customer_id = c.id AND o.amount > 20`,
	`SELECT o.id, c.tier, p.id AS same_region FROM orders o, customers c, orders p WHERE c.id = o.customer_id AND p.region = o.region AND p.customer_id = c.id AND o.id <> p.id`,
	// EXISTS, NOT EXISTS and IN (subquery): semi- and anti-joins, with
	// a filter of the subquery's own, a condition across both sides,
	// over a stream (rows with multiplicities), and under a GROUP BY.
	`SELECT c.id, c.name FROM customers c WHERE EXISTS (SELECT 1 FROM orders o WHERE o.customer_id = c.id AND o.status = 'paid')`,
	`SELECT id, region FROM customers c WHERE NOT EXISTS (SELECT 1 FROM orders o WHERE o.customer_id = c.id AND o.amount > 50) AND tier <> 'bronze'`,
	`SELECT region, count(*) AS n, sum(amount) AS total FROM orders WHERE customer_id IN (SELECT id FROM customers WHERE tier = 'gold') GROUP BY region`,
	`SELECT o.id, o.amount FROM orders o WHERE EXISTS (SELECT 1 FROM orders p WHERE p.customer_id = o.customer_id AND p.amount > o.amount)`,
	`SELECT k, v, kind FROM events e WHERE NOT EXISTS (SELECT 1 FROM customers c WHERE c.id = e.k) AND EXISTS (SELECT 1 FROM orders o WHERE o.customer_id = e.v)`,
	// The variance family over integers and numerics (a numeric result
	// at PostgreSQL's division scale), with a FILTER and ungrouped.
	`SELECT customer_id, stddev(amount) AS sd, var_pop(amount) AS vp, variance(amount) FILTER (WHERE status <> 'void') AS vs, count(*) AS n FROM orders GROUP BY customer_id`,
	`SELECT region, stddev_pop(amount::numeric / 4) AS sp, var_samp(amount * 0.25) AS v FROM orders GROUP BY region`,
	`SELECT stddev_samp(v) AS s, var_pop(v) AS p FROM events`,
	// DISTINCT ON: each partition's first row in the ORDER BY, as the
	// latest event per key is kept (a top-1 per partition).
	`SELECT DISTINCT ON (customer_id) customer_id, id, amount, status FROM orders ORDER BY customer_id, amount DESC, id`,
	`SELECT DISTINCT ON (k) k, v, kind FROM events ORDER BY k, v DESC, kind`,
	`SELECT DISTINCT ON (region, status) region, status, amount FROM orders WHERE amount IS NOT NULL ORDER BY region, status, amount`,
	// Scalar subqueries in the select list: left joins with the
	// subquery grouped by its correlation (count's no rows read as 0), or
	// a lookup of a keyed table by its key.
	`SELECT c.id, c.tier, (SELECT count(*) FROM orders o WHERE o.customer_id = c.id AND o.status <> 'void') AS n, (SELECT max(amount) FROM orders o WHERE o.customer_id = c.id) AS top FROM customers c`,
	`SELECT o.id, o.amount, (SELECT name FROM customers c WHERE c.id = o.customer_id) AS who FROM orders o WHERE o.amount > 10`,
	`SELECT e.k, e.kind, (SELECT sum(amount) FROM orders o WHERE o.customer_id = e.v AND o.region = e.kind) AS s FROM events e`,
	// JOIN ... USING and NATURAL JOIN: the shared column once, first.
	`SELECT o.id, customer_id, c.name FROM orders o JOIN (SELECT id AS customer_id, name FROM customers) c USING (customer_id)`,
	`SELECT * FROM orders o LEFT JOIN (SELECT id AS customer_id, tier FROM customers) c USING (customer_id)`,
	`SELECT * FROM (SELECT id, region FROM orders) a NATURAL JOIN (SELECT region, count(*) AS n FROM customers GROUP BY region) b`,
	`SELECT * FROM (SELECT id AS customer_id, tier FROM customers) c RIGHT JOIN orders o USING (customer_id)`,
	// INTERSECT and EXCEPT: semi- and anti-joins on every column, where
	// NULLs match.
	`SELECT customer_id FROM orders WHERE status = 'paid' INTERSECT SELECT id FROM customers WHERE tier = 'gold'`,
	`SELECT region, status FROM orders EXCEPT SELECT region, tier FROM customers`,
	`SELECT k, kind FROM events INTERSECT SELECT customer_id, status FROM orders`,
	`SELECT region FROM orders EXCEPT SELECT region FROM customers WHERE tier = 'gold' UNION SELECT tier FROM customers`,
	`SELECT v FROM events WHERE k < 8 INTERSECT SELECT v FROM events WHERE k > 3`,
	`SELECT v, kind FROM events WHERE k < 9 EXCEPT SELECT v, kind FROM events WHERE k > 6`,
	// string_agg and array_agg, in their ORDER BY's order.
	`SELECT customer_id, string_agg(status, '/' ORDER BY id) AS statuses, array_agg(amount ORDER BY amount DESC NULLS LAST, id) AS amounts, count(*) AS n FROM orders GROUP BY customer_id`,
	`SELECT k, string_agg(kind, ',' ORDER BY v, kind) AS kinds, array_agg(v ORDER BY v NULLS FIRST) FILTER (WHERE kind <> 'void') AS vs FROM events GROUP BY k`,
	`SELECT customer_id, jsonb_agg(status ORDER BY id) AS j, json_agg(amount ORDER BY id DESC) AS t FROM orders GROUP BY customer_id`,
	// sum and avg of DISTINCT values (and DISTINCT that changes nothing).
	`SELECT customer_id, sum(DISTINCT amount) AS s, avg(DISTINCT amount) AS a, count(DISTINCT amount) AS c FROM orders GROUP BY customer_id`,
	`SELECT region, max(DISTINCT amount) AS hi, sum(DISTINCT amount) FILTER (WHERE status = 'open') AS so FROM orders GROUP BY region`,
	`SELECT sum(DISTINCT amount % 7) AS s, avg(DISTINCT customer_id) AS c FROM orders`,
	`SELECT region, string_agg(DISTINCT status, ',' ORDER BY status) AS st, array_agg(DISTINCT customer_id ORDER BY customer_id DESC) AS cs FROM orders GROUP BY region`,
	// Window functions, per partition (orders in a total order, or one
	// where only equal rows tie, as PostgreSQL's order of ties is its own).
	`SELECT id, customer_id, amount, lag(amount) OVER (PARTITION BY customer_id ORDER BY id) AS prev, sum(amount) OVER (PARTITION BY customer_id ORDER BY id) AS running FROM orders`,
	`SELECT id, region, rank() OVER (PARTITION BY region ORDER BY amount DESC NULLS LAST) AS r, dense_rank() OVER (PARTITION BY region ORDER BY status) AS dr, count(*) OVER (PARTITION BY region) AS n, percent_rank() OVER (PARTITION BY region ORDER BY amount) AS pr FROM orders`,
	`SELECT * FROM (SELECT id, customer_id, amount, rank() OVER (PARTITION BY customer_id ORDER BY amount DESC NULLS LAST) AS r FROM orders) s WHERE r <= 2`,
	// rank() and dense_rank() bounded by a WHERE: top-Ns with ties. Ties
	// are rows equal in the order, which rank alike whatever order
	// PostgreSQL reads them in, so the orders need not be total.
	`SELECT id, status, region, r FROM (SELECT id, status, region, dense_rank() OVER (PARTITION BY region ORDER BY status NULLS FIRST) AS r FROM orders) s WHERE r <= 2`,
	`SELECT id, amount FROM (SELECT id, amount, rank() OVER (ORDER BY amount % 10 DESC) AS r FROM orders) s WHERE r <= 5`,
	`SELECT k, kind, v, dr FROM (SELECT k, kind, v, dense_rank() OVER (PARTITION BY kind ORDER BY v) AS dr FROM events) s WHERE dr = 1`,
	`SELECT * FROM (SELECT k, v, ts, rank() OVER (PARTITION BY k ORDER BY v DESC) AS r FROM events) s WHERE r < 3 AND r > 1`,
	`SELECT customer_id, count(*) AS n, sum(amount) AS s FROM (SELECT customer_id, amount, rank() OVER (PARTITION BY customer_id ORDER BY amount) AS r FROM orders) t WHERE r <= 2 GROUP BY customer_id`,
	`SELECT t.id, c.name, t.r FROM (SELECT id, customer_id, rank() OVER (PARTITION BY region ORDER BY amount DESC) AS r FROM orders) t JOIN customers c ON c.id = t.customer_id WHERE t.r <= 3`,
	// Conditions over subqueries related to the row by equalities: left
	// joins with each subquery grouped by them, then a filter.
	`SELECT id, amount FROM orders o WHERE amount > (SELECT avg(amount) FROM orders p WHERE p.customer_id = o.customer_id)`,
	`SELECT c.id, c.name FROM customers c WHERE (SELECT count(*) FROM orders o WHERE o.customer_id = c.id AND o.status = 'open') = 0`,
	`SELECT id, region FROM orders o WHERE amount <> (SELECT max(amount) FROM orders p WHERE p.region = o.region) AND status IS NOT NULL`,
	`SELECT o.id FROM orders o WHERE o.amount > (SELECT c.id * 5 FROM customers c WHERE c.id = o.customer_id)`,
	`SELECT o.id, c.name FROM orders o JOIN customers c ON c.id = o.customer_id WHERE o.amount >= (SELECT max(amount) FROM orders p WHERE p.customer_id = c.id) - 10`,
	// A named window, and a frame (which ranking functions ignore).
	`SELECT * FROM (SELECT id, region, amount, rank() OVER w AS r FROM orders WINDOW w AS (PARTITION BY region ORDER BY amount DESC NULLS LAST)) s WHERE r <= 2`,
	`SELECT id, customer_id FROM (SELECT id, customer_id, row_number() OVER (PARTITION BY customer_id ORDER BY id ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS rn FROM orders) s WHERE rn = 1`,
	// Not bounded: the window operator computes it per partition.
	`SELECT * FROM (SELECT id, region, dense_rank() OVER (PARTITION BY region ORDER BY amount) AS r FROM orders) s WHERE r % 2 = 1`,
	`SELECT k, v, lead(v, 2) OVER (PARTITION BY k ORDER BY ts, v, kind) AS nx, first_value(kind) OVER (PARTITION BY k ORDER BY ts, v, kind) AS f, sum(v) OVER (PARTITION BY k ORDER BY ts, v, kind ROWS BETWEEN 1 PRECEDING AND 1 FOLLOWING) AS mv FROM events`,
	`SELECT o.id, c.name, row_number() OVER (PARTITION BY c.tier ORDER BY o.id) AS rn, ntile(3) OVER (PARTITION BY c.tier ORDER BY o.id) AS t FROM orders o JOIN customers c ON c.id = o.customer_id`,
	// Functions that read a bounded number of rows around their own: a
	// change reads only those (views/windownear.go).
	`SELECT id, customer_id, amount - lag(amount) OVER (PARTITION BY customer_id ORDER BY id) AS delta, lead(id, 2) OVER (PARTITION BY customer_id ORDER BY id) AS after2 FROM orders`,
	`SELECT k, v, kind, sum(v) OVER w3 AS s3, count(*) OVER w3 AS n3, avg(v) OVER (PARTITION BY k ORDER BY ts, v, kind ROWS BETWEEN 1 PRECEDING AND 1 FOLLOWING) AS m, lag(kind, 3, 'none') OVER (PARTITION BY k ORDER BY ts, v, kind) AS back3 FROM events WINDOW w3 AS (PARTITION BY k ORDER BY ts, v, kind ROWS BETWEEN 2 PRECEDING AND CURRENT ROW)`,
	`SELECT id, region, first_value(amount) OVER (PARTITION BY region ORDER BY amount DESC NULLS LAST, id ROWS BETWEEN 1 FOLLOWING AND 3 FOLLOWING) AS f, last_value(status) OVER (PARTITION BY region ORDER BY amount DESC NULLS LAST, id ROWS BETWEEN 2 PRECEDING AND 1 PRECEDING) AS l, nth_value(id, 2) OVER (PARTITION BY region ORDER BY amount DESC NULLS LAST, id ROWS BETWEEN 2 PRECEDING AND 2 FOLLOWING) AS n2, max(amount) OVER (PARTITION BY region ORDER BY amount DESC NULLS LAST, id ROWS BETWEEN CURRENT ROW AND 2 FOLLOWING) AS hi FROM orders`,
	`SELECT k, count(*) AS n, sum(prev) AS sp FROM (SELECT k, lag(v) OVER (PARTITION BY k ORDER BY ts, v, kind) AS prev FROM events) s GROUP BY k`,
	// A RANGE frame of an interval: the rows within an hour before each
	// (its peers included), recomputed per partition.
	`SELECT k, ts, v, sum(v) OVER (PARTITION BY k ORDER BY ts RANGE BETWEEN INTERVAL '1 hour' PRECEDING AND CURRENT ROW) AS last_hour FROM events`,
	`SELECT id, customer_id, amount, count(*) OVER (PARTITION BY customer_id ORDER BY amount DESC RANGE BETWEEN 10 PRECEDING AND 5 FOLLOWING) AS near, max(id) OVER (PARTITION BY customer_id ORDER BY amount DESC RANGE BETWEEN CURRENT ROW AND 5 FOLLOWING) AS hi FROM orders`,
	`SELECT k, kind, v, sum(v) OVER (PARTITION BY kind ORDER BY ts::date NULLS FIRST RANGE BETWEEN INTERVAL '2 days' PRECEDING AND INTERVAL '1 day' FOLLOWING) AS days, max(v) OVER (PARTITION BY kind ORDER BY ts::date NULLS FIRST RANGE BETWEEN INTERVAL '2 days' PRECEDING AND CURRENT ROW) AS hi FROM events`,
	`SELECT k, v, avg(v) OVER (PARTITION BY k ORDER BY ts AT TIME ZONE 'UTC' DESC RANGE BETWEEN INTERVAL '90 minutes' PRECEDING AND INTERVAL '30 minutes' FOLLOWING) AS m FROM events`,
	// Joins on expressions of each side, and on columns of different types.
	`SELECT o.id, c.name FROM orders o JOIN customers c ON c.id = o.amount % 10`,
	`SELECT o.id, c.tier FROM orders o LEFT JOIN customers c ON upper(c.region) = upper(o.region) AND c.tier <> 'gold'`,
	`SELECT o.id, c.name FROM orders o JOIN customers c ON c.id::bigint = o.customer_id::bigint`,
	// INTERSECT ALL and EXCEPT ALL: multiplicities min(l, r), max(l - r, 0).
	`SELECT customer_id FROM orders INTERSECT ALL SELECT id FROM customers WHERE tier <> 'gold'`,
	`SELECT region, status FROM orders EXCEPT ALL SELECT region, tier FROM customers`,
	`SELECT k, kind FROM events EXCEPT ALL SELECT k, kind FROM events WHERE v > 3 INTERSECT ALL SELECT k, kind FROM events WHERE v < 8`,
	// An ungrouped aggregate under a projection: its first row is stored
	// under the key its later changes read (compact integer keys).
	`SELECT n * 2 AS d, n FROM (SELECT count(*) AS n FROM orders) s`,
	// ROLLUP, CUBE and GROUPING SETS: an aggregate per set.
	`SELECT region, status, count(*) AS n, sum(amount) AS s FROM orders GROUP BY ROLLUP (region, status)`,
	`SELECT region, status, count(*) AS n, GROUPING(region, status) AS g FROM orders GROUP BY CUBE (region, status) HAVING count(*) > 1`,
	`SELECT customer_id, status, max(amount) AS m, min(amount) FILTER (WHERE status <> 'void') AS lo FROM orders GROUP BY GROUPING SETS ((customer_id), (status), ())`,
	// Window functions over the aggregation's rows.
	`SELECT region, customer_id, sum(amount) AS s, rank() OVER (PARTITION BY region ORDER BY sum(amount) DESC NULLS LAST) AS r FROM orders GROUP BY region, customer_id`,
	`SELECT status, count(*) AS n, lag(count(*)) OVER (PARTITION BY status IS NULL ORDER BY status) AS prev, row_number() OVER (PARTITION BY status IS NULL ORDER BY status) AS rn FROM orders GROUP BY status`,
	// A grouping set over an ungrouped aggregate: the () set's empty state
	// is in place before the inner aggregate's empty-input row reaches it.
	`SELECT s.m, count(*) AS n, sum(s.m) AS t FROM (SELECT max(amount) AS m FROM orders) s WHERE s.m IS NULL GROUP BY CUBE (s.m)`,
	// Comparisons with an aggregate's value (dynamic filters): the rows
	// between the old and the new value move when it does.
	`SELECT id, amount FROM orders WHERE amount > (SELECT avg(amount) FROM orders)`,
	`SELECT k, v, kind FROM events WHERE v >= (SELECT max(v) FROM events) - 10`,
	`SELECT k, ts FROM events WHERE ts > (SELECT max(ts) FROM events) - interval '1 hour'`,
	`SELECT o.id, c.name FROM orders o JOIN customers c ON o.customer_id = c.id WHERE (SELECT min(amount) FROM orders WHERE status = 'paid') + 20 >= o.amount`,
	`SELECT status, count(*) AS n FROM orders WHERE amount = (SELECT max(amount) FROM orders) GROUP BY status`,
	`SELECT name, tier FROM customers WHERE name < (SELECT max(name) FROM customers WHERE tier = 'gold') AND region <> 'ap'`,
	`SELECT customer_id, count(*) AS n FROM orders GROUP BY customer_id HAVING count(*) > (SELECT count(*) FROM orders) / 12`,
	`SELECT id, status FROM orders WHERE customer_id = ANY (SELECT id FROM customers WHERE tier = 'gold') AND NOT (region <> ALL (SELECT region FROM customers WHERE tier <> 'gold'))`,
	`SELECT region, status, sum(amount) AS s FROM orders GROUP BY region, status HAVING (SELECT avg(amount) FROM orders) * 4 <= sum(amount) AND count(*) > 1`,
	// LATERAL subqueries related by equalities: decorrelated into joins
	// (a top-N per key, an aggregate per key, a filter).
	`SELECT c.id, t.amount, t.id AS oid FROM customers c, LATERAL (SELECT o.id, o.amount FROM orders o WHERE o.customer_id = c.id ORDER BY o.amount DESC NULLS LAST, o.id LIMIT 2) t`,
	`SELECT c.id, t.* FROM customers c LEFT JOIN LATERAL (SELECT o.id AS oid, o.status FROM orders o WHERE c.id = o.customer_id AND o.region = c.region ORDER BY o.status NULLS FIRST, o.id LIMIT 2 OFFSET 1) t ON true`,
	`SELECT c.name, t.n, t.hi FROM customers c LEFT JOIN LATERAL (SELECT count(*) AS n, max(o.amount) AS hi, count(o.amount) AS na FROM orders o WHERE o.customer_id = c.id AND o.status <> 'void') t ON true`,
	`SELECT c.id, t.n, t.s, t.f FROM customers c, LATERAL (SELECT count(*) AS n, sum(e.v) AS s, count(*) FILTER (WHERE e.v > 20) AS f FROM events e WHERE e.k = c.id) t`,
	`SELECT c.id, t.kind, t.v FROM customers c JOIN LATERAL (SELECT e.kind, e.v FROM events e WHERE e.k = c.id AND e.v > 20) t ON true`,
	`SELECT c.tier, t.status, t.c FROM customers c, LATERAL (SELECT o.status, count(*) AS c FROM orders o WHERE o.region = c.region GROUP BY o.status) t`,
	`SELECT id, customer_id, amount FROM orders WHERE amount BETWEEN (SELECT avg(amount) FROM orders) - 15 AND (SELECT avg(amount) FROM orders WHERE region = 'eu') + 15`,
	`SELECT k, v FROM events WHERE v BETWEEN 10 AND (SELECT max(v) FROM events WHERE kind = 'open') - 5`,
	`SELECT id, status FROM orders WHERE amount BETWEEN (SELECT min(amount) FROM orders WHERE status = 'paid') AND 80`,
	// op ANY (subquery): a dynamic filter on the subquery's min or max.
	`SELECT id, amount FROM orders WHERE amount > ANY (SELECT v FROM events WHERE kind = 'paid')`,
	`SELECT id, name FROM customers WHERE id <= SOME (SELECT customer_id FROM orders WHERE status = 'void' AND amount > 50)`,
	// op ALL (subquery): every row when it has none, none when it has a
	// NULL, else a comparison with its max or min.
	`SELECT id, amount FROM orders WHERE amount > ALL (SELECT v FROM events WHERE kind = 'paid' AND k < 4)`,
	`SELECT id, name FROM customers WHERE id <= ALL (SELECT customer_id FROM orders WHERE status = 'void')`,
	// NOT IN (subquery): an anti-join gated by the subquery's NULLs and
	// emptiness.
	`SELECT id, status FROM orders WHERE customer_id NOT IN (SELECT amount % 12 FROM orders o2 WHERE o2.status = 'void' AND o2.id < 30)`,
	`SELECT id, kind FROM customers c, events e WHERE e.k = c.id AND e.v NOT IN (SELECT amount FROM orders WHERE region = 'ap' AND customer_id = 3)`,
	// Correlated: the gate per value of the correlation.
	`SELECT id, amount FROM orders o WHERE amount NOT IN (SELECT v FROM events e WHERE e.k = o.customer_id AND e.kind <> 'void')`,
	`SELECT c.id, c.name FROM customers c WHERE c.id NOT IN (SELECT o.amount % 12 FROM orders o WHERE o.region = c.region)`,
	// Ordered-set aggregates: the group's values kept in order.
	`SELECT customer_id, percentile_cont(0.5) WITHIN GROUP (ORDER BY amount) AS med, percentile_disc(0.25) WITHIN GROUP (ORDER BY amount DESC) AS q, mode() WITHIN GROUP (ORDER BY status) AS m FROM orders GROUP BY customer_id`,
	`SELECT kind, percentile_disc(0.5) WITHIN GROUP (ORDER BY ts) AS mts, percentile_cont(0.9) WITHIN GROUP (ORDER BY v) FILTER (WHERE v > 5) AS p, count(*) AS n FROM events GROUP BY kind`,
	// FULL JOIN ... USING: the merged column is COALESCE(left, right).
	`SELECT id, o.amount, c.name, o.id AS oid FROM orders o FULL JOIN customers c USING (id)`,
	`SELECT * FROM orders o FULL JOIN customers c USING (id, region)`,
	// Filters and projections of a stream: one output row per event,
	// keyed by its LSN.
	`SELECT k, v * 2 AS dbl, ts FROM events WHERE kind <> 'void'`,
	`SELECT kind, v FROM events`,
	// Running window functions: a change recomputes the rows from it (or
	// from its first peer) to its partition's end, continuing from the
	// row before (views/windowrun.go).
	`SELECT id, customer_id, amount, sum(amount) OVER (PARTITION BY customer_id ORDER BY amount NULLS FIRST) AS s, count(amount) OVER (PARTITION BY customer_id ORDER BY amount NULLS FIRST) AS c, rank() OVER (PARTITION BY customer_id ORDER BY amount NULLS FIRST) AS r FROM orders`,
	`SELECT id, region, row_number() OVER w AS rn, max(amount) OVER (w ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS hi, min(status) OVER (w ROWS UNBOUNDED PRECEDING) AS lo FROM orders WINDOW w AS (PARTITION BY region ORDER BY id)`,
	`SELECT k, v, kind, dense_rank() OVER (PARTITION BY kind ORDER BY v DESC) AS dr, sum(v) OVER (PARTITION BY kind ORDER BY v DESC) AS s, bool_or(v > 5) OVER (PARTITION BY kind ORDER BY v DESC) AS big FROM events`,
	`SELECT k, ts, v, sum(v) OVER (PARTITION BY k ORDER BY ts, v, kind) AS balance, first_value(v) OVER (PARTITION BY k ORDER BY ts, v, kind) AS first, last_value(kind) OVER (PARTITION BY k ORDER BY ts, v, kind ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS lastk FROM events`,
	// Without PARTITION BY: the table is one partition.
	`SELECT id, amount, row_number() OVER (ORDER BY id) AS rn, sum(amount) OVER (ORDER BY id) AS cum FROM orders`,
	`SELECT customer_id, sum(amount) AS s, sum(sum(amount)) OVER (ORDER BY customer_id NULLS FIRST) AS cum, count(*) OVER (ORDER BY customer_id NULLS FIRST) AS groups FROM orders GROUP BY customer_id`,
	`SELECT k, v, v - lag(v) OVER (ORDER BY k, ts, v, kind) AS step FROM events`,
	// Running functions beside lag and lead: a change also recomputes
	// the rows whose lead reaches it. Ties are duplicate rows.
	`SELECT k, v, lead(v) OVER w AS nx, lag(kind, 2) OVER w AS pk, rank() OVER w AS r, sum(v) OVER w AS s FROM events WINDOW w AS (PARTITION BY k ORDER BY ts, v, kind)`,
	`SELECT id, customer_id, amount - lag(amount, 1, 0) OVER w AS delta, lead(id, 3) OVER w AS later, max(amount) OVER w AS hi, row_number() OVER w AS rn FROM orders WINDOW w AS (PARTITION BY customer_id ORDER BY id)`,
	`SELECT id, region, lag(status, 3) OVER w AS back3, lead(amount) OVER w AS nx, count(amount) OVER w AS c FROM orders WINDOW w AS (PARTITION BY region ORDER BY id)`,
	// A row_number() that no WHERE bounds: the window operator's, running.
	`SELECT id, customer_id, row_number() OVER (PARTITION BY customer_id ORDER BY amount DESC NULLS LAST, id) AS rn FROM orders`,
	`SELECT * FROM (SELECT k, v, row_number() OVER (ORDER BY ts, k, v, kind) AS rn FROM events) s WHERE rn % 3 = 1`,
	// A running avg continues from the sum and count stored beside it.
	`SELECT id, region, avg(amount) OVER (PARTITION BY region ORDER BY status NULLS FIRST) AS a, count(*) OVER (PARTITION BY region ORDER BY status NULLS FIRST) AS n FROM orders`,
	`SELECT id, customer_id, avg(amount::numeric / 7) OVER w AS a, sum(amount) OVER w AS s FROM orders WINDOW w AS (PARTITION BY customer_id ORDER BY id ROWS UNBOUNDED PRECEDING)`,
	// FILTER with OVER, running and framed.
	`SELECT id, customer_id, count(*) FILTER (WHERE status = 'paid') OVER w AS paid, sum(amount) FILTER (WHERE amount > 10) OVER w AS big, avg(amount) FILTER (WHERE status IS NOT NULL) OVER w AS a FROM orders WINDOW w AS (PARTITION BY customer_id ORDER BY id)`,
	`SELECT k, v, max(v) FILTER (WHERE kind <> 'void') OVER (PARTITION BY k ORDER BY ts, v, kind ROWS BETWEEN 1 PRECEDING AND 1 FOLLOWING) AS m FROM events`,
	// Row values: a row-wise comparison, and IN over a row (a semi-join
	// on an equality per column).
	`SELECT id, customer_id, amount FROM orders WHERE (customer_id, amount) >= (3, 50) AND (status, region) <> ('void', 'eu')`,
	`SELECT id, amount FROM orders o WHERE (customer_id, region) IN (SELECT id, region FROM customers WHERE tier <> 'gold')`,
	// Running functions beside ROWS frames bounded on both sides.
	`SELECT id, region, row_number() OVER w AS rn, sum(amount) OVER (w ROWS BETWEEN 2 PRECEDING AND 1 FOLLOWING) AS s, first_value(id) OVER (w ROWS BETWEEN 1 FOLLOWING AND 3 FOLLOWING) AS nx, count(*) OVER w AS n FROM orders WINDOW w AS (PARTITION BY region ORDER BY id)`,
	// Interval (band) joins: each side's rows ordered by the bounded
	// column, a change reading only those within its bounds.
	`SELECT a.k, a.v, a.ts, b.v AS bv, b.kind FROM events a JOIN events b ON a.k = b.k AND b.ts BETWEEN a.ts - interval '30 minutes' AND a.ts + interval '10 minutes'`,
	`SELECT o.id, o.amount, e.v, e.ts FROM orders o LEFT JOIN events e ON e.k = o.customer_id AND e.v > o.amount - 5 AND e.v <= o.amount + 3`,
	`SELECT a.k, a.ts, b.ts AS bts, b.v FROM events a FULL JOIN events b ON a.k = b.k AND a.ts + interval '1 day' < b.ts + interval '1 day 20 minutes' AND b.ts < a.ts`,
	`SELECT o.customer_id, count(*) AS n, sum(e.v) AS s FROM orders o JOIN events e ON e.k = o.customer_id AND e.v BETWEEN o.amount AND o.amount + 20 GROUP BY o.customer_id`,
	`SELECT a.id, b.id AS near FROM orders a RIGHT JOIN orders b ON a.customer_id = b.customer_id AND b.id BETWEEN a.id - 3 AND a.id + 3 AND b.id <> a.id`,
	`SELECT o.id, o.amount FROM orders o WHERE EXISTS (SELECT 1 FROM events e WHERE e.k = o.customer_id AND e.v >= o.amount AND e.v < o.amount + 15)`,
	`SELECT e.k, e.ts FROM events e WHERE NOT EXISTS (SELECT 1 FROM events f WHERE f.k = e.k AND f.ts > e.ts AND f.ts <= e.ts + interval '40 minutes')`,
	// The bounds in WHERE over an inner join move into its ON.
	`SELECT a.k, a.kind, count(*) AS n, max(b.v) AS hi FROM events a JOIN events b ON a.k = b.k WHERE b.ts >= a.ts - interval '45 minutes' AND b.ts < a.ts AND a.v > 5 AND b.v <> a.v GROUP BY a.k, a.kind`,
	`SELECT o.id, e.v FROM orders o, events e WHERE e.k = o.customer_id AND o.amount - 4 <= e.v AND e.v - 4 <= o.amount`,
	// A LATERAL subquery that only filters may compare the outer rows
	// otherwise beside an equality: a join with those conditions in ON.
	`SELECT o.id, t.v, t.kind FROM orders o, LATERAL (SELECT e.v, e.kind FROM events e WHERE e.k = o.customer_id AND e.v BETWEEN o.amount - 5 AND o.amount + 5) t`,
	`SELECT c.id, t.ts, t.v FROM customers c LEFT JOIN LATERAL (SELECT ts, v FROM events e WHERE k = c.id AND v > c.id * 3 AND kind <> c.tier) t ON true`,
	// An unqualified outer column whose name the subquery's output
	// shares: qualified when the condition moves to the join's ON.
	`SELECT c.region, t.id FROM customers c, LATERAL (SELECT e.v AS id FROM events e WHERE e.k = c.id AND e.v > id * 2) t`,
}

var (
	statuses = []string{"open", "paid", "shipped", "void"}
	regions  = []string{"eu", "us", "ap"}
	tiers    = []string{"gold", "silver", "bronze"}
)

func TestViewsEqualPostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("differential test against PostgreSQL")
	}
	seeds := []int64{1, 2, 3}
	if v := os.Getenv("VIEWDIFF_SEED"); v != "" {
		seed, _ := strconv.ParseInt(v, 10, 64)
		seeds = []int64{seed}
	}
	pg := pgoracle.StartT(t)
	for _, seed := range seeds {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) { runSeed(t, pg, seed, nil, false) })
	}
}

// TestViewSubscriptionsFollowViews: a subscriber to each view, applying
// the changes it is delivered to the rows it started with, has the view's
// rows at every checkpoint of the workload. One server keeps every feed
// small, so that its subscribers often lose their changes and read their
// views again; on another, every keyed view keeps a changelog, which its
// subscriber reads from the beginning as a table's events.
func TestViewSubscriptionsFollowViews(t *testing.T) {
	if testing.Short() {
		t.Skip("differential test against PostgreSQL")
	}
	pg := pgoracle.StartT(t)
	for _, feedBytes := range []int{0, 2048} {
		t.Run(fmt.Sprint("feedBytes", feedBytes), func(t *testing.T) {
			m := session.NewMaintainer()
			m.FeedBytes = feedBytes
			s := strandtest.StartWith(t, log.Options{Dir: t.TempDir(), Hook: m})
			runSeed(t, pg, 6, s, false)
		})
	}
	t.Run("changelog", func(t *testing.T) {
		runSeed(t, pg, 6, strandtest.Start(t, ""), true)
	})
}

// runSeed runs the workload of one seed against the views, comparing each
// with PostgreSQL at every checkpoint. With follow, the server to use,
// each view is also followed by a subscription whose changes must add up
// to the view's rows at every checkpoint. With changelog, the views that
// can keep one (keyed by their group) are created WITH (changelog = true).
func runSeed(t *testing.T, pg *pgoracle.Server, seed int64, follow *strandtest.Server, changelog bool) {
	ctx := context.Background()
	s := follow
	if s == nil {
		s = strandtest.Start(t, "")
	}
	sc := s.Connect(t)
	pc := pg.Connect(t)
	createWorkloadTables(t, sc, pc)
	both := func(strandSQL, pgSQL string) {
		t.Helper()
		if _, err := sc.Exec(ctx, strandSQL); err != nil {
			t.Fatalf("strand: %s: %v", strandSQL, err)
		}
		if _, err := pc.Exec(ctx, pgSQL); err != nil {
			t.Fatalf("postgres: %s: %v", pgSQL, err)
		}
	}

	rng := rand.New(rand.NewSource(seed))
	w := &workload{rng: rng}
	// Some data before the views exist, so backfill is exercised.
	for i := 0; i < 60; i++ {
		sqlText := w.next()
		both(sqlText, sqlText)
	}
	var supported []int
	logged := 0
	for i, def := range viewDefs {
		withLog, err := createView(sc, fmt.Sprintf("v%d", i), def, changelog)
		if withLog {
			logged++
		}
		if err != nil {
			t.Fatalf("view %d (%s): %v", i, def, err)
		}
		// PostgreSQL gets an ordinary view of the same name, so that views
		// over views mean the same on both sides.
		if _, err := pc.Exec(ctx, fmt.Sprintf("CREATE VIEW v%d AS %s", i, def)); err != nil {
			t.Fatalf("postgres view %d: %v", i, err)
		}
		supported = append(supported, i)
	}
	var subs *viewSubscribers
	if follow != nil {
		defs := map[string]string{}
		for _, i := range supported {
			defs[fmt.Sprintf("v%d", i)] = viewDefs[i]
		}
		subs = subscribeViews(t, s.Connect(t), defs)
	}
	checkpoints := 0
	// A view that stays empty proves nothing: each must have rows at some
	// checkpoint.
	seenRows := map[int]bool{}
	compare := func() {
		t.Helper()
		for _, i := range supported {
			got := strandtest.SortedRows(t, sc, fmt.Sprintf("SELECT * FROM v%d", i))
			want := strandtest.SortedRows(t, pc, viewDefs[i])
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Fatalf("view %d (%s) after %d statements differs from PostgreSQL:\nstrand:   %v\npostgres: %v", i, viewDefs[i], w.n, got, want)
			}
			checkpoints++
			if len(got) > 0 {
				seenRows[i] = true
			}
			if subs != nil {
				subs.check(t, fmt.Sprintf("v%d", i), got, w.n)
			}
		}
	}
	compare()
	batches := 60
	for b := 0; b < batches; b++ {
		if rng.Intn(4) == 0 {
			// A transaction, committed or rolled back.
			commit := rng.Intn(3) > 0
			both("BEGIN", "BEGIN")
			for i := 0; i < 1+rng.Intn(5); i++ {
				sqlText := w.next()
				both(sqlText, sqlText)
			}
			if commit {
				both("COMMIT", "COMMIT")
			} else {
				both("ROLLBACK", "ROLLBACK")
			}
		} else {
			for i := 0; i < 1+rng.Intn(8); i++ {
				sqlText := w.next()
				both(sqlText, sqlText)
			}
		}
		compare()
	}
	for _, i := range supported {
		if !seenRows[i] {
			t.Errorf("view %d (%s) was empty at every checkpoint", i, viewDefs[i])
		}
	}
	if changelog && logged < 10 {
		t.Errorf("only %d views kept a changelog", logged)
	}
	t.Logf("seed %d: %d views (%d with a changelog), %d statements, %d view checkpoints equal to PostgreSQL", seed, len(supported), logged, w.n, checkpoints)
}

// createWorkloadTables makes the workload's tables afresh on both servers
// (PostgreSQL's are dropped first: each seed starts from scratch).
func createWorkloadTables(t *testing.T, sc, pc *pgx.Conn) {
	t.Helper()
	ctx := context.Background()
	for _, q := range []string{`DROP TABLE IF EXISTS orders CASCADE`, `DROP TABLE IF EXISTS customers CASCADE`, `DROP TABLE IF EXISTS events CASCADE`} {
		if _, err := pc.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	for _, ddl := range [][2]string{
		{`CREATE TABLE orders (id int PRIMARY KEY, customer_id int, amount int, status text, region text)`},
		{`CREATE TABLE customers (id int PRIMARY KEY, name text, tier text, region text)`},
		{`CREATE TABLE events (k int, v int, kind text, ts timestamp) APPEND ONLY KEY (k)`, `CREATE TABLE events (k int, v int, kind text, ts timestamp)`},
	} {
		if ddl[1] == "" {
			ddl[1] = ddl[0]
		}
		if _, err := sc.Exec(ctx, ddl[0]); err != nil {
			t.Fatalf("strand: %s: %v", ddl[0], err)
		}
		if _, err := pc.Exec(ctx, ddl[1]); err != nil {
			t.Fatalf("postgres: %s: %v", ddl[1], err)
		}
	}
}

// workload generates statements that mean the same on both servers.
type workload struct {
	rng *rand.Rand
	n   int
}

func (w *workload) pick(xs []string) string { return xs[w.rng.Intn(len(xs))] }

func (w *workload) maybeNull(s string) string {
	if w.rng.Intn(8) == 0 {
		return "NULL"
	}
	return s
}

func (w *workload) next() string {
	w.n++
	r := w.rng
	switch r.Intn(10) {
	case 0, 1, 2:
		return fmt.Sprintf(`INSERT INTO orders VALUES (%d, %s, %s, %s, '%s') ON CONFLICT (id) DO NOTHING`,
			r.Intn(80), w.maybeNull(strconv.Itoa(r.Intn(12))), w.maybeNull(strconv.Itoa(r.Intn(100))),
			w.maybeNull("'"+w.pick(statuses)+"'"), w.pick(regions))
	case 3:
		return fmt.Sprintf(`UPDATE orders SET amount = %s WHERE id = %d`, w.maybeNull(strconv.Itoa(r.Intn(100))), r.Intn(80))
	case 4:
		return fmt.Sprintf(`UPDATE orders SET status = '%s', customer_id = %d WHERE id %% 7 = %d`, w.pick(statuses), r.Intn(12), r.Intn(7))
	case 5:
		return fmt.Sprintf(`DELETE FROM orders WHERE id = %d`, r.Intn(80))
	case 6:
		return fmt.Sprintf(`INSERT INTO customers VALUES (%d, 'c%d', '%s', '%s') ON CONFLICT (id) DO UPDATE SET tier = excluded.tier`,
			r.Intn(12), r.Intn(12), w.pick(tiers), w.pick(regions))
	case 7:
		if r.Intn(3) == 0 {
			return fmt.Sprintf(`DELETE FROM customers WHERE id = %d`, r.Intn(12))
		}
		return fmt.Sprintf(`UPDATE customers SET region = '%s' WHERE id = %d`, w.pick(regions), r.Intn(12))
	default:
		ts := w.maybeNull(fmt.Sprintf("'2024-01-01 %02d:%02d:00'", r.Intn(6), r.Intn(60)))
		return fmt.Sprintf(`INSERT INTO events (k, v, kind, ts) VALUES (%d, %s, '%s', %s)`, r.Intn(12), w.maybeNull(strconv.Itoa(r.Intn(50))), w.pick(statuses), ts)
	}
}

// createView creates materialized view name as def; with changelog, WITH
// (changelog = true) when the view has a key (withLog says so), else
// without.
func createView(c *pgx.Conn, name, def string, changelog bool) (withLog bool, err error) {
	ctx := context.Background()
	if changelog {
		_, err = c.Exec(ctx, fmt.Sprintf("CREATE MATERIALIZED VIEW %s WITH (changelog = true) AS %s", name, def))
		if err == nil || !strings.Contains(err.Error(), "must have a key") {
			return err == nil, err
		}
	}
	_, err = c.Exec(ctx, fmt.Sprintf("CREATE MATERIALIZED VIEW %s AS %s", name, def))
	return false, err
}
