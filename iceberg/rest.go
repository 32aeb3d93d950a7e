package iceberg

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/apache/iceberg-go/catalog"
	"github.com/apache/iceberg-go/table"
)

// Handler serves a catalog read-only through the Iceberg REST catalog
// protocol (the subset readers need: config, namespaces, list and load
// tables), so Spark, Trino and pyiceberg find the tables by URI. Strand is
// the only writer: every write endpoint answers 405.
//
// Paths are those of the spec under /v1; mount it with http.StripPrefix to
// serve it under a prefix (a client's catalog uri is then that prefix).
type Handler struct {
	cat catalog.Catalog
	mux *http.ServeMux
}

// NewHandler serves cat.
func NewHandler(cat catalog.Catalog) *Handler {
	h := &Handler{cat: cat, mux: http.NewServeMux()}
	h.mux.HandleFunc("GET /v1/config", h.config)
	h.mux.HandleFunc("GET /v1/namespaces", h.listNamespaces)
	h.mux.HandleFunc("GET /v1/namespaces/{ns}", h.loadNamespace)
	h.mux.HandleFunc("HEAD /v1/namespaces/{ns}", h.loadNamespace)
	h.mux.HandleFunc("GET /v1/namespaces/{ns}/tables", h.listTables)
	h.mux.HandleFunc("GET /v1/namespaces/{ns}/tables/{table}", h.loadTable)
	h.mux.HandleFunc("HEAD /v1/namespaces/{ns}/tables/{table}", h.loadTable)
	h.mux.HandleFunc("/v1/", func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			restError(w, http.StatusNotFound, "NotFoundException", "no such endpoint: "+r.URL.Path)
			return
		}
		restError(w, http.StatusMethodNotAllowed, "BadRequestException", "this catalog is read-only: Strand writes its tables")
	})
	return h
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

func (h *Handler) config(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, map[string]any{
		"defaults":  map[string]string{},
		"overrides": map[string]string{},
		// The spec writes endpoints with the optional {prefix}; this
		// catalog has none (clients drop it when "prefix" is unset).
		"endpoints": []string{
			"GET /v1/{prefix}/namespaces", "GET /v1/{prefix}/namespaces/{namespace}",
			"HEAD /v1/{prefix}/namespaces/{namespace}",
			"GET /v1/{prefix}/namespaces/{namespace}/tables",
			"GET /v1/{prefix}/namespaces/{namespace}/tables/{table}",
			"HEAD /v1/{prefix}/namespaces/{namespace}/tables/{table}",
		},
	})
}

// namespace decodes a path namespace: levels are separated by 0x1F.
func namespace(r *http.Request) table.Identifier {
	return strings.Split(r.PathValue("ns"), "\x1f")
}

func (h *Handler) listNamespaces(w http.ResponseWriter, r *http.Request) {
	var parent table.Identifier
	if p := r.URL.Query().Get("parent"); p != "" {
		parent = strings.Split(p, "\x1f")
	}
	nss, err := h.cat.ListNamespaces(r.Context(), parent)
	if err != nil {
		catalogError(w, err)
		return
	}
	out := make([][]string, 0, len(nss))
	for _, ns := range nss {
		out = append(out, ns)
	}
	writeJSON(w, map[string]any{"namespaces": out})
}

func (h *Handler) loadNamespace(w http.ResponseWriter, r *http.Request) {
	ns := namespace(r)
	props, err := h.cat.LoadNamespaceProperties(r.Context(), ns)
	if err != nil {
		catalogError(w, err)
		return
	}
	if r.Method == http.MethodHead {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if props == nil {
		props = map[string]string{}
	}
	writeJSON(w, map[string]any{"namespace": ns, "properties": props})
}

func (h *Handler) listTables(w http.ResponseWriter, r *http.Request) {
	ns := namespace(r)
	type ident struct {
		Namespace []string `json:"namespace"`
		Name      string   `json:"name"`
	}
	out := []ident{}
	for id, err := range h.cat.ListTables(r.Context(), ns) {
		if err != nil {
			catalogError(w, err)
			return
		}
		out = append(out, ident{Namespace: id[:len(id)-1], Name: id[len(id)-1]})
	}
	writeJSON(w, map[string]any{"identifiers": out})
}

func (h *Handler) loadTable(w http.ResponseWriter, r *http.Request) {
	id := append(namespace(r), r.PathValue("table"))
	tbl, err := h.cat.LoadTable(r.Context(), id)
	if err != nil {
		catalogError(w, err)
		return
	}
	if r.Method == http.MethodHead {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	writeJSON(w, map[string]any{
		"metadata-location": tbl.MetadataLocation(),
		"metadata":          tbl.Metadata(),
		"config":            map[string]string{},
	})
}

func catalogError(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, catalog.ErrNoSuchTable):
		restError(w, http.StatusNotFound, "NoSuchTableException", err.Error())
	case errors.Is(err, catalog.ErrNoSuchNamespace):
		restError(w, http.StatusNotFound, "NoSuchNamespaceException", err.Error())
	default:
		restError(w, http.StatusInternalServerError, "InternalServerError", err.Error())
	}
}

func restError(w http.ResponseWriter, code int, typ, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"message": msg, "type": typ, "code": code}})
}

func writeJSON(w http.ResponseWriter, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		restError(w, http.StatusInternalServerError, "InternalServerError", err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(b)
}
