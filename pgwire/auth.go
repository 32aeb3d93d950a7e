package pgwire

import (
	"bytes"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/strand-db/strand/sql/pgerr"
)

// authenticate runs the configured authentication exchange and sends
// AuthenticationOk. As in PostgreSQL, an unknown role fails password methods
// with the same 28P01 as a wrong password (so that role names cannot be
// probed), and fails trust with 28000.
func (c *conn) authenticate(user string) error {
	verifier, ok, err := c.srv.cfg.Backend.LookupRole(c.ctx, user)
	if err != nil {
		e := pgerr.From(err)
		return fatal(e.Code, "%s", e.Message)
	}
	switch c.srv.cfg.Auth {
	case AuthTrust:
		if !ok {
			c.srv.metrics.authFailed.Inc()
			return fatal(pgerr.InvalidAuthorizationSpecification, "role %q does not exist", user)
		}
	case AuthPassword:
		err = c.authCleartext(user, verifier, ok)
	default:
		err = c.authSCRAM(user, verifier, ok)
	}
	if err != nil {
		var pe *pgerr.Error
		if errors.As(err, &pe) && (pe.Code == pgerr.InvalidPassword || pe.Code == pgerr.InvalidAuthorizationSpecification) {
			c.srv.metrics.authFailed.Inc()
			c.log.Info("pgwire: authentication failed", "user", user, "remote", c.remote(), "role_exists", ok)
		}
		return err
	}
	c.send(&pgproto3.AuthenticationOk{})
	return nil
}

func errBadPassword(user string) error {
	return fatal(pgerr.InvalidPassword, "password authentication failed for user %q", user)
}

// readAuthMessage reads the client's answer to an authentication request.
func (c *conn) readAuthMessage() ([]byte, error) {
	if err := c.flush(); err != nil {
		return nil, errQuiet
	}
	typ, body, err := c.readMessage()
	if err != nil {
		return nil, errQuietOn(err)
	}
	if typ != 'p' {
		return nil, fatal(pgerr.ProtocolViolation, "expected password response, got message type %d", typ)
	}
	return body, nil
}

func (c *conn) authCleartext(user, verifier string, exists bool) error {
	c.send(&pgproto3.AuthenticationCleartextPassword{})
	body, err := c.readAuthMessage()
	if err != nil {
		return err
	}
	var m pgproto3.PasswordMessage
	if err := m.Decode(body); err != nil {
		return malformed("password", err)
	}
	if m.Password == "" {
		return errBadPassword(user)
	}
	if !exists || !VerifyPassword(verifier, m.Password) {
		return errBadPassword(user)
	}
	return nil
}

// authSCRAM runs SCRAM-SHA-256 (RFC 5802, RFC 7677) as PostgreSQL does: the
// user name in the SCRAM messages is ignored in favour of the startup one,
// channel binding is not offered (a client flag of 'n' or 'y' is accepted).
// For a role that does not exist or has no password the exchange runs
// against a made-up verifier and fails at the end.
func (c *conn) authSCRAM(user, verifier string, exists bool) error {
	v, err := parseSCRAMVerifier(verifier)
	if !exists || err != nil {
		v = mockVerifier()
		exists = false
	}
	c.send(&pgproto3.AuthenticationSASL{AuthMechanisms: []string{"SCRAM-SHA-256"}})
	body, err := c.readAuthMessage()
	if err != nil {
		return err
	}
	var first pgproto3.SASLInitialResponse
	if err := first.Decode(body); err != nil {
		return malformed("SASLInitialResponse", err)
	}
	if first.AuthMechanism != "SCRAM-SHA-256" {
		return fatal(pgerr.ProtocolViolation, "client selected an invalid SASL authentication mechanism")
	}
	gs2, clientFirstBare, clientNonce, err := parseClientFirst(string(first.Data))
	if err != nil {
		return err
	}
	var nonceBytes [18]byte
	rand.Read(nonceBytes[:])
	nonce := clientNonce + base64.StdEncoding.EncodeToString(nonceBytes[:])
	serverFirst := "r=" + nonce + ",s=" + base64.StdEncoding.EncodeToString(v.salt) + ",i=" + strconv.Itoa(v.iterations)
	c.send(&pgproto3.AuthenticationSASLContinue{Data: []byte(serverFirst)})

	body, err = c.readAuthMessage()
	if err != nil {
		return err
	}
	var final pgproto3.SASLResponse
	if err := final.Decode(body); err != nil {
		return malformed("SASLResponse", err)
	}
	withoutProof, proof, err := parseClientFinal(string(final.Data), gs2, nonce)
	if err != nil {
		return err
	}
	authMessage := clientFirstBare + "," + serverFirst + "," + withoutProof
	clientSig := hmacSHA256(v.storedKey, authMessage)
	clientKey := make([]byte, len(proof))
	for i := range proof {
		clientKey[i] = proof[i] ^ clientSig[i]
	}
	stored := sha256.Sum256(clientKey)
	if subtle.ConstantTimeCompare(stored[:], v.storedKey) != 1 || !exists {
		return errBadPassword(user)
	}
	serverSig := hmacSHA256(v.serverKey, authMessage)
	c.send(&pgproto3.AuthenticationSASLFinal{Data: []byte("v=" + base64.StdEncoding.EncodeToString(serverSig))})
	return nil
}

