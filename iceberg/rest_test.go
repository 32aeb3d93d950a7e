package iceberg

import (
	"context"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/catalog"
	"github.com/apache/iceberg-go/table"
)

// restFixture is a local warehouse with tables public.t, namespaces.t (a
// namespace named like the path segment) and a.b.t (a nested namespace),
// served by a Handler under /iceberg as `strand serve` mounts it.
func restFixture(t *testing.T, wrap func(*Catalog) catalog.Catalog) (string, *Catalog) {
	t.Helper()
	ctx := context.Background()
	cat, err := OpenCatalog(ctx, t.TempDir(), S3Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	sc := iceberg.NewSchema(0, iceberg.NestedField{ID: 1, Name: "k", Type: iceberg.PrimitiveTypes.Int64, Required: true})
	for _, ns := range []table.Identifier{{"public"}, {"namespaces"}, {"a"}, {"a", "b"}} {
		if err := cat.CreateNamespace(ctx, ns, nil); err != nil {
			t.Fatal(err)
		}
		if len(ns) == 1 && ns[0] == "a" {
			continue
		}
		if _, err := cat.CreateTable(ctx, append(slices.Clone(ns), "t"), sc); err != nil {
			t.Fatal(err)
		}
	}
	h := NewHandler(cat)
	if wrap != nil {
		h = NewHandler(wrap(cat))
	}
	mux := http.NewServeMux()
	mux.Handle("/iceberg/", http.StripPrefix("/iceberg", h))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL + "/iceberg", cat
}

type restAnswer struct {
	code int
	body string
	json map[string]any
}

func call(t *testing.T, method, url string) restAnswer {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(""))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	a := restAnswer{code: resp.StatusCode, body: string(b)}
	if len(b) > 0 {
		if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
			t.Fatalf("%s %s: Content-Type %q", method, url, ct)
		}
		if err := json.Unmarshal(b, &a.json); err != nil {
			t.Fatalf("%s %s: not JSON: %v\n%s", method, url, err, b)
		}
	}
	return a
}

// wantError checks the spec's ErrorModel: {"error": {message, type, code}}.
func wantError(t *testing.T, what string, a restAnswer, code int, typ string) {
	t.Helper()
	if a.code != code {
		t.Fatalf("%s: status %d, want %d: %s", what, a.code, code, a.body)
	}
	e, ok := a.json["error"].(map[string]any)
	if !ok {
		t.Fatalf("%s: no error object: %s", what, a.body)
	}
	if e["type"] != typ || e["code"] != float64(code) || e["message"] == "" {
		t.Fatalf("%s: error %v, want type %s code %d and a message", what, e, typ, code)
	}
}

func TestRESTConfig(t *testing.T) {
	base, _ := restFixture(t, nil)
	a := call(t, "GET", base+"/v1/config?warehouse=anything")
	if a.code != 200 {
		t.Fatalf("config: %d %s", a.code, a.body)
	}
	for _, k := range []string{"defaults", "overrides"} {
		if m, ok := a.json[k].(map[string]any); !ok || len(m) != 0 {
			t.Fatalf("config %s = %v, want an empty object (no prefix)", k, a.json[k])
		}
	}
	var eps []string
	for _, e := range a.json["endpoints"].([]any) {
		eps = append(eps, e.(string))
	}
	for _, want := range []string{"GET /v1/{prefix}/namespaces/{namespace}/tables/{table}", "HEAD /v1/{prefix}/namespaces/{namespace}/tables/{table}"} {
		if !slices.Contains(eps, want) {
			t.Fatalf("endpoints %v lack %q", eps, want)
		}
	}
	for _, e := range eps {
		if !strings.HasPrefix(e, "GET ") && !strings.HasPrefix(e, "HEAD ") {
			t.Fatalf("a read-only catalog lists %q", e)
		}
	}
}

