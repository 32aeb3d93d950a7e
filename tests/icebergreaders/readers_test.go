package icebergreaders

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/strand-db/strand/iceberg"
	"github.com/strand-db/strand/tests/s3server"
	"github.com/strand-db/strand/tests/strandtest"

	"github.com/strand-db/strand/tests/toolcache"
)

// tableSpec is one Strand table the test writes and the readers read.
type tableSpec struct {
	name string
	// key is a keyed table's primary key; nil for a stream.
	key []string
	// spark: Spark can read the table. Spark has no time type, and its
	// Iceberg integration refuses to load a table with a time column
	// ("Spark does not support time fields"), so timed is pyiceberg's.
	spark bool
	// view: a materialized view with a changelog, whose SELECT shows no
	// _version (its Iceberg tables do, from the changelog).
	view bool
}

var tables = []tableSpec{
	{name: "ev", spark: true},
	{name: "acct", key: []string{"id"}, spark: true},
	{name: "pairs", key: []string{"a", "b"}, spark: true},
	{name: "timed"},
	// zones is partitioned (partition_by = 'region, day(at)'): its state
	// and change log hold one file per region and day, with the values in
	// the manifests.
	{name: "zones", key: []string{"id"}, spark: true},
	// pair_sums is a materialized view that keeps a changelog: compacted
	// as a keyed table, its rows and its changes by group.
	{name: "pair_sums", key: []string{"a"}, spark: true, view: true},
}

// icebergNames are the Iceberg tables of a Strand table: a stream's one,
// or a keyed table's current state and change log.
func (ts tableSpec) icebergNames() []string {
	if ts.key == nil {
		return []string{ts.name}
	}
	return []string{ts.name, ts.name + iceberg.ChangesSuffix}
}

// server is one `strand serve` with its warehouse somewhere.
type server struct {
	name string // the catalog's name for the readers: local or s3
	p    *strandtest.Process
	conn *pgx.Conn
	// uri is the REST catalog's base (clients add /v1/...).
	uri string
	// props are the readers' own catalog properties: S3 credentials. The
	// rest (endpoint, region, addressing) comes from the catalog.
	props map[string]string
}

// TestReaders writes a stream and keyed tables (with updates, deletes,
// upserts, a transaction and schema changes) to two Strand servers, one
// with a local warehouse folder and one on an S3 server, lets them compact
// into Iceberg, then reads every table through each server's REST catalog
// with pyiceberg and with Spark: every reader must see exactly the rows
// Strand returns for the same SELECT (and the change logs exactly what
// versions() returns).
func TestReaders(t *testing.T) {
	// Install first: a machine that cannot install the readers fails here.
	start := time.Now()
	py := readersPython(t)
	jarPaths := jars(t)
	java := toolcache.Tool(t, "java")
	s3 := s3server.Start(t)
	t.Logf("readers and S3 server installed and started in %s", time.Since(start).Round(100*time.Millisecond))

	start = time.Now()
	servers := []*server{
		startServer(t, "local", "--warehouse", filepath.Join(t.TempDir(), "warehouse")),
		startS3Server(t, s3),
	}
	t.Logf("strand built and started in %s", time.Since(start).Round(100*time.Millisecond))
	phase := func(what string, f func(*testing.T, *server)) {
		for _, s := range servers {
			start := time.Now()
			f(t, s)
			t.Logf("%s: %s took %s", s.name, what, time.Since(start).Round(10*time.Millisecond))
		}
	}
	phase("round 1", writeRound1)
	phase("compaction", waitCompacted)
	// The second round lands in new snapshots on top of the first:
	// appends to the streams and change logs, copy-on-write replacement of
	// the current states, and schema evolution of tables that have data.
	phase("round 2", writeRound2)
	phase("compaction", waitCompacted)
	want := map[string]*expected{}
	for _, s := range servers {
		want[s.name] = expect(t, s)
	}

	env := readerEnv(java)
	t.Run("pyiceberg", func(t *testing.T) {
		res := runReader(t, py, "read_pyiceberg.py", env, readerSpec(servers, false, nil))
		t.Logf("%s read %d catalogs in %.1fs", res.Reader, len(res.Catalogs), res.Seconds)
		checkResult(t, res, want, false)
	})
	t.Run("spark", func(t *testing.T) {
		res := runReader(t, py, "read_spark.py", env, readerSpec(servers, true, jarPaths))
		t.Logf("%s read %d catalogs in %.1fs (%.1fs to start the session)", res.Reader, len(res.Catalogs), res.Seconds, res.SessionSeconds)
		checkResult(t, res, want, true)
	})
}

