// Command strand is the Strand server: `strand serve` runs the database,
// `strand version` prints its version.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
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
	// Warehouse is where Iceberg tables go: a local folder.
	Warehouse string
	// CompactEvery is how often sealed log ranges are compacted to Iceberg.
	CompactEvery time.Duration
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
	fs.StringVar(&cfg.Warehouse, "warehouse", env("warehouse", "./strand-warehouse"), "Iceberg warehouse folder (env STRAND_WAREHOUSE); s3:// is not supported yet")
	compactEvery := fs.String("compact-every", env("compact-every", "10s"), "how often the log is compacted into Iceberg tables; 0 disables (env STRAND_COMPACT_EVERY)")
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
	if strings.HasPrefix(cfg.Warehouse, "s3://") {
		return cfg, fmt.Errorf("serve: --warehouse %s: S3 warehouses are not supported yet; use a local folder", cfg.Warehouse)
	}
	if err := cfg.LogLevel.UnmarshalText([]byte(*level)); err != nil {
		return cfg, fmt.Errorf("serve: --log-level: %w", err)
	}
	return cfg, nil
}
