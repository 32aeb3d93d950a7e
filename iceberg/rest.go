package iceberg

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/apache/iceberg-go/catalog"
	"github.com/apache/iceberg-go/table"
)

// Handler serves a catalog read-only through the Iceberg REST catalog
// protocol (the subset readers need: config, namespaces, list, load and
// check tables), so Spark, Trino, pyiceberg and iceberg-go find the tables
// by URI. Strand is the only writer: every write endpoint answers 406
// UnsupportedOperationException, as the spec has servers answer
// operations they do not offer.
//
// Paths are those of the spec under /v1; mount it with http.StripPrefix to
// serve it under a prefix (a client's catalog uri is then that prefix).
// The spec's optional {prefix} segment (/v1/{prefix}/namespaces/...) is
// accepted and ignored: there is one catalog, and /v1/config names no
// prefix, so clients only send one when told to by their own settings.
//
// Namespaces in paths are the spec's: levels joined by the unit separator
// (0x1F, %1F in a URL). A loadTable response's config carries the FileIO
// properties a reader needs for the warehouse (for S3: endpoint, region,
// addressing style; see Catalog.ClientProperties); never credentials,
// which readers bring themselves.
type Handler struct {
	cat catalog.Catalog
}

// NewHandler serves cat.
func NewHandler(cat catalog.Catalog) *Handler { return &Handler{cat: cat} }

// endpoints are the routes this server implements, in the form and order
// of the spec's CatalogConfig.endpoints. Java clients (1.7+) consult the
// list: HEAD on a table is used for tableExists only when listed, and
// unlisted routes (views, commits, metrics) are never called.
var endpoints = []string{
	"GET /v1/{prefix}/namespaces",
	"GET /v1/{prefix}/namespaces/{namespace}",
	"HEAD /v1/{prefix}/namespaces/{namespace}",
	"GET /v1/{prefix}/namespaces/{namespace}/tables",
	"GET /v1/{prefix}/namespaces/{namespace}/tables/{table}",
	"HEAD /v1/{prefix}/namespaces/{namespace}/tables/{table}",
}

// clientProperties is implemented by catalogs that know what readers need
// to open their files (Catalog does).
type clientProperties interface {
	ClientProperties() map[string]string
}

// ServeHTTP routes by path segments rather than with ServeMux patterns:
// the optional {prefix} makes /v1/{prefix}/namespaces and
// /v1/namespaces/{namespace} overlap, and namespace segments may hold
// escaped characters (%1F, %2F) that must be decoded per segment.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rest, ok := strings.CutPrefix(r.URL.EscapedPath(), "/v1/")
	if !ok {
		restError(w, r, http.StatusNotFound, "NoSuchEndpointException", "no such endpoint: "+r.URL.Path+" (the API is under /v1)")
		return
	}
	raw := strings.Split(strings.TrimSuffix(rest, "/"), "/")
	seg := make([]string, len(raw))
	for i, s := range raw {
		d, err := url.PathUnescape(s)
		if err != nil {
			restError(w, r, http.StatusBadRequest, "BadRequestException", "malformed path segment "+s+": "+err.Error())
			return
		}
		seg[i] = d
	}
	if len(seg) == 1 && seg[0] == "config" {
		h.route(w, r, h.config, nil)
		return
	}
	// Drop a {prefix}: anything before "namespaces" that is not itself
	// the "namespaces" of an unprefixed path.
	if len(seg) >= 2 && seg[0] != "namespaces" && seg[1] == "namespaces" {
		seg = seg[1:]
	}
	if seg[0] != "namespaces" {
		h.notFound(w, r)
		return
	}
	switch len(seg) {
	case 1:
		h.route(w, r, h.listNamespaces, nil)
		return
	case 2:
		ns := splitNamespace(seg[1])
		h.route(w, r, func(w http.ResponseWriter, r *http.Request) { h.loadNamespace(w, r, ns) },
			func(w http.ResponseWriter, r *http.Request) { h.namespaceExists(w, r, ns) })
		return
	case 3:
		if seg[2] == "tables" {
			ns := splitNamespace(seg[1])
			h.route(w, r, func(w http.ResponseWriter, r *http.Request) { h.listTables(w, r, ns) }, nil)
			return
		}
	case 4:
		if seg[2] == "tables" {
			id := append(splitNamespace(seg[1]), seg[3])
			h.route(w, r, func(w http.ResponseWriter, r *http.Request) { h.loadTable(w, r, id) },
				func(w http.ResponseWriter, r *http.Request) { h.tableExists(w, r, id) })
			return
		}
	case 5:
		if seg[2] == "tables" && seg[4] == "metrics" && r.Method == http.MethodPost {
			// Older Java clients report scan metrics whatever the
			// endpoint list says; accept and drop them (the spec's
			// answer is 204) rather than log an error in every reader.
			w.WriteHeader(http.StatusNoContent)
			return
		}
	}
	h.notFound(w, r)
}

