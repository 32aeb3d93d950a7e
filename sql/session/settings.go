package session

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/strand-db/strand/exec"
	"github.com/strand-db/strand/sql"
	"github.com/strand-db/strand/sql/pgerr"
	"github.com/strand-db/strand/sql/types"
)

// settings are a session's run-time parameters (SET/SHOW).
type settings struct {
	values           map[string]string
	types            *types.Settings
	statementTimeout time.Duration
	idleTimeout      time.Duration
	// path is search_path parsed, for the text pathOf; planning asks for
	// it on every statement.
	path   []string
	pathOf string
}

// defaultSettings are the parameters SHOW knows, with their defaults.
var defaultSettings = map[string]string{
	"application_name":                    "",
	"bytea_output":                        "hex",
	"client_encoding":                     "UTF8",
	"client_min_messages":                 "notice",
	"datestyle":                           "ISO, MDY",
	"default_transaction_isolation":       "read committed",
	"default_transaction_read_only":       "off",
	"extra_float_digits":                  "1",
	"idle_in_transaction_session_timeout": "0",
	"integer_datetimes":                   "on",
	"intervalstyle":                       "postgres",
	"is_superuser":                        "on",
	"lock_timeout":                        "0",
	"max_identifier_length":               "63",
	"search_path":                         `"$user", public`,
	"server_encoding":                     "UTF8",
	"server_version":                      "15.0 (Strand " + Version + ")",
	"server_version_num":                  "150000",
	"session_authorization":               "",
	"standard_conforming_strings":         "on",
	"statement_timeout":                   "0",
	"timezone":                            "UTC",
	"transaction_isolation":               "read committed",
	"transaction_read_only":               "off",
	"lc_collate":                          "C",
	"lc_ctype":                            "C",
	"lc_messages":                         "C",
	"lc_monetary":                         "C",
	"lc_numeric":                          "C",
	"lc_time":                             "C",
	"jit":                                 "off",
	"synchronous_commit":                  "on",
	"row_security":                        "on",
	"default_text_search_config":          "pg_catalog.english",
	"timezone_abbreviations":              "Default",
	"xmloption":                           "content",
	"search_path_default":                 "",
}

// reported are the parameters PostgreSQL reports with ParameterStatus, by
// their canonical spelling.
var reported = map[string]string{
	"application_name": "application_name", "client_encoding": "client_encoding", "datestyle": "DateStyle",
	"intervalstyle": "IntervalStyle", "timezone": "TimeZone", "standard_conforming_strings": "standard_conforming_strings",
	"integer_datetimes": "integer_datetimes", "is_superuser": "is_superuser", "session_authorization": "session_authorization",
	"server_version": "server_version", "server_encoding": "server_encoding",
}

// readOnly parameters cannot be SET.
var readOnly = map[string]bool{"server_version": true, "server_version_num": true, "server_encoding": true,
	"integer_datetimes": true, "is_superuser": true, "max_identifier_length": true, "lc_collate": true, "lc_ctype": true}

func newSettings() *settings {
	s := &settings{values: map[string]string{}, types: types.DefaultSettings()}
	for k, v := range defaultSettings {
		s.values[k] = v
	}
	delete(s.values, "search_path_default")
	return s
}

// searchPath returns the schemas of search_path; the caller must not
// change the slice.
func (s *settings) searchPath() []string {
	raw := s.values["search_path"]
	if s.path != nil && raw == s.pathOf {
		return s.path
	}
	s.path, s.pathOf = parseSearchPath(raw), raw
	return s.path
}

func parseSearchPath(raw string) []string {
	var out []string
	for _, p := range strings.Split(raw, ",") {
		p = strings.TrimSpace(p)
		p = strings.Trim(p, `"`)
		if p == "" || p == "$user" {
			continue
		}
		out = append(out, p)
	}
	if len(out) == 0 {
		out = []string{"public"}
	}
	return out
}