func scramError(format string, args ...any) error {
	e := fatal(pgerr.ProtocolViolation, "malformed SCRAM message")
	e.Detail = fmt.Sprintf(format, args...)
	return e
}

// parseClientFirst splits client-first-message into its GS2 header and bare
// part and returns the client nonce.
func parseClientFirst(msg string) (gs2, bare, nonce string, err error) {
	if msg == "" {
		return "", "", "", scramError("empty client-first-message")
	}
	switch msg[0] {
	case 'n', 'y':
		if len(msg) < 2 || msg[1] != ',' {
			return "", "", "", scramError("bad GS2 header")
		}
	case 'p':
		return "", "", "", fatal(pgerr.ProtocolViolation, "client requires SCRAM channel binding, but it is not supported")
	default:
		return "", "", "", scramError("unexpected channel-binding flag %q", msg[0])
	}
	rest := msg[2:]
	if strings.HasPrefix(rest, "a=") {
		return "", "", "", fatal(pgerr.FeatureNotSupported, "client uses authorization identity, but it is not supported")
	}
	if !strings.HasPrefix(rest, ",") {
		return "", "", "", scramError("bad GS2 header")
	}
	gs2 = msg[:3]
	bare = rest[1:]
	for _, attr := range strings.Split(bare, ",") {
		switch {
		case strings.HasPrefix(attr, "m="):
			return "", "", "", scramError("mandatory extensions are not supported")
		case strings.HasPrefix(attr, "r="):
			nonce = attr[2:]
		}
	}
	if nonce == "" || !strings.HasPrefix(bare, "n=") {
		return "", "", "", scramError("client-first-message lacks user or nonce")
	}
	for _, r := range nonce {
		if r < 0x21 || r > 0x7e || r == ',' {
			return "", "", "", scramError("invalid nonce")
		}
	}
	return gs2, bare, nonce, nil
}

// parseClientFinal checks client-final-message against the exchange so far
// and returns the part that is signed and the proof.
func parseClientFinal(msg, gs2, nonce string) (withoutProof string, proof []byte, err error) {
	i := strings.LastIndex(msg, ",p=")
	if i < 0 {
		return "", nil, scramError("client-final-message lacks proof")
	}
	withoutProof = msg[:i]
	proof, err = base64.StdEncoding.DecodeString(msg[i+3:])
	if err != nil || len(proof) != sha256.Size {
		return "", nil, scramError("invalid client proof")
	}
	attrs := strings.Split(withoutProof, ",")
	if len(attrs) < 2 || !strings.HasPrefix(attrs[0], "c=") || !strings.HasPrefix(attrs[1], "r=") {
		return "", nil, scramError("client-final-message lacks channel binding or nonce")
	}
	cb, err := base64.StdEncoding.DecodeString(attrs[0][2:])
	if err != nil || !bytes.Equal(cb, []byte(gs2)) {
		return "", nil, fatal(pgerr.ProtocolViolation, "SCRAM channel binding check failed")
	}
	if attrs[1][2:] != nonce {
		return "", nil, scramError("nonce does not match")
	}
	return withoutProof, proof, nil
}

