package viewdiff

import (
	"context"
	"fmt"
	"math"
	"math/rand"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/strand-db/strand/tests/pgoracle"
	"github.com/strand-db/strand/tests/strandtest"
)

// Sums and averages of float8, real and numeric keep exact states
// (views/exactsum.go): a seeded workload adds and retracts values of every
// size, infinities, NaNs and NULLs, and after each batch the views equal
// PostgreSQL's SELECT over the same rows (floats to within rounding:
// PostgreSQL sums floats in row order, which moves its last bits). Kept
// as a float8 or numeric, a sum ended at 0 instead of 0.6 once 1e20 had
// been added and retracted, and stayed NaN after the NaN's row was
// deleted. Large values are positive, so that PostgreSQL's own float sum
// does not cancel.
func TestExactSumsEqualPostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("differential test against PostgreSQL")
	}
	ctx := context.Background()
	pg := pgoracle.StartT(t)
	s := strandtest.Start(t, "")
	sc, pc := s.Connect(t), pg.Connect(t)
	if _, err := pc.Exec(ctx, `DROP TABLE IF EXISTS fl CASCADE`); err != nil {
		t.Fatal(err)
	}
	both := func(q string) {
		t.Helper()
		for _, c := range []*pgx.Conn{sc, pc} {
			if _, err := c.Exec(ctx, q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
	}
	both(`CREATE TABLE fl (id int PRIMARY KEY, g int, x float8, r real, n numeric)`)
	// Each view with its float columns: numeric and integer columns must
	// print the same.
	type view struct {
		def    string
		floats map[int]bool
	}
	views := map[string]view{
		"fl_by_g": {`SELECT g, sum(x) AS sx, avg(x) AS ax, sum(r) AS sr, avg(r) AS ar, sum(n) AS sn, avg(n) AS an, count(x) AS c FROM fl GROUP BY g`,
			map[int]bool{1: true, 2: true, 3: true, 4: true}},
		"fl_all": {`SELECT sum(x) AS sx, avg(r) AS ar, sum(n) AS sn FROM fl`, map[int]bool{0: true, 1: true}},
	}
	for name, v := range views {
		if _, err := sc.Exec(ctx, "CREATE MATERIALIZED VIEW "+name+" AS "+v.def); err != nil {
			t.Fatal(err)
		}
	}
	rng := rand.New(rand.NewSource(7))
	value := func() string {
		switch rng.Intn(12) {
		case 0:
			return "NULL"
		case 1:
			return "'Infinity'"
		case 2:
			return "'-Infinity'"
		case 3:
			return "'NaN'"
		case 4:
			return "1e20"
		case 5:
			return strconv.FormatFloat(rng.Float64()*1e15, 'f', 3, 64)
		}
		return strconv.FormatFloat(float64(rng.Intn(2000)-1000)/10, 'f', -1, 64)
	}
	checks := 0
	for batch := 0; batch < 80; batch++ {
		for i := 0; i < 1+rng.Intn(6); i++ {
			id := rng.Intn(40)
			switch rng.Intn(3) {
			case 0:
				both(fmt.Sprintf(`DELETE FROM fl WHERE id = %d`, id))
			default:
				both(fmt.Sprintf(`INSERT INTO fl VALUES (%d, %d, %s, %s, %s) ON CONFLICT (id) DO UPDATE SET x = excluded.x, r = excluded.r, n = excluded.n`,
					id, rng.Intn(3), value(), value(), value()))
			}
		}
		for name, v := range views {
			got := strandtest.SortedRows(t, sc, "SELECT * FROM "+name)
			want := strandtest.SortedRows(t, pc, v.def)
			if err := sameValues(got, want, v.floats); err != nil {
				t.Fatalf("batch %d: view %s differs from PostgreSQL: %v\nstrand:   %v\npostgres: %v", batch, name, err, got, want)
			}
			checks++
		}
	}
	t.Logf("%d checkpoints equal to PostgreSQL", checks)
}

// sameValues compares rows in SortedRows's form field by field: equal
// texts, or in the float columns numbers within a relative 1e-6 (real's
// precision; float8 results agree far closer). NaN and the infinities
// print the same on both servers, so they compare as text.
func sameValues(got, want []string, floats map[int]bool) error {
	if len(got) != len(want) {
		return fmt.Errorf("%d rows, want %d", len(got), len(want))
	}
	for i := range got {
		g, w := strings.Split(got[i], "|"), strings.Split(want[i], "|")
		if len(g) != len(w) {
			return fmt.Errorf("row %d: %d columns, want %d", i, len(g), len(w))
		}
		for j := range g {
			if g[j] == w[j] {
				continue
			}
			if !floats[j] {
				return fmt.Errorf("row %d column %d: %s, want %s", i, j, g[j], w[j])
			}
			x, errx := strconv.ParseFloat(g[j], 64)
			y, erry := strconv.ParseFloat(w[j], 64)
			if errx != nil || erry != nil || math.IsNaN(x) || math.IsInf(x, 0) || math.IsNaN(y) || math.IsInf(y, 0) ||
				math.Abs(x-y) > 1e-6*math.Max(1, math.Max(math.Abs(x), math.Abs(y))) {
				return fmt.Errorf("row %d column %d: %s, want %s", i, j, g[j], w[j])
			}
		}
	}
	return nil
}

// A view's expressions evaluate with the TimeZone of the session that
// created it, as PostgreSQL's REFRESH by that session would: a view of
// days made in New York buckets by New York days, whoever writes the rows
// (here a UTC session) and after a restart. Read in the creator's time
// zone, each view equals its query run by PostgreSQL there.
func TestViewTimeZoneIsCreators(t *testing.T) {
	if testing.Short() {
		t.Skip("differential test against PostgreSQL")
	}
	pg := pgoracle.StartT(t)
	dir := t.TempDir()
	s := strandtest.Start(t, dir)
	pc := pg.Connect(t)
	strandtest.ExecAll(t, pc, `DROP TABLE IF EXISTS tzev CASCADE`, `CREATE TABLE tzev (id int PRIMARY KEY, ts timestamptz, v int)`)
	defs := map[string]string{
		"tz_days":  `SELECT date_trunc('day', ts) AS d, count(*) AS n, sum(v) AS s FROM tzev GROUP BY 1`,
		"tz_hours": `SELECT id, ts::date AS day, extract(hour from ts) AS h, to_char(ts, 'YYYY-MM-DD HH24:MI') AS t FROM tzev`,
	}
	zones := map[string]string{"tz_days": "America/New_York", "tz_hours": "Asia/Kolkata"}
	creator := s.Connect(t)
	strandtest.ExecAll(t, creator, `CREATE TABLE tzev (id int PRIMARY KEY, ts timestamptz, v int)`)
	for name, def := range defs {
		strandtest.ExecAll(t, creator, fmt.Sprintf(`SET TimeZone = '%s'`, zones[name]), "CREATE MATERIALIZED VIEW "+name+" AS "+def)
	}
	insert := func(from, to int) {
		var rows []string
		for i := from; i < to; i++ {
			// Every 97 minutes from New Year's Eve, UTC: rows on both
			// sides of each zone's midnight.
			rows = append(rows, fmt.Sprintf("(%d, timestamptz '2023-12-31 00:00:00+00' + interval '%d minutes', %d)", i, 97*i, i%7))
		}
		q := "INSERT INTO tzev VALUES " + strings.Join(rows, ", ")
		writer := s.Connect(t) // a UTC session
		strandtest.ExecAll(t, writer, `SET TimeZone = 'UTC'`, q)
		strandtest.ExecAll(t, pc, q)
	}
	compare := func() {
		for name, def := range defs {
			reader := s.Connect(t)
			strandtest.ExecAll(t, reader, fmt.Sprintf(`SET TimeZone = '%s'`, zones[name]))
			strandtest.ExecAll(t, pc, fmt.Sprintf(`SET TimeZone = '%s'`, zones[name]))
			got := strandtest.SortedRows(t, reader, "SELECT * FROM "+name)
			want := strandtest.SortedRows(t, pc, def)
			if len(want) < 2 || strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("view %s (made in %s) differs from PostgreSQL's query there:\n%s", name, zones[name], strandtest.RowsDiff(got, want))
			}
		}
	}
	insert(0, 40)
	compare()
	s.Stop()
	s = strandtest.Start(t, dir)
	insert(40, 70)
	compare()
}

