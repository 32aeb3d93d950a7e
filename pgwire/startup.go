package pgwire

import (
	"bytes"
	"crypto/tls"
	"encoding/binary"
	"io"
	"strings"

	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/strand-db/strand/sql/pgerr"
)

// Startup packet codes (the protocol version field of the first message).
const (
	codeSSLRequest    = 80877103
	codeGSSENCRequest = 80877104
	codeCancelRequest = 80877102
	maxStartupPacket  = 10000 // PostgreSQL's MAX_STARTUP_PACKET_LENGTH
)

// startup reads the startup packets: SSLRequest and GSSENCRequest (each at
// most once, answered before the real StartupMessage), CancelRequest (served
// and the connection closed), then the StartupMessage.
func (c *conn) startup() (StartupInfo, error) {
	tlsDone, gssDone := false, false
	for {
		var hdr [4]byte
		if _, err := io.ReadFull(c.rd, hdr[:]); err != nil {
			return StartupInfo{}, errQuietOn(err)
		}
		n := int(int32(binary.BigEndian.Uint32(hdr[:]))) - 4
		if n < 4 || n > maxStartupPacket {
			return StartupInfo{}, fatal(pgerr.ProtocolViolation, "invalid length of startup packet")
		}
		body := make([]byte, n)
		if _, err := io.ReadFull(c.rd, body); err != nil {
			return StartupInfo{}, fatal(pgerr.ProtocolViolation, "incomplete startup packet")
		}
		code := binary.BigEndian.Uint32(body)
		switch code {
		case codeSSLRequest:
			if tlsDone {
				return StartupInfo{}, fatal(pgerr.ProtocolViolation, "SSL negotiation after SSL was established")
			}
			tlsDone = true
			if err := c.negotiateTLS(); err != nil {
				return StartupInfo{}, err
			}
		case codeGSSENCRequest:
			if gssDone {
				return StartupInfo{}, fatal(pgerr.ProtocolViolation, "duplicate GSSENC request")
			}
			gssDone = true
			if _, err := c.nc.Write([]byte{'N'}); err != nil {
				return StartupInfo{}, errQuiet
			}
		case codeCancelRequest:
			var m pgproto3.CancelRequest
			if err := m.Decode(body); err != nil {
				return StartupInfo{}, errQuiet
			}
			c.srv.cancel(m.ProcessID, m.SecretKey)
			return StartupInfo{}, errQuiet
		default:
			return c.startupMessage(code, body[4:])
		}
	}
}

func errQuietOn(err error) error {
	if isClientGone(err) {
		return errQuiet
	}
	return err
}

// negotiateTLS answers an SSLRequest and, when TLS is configured, performs
// the handshake.
func (c *conn) negotiateTLS() error {
	if c.srv.cfg.TLS == nil {
		if _, err := c.nc.Write([]byte{'N'}); err != nil {
			return errQuiet
		}
		return nil
	}
	if c.rd.Buffered() > 0 {
		// Bytes sent before our answer would bypass encryption.
		return fatal(pgerr.ProtocolViolation, "received unencrypted data after SSL request")
	}
	if _, err := c.nc.Write([]byte{'S'}); err != nil {
		return errQuiet
	}
	tc := tls.Server(c.nc, c.srv.cfg.TLS)
	if err := tc.HandshakeContext(c.ctx); err != nil {
		c.log.Debug("pgwire: TLS handshake failed", "remote", c.remote(), "err", err)
		return errQuiet
	}
	c.nc = tc
	c.rd.Reset(tc)
	return nil
}

// startupMessage checks the protocol version and reads the parameters.
func (c *conn) startupMessage(version uint32, body []byte) (StartupInfo, error) {
	major, minor := version>>16, version&0xffff
	if major != 3 {
		return StartupInfo{}, fatal(pgerr.FeatureNotSupported, "unsupported frontend protocol %d.%d: server supports 3.0 to 3.0", major, minor)
	}
	if c.srv.cfg.RequireTLS && !c.isTLS() {
		return StartupInfo{}, fatal(pgerr.InvalidAuthorizationSpecification, "connection requires TLS (sslmode=require), no encryption")
	}
	params := map[string]string{}
	var unrecognized []string
	for {
		i := bytes.IndexByte(body, 0)
		if i < 0 {
			return StartupInfo{}, fatal(pgerr.ProtocolViolation, "invalid startup packet layout: expected terminator as last byte")
		}
		if i == 0 {
			if len(body) != 1 {
				return StartupInfo{}, fatal(pgerr.ProtocolViolation, "invalid startup packet layout: expected terminator as last byte")
			}
			break
		}
		name := string(body[:i])
		body = body[i+1:]
		j := bytes.IndexByte(body, 0)
		if j < 0 {
			return StartupInfo{}, fatal(pgerr.ProtocolViolation, "invalid startup packet layout: expected terminator as last byte")
		}
		value := string(body[:j])
		body = body[j+1:]
		if strings.HasPrefix(name, "_pq_.") {
			unrecognized = append(unrecognized, name)
			continue
		}
		params[name] = value
	}
	if minor > 0 || len(unrecognized) > 0 {
		c.send(&pgproto3.NegotiateProtocolVersion{NewestMinorProtocol: 0, UnrecognizedOptions: unrecognized})
	}

	info := StartupInfo{User: params["user"], Database: params["database"], ApplicationName: params["application_name"], Settings: map[string]string{}}
	if info.User == "" {
		return StartupInfo{}, fatal(pgerr.InvalidAuthorizationSpecification, "no PostgreSQL user name specified in startup packet")
	}
	if info.Database == "" {
		info.Database = info.User
	}
	if r, ok := params["replication"]; ok {
		switch strings.ToLower(r) {
		case "false", "off", "no", "0":
		default:
			return StartupInfo{}, fatal(pgerr.FeatureNotSupported, "replication connections are not supported")
		}
	}
	for name, v := range params {
		switch name {
		case "user", "database", "options", "replication":
		default:
			info.Settings[name] = v
		}
	}
	if opts := params["options"]; opts != "" {
		if err := parseOptions(opts, info.Settings); err != nil {
			return StartupInfo{}, err
		}
	}
	return info, nil
}

func (c *conn) isTLS() bool {
	_, ok := c.nc.(*tls.Conn)
	return ok
}

// parseOptions reads the options startup parameter as PostgreSQL does:
// whitespace-separated words, a backslash escaping the next character;
// "-c name=value", "-cname=value" and "--name=value" set a parameter (a
// dash in the name stands for an underscore).
func parseOptions(opts string, settings map[string]string) error {
	var words []string
	var cur strings.Builder
	inWord, escaped := false, false
	for _, r := range opts {
		switch {
		case escaped:
			cur.WriteRune(r)
			escaped, inWord = false, true
		case r == '\\':
			escaped, inWord = true, true
		case r == ' ' || r == '\t' || r == '\n' || r == '\r' || r == '\f' || r == '\v':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	bad := func(w string) error {
		return fatal(pgerr.InvalidParameterValue, "invalid command-line argument for server process: %s", w)
	}
	for i := 0; i < len(words); i++ {
		w := words[i]
		var setting string
		switch {
		case w == "-c":
			if i+1 >= len(words) {
				return bad(w)
			}
			i++
			setting = words[i]
		case strings.HasPrefix(w, "--"):
			setting = w[2:]
		case strings.HasPrefix(w, "-c"):
			setting = w[2:]
		default:
			return bad(w)
		}
		name, value, ok := strings.Cut(setting, "=")
		if !ok || name == "" {
			return bad(w)
		}
		settings[strings.ReplaceAll(name, "-", "_")] = value
	}
	return nil
}