// scramVerifier is a parsed SCRAM-SHA-256 stored password.
type scramVerifier struct {
	iterations           int
	salt                 []byte
	storedKey, serverKey []byte
}

const scramIterations = 4096 // PostgreSQL's scram_iterations default

// NewSCRAMVerifier makes the stored form of a password, as PostgreSQL keeps
// it in pg_authid.rolpassword:
// "SCRAM-SHA-256$4096:<salt>$<StoredKey>:<ServerKey>", base64 throughout.
// The password is used as given (PostgreSQL's SASLprep normalisation only
// changes non-ASCII passwords).
func NewSCRAMVerifier(password string) string {
	salt := make([]byte, 16)
	rand.Read(salt)
	return scramVerifierFor(password, salt, scramIterations)
}

func scramVerifierFor(password string, salt []byte, iterations int) string {
	storedKey, serverKey := scramKeys(password, salt, iterations)
	b64 := base64.StdEncoding.EncodeToString
	return fmt.Sprintf("SCRAM-SHA-256$%d:%s$%s:%s", iterations, b64(salt), b64(storedKey), b64(serverKey))
}

func scramKeys(password string, salt []byte, iterations int) (storedKey, serverKey []byte) {
	salted, err := pbkdf2.Key(sha256.New, password, salt, iterations, sha256.Size)
	if err != nil {
		// Only FIPS-mode restrictions make this fail; no verifier matches.
		return nil, nil
	}
	clientKey := hmacSHA256(salted, "Client Key")
	sk := sha256.Sum256(clientKey)
	return sk[:], hmacSHA256(salted, "Server Key")
}

// VerifyPassword reports whether password matches a SCRAM-SHA-256 verifier.
func VerifyPassword(verifier, password string) bool {
	v, err := parseSCRAMVerifier(verifier)
	if err != nil {
		return false
	}
	storedKey, serverKey := scramKeys(password, v.salt, v.iterations)
	return subtle.ConstantTimeCompare(storedKey, v.storedKey) == 1 &&
		subtle.ConstantTimeCompare(serverKey, v.serverKey) == 1
}

func parseSCRAMVerifier(s string) (scramVerifier, error) {
	bad := errors.New("pgwire: not a SCRAM-SHA-256 verifier")
	rest, ok := strings.CutPrefix(s, "SCRAM-SHA-256$")
	if !ok {
		return scramVerifier{}, bad
	}
	iterSalt, keys, ok := strings.Cut(rest, "$")
	if !ok {
		return scramVerifier{}, bad
	}
	iterStr, saltStr, ok1 := strings.Cut(iterSalt, ":")
	storedStr, serverStr, ok2 := strings.Cut(keys, ":")
	if !ok1 || !ok2 {
		return scramVerifier{}, bad
	}
	var v scramVerifier
	var err error
	if v.iterations, err = strconv.Atoi(iterStr); err != nil || v.iterations < 1 {
		return scramVerifier{}, bad
	}
	dec := base64.StdEncoding.DecodeString
	if v.salt, err = dec(saltStr); err != nil {
		return scramVerifier{}, bad
	}
	if v.storedKey, err = dec(storedStr); err != nil || len(v.storedKey) != sha256.Size {
		return scramVerifier{}, bad
	}
	if v.serverKey, err = dec(serverStr); err != nil || len(v.serverKey) != sha256.Size {
		return scramVerifier{}, bad
	}
	return v, nil
}

// mockVerifier stands in for a role that does not exist, so that the
// exchange looks the same as for one that does.
func mockVerifier() scramVerifier {
	v := scramVerifier{iterations: scramIterations, salt: make([]byte, 16), storedKey: make([]byte, sha256.Size), serverKey: make([]byte, sha256.Size)}
	rand.Read(v.salt)
	rand.Read(v.storedKey)
	return v
}

func hmacSHA256(key []byte, msg string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(msg))
	return h.Sum(nil)
}
