// Command strand is the Strand server: `strand serve` runs the database,
// `strand version` prints its version.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	strandiceberg "github.com/strand-db/strand/iceberg"
)

// Version is set at build time with -ldflags "-X main.Version=...".
var Version = "0.1.0-dev"

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "strand:", err)
		os.Exit(1)
	}
}

const usage = `usage:
  strand serve [flags]   run the server (strand serve -h for flags)
  strand version         print the version`

func run(args []string) error {
	if len(args) == 0 {
		return errors.New(usage)
	}
	switch args[0] {
	case "serve":
		cfg, err := parseServeFlags(args[1:], os.Getenv)
		if err != nil {
			return err
		}
		ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
		defer stop()
		return serve(ctx, cfg)
	case "version", "--version", "-v":
		fmt.Println("strand", Version)
		return nil
	case "help", "-h", "--help":
		fmt.Println(usage)
		return nil
	}
	return fmt.Errorf("unknown command %q\n%s", args[0], usage)
}

// config is everything `strand serve` can be told, by flag or by the
// STRAND_* environment variable of the same name (flags win).
type config struct {
	DataDir  string
	PGAddr   string
	HTTPAddr string
	LogLevel slog.Level
	LogJSON  bool
	// Auth is the PostgreSQL authentication method: trust (default on a
	// loopback address), password or scram-sha-256 (default elsewhere).
	Auth            string
	TLSCert, TLSKey string
	// UnixSocketDir, when set, is a directory where the PostgreSQL port is
	// also served on a Unix-domain socket, .s.PGSQL.<port>, as PostgreSQL's
	// unix_socket_directories does ("" for none).
	UnixSocketDir string
	// Warehouse is where Iceberg tables go: a local folder or
	// s3://bucket/prefix; S3 says how to reach the latter (credentials come
	// from the AWS_* environment variables).
	Warehouse string
	S3        strandiceberg.S3Config
	// CompactEvery is how often sealed log ranges are compacted to Iceberg.
	CompactEvery time.Duration
	// Iceberg file management (iceberg.Options of the same names).
	IcebergTargetFileSize    int64
	IcebergCommitDelay       time.Duration
	IcebergLoadQuiet         time.Duration
	IcebergSnapshotRetention time.Duration
	// Tiering moves events that are in Iceberg and older than the local
	// retention out of the log (iceberg.Tiering).
	Tiering strandiceberg.Tiering
}

