package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/apache/iceberg-go/table"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	strandiceberg "github.com/strand-db/strand/iceberg"
	strandlog "github.com/strand-db/strand/log"
	"github.com/strand-db/strand/pgwire"
	"github.com/strand-db/strand/sql/session"
)

// serve runs the server until ctx ends, then shuts down in order: stop
// accepting, let in-flight statements and commits finish, close the log.
func serve(ctx context.Context, cfg config) error {
	var h slog.Handler
	if cfg.LogJSON {
		h = slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: cfg.LogLevel})
	} else {
		h = slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: cfg.LogLevel})
	}
	logger := slog.New(h)
	slog.SetDefault(logger)
	// A goroutine in a blocking system call (the WAL's fdatasync, a
	// socket write) keeps its P until the runtime's monitor hands it off,
	// 20 µs to milliseconds later; with one P per core that idles a core
	// for much of every commit on a small machine. Two spare Ps keep the
	// cores busy meanwhile (32-client INSERTs: +13–22% on 2 cores).
	// GOMAXPROCS in the environment wins.
	if os.Getenv("GOMAXPROCS") == "" {
		runtime.GOMAXPROCS(runtime.NumCPU() + 2)
	}
	// The Go heap stays small (Pebble's cache and memtables live outside
	// it; a busy server holds ~10 MB), so at the default GOGC=100 the
	// collector runs every few MB of per-statement garbage. 300 lets the
	// heap reach ~4× its live size (32-client INSERTs: +3.5% tps, -5% CPU
	// per INSERT on 2 cores). GOGC in the environment wins.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(300)
	}
	logger.Info("strand starting", slog.String("version", Version), slog.String("data_dir", cfg.DataDir),
		slog.String("pg_addr", cfg.PGAddr), slog.String("http_addr", cfg.HTTPAddr), slog.Int("gomaxprocs", runtime.GOMAXPROCS(0)))

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return fmt.Errorf("create data dir: %w", err)
	}
	lg, err := strandlog.Open(strandlog.Options{Dir: cfg.DataDir, Logger: logger, Registerer: reg, Hook: session.NewMaintainer()})
	if err != nil {
		return err
	}
	defer func() {
		if err := lg.Close(); err != nil {
			logger.Error("close log", slog.Any("err", err))
		}
		logger.Info("strand stopped")
	}()

	// The Iceberg compactor: sealed log ranges become Iceberg tables in the
	// warehouse, served by a REST catalog on the HTTP port.
	var comp *strandiceberg.Compactor
	if cfg.CompactEvery > 0 {
		warehouse := cfg.Warehouse
		if !strings.Contains(warehouse, "://") {
			if err := os.MkdirAll(warehouse, 0o755); err != nil {
				return fmt.Errorf("create warehouse: %w", err)
			}
			if warehouse, err = filepath.Abs(warehouse); err != nil {
				return err
			}
		}
		opts := strandiceberg.Options{Warehouse: warehouse, S3: cfg.S3, Interval: cfg.CompactEvery, Logger: logger}
		opts.TargetFileSize, opts.CommitDelay, opts.SnapshotRetention = cfg.IcebergTargetFileSize, cfg.IcebergCommitDelay, cfg.IcebergSnapshotRetention
		opts.LoadQuiet = cfg.IcebergLoadQuiet
		opts.Tiering = cfg.Tiering
		if fp := os.Getenv("STRAND_FAILPOINT"); fp != "" {
			opts.BeforeCommit = failpoint(fp, logger)
		}
		comp, err = strandiceberg.New(lg, opts)
		if err != nil {
			return err
		}
		logger.Info("iceberg compaction", slog.String("warehouse", comp.Catalog().Location()), slog.Duration("every", cfg.CompactEvery))
		// Reads of events tiered out of the log go to the warehouse.
		lg.SetColdReader(comp.ColdReader())
		// Scans of every row of a big table read its columnar copy.
		lg.SetStateReader(comp.StateReader())
		reg.MustRegister(comp)
		compCtx, stopComp := context.WithCancel(context.Background())
		compDone := make(chan struct{})
		go func() { defer close(compDone); comp.Run(compCtx) }()
		// Runs before the log closes (defers run last in, first out).
		defer func() { stopComp(); <-compDone }()
	}

	httpLn, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("listen http on %s: %w", cfg.HTTPAddr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	// Profiles, as every Go server offers them (the HTTP address is
	// loopback by default).
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	if comp != nil {
		mux.Handle("/iceberg/", http.StripPrefix("/iceberg", strandiceberg.NewHandler(comp.Catalog())))
		mux.Handle("/iceberg-status", comp.StatusHandler())
	}
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		s := lg.Snapshot()
		defer s.Release()
		fmt.Fprintf(w, "ok lsn=%d\n", s.LSN())
	})
	httpSrv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	httpErr := make(chan error, 1)
	go func() { httpErr <- httpSrv.Serve(httpLn) }()
	logger.Info("http listening", slog.String("addr", httpLn.Addr().String()))

	auth := pgwire.AuthMethod(cfg.Auth)
	if auth == "" {
		auth = pgwire.AuthSCRAM
		if host, _, err := net.SplitHostPort(cfg.PGAddr); err == nil {
			if ip := net.ParseIP(host); host == "localhost" || (ip != nil && ip.IsLoopback()) {
				auth = pgwire.AuthTrust
			}
		}
	}
	session.Version = Version
	eng := session.NewEngine(lg, logger)
	if comp != nil {
		eng.IcebergStatus = func() []session.IcebergTableStatus { return icebergStatus(comp) }
	}
	pg, err := pgwire.New(pgwire.Config{
		Addr: cfg.PGAddr, Backend: eng, Auth: auth,
		CertFile: cfg.TLSCert, KeyFile: cfg.TLSKey,
		ServerVersion: "15.0 (Strand " + Version + ")",
		Logger:        logger, Registerer: reg,
	})
	if err != nil {
		return err
	}
	pgLn, err := net.Listen("tcp", cfg.PGAddr)
	if err != nil {
		return fmt.Errorf("listen postgres on %s: %w", cfg.PGAddr, err)
	}
	pgErr := make(chan error, 2)
	go func() { pgErr <- pg.Serve(pgLn) }()
	logger.Info("postgres protocol listening", slog.String("addr", pgLn.Addr().String()), slog.String("auth", string(auth)))
	if cfg.UnixSocketDir != "" {
		_, port, _ := net.SplitHostPort(pgLn.Addr().String())
		unixLn, err := listenUnixSocket(filepath.Join(cfg.UnixSocketDir, ".s.PGSQL."+port))
		if err != nil {
			return err
		}
		go func() { pgErr <- pg.Serve(unixLn) }()
		logger.Info("postgres protocol listening", slog.String("socket", unixLn.Addr().String()), slog.String("auth", string(auth)))
	}

	select {
	case <-ctx.Done():
		logger.Info("shutting down")
	case err := <-httpErr:
		if !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("http server: %w", err)
		}
	case err := <-pgErr:
		return fmt.Errorf("postgres server: %w", err)
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// Stop the PostgreSQL port first: running statements finish and their
	// commits are synced before the log closes (deferred above).
	if err := pg.Shutdown(shutdownCtx); err != nil {
		logger.Warn("postgres shutdown", slog.Any("err", err))
	}
	if err := httpSrv.Shutdown(shutdownCtx); err != nil {
		logger.Warn("http shutdown", slog.Any("err", err))
	}
	return nil
}

