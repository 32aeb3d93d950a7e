package clients

import (
	"bytes"
	"context"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/strand-db/strand/tests/strandtest"
)

var update = flag.Bool("update", false, "rewrite the expected outputs in testdata")

// server is one `strand serve` subprocess shared by the package's tests;
// each test works in its own schema or tables.
var server struct {
	once sync.Once
	p    *strandtest.Process
	dir  string
}

// serve returns the shared subprocess, started on first use. It is killed
// when the test binary ends (TestMain).
func serve(t *testing.T) *strandtest.Process {
	t.Helper()
	server.once.Do(func() {
		dir, err := os.MkdirTemp("", "strand-clients-")
		if err != nil {
			t.Fatal(err)
		}
		server.dir = filepath.Join(dir, "data")
		server.p = strandtest.StartProcess(t, server.dir)
	})
	if server.p == nil {
		t.Fatal("strand serve did not start")
	}
	return server.p
}

func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	if server.p != nil {
		server.p.Terminate(nil)
		os.RemoveAll(filepath.Dir(server.dir))
	}
	os.Exit(code)
}

// run runs a command with a timeout and returns its combined output,
// failing the test when it fails.
func run(t *testing.T, timeout time.Duration, dir string, name string, args ...string) string {
	t.Helper()
	out, err := runErr(timeout, dir, name, args...)
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return out
}

func runErr(timeout time.Duration, dir string, name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	cmd.Env = append(os.Environ(), "PGCONNECT_TIMEOUT=10", "PGTZ=UTC", "PGOPTIONS=")
	err := cmd.Run()
	return buf.String(), err
}

// compareGolden compares out with testdata/name, or rewrites it with
// -update.
func compareGolden(t *testing.T, name, out string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(out), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if string(want) != out {
		t.Errorf("output differs from %s (run with -update to accept):\n%s", path, lineDiff(string(want), out))
	}
}

// lineDiff shows the first lines where two texts differ.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var sb strings.Builder
	shown := 0
	for i := 0; i < len(w) || i < len(g); i++ {
		var a, b string
		if i < len(w) {
			a = w[i]
		}
		if i < len(g) {
			b = g[i]
		}
		if a != b {
			sb.WriteString("line " + strconv.Itoa(i+1) + ":\n  want: " + a + "\n  got:  " + b + "\n")
			if shown++; shown == 10 {
				break
			}
		}
	}
	return sb.String()
}