// route calls get for GET, head for HEAD (get when head is nil: writeJSON
// leaves the body out), and refuses every other method: the catalog is
// read-only.
func (h *Handler) route(w http.ResponseWriter, r *http.Request, get, head http.HandlerFunc) {
	switch r.Method {
	case http.MethodGet:
		get(w, r)
	case http.MethodHead:
		if head == nil {
			head = get
		}
		head(w, r)
	default:
		readOnly(w, r)
	}
}

// notFound answers a path the spec does not have (or this server does not
// implement): 404 for reads; for writes the path is most likely a spec
// route this read-only server leaves out (create, commit, drop, views).
func (h *Handler) notFound(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		restError(w, r, http.StatusNotFound, "NoSuchEndpointException", "no such endpoint: "+r.Method+" "+r.URL.Path)
		return
	}
	readOnly(w, r)
}

func readOnly(w http.ResponseWriter, r *http.Request) {
	restError(w, r, http.StatusNotAcceptable, "UnsupportedOperationException",
		r.Method+" "+r.URL.Path+": this catalog is read-only; Strand writes its tables")
}

func (h *Handler) config(w http.ResponseWriter, r *http.Request) {
	// A ?warehouse= parameter is ignored: the server has one warehouse.
	// The readers' FileIO properties go in each loadTable's config, where
	// the spec puts table IO settings, not in the catalog's defaults.
	writeJSON(w, r, http.StatusOK, map[string]any{
		"defaults":  map[string]string{},
		"overrides": map[string]string{},
		"endpoints": endpoints,
	})
}

// splitNamespace decodes a path namespace: levels are separated by 0x1F.
func splitNamespace(s string) table.Identifier { return strings.Split(s, "\x1f") }

// checkNested fails with ErrNoSuchNamespace unless every level of a
// nested namespace is listed as a namespace by its parent. The warehouse's
// folders cannot tell a namespace from a table's own folders (a.t/data
// is a folder, not a namespace), but ListNamespaces leaves tables out. A
// one-level namespace needs no check: tables are never at the top.
func (h *Handler) checkNested(ctx context.Context, ns table.Identifier) error {
	for i := 2; i <= len(ns); i++ {
		children, err := h.cat.ListNamespaces(ctx, ns[:i-1])
		if err != nil {
			return err
		}
		if !slices.ContainsFunc(children, func(c table.Identifier) bool { return slices.Equal(c, ns[:i]) }) {
			return fmt.Errorf("%w: %s", catalog.ErrNoSuchNamespace, strings.Join(ns, "."))
		}
	}
	return nil
}

func (h *Handler) listNamespaces(w http.ResponseWriter, r *http.Request) {
	var parent table.Identifier
	if p := r.URL.Query().Get("parent"); p != "" {
		parent = splitNamespace(p)
	}
	if err := h.checkNested(r.Context(), parent); err != nil {
		catalogError(w, r, err)
		return
	}
	nss, err := h.cat.ListNamespaces(r.Context(), parent)
	if err != nil {
		catalogError(w, r, err)
		return
	}
	// Every namespace in one page: a client that sent pageToken gets no
	// next-page-token, which the spec reads as the last page.
	out := make([][]string, 0, len(nss))
	for _, ns := range nss {
		out = append(out, ns)
	}
	writeJSON(w, r, http.StatusOK, map[string]any{"namespaces": out})
}

func (h *Handler) loadNamespace(w http.ResponseWriter, r *http.Request, ns table.Identifier) {
	if err := h.checkNested(r.Context(), ns); err != nil {
		catalogError(w, r, err)
		return
	}
	props, err := h.cat.LoadNamespaceProperties(r.Context(), ns)
	if err != nil {
		catalogError(w, r, err)
		return
	}
	out := map[string]string{}
	maps.Copy(out, props)
	writeJSON(w, r, http.StatusOK, map[string]any{"namespace": ns, "properties": out})
}