// icebergStatus is the compactor's status as pg_catalog.strand_iceberg_tables
// shows it.
func icebergStatus(comp *strandiceberg.Compactor) []session.IcebergTableStatus {
	var out []session.IcebergTableStatus
	for _, st := range comp.Status() {
		out = append(out, session.IcebergTableStatus{
			Schema: st.Schema, Name: st.Name, Watermark: st.Watermark, LagRows: st.LagRows, Lag: st.Lag,
			Files: st.Files, Bytes: st.Bytes, Rows: st.Rows, LastCommit: st.LastCommit, LastError: st.LastError,
			LocalRetention: st.LocalRetention, TierFloor: st.TierFloor, DurableLSN: st.DurableLSN,
		})
	}
	return out
}

// failpoint returns the compactor's BeforeCommit hook for
// STRAND_FAILPOINT, a test-only switch: "iceberg-before-commit" kills the
// process with SIGKILL after a commit's files are uploaded and before the
// catalog commit, as a crash there would; "iceberg-before-commit=ns.table"
// only when committing that Iceberg table.
func failpoint(fp string, logger *slog.Logger) func(table.Identifier, []string) error {
	name, only, _ := strings.Cut(fp, "=")
	if name != "iceberg-before-commit" {
		logger.Warn("unknown STRAND_FAILPOINT ignored", slog.String("failpoint", fp))
		return nil
	}
	return func(id table.Identifier, files []string) error {
		if only != "" && only != strings.Join(id, ".") {
			return nil
		}
		logger.Warn("failpoint: killing the process before an Iceberg commit", slog.String("table", strings.Join(id, ".")), slog.Int("files", len(files)))
		syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {} // SIGKILL cannot be caught: this never returns
	}
}

// listenUnixSocket listens on the Unix socket at path, where PostgreSQL's
// clients look for a server's socket. A socket file left by a server that
// died is replaced; one a server still answers on is an error. Closing
// the listener (at shutdown) removes the file.
func listenUnixSocket(path string) (net.Listener, error) {
	if _, err := os.Stat(path); err == nil {
		if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
			c.Close()
			return nil, fmt.Errorf("listen postgres on %s: another server is listening there", path)
		}
		if err := os.Remove(path); err != nil {
			return nil, fmt.Errorf("listen postgres on %s: remove stale socket: %w", path, err)
		}
	}
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("listen postgres on %s: %w", path, err)
	}
	// Any local user may connect, as with PostgreSQL's default
	// unix_socket_permissions (0777); authentication still applies.
	if err := os.Chmod(path, 0o777); err != nil {
		ln.Close()
		return nil, fmt.Errorf("listen postgres on %s: %w", path, err)
	}
	return ln, nil
}
