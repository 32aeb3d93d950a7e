package clients

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/strand-db/strand/tests/toolcache"
)

const jdbcVersion = "42.7.4"

// jdbcJar returns the PostgreSQL JDBC driver, fetched from Maven Central
// into the cache folder on first use.
func jdbcJar(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(toolcache.MustDir(t), "jdbc")
	jar := filepath.Join(dir, "postgresql-"+jdbcVersion+".jar")
	if _, err := os.Stat(jar); err == nil {
		return jar
	}
	mvn := toolcache.Tool(t, "mvn")
	run(t, 5*time.Minute, "", mvn, "-q", "dependency:copy", "-Dartifact=org.postgresql:postgresql:"+jdbcVersion, "-DoutputDirectory="+dir)
	if _, err := os.Stat(jar); err != nil {
		t.Fatalf("mvn did not fetch %s: %v", jar, err)
	}
	return jar
}

// TestJDBC compiles and runs testdata/JdbcClient.java: prepared
// statements and DatabaseMetaData.getTables/getColumns/getPrimaryKeys (the
// latter over a composite key: column names in KEY_SEQ order).
func TestJDBC(t *testing.T) {
	jar := jdbcJar(t)
	javac, java := toolcache.Tool(t, "javac"), toolcache.Tool(t, "java")
	p := serve(t)
	classes := t.TempDir()
	run(t, 2*time.Minute, "", javac, "-d", classes, "-cp", jar, "testdata/JdbcClient.java")
	url := "jdbc:postgresql://" + p.PGAddr + "/strand?user=strand&sslmode=disable"
	out, err := runErr(2*time.Minute, "", java, "-cp", classes+string(os.PathListSeparator)+jar, "JdbcClient", url)
	t.Log(out)
	if err != nil {
		t.Fatalf("JdbcClient: %v", err)
	}
	for _, want := range []string{"OK prepared statements", "OK getTables", "OK getColumns", "OK getPrimaryKeys"} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q", want)
		}
	}
}
