package viewdiff

import (
	"fmt"
	"strings"
	"testing"

	"github.com/strand-db/strand/tests/pgoracle"
	"github.com/strand-db/strand/tests/strandtest"
)

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
