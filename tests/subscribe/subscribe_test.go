// Package subscribe tests change streams: COPY (SUBSCRIBE t) TO STDOUT
// sends a table's history, then its live changes, in commit order.
package subscribe

import (
	"bufio"
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/strand-db/strand/tests/strandtest"
)

func TestSubscribeStreamsHistoryThenLiveChanges(t *testing.T) {
	s := strandtest.Start(t, "")
	ctx := context.Background()
	c := s.Connect(t)
	for _, q := range []string{
		`CREATE TABLE accounts (id int PRIMARY KEY, balance int)`,
		`INSERT INTO accounts VALUES (1, 10), (2, 20)`,
		`UPDATE accounts SET balance = 11 WHERE id = 1`,
	} {
		if _, err := c.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	sub := s.Connect(t)
	pr, pw := io.Pipe()
	subCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		_, err := sub.PgConn().CopyTo(subCtx, pw, `COPY (SUBSCRIBE accounts) TO STDOUT`)
		pw.CloseWithError(err)
		done <- err
	}()
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	next := func() string {
		select {
		case l := <-lines:
			return l
		case <-time.After(10 * time.Second):
			t.Fatal("no change arrived within 10s")
		}
		return ""
	}
	want := []string{
		"1\taccounts\t1\t1\tinsert\t1\t10",
		"2\taccounts\t2\t1\tinsert\t2\t20",
		"3\taccounts\t1\t2\tupdate\t1\t11",
	}
	for _, w := range want {
		if got := next(); got != w {
			t.Fatalf("history: got %q, want %q", got, w)
		}
	}
	// Live: a change committed now arrives.
	if _, err := c.Exec(ctx, `DELETE FROM accounts WHERE id = 2`); err != nil {
		t.Fatal(err)
	}
	if got := next(); got != "4\taccounts\t2\t2\tdelete\t\\N\t\\N" {
		t.Fatalf("live delete: %q", got)
	}
	if _, err := c.Exec(ctx, `INSERT INTO accounts VALUES (3, 30)`); err != nil {
		t.Fatal(err)
	}
	if got := next(); !strings.HasPrefix(got, "5\taccounts\t3\t1\tinsert") {
		t.Fatalf("live insert: %q", got)
	}
	// Cancel as psql's Ctrl-C does: a CancelRequest ends the stream with
	// 57014 and the connection stays usable.
	if err := sub.PgConn().CancelRequest(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err == nil || !strings.Contains(err.Error(), "57014") {
		t.Fatalf("subscription after cancel: %v", err)
	}
	cancel()
	var n int
	if err := sub.QueryRow(ctx, `SELECT count(*) FROM accounts`).Scan(&n); err != nil || n != 2 {
		t.Fatalf("connection after cancelled subscription: %d %v", n, err)
	}
}

// TestSubscribeFromPositionAndKeyPrefix resumes after a position and keeps
// only keys under a path prefix.
func TestSubscribeFromPositionAndKeyPrefix(t *testing.T) {
	s := strandtest.Start(t, "")
	ctx := context.Background()
	c := s.Connect(t)
	for _, q := range []string{
		`CREATE TABLE readings (path text, value int) APPEND ONLY KEY (path)`,
		`INSERT INTO readings VALUES ('eu/paris', 1), ('us/nyc', 2), ('eu/rome', 3), ('eu/paris', 4)`,
	} {
		if _, err := c.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	sub := s.Connect(t)
	pr, pw := io.Pipe()
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, err := sub.PgConn().CopyTo(ctx, pw, `COPY (SUBSCRIBE readings WITH (start = '1', key_prefix = 'eu/')) TO STDOUT`)
		pw.CloseWithError(err)
	}()
	sc := bufio.NewScanner(pr)
	var got []string
	for len(got) < 2 && sc.Scan() {
		got = append(got, sc.Text())
	}
	want := []string{"3\treadings\teu/rome\t1\tappend\teu/rome\t3", "4\treadings\teu/paris\t2\tappend\teu/paris\t4"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("got %q, want %q", got, want)
	}
	sub.PgConn().CancelRequest(ctx)
	// The stream ends with the cancel; the connection is closed only after.
	go io.Copy(io.Discard, pr)
	<-done
}
