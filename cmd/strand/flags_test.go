package main

import (
	"strings"
	"testing"
)

// TestS3Flags checks how the S3 warehouse flags resolve, path-style
// addressing's default in particular (on exactly when an endpoint is given,
// unless said otherwise by flag or environment).
func TestS3Flags(t *testing.T) {
	env := func(kv map[string]string) func(string) string {
		return func(k string) string { return kv[k] }
	}
	none := env(nil)
	cases := []struct {
		args      []string
		env       map[string]string
		pathStyle string // auto, true or false
		err       string
	}{
		{args: []string{"--warehouse", "s3://b/p"}, pathStyle: "auto"},
		{args: []string{"--warehouse", "s3://b/p", "--s3-endpoint", "http://127.0.0.1:9000", "--s3-region", "eu-west-1"}, pathStyle: "auto"},
		{args: []string{"--warehouse", "s3://b/p", "--s3-endpoint", "http://127.0.0.1:9000", "--s3-path-style=false"}, pathStyle: "false"},
		{args: []string{"--warehouse", "s3://b/p", "--s3-path-style"}, pathStyle: "true"},
		{env: map[string]string{"STRAND_WAREHOUSE": "s3://b", "STRAND_S3_PATH_STYLE": "false"}, pathStyle: "false"},
		{args: []string{"--warehouse", "s3://b", "--s3-endpoint", "127.0.0.1:9000"}, err: "want an http:// or https:// URL"},
		{args: []string{"--warehouse", "gs://b/p"}, err: "want a folder, file:// or s3://"},
		{args: []string{"--s3-path-style=maybe"}, err: "want true or false"},
	}
	for _, c := range cases {
		getenv := none
		if c.env != nil {
			getenv = env(c.env)
		}
		cfg, err := parseServeFlags(c.args, getenv)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%v: error %v, want %q", c.args, err, c.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%v: %v", c.args, err)
			continue
		}
		got := "auto"
		if cfg.S3.PathStyle != nil {
			got = map[bool]string{true: "true", false: "false"}[*cfg.S3.PathStyle]
		}
		if got != c.pathStyle {
			t.Errorf("%v %v: path style %s, want %s", c.args, c.env, got, c.pathStyle)
		}
	}
	cfg, err := parseServeFlags([]string{"--warehouse", "s3://b/p", "--s3-endpoint", "http://127.0.0.1:9000", "--s3-region", "eu-west-1"}, none)
	if err != nil || cfg.Warehouse != "s3://b/p" || cfg.S3.Endpoint != "http://127.0.0.1:9000" || cfg.S3.Region != "eu-west-1" {
		t.Fatalf("%+v, %v", cfg, err)
	}
}

// TestLocalRetentionFlag: tiering is off unless --local-retention (or
// STRAND_LOCAL_RETENTION) gives a duration, and it needs compaction.
func TestLocalRetentionFlag(t *testing.T) {
	env := func(kv map[string]string) func(string) string {
		return func(k string) string { return kv[k] }
	}
	cases := []struct {
		args []string
		env  map[string]string
		on   bool
		keep string
		err  string
	}{
		{},
		{args: []string{"--local-retention", "off"}},
		{args: []string{"--local-retention", "0s"}, on: true, keep: "0s"},
		{args: []string{"--local-retention", "36h"}, on: true, keep: "36h0m0s"},
		{env: map[string]string{"STRAND_LOCAL_RETENTION": "90m"}, on: true, keep: "1h30m0s"},
		{args: []string{"--local-retention", "-1h"}, err: "want a duration >= 0 or off"},
		{args: []string{"--local-retention", "soon"}, err: "want a duration >= 0 or off"},
		{args: []string{"--local-retention", "1h", "--compact-every", "0"}, err: "needs compaction"},
	}
	for _, c := range cases {
		cfg, err := parseServeFlags(c.args, env(c.env))
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%v: error %v, want %q", c.args, err, c.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%v %v: %v", c.args, c.env, err)
			continue
		}
		if cfg.Tiering.On != c.on || (c.on && cfg.Tiering.LocalRetention.String() != c.keep) {
			t.Errorf("%v %v: tiering %+v, want on=%v keep=%s", c.args, c.env, cfg.Tiering, c.on, c.keep)
		}
	}
}
