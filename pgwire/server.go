package pgwire

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/strand-db/strand/sql/pgerr"
)

// AuthMethod is how the server authenticates roles.
type AuthMethod string

const (
	// AuthTrust lets any existing role in without a password. Only allowed
	// on a loopback address.
	AuthTrust AuthMethod = "trust"
	// AuthPassword asks for the password in clear text (use with TLS) and
	// checks it against the role's SCRAM verifier.
	AuthPassword AuthMethod = "password"
	// AuthSCRAM is SCRAM-SHA-256 (RFC 5802, RFC 7677) without channel binding.
	AuthSCRAM AuthMethod = "scram-sha-256"
)

// DefaultServerVersion is the server_version reported to clients: PostgreSQL
// 15 compatible, with Strand's name after the number the way distribution
// builds of PostgreSQL add theirs ("15.18 (Debian 15.18-0+deb12u1)"), which
// libpq, pgx, JDBC and pgbench all parse.
const DefaultServerVersion = "15.0 (Strand 0.1.0)"

// Config configures a Server. The zero value of each field has a sensible
// default, except Backend, which is required.
type Config struct {
	// Addr is the TCP address ListenAndServe listens on; default
	// "127.0.0.1:5432".
	Addr    string
	Backend Backend
	// Auth is the authentication method; default scram-sha-256.
	Auth AuthMethod
	// TLS enables SSLRequest negotiation; when nil and CertFile and KeyFile
	// are set, they are loaded. Without either, SSLRequest is answered 'N'.
	TLS               *tls.Config
	CertFile, KeyFile string
	// RequireTLS refuses (28000) clients that do not negotiate TLS.
	RequireTLS bool
	// MaxMessageSize bounds the body of one client message; a larger one is
	// answered with FATAL 54000 and the connection is closed. Default 64 MiB.
	MaxMessageSize int
	// AuthTimeout bounds the startup and authentication exchange; default 60s
	// (PostgreSQL's authentication_timeout).
	AuthTimeout time.Duration
	// ClientCheckInterval is how often a running statement checks that its
	// client is still connected (PostgreSQL's
	// client_connection_check_interval), cancelling the statement when it is
	// not; default 1s, negative disables.
	ClientCheckInterval time.Duration
	// ServerVersion is reported as server_version; default
	// DefaultServerVersion.
	ServerVersion string
	// Logger receives connection-level events; default slog.Default().
	Logger *slog.Logger
	// Registerer, when set, gets the server's Prometheus metrics.
	Registerer prometheus.Registerer
}

// Server accepts PostgreSQL connections and serves each with a Session.
type Server struct {
	cfg     Config
	log     *slog.Logger
	metrics *metrics

	// nextPID numbers connections for BackendKeyData.
	nextPID atomic.Uint32
	// panics counts connections that ended in a recovered panic.
	panics atomic.Int64

	mu struct {
		sync.Mutex
		listeners map[net.Listener]struct{}
		// all holds every connection being served; conns those past
		// startup, by process id, for CancelRequest.
		all      map[*conn]struct{}
		conns    map[uint32]*conn
		draining bool
	}
	// connWG tracks live connections for Shutdown.
	connWG sync.WaitGroup
}

// New checks cfg and makes a Server.
func New(cfg Config) (*Server, error) {
	if cfg.Backend == nil {
		return nil, errors.New("pgwire: Config.Backend is required")
	}
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:5432"
	}
	switch cfg.Auth {
	case "":
		cfg.Auth = AuthSCRAM
	case AuthTrust, AuthPassword, AuthSCRAM:
	default:
		return nil, fmt.Errorf("pgwire: unknown auth method %q (want trust, password or scram-sha-256)", cfg.Auth)
	}
	if cfg.TLS == nil && (cfg.CertFile != "" || cfg.KeyFile != "") {
		cert, err := tls.LoadX509KeyPair(cfg.CertFile, cfg.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("pgwire: load TLS key pair: %w", err)
		}
		cfg.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	if cfg.RequireTLS && cfg.TLS == nil {
		return nil, errors.New("pgwire: RequireTLS without a TLS certificate")
	}
	if cfg.MaxMessageSize <= 0 {
		cfg.MaxMessageSize = 64 << 20
	}
	if cfg.AuthTimeout <= 0 {
		cfg.AuthTimeout = 60 * time.Second
	}
	if cfg.ClientCheckInterval == 0 {
		cfg.ClientCheckInterval = time.Second
	}
	if cfg.ServerVersion == "" {
		cfg.ServerVersion = DefaultServerVersion
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	m, err := newMetrics(cfg.Registerer)
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, log: cfg.Logger, metrics: m}
	s.mu.listeners = map[net.Listener]struct{}{}
	s.mu.conns = map[uint32]*conn{}
	s.mu.all = map[*conn]struct{}{}
	return s, nil
}

// ListenAndServe listens on Config.Addr and serves until Shutdown.
func (s *Server) ListenAndServe() error {
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("pgwire: listen: %w", err)
	}
	return s.Serve(ln)
}