func (h *Handler) namespaceExists(w http.ResponseWriter, r *http.Request, ns table.Identifier) {
	if err := h.checkNested(r.Context(), ns); err != nil {
		catalogError(w, r, err)
		return
	}
	ok, err := h.cat.CheckNamespaceExists(r.Context(), ns)
	switch {
	case err != nil:
		catalogError(w, r, err)
	case !ok:
		restError(w, r, http.StatusNotFound, "NoSuchNamespaceException", "namespace does not exist: "+strings.Join(ns, "."))
	default:
		w.WriteHeader(http.StatusNoContent)
	}
}

func (h *Handler) listTables(w http.ResponseWriter, r *http.Request, ns table.Identifier) {
	type ident struct {
		Namespace []string `json:"namespace"`
		Name      string   `json:"name"`
	}
	if err := h.checkNested(r.Context(), ns); err != nil {
		catalogError(w, r, err)
		return
	}
	out := []ident{}
	for id, err := range h.cat.ListTables(r.Context(), ns) {
		if err != nil {
			catalogError(w, r, err)
			return
		}
		out = append(out, ident{Namespace: id[:len(id)-1], Name: id[len(id)-1]})
	}
	writeJSON(w, r, http.StatusOK, map[string]any{"identifiers": out})
}

func (h *Handler) loadTable(w http.ResponseWriter, r *http.Request, id table.Identifier) {
	// ?snapshots=refs may be answered with all snapshots (the spec allows
	// it); the X-Iceberg-Access-Delegation header is ignored: no
	// credentials are vended.
	tbl, err := h.cat.LoadTable(r.Context(), id)
	if err != nil {
		catalogError(w, r, err)
		return
	}
	// The metadata file names the table version: clients that cached a
	// load (Java 1.10+) send its ETag back and get 304 until a commit.
	sum := sha256.Sum256([]byte(tbl.MetadataLocation()))
	etag := `"` + hex.EncodeToString(sum[:16]) + `"`
	w.Header().Set("ETag", etag)
	if strings.Contains(r.Header.Get("If-None-Match"), etag) { // a list of tags, maybe W/-weak
		w.WriteHeader(http.StatusNotModified)
		return
	}
	config := map[string]string{}
	if cp, ok := h.cat.(clientProperties); ok {
		maps.Copy(config, cp.ClientProperties())
	}
	writeJSON(w, r, http.StatusOK, map[string]any{
		"metadata-location": tbl.MetadataLocation(),
		"metadata":          tbl.Metadata(),
		"config":            config,
	})
}

func (h *Handler) tableExists(w http.ResponseWriter, r *http.Request, id table.Identifier) {
	ok, err := h.cat.CheckTableExists(r.Context(), id)
	switch {
	case err != nil:
		catalogError(w, r, err)
	case !ok:
		restError(w, r, http.StatusNotFound, "NoSuchTableException", "table does not exist: "+strings.Join(id, "."))
	default:
		w.WriteHeader(http.StatusNoContent)
	}
}

// catalogError answers a catalog error with the spec's status and error
// type; clients map the type to their own exceptions (Java's
// NoSuchTableException, pyiceberg's NoSuchTableError).
func catalogError(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, catalog.ErrNoSuchTable):
		restError(w, r, http.StatusNotFound, "NoSuchTableException", err.Error())
	case errors.Is(err, catalog.ErrNoSuchNamespace):
		restError(w, r, http.StatusNotFound, "NoSuchNamespaceException", err.Error())
	case errors.Is(err, catalog.ErrInvalidIdentifier):
		restError(w, r, http.StatusBadRequest, "BadRequestException", err.Error())
	default:
		restError(w, r, http.StatusInternalServerError, "InternalServerError", err.Error())
	}
}

// restError writes the spec's ErrorModel. A HEAD answer has no body.
func restError(w http.ResponseWriter, r *http.Request, code int, typ, msg string) {
	writeJSON(w, r, code, map[string]any{"error": map[string]any{"message": msg, "type": typ, "code": code}})
}

func writeJSON(w http.ResponseWriter, r *http.Request, code int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		code = http.StatusInternalServerError
		b, _ = json.Marshal(map[string]any{"error": map[string]any{"message": "encode response: " + err.Error(), "type": "InternalServerError", "code": code}})
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	if r.Method != http.MethodHead {
		w.Write(b)
	}
}
