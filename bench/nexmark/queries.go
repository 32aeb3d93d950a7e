package nexmark

import (
	"fmt"
	"strings"
)

// Query is a Nexmark query as a materialized view.
type Query struct {
	Name string
	// SQL is the view's SELECT; PostgreSQL runs the same text.
	SQL string
	// RisingWave is RisingWave's published throughput for the query, in
	// thousand events per second per core (0: none published).
	RisingWave float64
	// Adapted says how the view differs from the reference query, if it
	// does.
	Adapted string
}

// origin aligns the time buckets; any fixed instant works (date_bin
// buckets are origin + k × width).
const origin = `'2020-01-01 00:00:00'::timestamp`

func bucket(col string, width, shift string) string {
	o := origin
	if shift != "" {
		o = fmt.Sprintf(`'2020-01-01 00:00:%s'::timestamp`, shift)
	}
	return fmt.Sprintf(`date_bin('%s', %s, %s)`, width, col, o)
}

// hop10s2s is the bids' hopping windows of 10 seconds every 2 seconds
// (RisingWave's HOP(bid, date_time, INTERVAL '2' SECOND, INTERVAL '10'
// SECOND)): a bid belongs to the five windows starting at the 2-second
// marks of the 10 seconds before it, which are the 10-second tumbling
// windows aligned at origin + 0, 2, 4, 6 and 8 seconds, one each.
func hop10s2s() string {
	var parts []string
	for _, s := range []string{"00", "02", "04", "06", "08"} {
		parts = append(parts, fmt.Sprintf(`SELECT auction, %s AS starttime FROM bid`, bucket("date_time", "10 seconds", s)))
	}
	return strings.Join(parts, " UNION ALL ")
}

// Queries are q0–q8 in the form RisingWave's Nexmark benchmark runs them,
// adapted where noted.
var Queries = []Query{
	{Name: "q0", RisingWave: 118,
		SQL: `SELECT auction, bidder, price, date_time FROM bid`},
	{Name: "q1", RisingWave: 119,
		SQL: `SELECT auction, bidder, 0.908 * price AS price, date_time FROM bid`},
	{Name: "q2", RisingWave: 127,
		SQL: `SELECT auction, price FROM bid WHERE auction = 1007 OR auction = 1020 OR auction = 2001 OR auction = 2019 OR auction = 2087`},
	{Name: "q3", RisingWave: 97,
		SQL: `SELECT p.name, p.city, p.state, a.id FROM auction a JOIN person p ON a.seller = p.id WHERE a.category = 10 AND (p.state = 'OR' OR p.state = 'ID' OR p.state = 'CA')`},
	{Name: "q4", RisingWave: 14,
		SQL: `SELECT q.category, avg(q.final) AS avg FROM (SELECT max(b.price) AS final, a.category FROM auction a JOIN bid b ON a.id = b.auction WHERE b.date_time BETWEEN a.date_time AND a.expires GROUP BY a.id, a.category) q GROUP BY q.category`},
	{Name: "q5", RisingWave: 5.2,
		SQL: `SELECT ab.auction, ab.num FROM ` +
			`(SELECT auction, count(*) AS num, starttime FROM (` + hop10s2s() + `) h GROUP BY auction, starttime) ab ` +
			`JOIN (SELECT max(num) AS maxn, starttime FROM (SELECT auction, count(*) AS num, starttime FROM (` + hop10s2s() + `) h GROUP BY auction, starttime) c GROUP BY starttime) mb ` +
			`ON ab.starttime = mb.starttime AND ab.num = mb.maxn`,
		Adapted: "HOP(bid, date_time, 2 s, 10 s) written as the UNION ALL of five 10-second date_bin windows shifted by 2 s each; the reference's ab.num >= mb.maxn is written ab.num = mb.maxn (the same rows, since no count exceeds its window's maximum), which makes the count part of the join key: with >= every change of a window's maximum is joined with every auction of the window"},
	{Name: "q6",
		SQL: `SELECT seller, avg(final) AS avg FROM (SELECT seller, final, row_number() OVER (PARTITION BY seller ORDER BY date_time DESC, id DESC) AS rn FROM ` +
			`(SELECT a.id, a.seller, a.date_time, max(b.price) AS final FROM auction a JOIN bid b ON a.id = b.auction WHERE b.date_time BETWEEN a.date_time AND a.expires GROUP BY a.id, a.seller, a.date_time) q) r ` +
			`WHERE rn <= 10 GROUP BY seller`,
		Adapted: "the view keeps, per seller, the average over the 10 latest auctions (a bounded row_number() top-N), which is the reference's last row per seller (q6w is the reference's sliding window); RisingWave publishes no figure for q6"},
	{Name: "q6w",
		SQL: `SELECT id, seller, avg(final) OVER (PARTITION BY seller ORDER BY date_time, id ROWS BETWEEN 10 PRECEDING AND CURRENT ROW) AS avg FROM ` +
			`(SELECT a.id, a.seller, a.date_time, max(b.price) AS final FROM auction a JOIN bid b ON a.id = b.auction WHERE b.date_time BETWEEN a.date_time AND a.expires GROUP BY a.id, a.seller, a.date_time) q`,
		Adapted: "the reference's sliding window, avg(final) OVER (PARTITION BY seller ORDER BY date_time ROWS BETWEEN 10 PRECEDING AND CURRENT ROW), with id after date_time so that ties have an order; a change of an auction's final price reads the 10 auctions on each side of it (views/windownear.go)"},
	{Name: "q7", RisingWave: 20,
		SQL: `SELECT b.auction, b.price, b.bidder, b.date_time FROM bid b JOIN ` +
			`(SELECT max(price) AS maxprice, ` + bucket("date_time", "10 seconds", "") + ` AS starttime FROM bid GROUP BY 2) m ` +
			`ON b.price = m.maxprice AND ` + bucket("b.date_time", "10 seconds", "") + ` = m.starttime`,
		Adapted: "the reference joins on price = maxprice with b.date_time BETWEEN window_end - 10 s AND window_end; views join on equalities, so the window is matched as date_bin(b.date_time) = window start (the same bids, except one at exactly a window's end)"},
	{Name: "q8", RisingWave: 61,
		SQL: `SELECT p.id, p.name, p.starttime FROM ` +
			`(SELECT id, name, ` + bucket("date_time", "10 seconds", "") + ` AS starttime, ` + bucket("date_time", "10 seconds", "") + ` + interval '10 seconds' AS endtime FROM person GROUP BY 1, 2, 3, 4) p JOIN ` +
			`(SELECT seller, ` + bucket("date_time", "10 seconds", "") + ` AS starttime, ` + bucket("date_time", "10 seconds", "") + ` + interval '10 seconds' AS endtime FROM auction GROUP BY 1, 2, 3) a ` +
			`ON p.id = a.seller AND p.starttime = a.starttime AND p.endtime = a.endtime`,
		Adapted: "TUMBLE(…, 10 s) as date_bin('10 seconds', …)"},
}
