package pgoracle

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

func TestSelectOne(t *testing.T) {
	if !Available() {
		t.Skip("PostgreSQL 15 not installed")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	s, err := Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := s.Stop(); err != nil {
			t.Error(err)
		}
	}()
	c, err := pgx.Connect(ctx, s.DSN())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	var one int
	var version, fsync string
	if err := c.QueryRow(ctx, "SELECT 1, current_setting('server_version_num'), current_setting('fsync')").Scan(&one, &version, &fsync); err != nil {
		t.Fatal(err)
	}
	if one != 1 || version[:2] != "15" || fsync != "on" {
		t.Fatalf("got %d %s %s", one, version, fsync)
	}
}