func startServer(t *testing.T, name string, args ...string) *server {
	t.Helper()
	// Compact often: the test waits for the watermark, not for a timer.
	args = append(args, "--compact-every", "200ms")
	p := strandtest.StartProcess(t, filepath.Join(t.TempDir(), "data"), args...)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("strand serve (%s) log:\n%s", name, tail(p.Log(), 4000))
		}
		p.Kill(t)
	})
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, p.DSN())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	// The readers' text forms: UTC timestamps, ISO 8601 intervals (the
	// form the compactor writes intervals in).
	execSQL(t, conn, `SET TimeZone = 'UTC'`, `SET IntervalStyle = 'iso_8601'`)
	return &server{name: name, p: p, conn: conn, uri: "http://" + p.HTTPAddr + "/iceberg", props: map[string]string{}}
}

// startS3Server runs Strand with its warehouse on the S3 server. Strand
// takes the credentials from the AWS_* environment; the readers get them
// as catalog properties, and everything else from the REST catalog.
func startS3Server(t *testing.T, s3 *s3server.Server) *server {
	t.Helper()
	s3.SetEnv(t)
	s := startServer(t, "s3", "--warehouse", s3.Warehouse("readers"), "--s3-endpoint", s3.Endpoint, "--s3-region", s3.Region)
	s.props = map[string]string{"s3.access-key-id": s3.AccessKey, "s3.secret-access-key": s3.SecretKey}
	return s
}