// A group's numeric sum and variance print with the display scale of its
// own values. The maintainer decodes each group's state into one scratch
// row; a group met for the first time after another in the same intent (a
// backfill chunk, a multi-row INSERT) kept the other's scale counts, so
// its sums printed with too many decimals.
func TestGroupScalesAreTheirOwn(t *testing.T) {
	if testing.Short() {
		t.Skip("differential test against PostgreSQL")
	}
	p := newPair(t)
	if _, err := p.pc.Exec(context.Background(), `DROP TABLE IF EXISTS gscale CASCADE`); err != nil {
		t.Fatal(err)
	}
	const def = `SELECT g, sum(n) AS s, avg(n) AS a, stddev_pop(i::numeric / 4) AS sd, var_samp(n) AS vs FROM gscale GROUP BY g`
	p.both(`CREATE TABLE gscale (id int PRIMARY KEY, g text, n numeric, i int)`,
		// i = 3 divides to 20 decimals, 22 and 44 to 16; n has 5, 1 and 0.
		`INSERT INTO gscale VALUES (1, 'a', 1.12345, 3), (2, 'b', 2.5, 44), (3, 'b', 1, 22)`)
	if _, err := p.sc.Exec(context.Background(), `CREATE MATERIALIZED VIEW gscale_v AS `+def); err != nil {
		t.Fatal(err)
	}
	p.same("after the backfill", `SELECT * FROM gscale_v`, def)
	p.both(`INSERT INTO gscale VALUES (4, 'c', 1.0001, 3), (5, 'd', 7.5, 44), (6, 'd', 0.5, 22)`)
	p.same("after new groups in one INSERT", `SELECT * FROM gscale_v`, def)
}

