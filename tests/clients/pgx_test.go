package clients

import (
	"context"
	"math/big"
	"reflect"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
)

// pgxRow is one row of every type the binary round trip covers.
type pgxRow struct {
	I2  int16
	I4  int32
	I8  int64
	F4  float32
	F8  float64
	Num pgtype.Numeric
	B   bool
	T   string
	By  []byte
	D   pgtype.Date
	Ts  time.Time
	Tz  time.Time
	Iv  pgtype.Interval
	U   pgtype.UUID
	J   map[string]any
}

// TestPgx round-trips values of every supported type through a table with
// pgx, in the extended protocol (binary parameters and results), the
// simple protocol (text), and a pipelined batch.
func TestPgx(t *testing.T) {
	p := serve(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	modes := map[string]pgx.QueryExecMode{
		"extended":  pgx.QueryExecModeCacheStatement,
		"describe":  pgx.QueryExecModeDescribeExec,
		"simple":    pgx.QueryExecModeSimpleProtocol,
		"exec-text": pgx.QueryExecModeExec,
	}
	setup, err := pgx.Connect(ctx, p.DSN())
	if err != nil {
		t.Fatal(err)
	}
	defer setup.Close(ctx)
	if _, err := setup.Exec(ctx, `CREATE TABLE pgx_types (id int8 PRIMARY KEY, i2 int2, i4 int4, i8 int8, f4 float4, f8 float8,
		num numeric, b bool, t text, by bytea, d date, ts timestamp, tz timestamptz, iv interval, u uuid, j jsonb)`); err != nil {
		t.Fatal(err)
	}
	want := pgxRow{I2: -12, I4: 1 << 30, I8: -1 << 62, F4: 1.5, F8: -2.25e100,
		Num: pgtype.Numeric{Int: big.NewInt(-1234567), Exp: -3, Valid: true}, B: true, T: "héllo 'world'",
		By: []byte{0, 1, 2, 255}, D: pgtype.Date{Time: time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC), Valid: true},
		Ts: time.Date(2001, 2, 3, 4, 5, 6, 789000, time.UTC), Tz: time.Date(2030, 12, 31, 23, 59, 59, 123456000, time.UTC),
		Iv: pgtype.Interval{Months: 14, Days: 3, Microseconds: 3723000004, Valid: true},
		U:  pgtype.UUID{Bytes: [16]byte{0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0, 1, 2, 3, 4, 5, 6, 7, 8}, Valid: true}, J: map[string]any{"a": []any{1.0, "x"}, "b": nil}}
	id := int64(0)
	for name, mode := range modes {
		t.Run(name, func(t *testing.T) {
			cfg, err := pgx.ParseConfig(p.DSN())
			if err != nil {
				t.Fatal(err)
			}
			cfg.DefaultQueryExecMode = mode
			c, err := pgx.ConnectConfig(ctx, cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close(ctx)
			id++
			w := want
			if _, err := c.Exec(ctx, `INSERT INTO pgx_types VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)`,
				id, w.I2, w.I4, w.I8, w.F4, w.F8, w.Num, w.B, w.T, w.By, w.D, w.Ts, w.Tz, w.Iv, w.U, `{"b": null, "a": [1, "x"]}`); err != nil {
				t.Fatal(err)
			}
			var got pgxRow
			if err := c.QueryRow(ctx, `SELECT i2, i4, i8, f4, f8, num, b, t, by, d, ts, tz, iv, u, j FROM pgx_types WHERE id = $1`, id).Scan(
				&got.I2, &got.I4, &got.I8, &got.F4, &got.F8, &got.Num, &got.B, &got.T, &got.By, &got.D, &got.Ts, &got.Tz, &got.Iv, &got.U, &got.J); err != nil {
				t.Fatal(err)
			}
			got.Tz = got.Tz.UTC()
			if got.Num.Int.Cmp(w.Num.Int) != 0 || got.Num.Exp != w.Num.Exp {
				t.Errorf("numeric: got %v e%d, want %v e%d", got.Num.Int, got.Num.Exp, w.Num.Int, w.Num.Exp)
			}
			got.Num, w.Num = pgtype.Numeric{}, pgtype.Numeric{}
			if !reflect.DeepEqual(got, w) {
				t.Errorf("round trip:\n got  %+v\n want %+v", got, w)
			}
		})
	}

	t.Run("batch", func(t *testing.T) {
		c, err := pgx.Connect(ctx, p.DSN())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close(ctx)
		b := &pgx.Batch{}
		for i := 100; i < 150; i++ {
			b.Queue(`INSERT INTO pgx_types (id, t) VALUES ($1, $2)`, i, "batch")
		}
		b.Queue(`SELECT count(*) FROM pgx_types WHERE t = $1`, "batch")
		b.Queue(`UPDATE pgx_types SET t = 'batched' WHERE id >= $1 AND id < $2 AND _version = 1`, 100, 110)
		br := c.SendBatch(ctx, b)
		for i := 0; i < 50; i++ {
			if _, err := br.Exec(); err != nil {
				t.Fatalf("insert %d: %v", i, err)
			}
		}
		var n int64
		if err := br.QueryRow().Scan(&n); err != nil || n != 50 {
			t.Fatalf("count: %d, %v", n, err)
		}
		tag, err := br.Exec()
		if err != nil || tag.RowsAffected() != 10 {
			t.Fatalf("update: %v, %v", tag, err)
		}
		if err := br.Close(); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("catalog", func(t *testing.T) {
		c, err := pgx.Connect(ctx, p.DSN())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close(ctx)
		// What drivers ask about a table's columns, with parameters.
		rows, err := c.Query(ctx, `SELECT a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull
			FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
			JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
			WHERE c.relname = $1 AND n.nspname = $2 AND a.attnum > 0 ORDER BY a.attnum`, "pgx_types", "public")
		if err != nil {
			t.Fatal(err)
		}
		names, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (string, error) {
			var n, typ string
			var nn bool
			err := r.Scan(&n, &typ, &nn)
			return n + " " + typ, err
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(names) != 16 || names[0] != "id bigint" || names[13] != "iv interval" {
			t.Errorf("columns: %v", names)
		}
	})
}