func execSQL(t *testing.T, c *pgx.Conn, sqls ...string) {
	t.Helper()
	for _, s := range sqls {
		if _, err := c.Exec(context.Background(), s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

// lit quotes a SQL string literal.
func lit(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// insertRows inserts rows in multi-row INSERTs of 50.
func insertRows(t *testing.T, c *pgx.Conn, into string, rows []string) {
	t.Helper()
	for len(rows) > 0 {
		n := min(50, len(rows))
		execSQL(t, c, "INSERT INTO "+into+" VALUES "+strings.Join(rows[:n], ", "))
		rows = rows[n:]
	}
}

// evRow is row i of stream ev in a round: every mapped type Spark reads,
// NULLs, text that needs quoting in arrays, a non-UTC time zone offset,
// float32 values that are not exact in binary.
func evRow(i, round int) string {
	id := round*1000 + i
	kind := "NULL"
	switch {
	case i%7 == 0:
		kind = lit(fmt.Sprintf(`it's "%d", {x}`, i))
	case i%5 != 0:
		kind = lit(fmt.Sprintf("k%d", i))
	}
	amount := fmt.Sprintf("%d.%02d", id, i%100)
	if i%9 == 0 {
		amount = "-" + amount
	}
	ok := "NULL"
	if i%11 != 0 {
		ok = strconv.FormatBool(i%2 == 0)
	}
	at := fmt.Sprintf("'2024-01-%02d 10:%02d:%02d.%06d+00'", i%28+1, i%60, i*7%60, i*137%1000000)
	if i%3 == 0 {
		at = fmt.Sprintf("'2024-03-%02d 01:%02d:00+05:30'", i%28+1, i%60)
	}
	tags := []string{"NULL", fmt.Sprintf("ARRAY['a%d', NULL, 'b c']", i), "ARRAY['x']", `ARRAY['{y}', 'NULL', '']`}[i%4]
	b := fmt.Sprintf(`'\x%02x%02x00ff'`, i%256, round)
	if i%6 == 0 {
		b = "NULL"
	}
	f := fmt.Sprintf("%g", float64(i)*0.25-10)
	if i%13 == 0 {
		f = "NULL"
	}
	r := fmt.Sprintf("%g", float64(i%64)*0.5)
	if i%10 == 3 {
		r = "0.1"
	}
	iv := []string{fmt.Sprintf("'%d days %02d:%02d:00'", i%30, i%24, i%60), "'1 year 2 mons'", "'-3 hours'"}[i%3]
	vals := []string{
		strconv.Itoa(i % 17), kind, amount, ok, at,
		fmt.Sprintf("'2023-06-%02d 23:59:%02d.5'", i%28+1, i%60),
		fmt.Sprintf("'20%02d-02-%02d'", 10+i%15, i%28+1),
		strconv.Itoa(-3 * id), strconv.Itoa(i%300 - 150), tags,
		fmt.Sprintf("'%08x-0000-4000-8000-%012x'", id, id*7919), b, f, r,
		fmt.Sprintf(`'{"i": %d, "s": "v%d", "a": [1, 2.5, null]}'`, i, i),
		fmt.Sprintf("%d.%03d", id, i%1000), iv, lit(fmt.Sprintf("v%d", i)),
	}
	if round == 0 {
		vals = append(vals, strconv.Itoa(i)) // dropme, dropped in round 1
	} else if i%2 == 0 {
		vals = append(vals, lit(fmt.Sprintf("n%d", i))) // note, added in round 1
	} else {
		vals = append(vals, "NULL")
	}
	return "(" + strings.Join(vals, ", ") + ")"
}

func acctRow(id int) string {
	limits := "NULL"
	if id%4 != 0 {
		limits = fmt.Sprintf("ARRAY[%d, %d]", id, -2*id)
	}
	return fmt.Sprintf("(%d, %s, %d.%02d, '2022-%02d-%02d', %s, '2025-05-05 05:05:%02d.%03d+00')",
		id, lit(fmt.Sprintf("o%d", id)), id, id*25%100, id%12+1, id%28+1, limits, id%60, id%1000)
}

func writeRound1(t *testing.T, s *server) {
	t.Helper()
	c := s.conn
	execSQL(t, c,
		`CREATE TABLE ev (acct bigint, kind text, amount numeric(12,2), ok boolean, at timestamptz, ts timestamp, day date,
			n integer, s smallint, tags text[], u uuid, b bytea, f double precision, r real, j jsonb, num numeric,
			iv interval, vc varchar(20), dropme integer) APPEND ONLY KEY (acct)`,
		`CREATE TABLE acct (id bigint PRIMARY KEY, owner text, balance numeric(12,2), opened date, limits integer[], seen timestamptz)`,
		`CREATE TABLE pairs (a integer, b text, v double precision, PRIMARY KEY (a, b))`,
		`CREATE TABLE timed (id integer, tm time)`,
		`CREATE TABLE zones (id bigint PRIMARY KEY, region text, at timestamptz, v integer) WITH (partition_by = 'region, day(at)')`)
	var rows []string
	for i := range 400 {
		rows = append(rows, evRow(i, 0))
	}
	insertRows(t, c, "ev", rows)
	rows = nil
	for id := 1; id <= 300; id++ {
		rows = append(rows, acctRow(id))
	}
	insertRows(t, c, "acct", rows)
	rows = nil
	for a := range 20 {
		for b := range 3 {
			rows = append(rows, fmt.Sprintf("(%d, 'b%d', %g)", a, b, float64(a)*0.5+float64(b)))
		}
	}
	insertRows(t, c, "pairs", rows)
	execSQL(t, c, `CREATE MATERIALIZED VIEW pair_sums WITH (changelog = true) AS SELECT a, count(*) AS n, sum(v) AS total FROM pairs GROUP BY a`)
	rows = nil
	for i := range 50 {
		rows = append(rows, fmt.Sprintf("(%d, '%02d:%02d:%02d.%d')", i, i%24, i, 59-i, i%10))
	}
	insertRows(t, c, "timed", rows)
	rows = nil
	for i := range 60 {
		rows = append(rows, zoneRow(i, 0))
	}
	insertRows(t, c, "zones", rows)
}

// zoneRow is row id of zones in a round: three regions (one NULL) over
// three days; round 1 moves rows to other regions and days.
func zoneRow(id, round int) string {
	region := []string{"'eu'", "'us'", "NULL"}[(id+round)%3]
	return fmt.Sprintf("(%d, %s, '2024-05-%02d %02d:00:00+00', %d)", id, region, 1+(id+round)%3, id%24, id*round)
}

func writeRound2(t *testing.T, s *server) {
	t.Helper()
	c := s.conn
	execSQL(t, c, `ALTER TABLE ev DROP COLUMN dropme`, `ALTER TABLE ev RENAME COLUMN kind TO category`, `ALTER TABLE ev ADD COLUMN note text`)
	var rows []string
	for i := range 400 {
		rows = append(rows, evRow(i, 1))
	}
	insertRows(t, c, "ev", rows)

	execSQL(t, c,
		`UPDATE acct SET balance = balance + 1.5 WHERE id % 3 = 0`,
		`DELETE FROM acct WHERE id % 5 = 0`)
	rows = nil
	for id := 290; id <= 320; id++ {
		rows = append(rows, fmt.Sprintf("(%d, 'upsert %d')", id, id))
	}
	execSQL(t, c, `INSERT INTO acct (id, owner) VALUES `+strings.Join(rows, ", ")+` ON CONFLICT (id) DO UPDATE SET owner = 'upserted'`)
	rows = nil
	for id := 10; id <= 280; id += 10 {
		rows = append(rows, acctRow(id)) // deleted above: back as a new version
	}
	insertRows(t, c, "acct", rows)
	execSQL(t, c,
		`ALTER TABLE acct ADD COLUMN note text`,
		`UPDATE acct SET note = 'note ' || id::text WHERE id % 7 = 0`,
		`BEGIN`, `UPDATE acct SET owner = 'tx' WHERE id = 1`, `DELETE FROM acct WHERE id = 2`, `COMMIT`)

	execSQL(t, c, `UPDATE pairs SET v = v * 2 WHERE a % 2 = 0`, `DELETE FROM pairs WHERE b = 'b1' AND a < 10`)
	rows = nil
	for i := 50; i < 100; i++ {
		rows = append(rows, fmt.Sprintf("(%d, '23:%02d:00')", i, i%60))
	}
	insertRows(t, c, "timed", rows)

	rows = nil
	for i := 40; i < 70; i++ {
		rows = append(rows, zoneRow(i, 1))
	}
	execSQL(t, c, `INSERT INTO zones VALUES `+strings.Join(rows, ", ")+
		` ON CONFLICT (id) DO UPDATE SET region = excluded.region, at = excluded.at, v = excluded.v`,
		`DELETE FROM zones WHERE id % 9 = 0`)
}

// waitCompacted waits until every Iceberg table covers every event its
// Strand table has: the current snapshot's log range (strand.lsn-to, read
// through the REST catalog) reaches the table's last _lsn.
func waitCompacted(t *testing.T, s *server) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for _, ts := range tables {
		_, rows := query(t, s.conn, "SELECT _lsn FROM versions('"+ts.name+"')")
		var last uint64
		for _, r := range rows {
			v, err := strconv.ParseUint(*r[0], 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			last = max(last, v)
		}
		for _, name := range ts.icebergNames() {
			for {
				wm, err := snapshotWatermark(s.uri, name)
				if err == nil && wm >= last {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("%s: Iceberg table %s has not reached LSN %d (at %d, %v); compaction status:\n%s",
						s.name, name, last, wm, err, httpGet(t, "http://"+s.p.HTTPAddr+"/iceberg-status"))
				}
				time.Sleep(100 * time.Millisecond)
			}
		}
	}
}

// snapshotWatermark loads public.name through the REST catalog and returns
// its current snapshot's strand.lsn-to.
func snapshotWatermark(uri, name string) (uint64, error) {
	resp, err := http.Get(uri + "/v1/namespaces/public/tables/" + name)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		return 0, fmt.Errorf("load %s: %s %s", name, resp.Status, b)
	}
	var lt struct {
		Metadata struct {
			Current   *int64 `json:"current-snapshot-id"`
			Snapshots []struct {
				ID      int64             `json:"snapshot-id"`
				Summary map[string]string `json:"summary"`
			} `json:"snapshots"`
		} `json:"metadata"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&lt); err != nil {
		return 0, err
	}
	if lt.Metadata.Current == nil {
		return 0, fmt.Errorf("%s has no snapshot yet", name)
	}
	for _, s := range lt.Metadata.Snapshots {
		if s.ID == *lt.Metadata.Current {
			return strconv.ParseUint(s.Summary[iceberg.PropLSNTo], 10, 64)
		}
	}
	return 0, fmt.Errorf("%s: current snapshot %d is not listed", name, *lt.Metadata.Current)
}

func httpGet(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		return err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// query runs q in the text format and returns column names and rows
// (nil for NULL), as PostgreSQL prints them.
func query(t *testing.T, c *pgx.Conn, q string) ([]string, [][]*string) {
	t.Helper()
	rs, err := c.Query(context.Background(), q, pgx.QueryExecModeSimpleProtocol)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rs.Close()
	var cols []string
	for _, fd := range rs.FieldDescriptions() {
		cols = append(cols, fd.Name)
	}
	var out [][]*string
	for rs.Next() {
		raw := rs.RawValues()
		row := make([]*string, len(raw))
		for i, v := range raw {
			if v != nil {
				s := string(v)
				row[i] = &s
			}
		}
		out = append(out, row)
	}
	if err := rs.Err(); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return cols, out
}

// expected is what Strand says each Iceberg table must hold.
type expected struct {
	// columns are each Iceberg table's columns, in order.
	columns map[string][]string
	// rows are each Iceberg table's rows, in its column order.
	rows map[string][][]*string
	// selects are SELECT * results (plus _version) per Strand table, in
	// that column order: the readers' rows projected on those columns
	// must equal them.
	selects map[string]selected
}

type selected struct {
	columns []string
	rows    [][]*string
}

// expect reads, through SQL, what every Iceberg table must hold:
//
//	stream t:       _version, _lsn, _commit_time, t.*     = versions('t')
//	keyed t:        _version, _lsn, t.*                  = each live key's last version in versions('t')
//	t__changes:     _op, _version, _lsn, _commit_time, t.* = versions('t')
//
// and SELECT *, _version FROM t (SELECT * for a view), which each table's rows, projected, must
// also equal.
func expect(t *testing.T, s *server) *expected {
	t.Helper()
	e := &expected{columns: map[string][]string{}, rows: map[string][][]*string{}, selects: map[string]selected{}}
	for _, ts := range tables {
		star, _ := query(t, s.conn, "SELECT * FROM "+ts.name+" LIMIT 0")
		q := "SELECT *, _version FROM " + ts.name
		if ts.view {
			q = "SELECT * FROM " + ts.name
		}
		cols, rows := query(t, s.conn, q)
		e.selects[ts.name] = selected{cols, rows}
		list := strings.Join(star, ", ")
		if ts.key == nil {
			e.columns[ts.name] = append([]string{"_version", "_lsn", "_commit_time"}, star...)
			_, e.rows[ts.name] = query(t, s.conn, "SELECT _version, _lsn, _commit_time, "+list+" FROM versions('"+ts.name+"')")
			continue
		}
		changes := ts.name + iceberg.ChangesSuffix
		e.columns[changes] = append([]string{"_op", "_version", "_lsn", "_commit_time"}, star...)
		_, log := query(t, s.conn, "SELECT _op, _version, _lsn, _commit_time, "+list+" FROM versions('"+ts.name+"')")
		e.rows[changes] = log
		// Replay the change log: the highest version of each key, unless
		// it is a delete.
		keyPos := make([]int, len(ts.key))
		for i, k := range ts.key {
			keyPos[i] = 4 + slices.Index(star, k)
		}
		type head struct {
			version int
			row     []*string
		}
		heads := map[string]head{}
		for _, r := range log {
			v, err := strconv.Atoi(*r[1])
			if err != nil {
				t.Fatal(err)
			}
			var k []string
			for _, p := range keyPos {
				k = append(k, *r[p])
			}
			key := strings.Join(k, "\x00")
			if h, ok := heads[key]; !ok || v > h.version {
				heads[key] = head{v, r}
			}
		}
		e.columns[ts.name] = append([]string{"_version", "_lsn"}, star...)
		var state [][]*string
		for _, h := range heads {
			if *h.row[0] != "delete" {
				state = append(state, append([]*string{h.row[1], h.row[2]}, h.row[4:]...))
			}
		}
		e.rows[ts.name] = state
	}
	return e
}

// readerSpec is the JSON the Python readers take (see read_pyiceberg.py).
func readerSpec(servers []*server, spark bool, jars []string) map[string]any {
	var cats []map[string]any
	for _, s := range servers {
		var names []string
		for _, ts := range tables {
			if ts.spark || !spark {
				names = append(names, ts.icebergNames()...)
			}
		}
		cats = append(cats, map[string]any{
			"name": s.name, "uri": s.uri, "props": s.props,
			"namespace": "public", "tables": names, "missing": "no_such_table",
		})
	}
	return map[string]any{"catalogs": cats, "jars": jars}
}

// readerEnv is the readers' environment: no AWS_* variables (a reader
// must reach S3 with what the catalog and its own properties say, not
// with what this test process was given for Strand), UTC, and Spark kept
// on the loopback interface.
func readerEnv(java string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") && !strings.HasPrefix(kv, "TZ=") && !strings.HasPrefix(kv, "PYSPARK_") && !strings.HasPrefix(kv, "SPARK_") {
			env = append(env, kv)
		}
	}
	return append(env, "TZ=UTC", "SPARK_LOCAL_IP=127.0.0.1", "JAVA_HOME="+filepath.Dir(filepath.Dir(resolve(java))))
}

// resolve follows symlinks (/usr/bin/java → the JDK's bin/java).
func resolve(p string) string {
	if r, err := filepath.EvalSymlinks(p); err == nil {
		return r
	}
	return p
}

// readerResult is what a reader script writes.
type readerResult struct {
	Reader         string  `json:"reader"`
	Seconds        float64 `json:"seconds"`
	SessionSeconds float64 `json:"session_seconds"`
	Catalogs       []struct {
		Name         string          `json:"name"`
		Namespaces   [][]string      `json:"namespaces"`
		Tables       []string        `json:"tables"`
		Exists       map[string]bool `json:"exists"`
		MissingError string          `json:"missing_error"`
		Read         []struct {
			Table   string      `json:"table"`
			Columns []string    `json:"columns"`
			Types   []string    `json:"types"`
			Rows    [][]*string `json:"rows"`
		} `json:"read"`
	} `json:"catalogs"`
}

func runReader(t *testing.T, py, script string, env []string, spec map[string]any) *readerResult {
	t.Helper()
	dir := t.TempDir()
	spec["out"] = filepath.Join(dir, "result.json")
	b, err := json.Marshal(spec)
	if err != nil {
		t.Fatal(err)
	}
	specFile := filepath.Join(dir, "spec.json")
	if err := os.WriteFile(specFile, b, 0o644); err != nil {
		t.Fatal(err)
	}
	abs, err := filepath.Abs(script)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	out, err := runErr(5*time.Minute, dir, env, py, abs, specFile)
	if err != nil {
		t.Fatalf("%s: %v\n%s", script, err, tail(out, 8000))
	}
	t.Logf("%s ran in %s", script, time.Since(start).Round(100*time.Millisecond))
	b, err = os.ReadFile(spec["out"].(string))
	if err != nil {
		t.Fatalf("%s wrote no result: %v\n%s", script, err, tail(out, 8000))
	}
	var res readerResult
	if err := json.Unmarshal(b, &res); err != nil {
		t.Fatalf("%s: bad result: %v", script, err)
	}
	return &res
}

func tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}

// checkResult compares what a reader saw with what Strand returned.
func checkResult(t *testing.T, res *readerResult, want map[string]*expected, spark bool) {
	t.Helper()
	var allTables []string
	for _, ts := range tables {
		for _, n := range ts.icebergNames() {
			allTables = append(allTables, "public."+n)
		}
	}
	slices.Sort(allTables)
	if len(res.Catalogs) != len(want) {
		t.Fatalf("%s read %d catalogs, want %d", res.Reader, len(res.Catalogs), len(want))
	}
	for _, cat := range res.Catalogs {
		e := want[cat.Name]
		if !slices.ContainsFunc(cat.Namespaces, func(ns []string) bool { return slices.Equal(ns, []string{"public"}) }) {
			t.Errorf("%s/%s: namespaces %v lack public", res.Reader, cat.Name, cat.Namespaces)
		}
		if !slices.Equal(cat.Tables, allTables) {
			t.Errorf("%s/%s: catalog lists %v, want %v", res.Reader, cat.Name, cat.Tables, allTables)
		}
		wantErr := "NoSuchTableError"
		if spark {
			wantErr = "TABLE_OR_VIEW_NOT_FOUND"
		}
		if !strings.Contains(cat.MissingError, wantErr) {
			t.Errorf("%s/%s: reading a missing table: %q, want %s", res.Reader, cat.Name, cat.MissingError, wantErr)
		}
		if !spark {
			for name, ok := range cat.Exists {
				if ok != (name != "no_such_table") {
					t.Errorf("%s/%s: table_exists(%s) = %v", res.Reader, cat.Name, name, ok)
				}
			}
		}
		read := 0
		for _, r := range cat.Read {
			what := fmt.Sprintf("%s/%s: public.%s", res.Reader, cat.Name, r.Table)
			t.Logf("%s: %d rows; columns %s", what, len(r.Rows), columnTypes(r.Columns, r.Types))
			if !slices.Equal(r.Columns, e.columns[r.Table]) {
				t.Errorf("%s: columns %v, want %v", what, r.Columns, e.columns[r.Table])
				continue
			}
			sameRows(t, what, r.Rows, e.rows[r.Table])
			if sel, ok := e.selects[r.Table]; ok {
				sameRows(t, what+" vs SELECT *, _version", project(t, r.Columns, r.Rows, sel.columns), sel.rows)
			}
			read++
		}
		for _, ts := range tables {
			if ts.spark || !spark {
				read -= len(ts.icebergNames())
			}
		}
		if read != 0 {
			t.Errorf("%s/%s: read %d tables, not every table it was asked for", res.Reader, cat.Name, len(cat.Read))
		}
	}
}

func columnTypes(cols, types []string) string {
	var parts []string
	for i := range cols {
		parts = append(parts, cols[i]+" "+types[i])
	}
	return strings.Join(parts, ", ")
}

// project keeps the named columns of rows, in that order.
func project(t *testing.T, cols []string, rows [][]*string, keep []string) [][]*string {
	t.Helper()
	idx := make([]int, len(keep))
	for i, k := range keep {
		if idx[i] = slices.Index(cols, k); idx[i] < 0 {
			t.Fatalf("no column %s in %v", k, cols)
		}
	}
	out := make([][]*string, len(rows))
	for r, row := range rows {
		out[r] = make([]*string, len(idx))
		for i, j := range idx {
			out[r][i] = row[j]
		}
	}
	return out
}

// sameRows compares two multisets of rows and reports the differences.
func sameRows(t *testing.T, what string, got, want [][]*string) {
	t.Helper()
	enc := func(rows [][]*string) []string {
		out := make([]string, len(rows))
		for i, r := range rows {
			b, _ := json.Marshal(r)
			out[i] = string(b)
		}
		slices.Sort(out)
		return out
	}
	g, w := enc(got), enc(want)
	if slices.Equal(g, w) {
		return
	}
	count := map[string]int{}
	for _, r := range w {
		count[r]++
	}
	for _, r := range g {
		count[r]--
	}
	var extra, missing []string
	for r, n := range count {
		for ; n < 0; n++ {
			extra = append(extra, r)
		}
		for ; n > 0; n-- {
			missing = append(missing, r)
		}
	}
	slices.Sort(extra)
	slices.Sort(missing)
	t.Errorf("%s: reader has %d rows, Strand %d; %d only in the reader, %d only in Strand\nonly in the reader: %s\nonly in Strand:     %s",
		what, len(g), len(w), len(extra), len(missing), strings.Join(extra[:min(5, len(extra))], "\n  "), strings.Join(missing[:min(5, len(missing))], "\n  "))
}
