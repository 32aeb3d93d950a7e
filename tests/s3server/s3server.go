// Package s3server runs a real S3 server for tests: versitygw (Versity's
// S3 gateway, posix backend) on a free loopback port, with one bucket.
// The binary is built once with `go install` into ~/.cache/strand-test
// (about 80 s the first time, nothing after) and the test fails if that
// cannot be done.
//
//	s := s3server.Start(t)
//	s.Endpoint, s.AccessKey, s.SecretKey, s.Bucket, s.Region
//	s.Stop(); s.Restart()  // a fault: the server is killed, then back
package s3server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/strand-db/strand/tests/toolcache"
)

// Version is the versitygw release the tests run.
const Version = "v1.8.0"

// Server is a running versitygw.
type Server struct {
	// Endpoint is http://127.0.0.1:PORT; it stays the same across Restart.
	Endpoint             string
	AccessKey, SecretKey string
	Region               string
	// Bucket exists and is empty when Start returns.
	Bucket string
	// Dir is the posix backend's root: Dir/Bucket/<key> are the objects.
	Dir string

	t       testing.TB
	addr    string
	logFile string
	mu      sync.Mutex
	cmd     *exec.Cmd
	done    chan struct{}
}

// Start installs versitygw if needed, starts it on a free loopback port
// with its data in a temporary folder, and creates the bucket "strand".
// The server is killed when the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	bin := Install(t)
	dir := t.TempDir()
	s := &Server{
		AccessKey: "strandtest", SecretKey: "strandtest-secret", Region: "us-east-1",
		Bucket: "strand", Dir: filepath.Join(dir, "root"),
		t: t, logFile: filepath.Join(dir, "versitygw.log"),
	}
	if err := os.MkdirAll(s.Dir, 0o755); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.addr = ln.Addr().String()
	ln.Close()
	s.Endpoint = "http://" + s.addr
	s.start(bin)
	t.Cleanup(s.Stop)
	if _, err := s.Client().CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: &s.Bucket}); err != nil {
		t.Fatalf("create bucket %s: %v\n%s", s.Bucket, err, s.Log())
	}
	return s
}

// Client is an S3 client for the server (path-style addressing).
func (s *Server) Client() *s3.Client {
	return s3.New(s3.Options{
		BaseEndpoint: aws.String(s.Endpoint),
		Region:       s.Region,
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(s.AccessKey, s.SecretKey, ""),
	})
}

// Env are the AWS_* environment variables that point an AWS SDK (Strand's
// --warehouse s3://..., pyiceberg, Spark) at the server's credentials and
// region; the endpoint goes in separately (AWS_ENDPOINT_URL_S3 is set too
// for clients that read it).
func (s *Server) Env() []string {
	return []string{
		"AWS_ACCESS_KEY_ID=" + s.AccessKey,
		"AWS_SECRET_ACCESS_KEY=" + s.SecretKey,
		"AWS_REGION=" + s.Region,
		"AWS_ENDPOINT_URL_S3=" + s.Endpoint,
	}
}

// SetEnv sets Env in this process for the rest of the test.
func (s *Server) SetEnv(t testing.TB) {
	for _, kv := range s.Env() {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
}

// Warehouse is an s3:// URL under the bucket.
func (s *Server) Warehouse(prefix string) string {
	return "s3://" + s.Bucket + "/" + strings.Trim(prefix, "/")
}

// Keys lists the bucket's object keys under prefix.
func (s *Server) Keys(t testing.TB, prefix string) []string {
	t.Helper()
	var out []string
	p := s3.NewListObjectsV2Paginator(s.Client(), &s3.ListObjectsV2Input{Bucket: &s.Bucket, Prefix: aws.String(prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatalf("list %s: %v", prefix, err)
		}
		for _, o := range page.Contents {
			out = append(out, aws.ToString(o.Key))
		}
	}
	return out
}

// Stop kills the server (SIGKILL: requests in flight are cut) and waits
// for it to be gone. The data stays for Restart.
func (s *Server) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return
	}
	s.cmd.Process.Signal(syscall.SIGKILL)
	<-s.done
	s.cmd = nil
}

// Restart starts the server again on the same port and data.
func (s *Server) Restart() {
	s.t.Helper()
	s.Stop()
	s.start(Install(s.t))
}

// Log is what the server printed.
func (s *Server) Log() string {
	b, _ := os.ReadFile(s.logFile)
	return string(b)
}

func (s *Server) start(bin string) {
	t := s.t
	t.Helper()
	logf, err := os.OpenFile(s.logFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "--port", s.addr, "posix", s.Dir)
	cmd.Env = append(os.Environ(), "ROOT_ACCESS_KEY="+s.AccessKey, "ROOT_SECRET_KEY="+s.SecretKey)
	cmd.Stdout, cmd.Stderr = logf, logf
	// Its own process group: a test's Ctrl-C does not race the cleanup.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		logf.Close()
		t.Fatalf("start versitygw: %v", err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); logf.Close(); close(done) }()
	s.mu.Lock()
	s.cmd, s.done = cmd, done
	s.mu.Unlock()
	// Ready when it answers an authenticated request.
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_, err := s.Client().ListBuckets(ctx, &s3.ListBucketsInput{})
		cancel()
		if err == nil {
			return
		}
		select {
		case <-done:
			t.Fatalf("versitygw exited at start: %v\n%s", err, s.Log())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("versitygw did not answer within 30s: %v\n%s", err, s.Log())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

var install struct {
	once sync.Once
	path string
	err  error
}

// Install builds versitygw Version into ~/.cache/strand-test/versitygw-<Version>/
// unless it is there already, and returns the binary's path. Concurrent
// test processes wait for one another (a lock file).
func Install(t testing.TB) string {
	t.Helper()
	install.once.Do(func() { install.path, install.err = doInstall() })
	if install.err != nil {
		t.Fatal(install.err)
	}
	return install.path
}

func doInstall() (string, error) {
	cache, err := toolcache.Dir()
	if err != nil {
		return "", fmt.Errorf("s3server: %w", err)
	}
	dir := filepath.Join(cache, "versitygw-"+Version)
	bin := filepath.Join(dir, "versitygw")
	if isExecutable(bin) {
		return bin, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("s3server: %w", err)
	}
	release, err := toolcache.Lock("versitygw")
	if err != nil {
		return "", fmt.Errorf("s3server: %w", err)
	}
	defer release()
	if isExecutable(bin) { // another process built it while we waited
		return bin, nil
	}
	cmd := exec.Command("go", "install", "github.com/versity/versitygw/cmd/versitygw@"+Version)
	// Outside any module, so the pinned version is built with its own
	// go.mod; GOFLAGS from the caller (e.g. -mod=vendor) do not apply.
	cmd.Dir = cache
	cmd.Env = append(os.Environ(), "GOBIN="+dir, "GOFLAGS=", "GO111MODULE=on")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("s3server: go install versitygw@%s: %v\n%s", Version, err, out)
	}
	if !isExecutable(bin) {
		return "", errors.New("s3server: go install succeeded but " + bin + " is missing")
	}
	return bin, nil
}

func isExecutable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}
