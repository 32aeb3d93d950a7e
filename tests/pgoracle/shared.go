package pgoracle

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Shared is one server for a whole test binary, started on first use by
// Conn. The zero value is ready; Stop it from TestMain after m.Run.
type Shared struct {
	// StartTimeout bounds the first Start; zero means 90 seconds.
	StartTimeout time.Duration

	once sync.Once
	srv  *Server
	err  error
}

// Conn connects to the shared server, starting it first if needed, with
// TimeZone set to zone and the output settings the differential tests
// compare under (ISO, MDY dates; postgres intervals; extra_float_digits 1;
// hex bytea). It skips t under -short or when PostgreSQL 15 is not
// installed, fails t when the server cannot start, and closes the
// connection when t ends.
func (s *Shared) Conn(t testing.TB, zone string) *pgx.Conn {
	t.Helper()
	if testing.Short() || !Available() {
		t.Skip("no PostgreSQL oracle")
	}
	s.once.Do(func() {
		timeout := s.StartTimeout
		if timeout == 0 {
			timeout = 90 * time.Second
		}
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		s.srv, s.err = Start(ctx)
	})
	if s.err != nil {
		t.Fatal(s.err)
	}
	ctx := context.Background()
	c, err := pgx.Connect(ctx, s.srv.DSN())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(ctx) })
	for _, q := range []string{
		"SET TimeZone = '" + zone + "'", "SET DateStyle = 'ISO, MDY'",
		"SET IntervalStyle = 'postgres'", "SET extra_float_digits = 1", "SET bytea_output = 'hex'",
	} {
		if _, err := c.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

// Stop stops the server if Conn started one.
func (s *Shared) Stop() error {
	if s.srv == nil {
		return nil
	}
	return s.srv.Stop()
}