func parseServeFlags(args []string, getenv func(string) string) (config, error) {
	var cfg config
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	env := func(name, def string) string {
		if v := getenv("STRAND_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))); v != "" {
			return v
		}
		return def
	}
	fs.StringVar(&cfg.DataDir, "data-dir", env("data-dir", "./strand-data"), "data directory (env STRAND_DATA_DIR)")
	fs.StringVar(&cfg.PGAddr, "pg-addr", env("pg-addr", "127.0.0.1:5433"), "PostgreSQL protocol address (env STRAND_PG_ADDR)")
	fs.StringVar(&cfg.HTTPAddr, "http-addr", env("http-addr", "127.0.0.1:8181"), "HTTP address for /healthz, /metrics and the Iceberg REST catalog (env STRAND_HTTP_ADDR)")
	fs.StringVar(&cfg.Auth, "auth", env("auth", ""), "trust, password or scram-sha-256; default trust on loopback, scram-sha-256 elsewhere (env STRAND_AUTH)")
	fs.StringVar(&cfg.TLSCert, "tls-cert", env("tls-cert", ""), "TLS certificate file for the PostgreSQL port (env STRAND_TLS_CERT)")
	fs.StringVar(&cfg.TLSKey, "tls-key", env("tls-key", ""), "TLS key file (env STRAND_TLS_KEY)")
	fs.StringVar(&cfg.UnixSocketDir, "unix-socket-dir", env("unix-socket-dir", ""), "also serve the PostgreSQL protocol on the Unix socket <dir>/.s.PGSQL.<port>, where psql -h <dir> -p <port> finds it; empty for none (env STRAND_UNIX_SOCKET_DIR)")
	fs.StringVar(&cfg.Warehouse, "warehouse", env("warehouse", "./strand-warehouse"), "Iceberg warehouse: a folder or s3://bucket/prefix (env STRAND_WAREHOUSE)")
	fs.StringVar(&cfg.S3.Endpoint, "s3-endpoint", env("s3-endpoint", ""), "S3 endpoint URL for an s3:// warehouse, e.g. http://127.0.0.1:9000 for MinIO; empty means AWS (env STRAND_S3_ENDPOINT)")
	fs.StringVar(&cfg.S3.Region, "s3-region", env("s3-region", ""), "S3 region; empty means AWS_REGION, else us-east-1 (env STRAND_S3_REGION)")
	var pathStyle optionalBool
	if v := env("s3-path-style", ""); v != "" {
		if err := pathStyle.Set(v); err != nil {
			return cfg, fmt.Errorf("serve: STRAND_S3_PATH_STYLE: %w", err)
		}
	}
	fs.Var(&pathStyle, "s3-path-style", "address buckets as endpoint/bucket/key; default on when --s3-endpoint is given (env STRAND_S3_PATH_STYLE=true|false)")
	compactEvery := fs.String("compact-every", env("compact-every", "10s"), "how often the log is compacted into Iceberg tables; 0 disables (env STRAND_COMPACT_EVERY)")
	targetSize := fs.String("iceberg-target-file-size", env("iceberg-target-file-size", "128MiB"), "size at which Iceberg data files are closed, and small ones merged up to (bytes, KiB, MiB, GiB) (env STRAND_ICEBERG_TARGET_FILE_SIZE)")
	loadQuiet := fs.String("iceberg-load-quiet", env("iceberg-load-quiet", "3s"), "leave a table that took a COPY chunk less than this long ago for a later pass (at most a minute in a row), so a load is converted once, after it; 0 converts mid-load (env STRAND_ICEBERG_LOAD_QUIET)")
	commitDelay := fs.String("iceberg-commit-delay", env("iceberg-commit-delay", "0s"), "hold a table's new events back from Iceberg until they have waited this long, so a trickle makes fewer commits; 0 commits every pass (env STRAND_ICEBERG_COMMIT_DELAY)")
	retention := fs.String("iceberg-snapshot-retention", env("iceberg-snapshot-retention", "24h"), "Iceberg snapshots older than this are expired (the newest 10 are always kept) and files only they used deleted; negative keeps all (env STRAND_ICEBERG_SNAPSHOT_RETENTION)")
	localRetention := fs.String("local-retention", env("local-retention", "off"), "once in Iceberg, events older than this leave the local log and are read from Iceberg (a duration, 0s: as soon as compacted; off: never); a table's local_retention option overrides it (env STRAND_LOCAL_RETENTION)")
	level := fs.String("log-level", env("log-level", "info"), "debug, info, warn or error (env STRAND_LOG_LEVEL)")
	fs.BoolVar(&cfg.LogJSON, "log-json", env("log-json", "") == "true", "log as JSON lines (env STRAND_LOG_JSON=true)")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("serve: unexpected argument %q", fs.Arg(0))
	}
	d, err := time.ParseDuration(*compactEvery)
	if err != nil {
		return cfg, fmt.Errorf("serve: --compact-every: %w", err)
	}
	cfg.CompactEvery = d
	if cfg.IcebergTargetFileSize, err = strandiceberg.ParseSize(*targetSize); err != nil {
		return cfg, fmt.Errorf("serve: --iceberg-target-file-size: %w", err)
	}
	if cfg.IcebergCommitDelay, err = time.ParseDuration(*commitDelay); err != nil || cfg.IcebergCommitDelay < 0 {
		return cfg, fmt.Errorf("serve: --iceberg-commit-delay %q: want a duration >= 0", *commitDelay)
	}
	if cfg.IcebergLoadQuiet, err = time.ParseDuration(*loadQuiet); err != nil || cfg.IcebergLoadQuiet < 0 {
		return cfg, fmt.Errorf("serve: --iceberg-load-quiet %q: want a duration >= 0", *loadQuiet)
	}
	if cfg.IcebergSnapshotRetention, err = time.ParseDuration(*retention); err != nil {
		return cfg, fmt.Errorf("serve: --iceberg-snapshot-retention: %w", err)
	}
	if *localRetention != "off" {
		keep, err := time.ParseDuration(*localRetention)
		if err != nil || keep < 0 {
			return cfg, fmt.Errorf("serve: --local-retention %q: want a duration >= 0 or off", *localRetention)
		}
		if cfg.CompactEvery <= 0 {
			return cfg, fmt.Errorf("serve: --local-retention needs compaction (--compact-every > 0)")
		}
		cfg.Tiering = strandiceberg.Tiering{On: true, LocalRetention: keep}
	}
	if pathStyle.set {
		cfg.S3.PathStyle = &pathStyle.value
	}
	if cfg.S3.Endpoint != "" {
		if u, err := url.Parse(cfg.S3.Endpoint); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return cfg, fmt.Errorf("serve: --s3-endpoint %q: want an http:// or https:// URL", cfg.S3.Endpoint)
		}
	}
	if strings.Contains(cfg.Warehouse, "://") && !strings.HasPrefix(cfg.Warehouse, "s3://") && !strings.HasPrefix(cfg.Warehouse, "file://") {
		return cfg, fmt.Errorf("serve: --warehouse %s: want a folder, file:// or s3://bucket/prefix", cfg.Warehouse)
	}
	if err := cfg.LogLevel.UnmarshalText([]byte(*level)); err != nil {
		return cfg, fmt.Errorf("serve: --log-level: %w", err)
	}
	return cfg, nil
}

// optionalBool is a boolean flag that knows whether it was given, so its
// default can depend on other flags (--s3-path-style on with an endpoint).
type optionalBool struct{ set, value bool }

func (b *optionalBool) String() string {
	if b == nil || !b.set {
		return "auto"
	}
	return strconv.FormatBool(b.value)
}

func (b *optionalBool) Set(s string) error {
	v, err := strconv.ParseBool(s)
	if err != nil {
		return fmt.Errorf("want true or false, not %q", s)
	}
	b.set, b.value = true, v
	return nil
}

func (b *optionalBool) IsBoolFlag() bool { return true }