// In an intent of several changes aggregates fold each group's rows in
// memory and hand its change on when the pass settles (views/aggregate.go),
// also below joins: a group finished then sends rows through the join to
// an aggregate above whose groups may still be waiting, and those rows
// must fold into the waiting group. The lateral aggregate here is met
// after the groups above it it changes (each customer's row comes with no
// match first), in a backfill, in a transaction and in a multi-row
// INSERT; the aggregates over the join and the top-N over an aggregate
// must equal PostgreSQL's.
func TestFoldedGroupsUnderJoins(t *testing.T) {
	if testing.Short() {
		t.Skip("differential test against PostgreSQL")
	}
	p := newPair(t)
	if _, err := p.pc.Exec(context.Background(), `DROP TABLE IF EXISTS fcust, fev CASCADE`); err != nil {
		t.Fatal(err)
	}
	inner := `SELECT c.id AS id, t.mv AS mv, count(t.mv) AS n FROM fcust c ` +
		`LEFT JOIN LATERAL (SELECT count(*) AS n, max(e.v) AS mv FROM fev e WHERE e.k = c.id AND e.v > 10) t ON true ` +
		`WHERE EXISTS (SELECT 1 FROM fev e2 WHERE e2.k = c.id) GROUP BY c.id, t.mv`
	defs := map[string]string{
		"fold_inner": inner,
		"fold_outer": `SELECT s.mv, count(*) AS groups, sum(s.id) AS ids, avg(s.id + 9) FILTER (WHERE s.n = 0) AS a FROM (` + inner + `) s GROUP BY s.mv`,
		"fold_join":  `SELECT c.name, a.total, a.n FROM fcust c JOIN (SELECT k, sum(v) AS total, count(*) AS n FROM fev GROUP BY k) a ON a.k = c.id`,
		"fold_top": `SELECT name, total FROM (SELECT c.name, a.total, row_number() OVER (ORDER BY a.total DESC, c.name) AS rn ` +
			`FROM fcust c JOIN (SELECT k, sum(v) AS total FROM fev GROUP BY k) a ON a.k = c.id) x WHERE rn <= 3`,
	}
	p.both(`CREATE TABLE fcust (id int PRIMARY KEY, name text)`,
		`CREATE TABLE fev (id int PRIMARY KEY, k int, v int)`,
		`INSERT INTO fev VALUES (1, 7, 9), (2, 7, 39), (3, 7, 27), (4, 3, 5), (5, 2, 44), (6, 9, 12)`,
		`INSERT INTO fcust VALUES (1, 'c1'), (2, 'c2'), (3, 'c3'), (7, 'c7'), (9, 'c9')`)
	check := func(what string) {
		t.Helper()
		for name, def := range defs {
			p.same(what+": "+name, "SELECT * FROM "+name, def)
		}
	}
	for name, def := range defs {
		if _, err := p.sc.Exec(context.Background(), "CREATE MATERIALIZED VIEW "+name+" AS "+def); err != nil {
			t.Fatal(err)
		}
	}
	check("after the backfill")
	p.both(`BEGIN`,
		`INSERT INTO fev VALUES (10, 11, 50), (11, 4, 8), (12, 1, 70)`,
		`INSERT INTO fcust VALUES (11, 'c11'), (4, 'c4')`,
		`DELETE FROM fev WHERE id IN (2, 5)`,
		`UPDATE fcust SET name = 'c7b' WHERE id = 7`,
		`COMMIT`)
	check("after a transaction")
	p.both(`INSERT INTO fev VALUES (20, 4, 31), (21, 11, 2), (22, 3, 99), (23, 2, 1), (24, 12, 40)`)
	check("after a multi-row INSERT")
	p.both(`DELETE FROM fev WHERE k IN (3, 7, 11)`)
	check("after a multi-row DELETE")
}