// set applies SET name = values (or DEFAULT).
func (s *Session) set(name string, values []string, toDefault bool) error {
	name = strings.ToLower(name)
	switch name {
	case "time zone", "time_zone":
		name = "timezone"
	case "names":
		name = "client_encoding"
	}
	def, known := defaultSettings[name]
	if !known && !strings.Contains(name, ".") {
		return pgerr.New(pgerr.UndefinedObject, "unrecognized configuration parameter %q", name)
	}
	if readOnly[name] {
		return pgerr.New(pgerr.CantChangeRuntimeParam, "parameter %q cannot be changed", name)
	}
	v := def
	if !toDefault {
		v = strings.Join(values, ", ")
	}
	vars := s.vars
	switch name {
	case "timezone":
		if toDefault || strings.EqualFold(v, "local") || strings.EqualFold(v, "default") {
			v = "UTC"
		}
		loc, err := types.SettingZone(v)
		if err != nil {
			return err
		}
		vars.types.Location = loc
	case "datestyle":
		vars.types.DateStyle = normalizeDateStyle(v)
		v = vars.types.DateStyle
	case "intervalstyle":
		vars.types.IntervalStyle = strings.ToLower(v)
	case "extra_float_digits":
		n, err := strconv.Atoi(v)
		if err != nil || n < -15 || n > 3 {
			return pgerr.New(pgerr.InvalidParameterValue, "invalid value for parameter \"extra_float_digits\": %q", v)
		}
		vars.types.ExtraFloatDigits = n
	case "bytea_output":
		vars.types.ByteaOutput = strings.ToLower(v)
	case "client_encoding":
		if e := strings.ToUpper(strings.ReplaceAll(v, "-", "")); e != "UTF8" && e != "UNICODE" {
			return pgerr.New(pgerr.FeatureNotSupported, "client_encoding %q is not supported; Strand speaks UTF8", v)
		}
		v = "UTF8"
	case "statement_timeout", "idle_in_transaction_session_timeout":
		d, err := parseDuration(v)
		if err != nil {
			return pgerr.New(pgerr.InvalidParameterValue, "invalid value for parameter %q: %q", name, v)
		}
		if name == "statement_timeout" {
			vars.statementTimeout = d
		} else {
			vars.idleTimeout = d
		}
	case "standard_conforming_strings":
		if !strings.EqualFold(v, "on") && !strings.EqualFold(v, "true") {
			return pgerr.New(pgerr.FeatureNotSupported, "standard_conforming_strings must be on")
		}
	}
	vars.values[name] = v
	if canon, ok := reported[name]; ok {
		s.info.Client.ParameterStatus(canon, v)
	}
	return nil
}

func normalizeDateStyle(v string) string {
	out, order := "ISO", "MDY"
	for _, part := range strings.Split(v, ",") {
		switch p := strings.ToUpper(strings.TrimSpace(part)); p {
		case "MDY", "DMY", "YMD":
			order = p
		case "US", "NONEURO", "NONEUROPEAN":
			order = "MDY"
		case "EURO", "EUROPEAN":
			order = "DMY"
		}
	}
	return out + ", " + order
}

func parseDuration(v string) (time.Duration, error) {
	v = strings.TrimSpace(strings.ToLower(v))
	units := []struct {
		suffix string
		d      time.Duration
	}{{"ms", time.Millisecond}, {"us", time.Microsecond}, {"s", time.Second}, {"min", time.Minute}, {"h", time.Hour}, {"d", 24 * time.Hour}}
	for _, u := range units {
		if strings.HasSuffix(v, u.suffix) {
			n, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(v, u.suffix)), 64)
			return time.Duration(n * float64(u.d)), err
		}
	}
	n, err := strconv.ParseFloat(v, 64)
	return time.Duration(n * float64(time.Millisecond)), err
}

func (s *Session) show(x *sql.Show) (rowSeq, string, error) {
	name := strings.ToLower(x.Name)
	if name == "all" {
		names := make([]string, 0, len(s.vars.values))
		for k := range s.vars.values {
			names = append(names, k)
		}
		sort.Strings(names)
		return func(yield func(exec.Row, error) bool) {
			for _, k := range names {
				if !yield(exec.Row{k, s.vars.values[k], ""}, nil) {
					return
				}
			}
		}, "SHOW", nil
	}
	switch name {
	case "time zone":
		name = "timezone"
	case "transaction isolation level":
		name = "transaction_isolation"
	}
	v, ok := s.vars.values[name]
	if !ok {
		return nil, "", pgerr.New(pgerr.UndefinedObject, "unrecognized configuration parameter %q", x.Name)
	}
	return func(yield func(exec.Row, error) bool) { yield(exec.Row{v}, nil) }, "SHOW", nil
}

var _ = fmt.Sprint
