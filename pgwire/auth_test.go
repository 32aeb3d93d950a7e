package pgwire

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"maps"
	"strings"
	"testing"
)

func TestSCRAMVerifier(t *testing.T) {
	v := NewSCRAMVerifier("pencil")
	if !strings.HasPrefix(v, "SCRAM-SHA-256$4096:") || strings.Count(v, "$") != 2 {
		t.Fatalf("verifier %q", v)
	}
	if !VerifyPassword(v, "pencil") || VerifyPassword(v, "pencil ") || VerifyPassword("md5abc", "pencil") {
		t.Fatal("VerifyPassword")
	}
	if NewSCRAMVerifier("pencil") == v {
		t.Fatal("salt is not random")
	}
	// RFC 7677's example exchange: the proof the client sends checks out
	// against the verifier of the password, and the server signature is the
	// RFC's.
	salt, _ := base64.StdEncoding.DecodeString("W22ZaJ0SNY7soEsUEjb6gQ==")
	sv, err := parseSCRAMVerifier(scramVerifierFor("pencil", salt, 4096))
	if err != nil {
		t.Fatal(err)
	}
	gs2, bare, nonce, err := parseClientFirst("n,,n=user,r=rOprNGfwEbeRWgbNEkqO")
	if err != nil || gs2 != "n,," || nonce != "rOprNGfwEbeRWgbNEkqO" {
		t.Fatalf("client-first: %q %q %v", gs2, nonce, err)
	}
	serverFirst := "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"
	withoutProof, proof, err := parseClientFinal("c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
		gs2, "rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0")
	if err != nil {
		t.Fatal(err)
	}
	authMessage := bare + "," + serverFirst + "," + withoutProof
	sig := hmacSHA256(sv.storedKey, authMessage)
	clientKey := make([]byte, len(proof))
	for i := range proof {
		clientKey[i] = proof[i] ^ sig[i]
	}
	if h := sha256.Sum256(clientKey); !bytes.Equal(h[:], sv.storedKey) {
		t.Fatal("the RFC's client proof does not verify")
	}
	if got := base64.StdEncoding.EncodeToString(hmacSHA256(sv.serverKey, authMessage)); got != "6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=" {
		t.Fatalf("server signature %s", got)
	}
	// Channel binding flags: 'y' is accepted, 'p' refused, the c= attribute
	// must repeat the header.
	if _, _, _, err := parseClientFirst("y,,n=,r=abc"); err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := parseClientFirst("p=tls-server-end-point,,n=,r=abc"); err == nil {
		t.Fatal("channel binding accepted")
	}
	if _, _, err := parseClientFinal("c=eSws,r=abc,p="+base64.StdEncoding.EncodeToString(make([]byte, 32)), "n,,", "abc"); err == nil {
		t.Fatal("mismatched channel binding accepted")
	}
}

func TestParseOptions(t *testing.T) {
	got := map[string]string{}
	if err := parseOptions(`-c search_path=a\ b  -cwork_mem=4MB --statement-timeout=5`, got); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"search_path": "a b", "work_mem": "4MB", "statement_timeout": "5"}
	if !maps.Equal(got, want) {
		t.Fatalf("got %v", got)
	}
	for _, bad := range []string{"-x", "-c", "-c noequals", "--=1"} {
		if err := parseOptions(bad, map[string]string{}); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
