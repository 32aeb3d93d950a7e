package clients

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/strand-db/strand/tests/toolcache"
)

// psycopgPython returns the python of a virtualenv with psycopg 3,
// creating it (under the cache folder) on first use.
func psycopgPython(t *testing.T) string {
	t.Helper()
	venv := filepath.Join(toolcache.MustDir(t), "venv")
	py := filepath.Join(venv, "bin", "python")
	if _, err := runErr(time.Minute, "", py, "-c", "import psycopg"); err == nil {
		return py
	}
	python := toolcache.Tool(t, "python3")
	if _, err := os.Stat(py); err != nil {
		run(t, 2*time.Minute, "", python, "-m", "venv", venv)
	}
	run(t, 5*time.Minute, "", py, "-m", "pip", "install", "-q", "psycopg[binary]")
	return py
}

// TestPsycopg runs testdata/psycopg_client.py: parameters (text and
// binary), metadata, transactions and a server-side cursor.
func TestPsycopg(t *testing.T) {
	py := psycopgPython(t)
	p := serve(t)
	out := run(t, 2*time.Minute, "", py, "testdata/psycopg_client.py", p.DSN())
	t.Log(out)
	for _, want := range []string{"OK parameters", "OK metadata", "OK transaction", "OK copy", "OK server-side cursor"} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in:\n%s", want, out)
		}
	}
}
