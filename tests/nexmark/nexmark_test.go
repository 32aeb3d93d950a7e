// Package nexmark checks the Nexmark views against PostgreSQL: the same
// seeded Nexmark stream goes into Strand (with q0–q8 as materialized views)
// and into PostgreSQL 15 by COPY, chunk by chunk; after every chunk each
// view's contents must equal its SELECT run by PostgreSQL.
package nexmark

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/strand-db/strand/bench/nexmark"
	"github.com/strand-db/strand/tests/pgoracle"
	"github.com/strand-db/strand/tests/strandtest"
)

var oracle pgoracle.Shared

func TestMain(m *testing.M) {
	code := m.Run()
	oracle.Stop()
	os.Exit(code)
}

func TestViewsEqualPostgres(t *testing.T) {
	ctx := context.Background()
	pc := oracle.Conn(t, "UTC")
	s := strandtest.Start(t, "")
	sc := s.Connect(t)
	for _, q := range []string{`DROP TABLE IF EXISTS person, auction, bid`} {
		if _, err := pc.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	for i, ddl := range nexmark.Schema(true) {
		if _, err := sc.Exec(ctx, ddl); err != nil {
			t.Fatalf("strand: %s: %v", ddl, err)
		}
		if _, err := pc.Exec(ctx, nexmark.Schema(false)[i]); err != nil {
			t.Fatalf("postgres: %v", err)
		}
	}
	// A slow event clock (200 events a second) spreads the stream over
	// many 10-second windows, and short auctions have bids after they
	// expire, so every view's filter and window both keep and drop rows.
	g := nexmark.NewGenerator(nexmark.Config{Seed: 7, EventsPerSecond: 200})
	var ch nexmark.Chunk
	// Some events before the views exist, so backfill is checked too.
	g.Fill(&ch, 2000)
	load(t, sc, pc, &ch)
	for _, q := range nexmark.Queries {
		if _, err := sc.Exec(ctx, "CREATE MATERIALIZED VIEW "+q.Name+" AS "+q.SQL); err != nil {
			t.Fatalf("%s: %v", q.Name, err)
		}
	}
	nonEmpty := map[string]bool{}
	compare := func() {
		t.Helper()
		for _, q := range nexmark.Queries {
			got := strandtest.SortedRows(t, sc, "SELECT * FROM "+q.Name)
			want := strandtest.SortedRows(t, pc, q.SQL)
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Fatalf("%s after %d events differs from PostgreSQL (%d rows vs %d):\n%s", q.Name, g.Count(), len(got), len(want), firstDiff(got, want))
			}
			if len(got) > 0 {
				nonEmpty[q.Name] = true
			}
		}
	}
	compare()
	chunks := 6
	if v := os.Getenv("NEXMARK_CHUNKS"); v != "" {
		chunks, _ = strconv.Atoi(v)
	}
	for i := 0; i < chunks; i++ {
		ch.Reset()
		g.Fill(&ch, 2500)
		if i == chunks-1 {
			// Bids enough for one COPY chunk to be ingested with the
			// views' state (log/ingestbatch.go) rather than applied.
			g.Fill(&ch, 7500)
		}
		load(t, sc, pc, &ch)
		compare()
	}
	for _, q := range nexmark.Queries {
		if !nonEmpty[q.Name] {
			t.Errorf("%s was empty at every checkpoint", q.Name)
		}
	}
}

func load(t *testing.T, sc, pc *pgx.Conn, ch *nexmark.Chunk) {
	t.Helper()
	ctx := context.Background()
	start := time.Now()
	defer func() { t.Logf("load %d events: %s", ch.Events, time.Since(start)) }()
	if err := nexmark.Copy(ctx, sc.PgConn(), ch); err != nil {
		t.Fatalf("strand: %v", err)
	}
	if err := nexmark.Copy(ctx, pc.PgConn(), ch); err != nil {
		t.Fatalf("postgres: %v", err)
	}
}

// firstDiff shows the first rows only one side has.
func firstDiff(got, want []string) string {
	in := func(xs []string) map[string]int {
		m := map[string]int{}
		for _, x := range xs {
			m[x]++
		}
		return m
	}
	g, w := in(got), in(want)
	var sb strings.Builder
	n := 0
	for _, x := range got {
		if w[x] == 0 && n < 5 {
			sb.WriteString("only strand:   " + x + "\n")
			n++
		}
		w[x]--
	}
	n = 0
	for _, x := range want {
		if g[x] == 0 && n < 5 {
			sb.WriteString("only postgres: " + x + "\n")
			n++
		}
		g[x]--
	}
	return sb.String()
}