// Serve accepts connections on ln until Shutdown, serving each on its own
// goroutine. It refuses to serve trust authentication on a non-loopback
// address. It returns nil after Shutdown.
func (s *Server) Serve(ln net.Listener) error {
	if s.cfg.Auth == AuthTrust && !isLoopback(ln.Addr()) {
		ln.Close()
		return fmt.Errorf("pgwire: refusing trust authentication on non-loopback address %s: use password or scram-sha-256, or listen on 127.0.0.1", ln.Addr())
	}
	s.mu.Lock()
	if s.mu.draining {
		s.mu.Unlock()
		ln.Close()
		return nil
	}
	s.mu.listeners[ln] = struct{}{}
	s.mu.Unlock()
	s.log.Info("pgwire: listening", "addr", ln.Addr().String(), "auth", string(s.cfg.Auth), "tls", s.cfg.TLS != nil)

	var delay time.Duration
	for {
		nc, err := ln.Accept()
		if err != nil {
			s.mu.Lock()
			draining := s.mu.draining
			s.mu.Unlock()
			if draining {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				delay = min(max(2*delay, 5*time.Millisecond), time.Second)
				time.Sleep(delay)
				continue
			}
			return fmt.Errorf("pgwire: accept: %w", err)
		}
		delay = 0
		if tc, ok := nc.(*net.TCPConn); ok {
			tc.SetNoDelay(true)
			tc.SetKeepAlive(true)
		}
		go s.ServeConn(context.Background(), nc)
	}
}

// isLoopback reports whether addr only accepts local connections.
func isLoopback(addr net.Addr) bool {
	switch a := addr.(type) {
	case *net.TCPAddr:
		return a.IP.IsLoopback()
	case *net.UnixAddr:
		return true
	}
	return false
}

// ServeConn serves one client connection until it ends, then closes nc. It
// never panics: a panic while serving is logged and ends the connection.
func (s *Server) ServeConn(ctx context.Context, nc net.Conn) {
	c := newConn(ctx, s, nc)
	s.mu.Lock()
	if s.mu.draining {
		s.mu.Unlock()
		nc.Close()
		return
	}
	s.mu.all[c] = struct{}{}
	s.connWG.Add(1)
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.mu.all, c)
		s.mu.Unlock()
		s.connWG.Done()
	}()

	s.metrics.connsTotal.Inc()
	s.metrics.connsOpen.Inc()
	defer s.metrics.connsOpen.Dec()
	defer s.recoverPanic(c, c.close)
	s.recoverPanic(c, c.serve)
}

// recoverPanic runs f, logging a panic instead of crashing the server.
func (s *Server) recoverPanic(c *conn, f func()) {
	defer func() {
		if r := recover(); r != nil {
			s.panics.Add(1)
			s.log.Error("pgwire: panic serving connection", "remote", c.remote(), "panic", r, "stack", stack())
		}
	}()
	f()
}

// register makes a connection reachable by CancelRequest and Shutdown; it
// returns false when the server is shutting down.
func (s *Server) register(c *conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.mu.draining {
		return false
	}
	s.mu.conns[c.pid] = c
	return true
}

func (s *Server) unregister(c *conn) {
	s.mu.Lock()
	if s.mu.conns[c.pid] == c {
		delete(s.mu.conns, c.pid)
	}
	s.mu.Unlock()
}

// newKey returns a fresh process id and secret for BackendKeyData.
func (s *Server) newKey() (uint32, [4]byte) {
	var secret [4]byte
	rand.Read(secret[:])
	pid := s.nextPID.Add(1)
	if pid == 0 {
		pid = s.nextPID.Add(1)
	}
	return pid, secret
}

// cancel handles a CancelRequest: it cancels the running statement of the
// connection with that key, if any. As in PostgreSQL the requester learns
// nothing either way.
func (s *Server) cancel(pid uint32, secret []byte) {
	s.mu.Lock()
	c := s.mu.conns[pid]
	s.mu.Unlock()
	if c == nil || len(secret) != len(c.secret) || subtle.ConstantTimeCompare(secret, c.secret[:]) != 1 {
		s.log.Debug("pgwire: cancel request for unknown key", "pid", pid)
		return
	}
	c.cancelStatement(errCanceledByUser)
}

// Shutdown stops accepting connections, lets statements that are running
// finish, and closes each connection when it is next idle, sending FATAL
// 57P01 to its client. When ctx ends first, running statements are cancelled
// and every connection is closed at once; Shutdown then returns ctx.Err().
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.mu.draining = true
	for ln := range s.mu.listeners {
		ln.Close()
	}
	clear(s.mu.listeners)
	conns := make([]*conn, 0, len(s.mu.conns))
	for _, c := range s.mu.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	for _, c := range conns {
		c.drain()
	}

	done := make(chan struct{})
	go func() {
		s.connWG.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
	}
	s.mu.Lock()
	for c := range s.mu.all {
		c.kill()
	}
	s.mu.Unlock()
	<-done
	return ctx.Err()
}

var (
	errCanceledByUser   = pgerr.New(pgerr.QueryCanceled, "canceling statement due to user request")
	errStatementTimeout = pgerr.New(pgerr.QueryCanceled, "canceling statement due to statement timeout")
	errClientGone       = pgerr.New(pgerr.ConnectionFailure, "connection to client lost")
	errAdminShutdown    = fatal(pgerr.AdminShutdown, "terminating connection due to administrator command")
)

// fatal makes a FATAL error: sent, then the connection closes.
func fatal(code pgerr.Code, format string, args ...any) *pgerr.Error {
	e := pgerr.New(code, format, args...)
	e.Severity = pgerr.SeverityFatal
	return e
}

func isFatal(e *pgerr.Error) bool {
	return e.Severity == pgerr.SeverityFatal || e.Severity == "PANIC"
}
