package icebergreaders

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/strand-db/strand/tests/toolcache"
)

// Pinned reader versions. pyspark 3.5 is the Spark the iceberg-spark-runtime
// 3.5_2.12 jar is built for; Iceberg 1.10 is the newest release line for it.
const (
	pyicebergVersion = "0.10.0"
	pyarrowVersion   = "26.0.1"
	pysparkVersion   = "3.5.7"
	icebergVersion   = "1.10.0"
)

// sparkJars are the Maven Central artifacts Spark needs: the Iceberg
// runtime (SparkCatalog, the REST client) and the AWS bundle (S3FileIO
// and the AWS SDK it uses).
var sparkJars = []string{
	"org.apache.iceberg:iceberg-spark-runtime-3.5_2.12:" + icebergVersion,
	"org.apache.iceberg:iceberg-aws-bundle:" + icebergVersion,
}

// readersPython returns the python of a virtualenv holding the pinned
// pyiceberg and pyspark, creating it on first use. It is a venv of its own
// (not tests/clients' psycopg venv): go test runs packages in parallel,
// and two pip installs into one venv at once can corrupt it.
func readersPython(t *testing.T) string {
	t.Helper()
	venv := filepath.Join(toolcache.MustDir(t), "venv-iceberg-readers")
	py := filepath.Join(venv, "bin", "python")
	check := `import importlib.metadata as m, sys; ` +
		`sys.exit(0 if (m.version("pyiceberg"), m.version("pyarrow"), m.version("pyspark")) == ` +
		`("` + pyicebergVersion + `", "` + pyarrowVersion + `", "` + pysparkVersion + `") else 1)`
	if _, err := runErr(time.Minute, "", nil, py, "-c", check); err == nil {
		return py
	}
	defer toolcache.MustLock(t, "venv-iceberg-readers")()
	if _, err := runErr(time.Minute, "", nil, py, "-c", check); err == nil {
		return py // another test process installed it meanwhile
	}
	python := toolcache.Tool(t, "python3")
	if _, err := os.Stat(py); err != nil {
		run(t, 2*time.Minute, "", nil, python, "-m", "venv", venv)
	}
	// pyspark is a 300 MB download: allow for a slow mirror.
	run(t, 15*time.Minute, "", nil, py, "-m", "pip", "install", "-q", "--disable-pip-version-check",
		"pyiceberg[pyarrow]=="+pyicebergVersion, "pyarrow=="+pyarrowVersion, "pyspark=="+pysparkVersion)
	run(t, time.Minute, "", nil, py, "-c", check)
	return py
}

// jars returns the Spark jars, fetched from Maven Central with mvn into
// the cache folder on first use.
func jars(t *testing.T) []string {
	t.Helper()
	dir := filepath.Join(toolcache.MustDir(t), "jars")
	var out []string
	for _, art := range sparkJars {
		parts := strings.Split(art, ":")
		jar := filepath.Join(dir, parts[1]+"-"+parts[2]+".jar")
		if _, err := os.Stat(jar); err != nil {
			unlock := toolcache.MustLock(t, "jars")
			mvn := toolcache.Tool(t, "mvn")
			run(t, 10*time.Minute, "", nil, mvn, "-q", "dependency:copy", "-Dartifact="+art, "-DoutputDirectory="+dir)
			if _, err := os.Stat(jar); err != nil {
				t.Fatalf("mvn did not fetch %s: %v", jar, err)
			}
			unlock()
		}
		out = append(out, jar)
	}
	return out
}

// run runs a command with a timeout and returns its combined output,
// failing the test when it fails.
func run(t *testing.T, timeout time.Duration, dir string, env []string, name string, args ...string) string {
	t.Helper()
	out, err := runErr(timeout, dir, env, name, args...)
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return out
}

// runErr runs a command; env, when not nil, is its whole environment.
func runErr(timeout time.Duration, dir string, env []string, name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = env
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	err := cmd.Run()
	return buf.String(), err
}
