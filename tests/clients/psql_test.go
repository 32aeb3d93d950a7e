package clients

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/strand-db/strand/tests/strandtest"

	"github.com/strand-db/strand/tests/toolcache"
)

// TestPsql runs testdata/psql.sql through psql against `strand serve` and
// compares the output, backslash commands included, with
// testdata/psql.out.
func TestPsql(t *testing.T) {
	psql := toolcache.Tool(t, "psql")
	// Its own server: the output lists every relation, so it must not see
	// the other tests' tables.
	p := strandtest.StartProcess(t, filepath.Join(t.TempDir(), "data"))
	defer p.Terminate(t)
	out := run(t, time.Minute, "", psql, "-X", "-v", "ON_ERROR_STOP=1", "-d", p.DSN(), "-f", "testdata/psql.sql")
	compareGolden(t, "psql.out", out)
}