func TestRESTNamespaces(t *testing.T) {
	base, _ := restFixture(t, nil)
	a := call(t, "GET", base+"/v1/namespaces")
	if a.code != 200 {
		t.Fatalf("list: %d %s", a.code, a.body)
	}
	var got []string
	for _, ns := range a.json["namespaces"].([]any) {
		var parts []string
		for _, p := range ns.([]any) {
			parts = append(parts, p.(string))
		}
		got = append(got, strings.Join(parts, "."))
	}
	slices.Sort(got)
	if want := []string{"a", "namespaces", "public"}; !slices.Equal(got, want) {
		t.Fatalf("namespaces %v, want %v", got, want)
	}
	if a := call(t, "GET", base+"/v1/namespaces?parent=a"); a.code != 200 || !strings.Contains(a.body, `[["a","b"]]`) {
		t.Fatalf("children of a: %d %s", a.code, a.body)
	}
	wantError(t, "children of a missing namespace", call(t, "GET", base+"/v1/namespaces?parent=nope"), 404, "NoSuchNamespaceException")

	a = call(t, "GET", base+"/v1/namespaces/public")
	if a.code != 200 || a.json["namespace"].([]any)[0] != "public" || a.json["properties"].(map[string]any)["location"] == nil {
		t.Fatalf("load namespace: %d %s", a.code, a.body)
	}
	if a := call(t, "GET", base+"/v1/namespaces/a%1Fb"); a.code != 200 || !strings.Contains(a.body, `"namespace":["a","b"]`) {
		t.Fatalf("load a.b: %d %s", a.code, a.body)
	}
	wantError(t, "load a missing namespace", call(t, "GET", base+"/v1/namespaces/nope"), 404, "NoSuchNamespaceException")
	// A table's folders are not namespaces.
	for _, ns := range []string{"public%1Ft", "public%1Ft%1Fmetadata", "a%1Fb%1Ft"} {
		wantError(t, "load "+ns, call(t, "GET", base+"/v1/namespaces/"+ns), 404, "NoSuchNamespaceException")
		wantError(t, "list tables of "+ns, call(t, "GET", base+"/v1/namespaces/"+ns+"/tables"), 404, "NoSuchNamespaceException")
		wantError(t, "list namespaces under "+ns, call(t, "GET", base+"/v1/namespaces?parent="+ns), 404, "NoSuchNamespaceException")
		if a := call(t, "HEAD", base+"/v1/namespaces/"+ns); a.code != 404 {
			t.Fatalf("HEAD %s: %d", ns, a.code)
		}
	}
	if a := call(t, "HEAD", base+"/v1/namespaces/public"); a.code != 204 || a.body != "" {
		t.Fatalf("HEAD public: %d %q", a.code, a.body)
	}
	if a := call(t, "HEAD", base+"/v1/namespaces/nope"); a.code != 404 || a.body != "" {
		t.Fatalf("HEAD nope: %d %q", a.code, a.body)
	}
}

func TestRESTTables(t *testing.T) {
	base, _ := restFixture(t, nil)
	for _, c := range []struct{ path, ns string }{
		{"/v1/namespaces/public/tables", `["public"]`},
		{"/v1/namespaces/a%1Fb/tables", `["a","b"]`},
		// A namespace named "namespaces", with and without a prefix.
		{"/v1/namespaces/namespaces/tables", `["namespaces"]`},
		{"/v1/pfx/namespaces/namespaces/tables", `["namespaces"]`},
	} {
		a := call(t, "GET", base+c.path)
		if want := `{"identifiers":[{"namespace":` + c.ns + `,"name":"t"}]}`; a.code != 200 || a.body != want {
			t.Fatalf("GET %s: %d %s, want %s", c.path, a.code, a.body, want)
		}
	}
	if a := call(t, "GET", base+"/v1/namespaces/a/tables"); a.code != 200 || a.body != `{"identifiers":[]}` {
		t.Fatalf("a namespace with no tables: %d %s", a.code, a.body)
	}
	wantError(t, "list a missing namespace", call(t, "GET", base+"/v1/namespaces/nope/tables"), 404, "NoSuchNamespaceException")

	for _, path := range []string{"/v1/namespaces/public/tables/t", "/v1/strand/namespaces/public/tables/t", "/v1/namespaces/a%1Fb/tables/t/"} {
		a := call(t, "GET", base+path)
		if a.code != 200 {
			t.Fatalf("GET %s: %d %s", path, a.code, a.body)
		}
		loc, _ := a.json["metadata-location"].(string)
		md, _ := a.json["metadata"].(map[string]any)
		if !strings.HasSuffix(loc, "/metadata/v1.metadata.json") || md["format-version"] == nil || md["table-uuid"] == nil {
			t.Fatalf("GET %s: %s", path, a.body)
		}
		if cfg, ok := a.json["config"].(map[string]any); !ok || len(cfg) != 0 {
			t.Fatalf("GET %s: config %v, want {} for a local warehouse", path, a.json["config"])
		}
	}
	wantError(t, "load a missing table", call(t, "GET", base+"/v1/namespaces/public/tables/nope"), 404, "NoSuchTableException")
	wantError(t, "load a table of a missing namespace", call(t, "GET", base+"/v1/namespaces/nope/tables/t"), 404, "NoSuchTableException")
	if a := call(t, "HEAD", base+"/v1/namespaces/public/tables/t"); a.code != 204 || a.body != "" {
		t.Fatalf("HEAD t: %d %q", a.code, a.body)
	}
	if a := call(t, "HEAD", base+"/v1/namespaces/public/tables/nope"); a.code != 404 || a.body != "" {
		t.Fatalf("HEAD nope: %d %q", a.code, a.body)
	}
	// Identifiers that would leave the warehouse folder are refused.
	for _, path := range []string{"/v1/namespaces/%2E%2E/tables/t", "/v1/namespaces/public/tables/a%2Fb", "/v1/namespaces/%2E%2E%2Fx/tables"} {
		wantError(t, path, call(t, "GET", base+path), 400, "BadRequestException")
	}
}

