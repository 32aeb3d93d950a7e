// Package serve tests the strand binary itself: flags and environment,
// health and metrics over HTTP, and a clean shutdown on SIGTERM.
package serve

import (
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/strand-db/strand/tests/strandtest"
)

func TestServeHealthMetricsAndCleanShutdown(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	p := strandtest.StartProcess(t, dir, "--warehouse", dir+"-wh", "--compact-every", "100ms")
	ctx := context.Background()
	c, err := pgx.Connect(ctx, p.DSN())
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{`CREATE TABLE t (id int PRIMARY KEY)`, `INSERT INTO t VALUES (1), (2), (3)`} {
		if _, err := c.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	c.Close(ctx)
	if h := strandtest.HTTPGet(t, "http://"+p.HTTPAddr+"/healthz"); !strings.HasPrefix(h, "ok lsn=3") {
		t.Fatalf("healthz: %q", h)
	}
	m := strandtest.HTTPGet(t, "http://"+p.HTTPAddr+"/metrics")
	for _, want := range []string{"strand_log_appends_total 3", "strand_log_wal_fsyncs_total", "strand_log_durable_lsn 3"} {
		if !strings.Contains(m, want) {
			t.Fatalf("metrics lack %q", want)
		}
	}
	// The compactor turns the table into an Iceberg table that the REST
	// catalog lists.
	deadline := time.Now().Add(20 * time.Second)
	listed := func() bool {
		resp, err := http.Get("http://" + p.HTTPAddr + "/iceberg/v1/namespaces/public/tables")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode == 200 && strings.Contains(string(b), `"t"`)
	}
	for !listed() {
		if time.Now().After(deadline) {
			t.Fatalf("table t never appeared in the Iceberg catalog; status: %s", strandtest.HTTPGet(t, "http://"+p.HTTPAddr+"/iceberg-status"))
		}
		time.Sleep(100 * time.Millisecond)
	}
	if cfg := strandtest.HTTPGet(t, "http://"+p.HTTPAddr+"/iceberg/v1/config"); !strings.Contains(cfg, "defaults") {
		t.Fatalf("/v1/config: %s", cfg)
	}
	if err := p.Terminate(t); err != nil {
		t.Fatal(err)
	}
	log := p.Log()
	for _, want := range []string{"shutting down", "strand stopped"} {
		if !strings.Contains(log, want) {
			t.Fatalf("log after SIGTERM lacks %q:\n%s", want, log)
		}
	}
	// The data is there after a restart.
	p.Restart(t)
	defer p.Kill(t)
	c, err = pgx.Connect(ctx, p.DSN())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	var n int
	if err := c.QueryRow(ctx, `SELECT count(*) FROM t`).Scan(&n); err != nil || n != 3 {
		t.Fatalf("after restart: %d rows, %v", n, err)
	}
}

func TestVersionAndEnvironment(t *testing.T) {
	bin := strandtest.Binary(t)
	out, err := exec.Command(bin, "version").CombinedOutput()
	if err != nil || !strings.HasPrefix(string(out), "strand ") {
		t.Fatalf("strand version: %q %v", out, err)
	}
	// A bad setting from the environment is reported, naming the flag.
	cmd := exec.Command(bin, "serve")
	cmd.Env = append(cmd.Environ(), "STRAND_LOG_LEVEL=loud", "STRAND_DATA_DIR="+t.TempDir())
	out, err = cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "log-level") {
		t.Fatalf("bad STRAND_LOG_LEVEL: %q %v", out, err)
	}
	// A non-loopback address without password authentication refuses to
	// start, saying why.
	cmd = exec.Command(bin, "serve", "--data-dir", t.TempDir(), "--pg-addr", "0.0.0.0:0", "--auth", "trust", "--http-addr", "127.0.0.1:0")
	out, err = cmd.CombinedOutput()
	if err == nil || !strings.Contains(strings.ToLower(string(out)), "trust") {
		t.Fatalf("trust on a public address: %q %v", out, err)
	}
}

// --unix-socket-dir serves the PostgreSQL protocol on <dir>/.s.PGSQL.<port>
// too, where libpq's host=<dir> looks; a socket left by a killed server is
// replaced at the next start, and a clean shutdown removes it.
func TestUnixSocket(t *testing.T) {
	ctx := context.Background()
	root, sockDir := t.TempDir(), t.TempDir()
	p := strandtest.StartProcess(t, filepath.Join(root, "data"), "--warehouse", filepath.Join(root, "warehouse"), "--unix-socket-dir", sockDir)
	defer p.Kill(t)
	_, port, _ := strings.Cut(p.PGAddr, ":")
	sock := filepath.Join(sockDir, ".s.PGSQL."+port)
	dsn := "host=" + sockDir + " port=" + port + " user=strand dbname=strand sslmode=disable"
	query := func(q string) int64 {
		t.Helper()
		c, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Fatalf("connect over %s: %v", sock, err)
		}
		defer c.Close(ctx)
		if got := c.PgConn().Conn().RemoteAddr().Network(); got != "unix" {
			t.Fatalf("connected over %s, want unix", got)
		}
		var n int64
		if err := c.QueryRow(ctx, q).Scan(&n); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return n
	}
	if n := query(`WITH t AS (SELECT 41 AS x) SELECT x + 1 FROM t`); n != 42 {
		t.Fatalf("got %d", n)
	}
	c, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Exec(ctx, `CREATE TABLE u (id int PRIMARY KEY)`); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Exec(ctx, `INSERT INTO u VALUES (1), (2), (3)`); err != nil {
		t.Fatal(err)
	}
	c.Close(ctx)

	p.Kill(t)
	if _, err := os.Stat(sock); err != nil {
		t.Fatalf("a killed server leaves its socket file: %v", err)
	}
	p.Restart(t)
	if n := query(`SELECT count(*) FROM u`); n != 3 {
		t.Fatalf("after restart over the socket: %d rows, want 3", n)
	}
	if err := p.Terminate(t); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(sock); !os.IsNotExist(err) {
		t.Fatalf("socket file after a clean shutdown: %v", err)
	}
}
