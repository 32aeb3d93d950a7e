package viewdiff

import (
	"context"
	"fmt"
	"math"
	"math/rand"
	"strconv"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/strand-db/strand/tests/pgoracle"
	"github.com/strand-db/strand/tests/strandtest"
)

// Sums and averages of float8 and real are kept exactly (views/floatsum.go):
// a seeded workload adds and retracts values of every size, infinities,
// NaNs and NULLs, and after each batch the views equal PostgreSQL's SELECT
// over the same rows, to within rounding (PostgreSQL sums floats in row
// order, which moves its last bits; a float8 sum kept as a float8 ended
// at 0 instead of 0.6 once 1e20 had been added and retracted). Large
// values are positive, so that PostgreSQL's own sum does not cancel.
func TestFloatSumsEqualPostgres(t *testing.T) {
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
	both(`CREATE TABLE fl (id int PRIMARY KEY, g int, x float8, r real)`)
	views := map[string]string{
		"fl_by_g": `SELECT g, sum(x) AS sx, avg(x) AS ax, sum(r) AS sr, avg(r) AS ar, count(x) AS n FROM fl GROUP BY g`,
		"fl_all":  `SELECT sum(x) AS sx, avg(r) AS ar FROM fl`,
	}
	for name, def := range views {
		if _, err := sc.Exec(ctx, "CREATE MATERIALIZED VIEW "+name+" AS "+def); err != nil {
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
			return strconv.FormatFloat(rng.Float64()*1e15, 'g', -1, 64)
		}
		return strconv.FormatFloat(float64(rng.Intn(2000)-1000)/10, 'g', -1, 64)
	}
	checks := 0
	for batch := 0; batch < 80; batch++ {
		for i := 0; i < 1+rng.Intn(6); i++ {
			id := rng.Intn(40)
			switch rng.Intn(3) {
			case 0:
				both(fmt.Sprintf(`DELETE FROM fl WHERE id = %d`, id))
			default:
				both(fmt.Sprintf(`INSERT INTO fl VALUES (%d, %d, %s, %s) ON CONFLICT (id) DO UPDATE SET x = excluded.x, r = excluded.r`,
					id, rng.Intn(3), value(), value()))
			}
		}
		for name, def := range views {
			got := floatRows(t, sc, "SELECT * FROM "+name)
			want := floatRows(t, pc, def)
			if err := sameFloats(got, want); err != nil {
				t.Fatalf("batch %d: view %s differs from PostgreSQL: %v\nstrand:   %v\npostgres: %v", batch, name, err, got, want)
			}
			checks++
		}
	}
	t.Logf("%d checkpoints equal to PostgreSQL", checks)
}

// floatRows reads q's rows, ordered by the first column, every value as a
// float64 (NULL as nil).
func floatRows(t *testing.T, c *pgx.Conn, q string) [][]any {
	t.Helper()
	rows, err := c.Query(context.Background(), q+" ORDER BY 1")
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	var out [][]any
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			t.Fatal(err)
		}
		row := make([]any, len(vals))
		for i, v := range vals {
			switch x := v.(type) {
			case nil:
			case float32:
				row[i] = float64(x)
			case float64:
				row[i] = x
			case int64:
				row[i] = float64(x)
			case int32:
				row[i] = float64(x)
			default:
				t.Fatalf("%s: column %d is %T", q, i, v)
			}
		}
		out = append(out, row)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// sameFloats compares rows of floats: NULLs, NaNs and infinities exactly,
// finite values to a relative 1e-6 (real's precision; float8 results agree
// far closer, but a row mixes both).
func sameFloats(got, want [][]any) error {
	if len(got) != len(want) {
		return fmt.Errorf("%d rows, want %d", len(got), len(want))
	}
	for i := range got {
		for j := range got[i] {
			a, b := got[i][j], want[i][j]
			if a == nil || b == nil {
				if a != b {
					return fmt.Errorf("row %d column %d: %v, want %v", i, j, a, b)
				}
				continue
			}
			x, y := a.(float64), b.(float64)
			switch {
			case math.IsNaN(x) || math.IsNaN(y):
				if !math.IsNaN(x) || !math.IsNaN(y) {
					return fmt.Errorf("row %d column %d: %v, want %v", i, j, x, y)
				}
			case math.IsInf(x, 0) || math.IsInf(y, 0):
				if x != y {
					return fmt.Errorf("row %d column %d: %v, want %v", i, j, x, y)
				}
			case math.Abs(x-y) > 1e-6*math.Max(1, math.Max(math.Abs(x), math.Abs(y))):
				return fmt.Errorf("row %d column %d: %v, want %v", i, j, x, y)
			}
		}
	}
	return nil
}
