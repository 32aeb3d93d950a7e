// Package sqlwrite tests Strand's write semantics through pgx: optimistic
// writes with _version, transactions, and COPY.
package sqlwrite

import (
	"context"
	"errors"
	"fmt"
	"math/rand"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/strand-db/strand/tests/strandtest"
)

func sqlstate(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

// TestTransfersLoseNoUpdate runs 32 clients moving money between shared
// accounts with read-modify-write loops conditioned on _version; the total
// is conserved and every acknowledged transfer is reflected.
func TestTransfersLoseNoUpdate(t *testing.T) {
	s := strandtest.Start(t, "")
	ctx := context.Background()
	c := s.Connect(t)
	const accounts, clients, transfers = 8, 32, 40
	if _, err := c.Exec(ctx, `CREATE TABLE accounts (id int PRIMARY KEY, balance bigint NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < accounts; i++ {
		if _, err := c.Exec(ctx, `INSERT INTO accounts VALUES ($1, 1000)`, i); err != nil {
			t.Fatal(err)
		}
	}
	var moved [accounts]atomic.Int64
	var conflicts atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < clients; w++ {
		wg.Add(1)
		go func(seed int64) {
			defer wg.Done()
			conn, err := pgx.Connect(ctx, s.DSN())
			if err != nil {
				t.Error(err)
				return
			}
			defer conn.Close(ctx)
			rng := rand.New(rand.NewSource(seed))
			for i := 0; i < transfers; i++ {
				from, to := rng.Intn(accounts), rng.Intn(accounts)
				if from == to {
					continue
				}
				amount := int64(1 + rng.Intn(10))
				for {
					err := transfer(ctx, conn, from, to, amount)
					if err == nil {
						moved[from].Add(-amount)
						moved[to].Add(amount)
						break
					}
					if sqlstate(err) != "40001" {
						t.Error(err)
						return
					}
					conflicts.Add(1)
				}
			}
		}(int64(w))
	}
	wg.Wait()
	var total int64
	for i := 0; i < accounts; i++ {
		var bal int64
		if err := c.QueryRow(ctx, `SELECT balance FROM accounts WHERE id = $1`, i).Scan(&bal); err != nil {
			t.Fatal(err)
		}
		if bal != 1000+moved[i].Load() {
			t.Fatalf("account %d: balance %d, acknowledged transfers say %d", i, bal, 1000+moved[i].Load())
		}
		total += bal
	}
	if total != accounts*1000 {
		t.Fatalf("total %d, want %d", total, accounts*1000)
	}
	if conflicts.Load() == 0 {
		t.Fatal("no conflicts among 32 clients on 8 accounts: the test did not exercise optimistic writes")
	}
	t.Logf("%d conflicts retried", conflicts.Load())
}

// transfer reads both balances with their versions and writes them back
// conditioned on those versions, in one transaction.
func transfer(ctx context.Context, c *pgx.Conn, from, to int, amount int64) error {
	tx, err := c.Begin(ctx)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback(ctx)
	var fb, fv, tb, tv int64
	if err := tx.QueryRow(ctx, `SELECT balance, _version FROM accounts WHERE id = $1`, from).Scan(&fb, &fv); err != nil {
		return fmt.Errorf("read from: %w", err)
	}
	if err := tx.QueryRow(ctx, `SELECT balance, _version FROM accounts WHERE id = $1`, to).Scan(&tb, &tv); err != nil {
		return err
	}
	for _, u := range []struct{ id, bal, ver int64 }{{int64(from), fb - amount, fv}, {int64(to), tb + amount, tv}} {
		tag, err := tx.Exec(ctx, `UPDATE accounts SET balance = $1 WHERE id = $2 AND _version = $3`, u.bal, u.id, u.ver)
		if err != nil {
			return fmt.Errorf("update %d: %w", u.id, err)
		}
		if tag.RowsAffected() != 1 {
			return &pgconn.PgError{Code: "40001", Message: "version moved"}
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

func TestStreamExpectedVersion(t *testing.T) {
	s := strandtest.Start(t, "")
	ctx := context.Background()
	c := s.Connect(t)
	if _, err := c.Exec(ctx, `CREATE TABLE account_events (account_id bigint, kind text, amount bigint) APPEND ONLY KEY (account_id)`); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 3; i++ {
		if _, err := c.Exec(ctx, `INSERT INTO account_events (account_id, _version, kind, amount) VALUES (7, $1, 'credit', 10)`, i); err != nil {
			t.Fatal(i, err)
		}
	}
	_, err := c.Exec(ctx, `INSERT INTO account_events (account_id, _version, kind, amount) VALUES (7, 3, 'debit', 5)`)
	if sqlstate(err) != "40001" {
		t.Fatalf("stale expected version: %v", err)
	}
	var pe *pgconn.PgError
	errors.As(err, &pe)
	if pe == nil || pe.Detail == "" {
		t.Fatalf("conflict without detail: %v", err)
	}
	// Omitting _version means "any".
	if _, err := c.Exec(ctx, `INSERT INTO account_events (account_id, kind, amount) VALUES (7, 'debit', 5)`); err != nil {
		t.Fatal(err)
	}
	rows, _ := c.Query(ctx, `SELECT _version, kind FROM account_events WHERE account_id = 7 ORDER BY _version`)
	var got []string
	for rows.Next() {
		var v int64
		var k string
		rows.Scan(&v, &k)
		got = append(got, fmt.Sprintf("%d %s", v, k))
	}
	if fmt.Sprint(got) != "[1 credit 2 credit 3 credit 4 debit]" {
		t.Fatalf("history %v", got)
	}
}

func TestTransactionsAreAtomicAndIsolated(t *testing.T) {
	s := strandtest.Start(t, "")
	ctx := context.Background()
	a, b := s.Connect(t), s.Connect(t)
	a.Exec(ctx, `CREATE TABLE kv (k text PRIMARY KEY, v int)`)
	a.Exec(ctx, `INSERT INTO kv VALUES ('x', 1)`)
	tx, _ := a.Begin(ctx)
	tx.Exec(ctx, `UPDATE kv SET v = 2 WHERE k = 'x'`)
	tx.Exec(ctx, `INSERT INTO kv VALUES ('y', 1)`)
	var v int
	// Own writes visible inside, invisible outside until COMMIT.
	if err := tx.QueryRow(ctx, `SELECT v FROM kv WHERE k = 'x'`).Scan(&v); err != nil || v != 2 {
		t.Fatalf("own write: %v %v", v, err)
	}
	var n int
	b.QueryRow(ctx, `SELECT count(*) FROM kv`).Scan(&n)
	if n != 1 {
		t.Fatalf("uncommitted insert visible to another session: %d rows", n)
	}
	// A concurrent committed write to x makes the transaction fail at commit.
	if _, err := b.Exec(ctx, `UPDATE kv SET v = 10 WHERE k = 'x'`); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(ctx); sqlstate(err) != "40001" {
		t.Fatalf("commit over a concurrent write: %v", err)
	}
	b.QueryRow(ctx, `SELECT count(*) FROM kv`).Scan(&n)
	if n != 1 {
		t.Fatalf("failed transaction left %d rows", n)
	}
	// ROLLBACK discards; an error inside a block fails it until ROLLBACK.
	tx, _ = a.Begin(ctx)
	tx.Exec(ctx, `INSERT INTO kv VALUES ('z', 1)`)
	if _, err := tx.Exec(ctx, `INSERT INTO kv VALUES ('x', 1)`); sqlstate(err) != "23505" {
		t.Fatalf("duplicate in transaction: %v", err)
	}
	if _, err := tx.Exec(ctx, `SELECT 1`); sqlstate(err) != "25P02" {
		t.Fatalf("statement in failed transaction: %v", err)
	}
	tx.Rollback(ctx)
	b.QueryRow(ctx, `SELECT count(*) FROM kv`).Scan(&n)
	if n != 1 {
		t.Fatalf("rolled back insert visible: %d rows", n)
	}
}

func TestCopyFromAndTo(t *testing.T) {
	s := strandtest.Start(t, "")
	ctx := context.Background()
	c := s.Connect(t)
	c.Exec(ctx, `CREATE TABLE items (id bigint PRIMARY KEY, name text, price numeric(10,2), seen timestamptz)`)
	var rows [][]any
	for i := 0; i < 25000; i++ {
		rows = append(rows, []any{int64(i), fmt.Sprint("item ", i), fmt.Sprintf("%d.%02d", i, i%100), nil})
	}
	// pgx's CopyFrom speaks the binary COPY format.
	n, err := c.CopyFrom(ctx, pgx.Identifier{"items"}, []string{"id", "name", "price", "seen"}, pgx.CopyFromRows(rows))
	if err != nil || n != 25000 {
		t.Fatalf("copy from: %d %v", n, err)
	}
	var count int64
	var sum string
	c.QueryRow(ctx, `SELECT count(*), sum(price)::text FROM items`).Scan(&count, &sum)
	if count != 25000 || sum != "312499875.00" {
		t.Fatalf("after copy: count %d sum %s", count, sum)
	}
	// A duplicate key fails the COPY with 23505.
	_, err = c.CopyFrom(ctx, pgx.Identifier{"items"}, []string{"id", "name"}, pgx.CopyFromRows([][]any{{int64(25000), "new"}, {int64(5), "dup"}}))
	if sqlstate(err) != "23505" {
		t.Fatalf("duplicate in copy: %v", err)
	}
}

// TestVersionsReadsEveryKeysHistory: versions('t') lists every version of
// every key in order, with deletes, and a key predicate reads one key.
func TestVersionsReadsEveryKeysHistory(t *testing.T) {
	s := strandtest.Start(t, "")
	ctx := context.Background()
	c := s.Connect(t)
	for _, q := range []string{
		`CREATE TABLE acc (id int PRIMARY KEY, bal int)`,
		`INSERT INTO acc VALUES (1, 10), (2, 20)`,
		`UPDATE acc SET bal = 15 WHERE id = 1`,
		`DELETE FROM acc WHERE id = 1`,
		`INSERT INTO acc VALUES (1, 99)`,
	} {
		if _, err := c.Exec(ctx, q); err != nil {
			t.Fatal(q, err)
		}
	}
	read := func(q string) string {
		rows, err := c.Query(ctx, q)
		if err != nil {
			t.Fatal(q, err)
		}
		var out []string
		for rows.Next() {
			var id, v int64
			var bal *int64
			var op string
			if err := rows.Scan(&id, &bal, &v, &op); err != nil {
				t.Fatal(err)
			}
			b := "null"
			if bal != nil {
				b = fmt.Sprint(*bal)
			}
			out = append(out, fmt.Sprintf("%d:%s:v%d:%s", id, b, v, op))
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		return fmt.Sprint(out)
	}
	if got := read(`SELECT id, bal, _version, _op FROM versions('acc')`); got != "[1:10:v1:insert 1:15:v2:update 1:null:v3:delete 1:99:v4:insert 2:20:v1:insert]" {
		t.Fatalf("history: %s", got)
	}
	if got := read(`SELECT id, bal, _version, _op FROM versions('acc') WHERE id = 1 AND _version >= 3`); got != "[1:null:v3:delete 1:99:v4:insert]" {
		t.Fatalf("one key's history: %s", got)
	}
}

// TestPreparedPlansFollowTheCatalog: a prepared query's cached plan is
// replaced when the catalog changes under it.
func TestPreparedPlansFollowTheCatalog(t *testing.T) {
	s := strandtest.Start(t, "")
	ctx := context.Background()
	c := s.Connect(t)
	c.Exec(ctx, `CREATE TABLE p (id int PRIMARY KEY, a int)`)
	c.Exec(ctx, `INSERT INTO p VALUES (1, 10)`)
	if _, err := c.Prepare(ctx, "q", `SELECT * FROM p WHERE id = $1`); err != nil {
		t.Fatal(err)
	}
	count := func() int {
		rows, err := c.Query(ctx, "q", 1)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		n := 0
		for rows.Next() {
			n = len(rows.RawValues())
		}
		return n
	}
	for i := 0; i < 3; i++ {
		if n := count(); n != 2 {
			t.Fatalf("columns before ALTER: %d", n)
		}
	}
	c.Exec(ctx, `UPDATE p SET a = 11 WHERE id = 1`)
	var a int
	if err := c.QueryRow(ctx, "q", 1).Scan(new(int), &a); err != nil || a != 11 {
		t.Fatalf("cached plan reads new data: %d %v", a, err)
	}
	if _, err := c.Exec(ctx, `DROP TABLE p`); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Exec(ctx, "q", 1); err == nil || !strings.Contains(err.Error(), "42P01") {
		t.Fatalf("prepared query after DROP TABLE: %v", err)
	}
}

// TestPreparedWritesFollowTheCatalog: a prepared INSERT's cached plan is
// replaced when the table's schema changes.
func TestPreparedWritesFollowTheCatalog(t *testing.T) {
	s := strandtest.Start(t, "")
	ctx := context.Background()
	c := s.Connect(t)
	c.Exec(ctx, `CREATE TABLE w (id int PRIMARY KEY, a int)`)
	if _, err := c.Prepare(ctx, "ins", `INSERT INTO w (id, a) VALUES ($1, $2)`); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 3; i++ {
		if _, err := c.Exec(ctx, "ins", i, i*10); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.Exec(ctx, `ALTER TABLE w ADD COLUMN b text`); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Exec(ctx, "ins", 4, 40); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Exec(ctx, "ins", 4, 41); err == nil || !strings.Contains(err.Error(), "23505") {
		t.Fatalf("duplicate through the cached plan: %v", err)
	}
	var n, sum int
	var nulls int
	if err := c.QueryRow(ctx, `SELECT count(*), sum(a), count(*) - count(b) FROM w`).Scan(&n, &sum, &nulls); err != nil || n != 4 || sum != 100 || nulls != 4 {
		t.Fatalf("after ALTER: %d rows, sum %d, %d NULL b, %v", n, sum, nulls, err)
	}
}

// TestAppendOnlyWithoutKey: APPEND ONLY with no KEY is one stream with no
// key columns: every INSERT appends, duplicates included, numbered in order.
func TestAppendOnlyWithoutKey(t *testing.T) {
	ctx := context.Background()
	c := strandtest.Start(t, "").Connect(t)
	if _, err := c.Exec(ctx, `CREATE TABLE clicks (url text, n int) APPEND ONLY WITH (notify = 'clicks')`); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if _, err := c.Exec(ctx, `INSERT INTO clicks VALUES ('/a', 1)`); err != nil {
			t.Fatal(err)
		}
	}
	var n, maxVersion int64
	if err := c.QueryRow(ctx, `SELECT count(*), max(_version) FROM clicks`).Scan(&n, &maxVersion); err != nil {
		t.Fatal(err)
	}
	if n != 3 || maxVersion != 3 {
		t.Fatalf("got %d rows up to version %d, want 3 rows up to version 3", n, maxVersion)
	}
	if _, err := c.Exec(ctx, `CREATE TABLE bad (id int PRIMARY KEY) APPEND ONLY`); sqlstate(err) != "42P16" {
		t.Fatalf("APPEND ONLY with a PRIMARY KEY: %v", err)
	}
}