// TestRESTReadOnly: writes are refused with the spec's 406
// UnsupportedOperationException; unknown paths are 404; scan metrics are
// accepted and dropped.
func TestRESTReadOnly(t *testing.T) {
	base, _ := restFixture(t, nil)
	for _, c := range []struct{ method, path string }{
		{"POST", "/v1/namespaces"},
		{"DELETE", "/v1/namespaces/public"},
		{"POST", "/v1/namespaces/public/properties"},
		{"POST", "/v1/namespaces/public/tables"},
		{"POST", "/v1/namespaces/public/tables/t"},
		{"DELETE", "/v1/namespaces/public/tables/t"},
		{"POST", "/v1/tables/rename"},
		{"POST", "/v1/transactions/commit"},
		{"POST", "/v1/pfx/namespaces/public/register"},
	} {
		wantError(t, c.method+" "+c.path, call(t, c.method, base+c.path), 406, "UnsupportedOperationException")
	}
	for _, path := range []string{"/v1/namespaces/public/views", "/v1/namespaces/public/views/v", "/v1/", "/v2/config", "/config"} {
		wantError(t, "GET "+path, call(t, "GET", base+path), 404, "NoSuchEndpointException")
	}
	if a := call(t, "POST", base+"/v1/namespaces/public/tables/t/metrics"); a.code != 204 {
		t.Fatalf("metrics report: %d %s", a.code, a.body)
	}
}

// s3Like is a local catalog that reports an S3 warehouse's reader
// properties, to check they reach loadTable's config.
type s3Like struct{ *Catalog }

func (s3Like) ClientProperties() map[string]string {
	return map[string]string{"s3.endpoint": "http://127.0.0.1:9", "s3.path-style-access": "true", "client.region": "us-east-1"}
}

func TestRESTTableConfig(t *testing.T) {
	base, _ := restFixture(t, func(c *Catalog) catalog.Catalog { return s3Like{c} })
	a := call(t, "GET", base+"/v1/namespaces/public/tables/t")
	got := map[string]string{}
	for k, v := range a.json["config"].(map[string]any) {
		got[k] = v.(string)
	}
	if want := (s3Like{}).ClientProperties(); a.code != 200 || !maps.Equal(got, want) {
		t.Fatalf("config %v, want %v (%d)", got, want, a.code)
	}
	for k := range got {
		if strings.Contains(k, "secret") || strings.Contains(k, "access-key") {
			t.Fatalf("loadTable vends a credential: %s", k)
		}
	}
}

// TestRESTETag: a loadTable answer carries an ETag, and the same request
// with If-None-Match gets 304 until a commit.
func TestRESTETag(t *testing.T) {
	base, cat := restFixture(t, nil)
	url := base + "/v1/namespaces/public/tables/t"
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	etag := resp.Header.Get("ETag")
	if resp.StatusCode != 200 || !strings.HasPrefix(etag, `"`) {
		t.Fatalf("load: %d, ETag %q", resp.StatusCode, etag)
	}
	get := func(inm string) int {
		req, _ := http.NewRequest("GET", url, nil)
		req.Header.Set("If-None-Match", inm)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if c := get(etag); c != http.StatusNotModified {
		t.Fatalf("If-None-Match %s: %d, want 304", etag, c)
	}
	if c := get(`"other"`); c != 200 {
		t.Fatalf("If-None-Match with another tag: %d, want 200", c)
	}
	if _, _, err := cat.CommitTable(context.Background(), table.Identifier{"public", "t"}, nil,
		[]table.Update{table.NewSetPropertiesUpdate(iceberg.Properties{"k": "v"})}); err != nil {
		t.Fatal(err)
	}
	if c := get(etag); c != 200 {
		t.Fatalf("If-None-Match with the tag of an older version: %d, want 200", c)
	}
}
