package log

import (
	"encoding/json"
	"fmt"
	"sort"
	"time"
)

// TableKind says how a table's events become rows.
type TableKind uint8

const (
	// Keyed: SELECT shows the latest version of every live key.
	Keyed TableKind = 1
	// Stream: append-only; every event is a row.
	Stream TableKind = 2
	// View: a materialized view; its state belongs to a commit hook.
	View TableKind = 3
	// PlainView: a view (CREATE VIEW): its definition is planned into
	// every query that names it; it has no events and no state.
	PlainView TableKind = 4
	// Sequence: a sequence (CREATE SEQUENCE, serial); its state is its
	// options in the catalog (sql/session/sequences.go).
	Sequence TableKind = 5
)

// HasEvents reports whether a table of this kind holds events of its own
// (a table or stream, not a view of either kind).
func (k TableKind) HasEvents() bool { return k == Keyed || k == Stream }

// OptChangelog is the option of a materialized view that keeps a
// changelog: its rows' changes, by key, as events of its own, which the
// commit hook writes inside each commit (CommitHook, HookInput.Writes).
const OptChangelog = "changelog"

// LogsChanges reports whether t is a materialized view with a changelog.
func (t *TableDesc) LogsChanges() bool { return t.Kind == View && t.Options[OptChangelog] == "true" }

// HasEvents reports whether t holds events: a table, a stream, or a
// materialized view's changelog.
func (t *TableDesc) HasEvents() bool { return t.Kind.HasEvents() || t.LogsChanges() }

// KeyedEvents reports whether t's events are a keyed table's: versions of
// keys, whose heads hold their rows (a keyed table, or a view's
// changelog), not a stream's appends.
func (t *TableDesc) KeyedEvents() bool { return t.Kind == Keyed || t.LogsChanges() }

func (k TableKind) String() string {
	switch k {
	case Keyed:
		return "keyed"
	case Stream:
		return "stream"
	case View:
		return "view"
	case PlainView:
		return "plain view"
	case Sequence:
		return "sequence"
	}
	return fmt.Sprintf("kind(%d)", k)
}

// Column is one column of one schema version. IDs are stable across renames
// and never reused, so old events stay readable and Iceberg field ids follow.
type Column struct {
	ID      uint32 `json:"id"`
	Name    string `json:"name"`
	TypeOID uint32 `json:"type_oid"`
	Typmod  int32  `json:"typmod"`
	NotNull bool   `json:"not_null,omitempty"`
	// Default is the SQL text of the column's default expression.
	Default string `json:"default,omitempty"`
}

// SchemaVersion is one version of a table's columns. Rows are encoded with
// the column list of the version they were written under.
type SchemaVersion struct {
	Version uint32   `json:"version"`
	Columns []Column `json:"columns"`
	// Key lists the IDs of the key columns, in key order.
	Key []uint32 `json:"key"`
	// Checks are the SQL texts of CHECK constraints.
	Checks []string `json:"checks,omitempty"`
}

// Retention bounds how much of each key's stream the log keeps. Zero means
// unbounded. Enforcement drops a prefix of a key's stream.
type Retention struct {
	MaxAge            time.Duration `json:"max_age,omitempty"`
	MaxVersionsPerKey uint64        `json:"max_versions_per_key,omitempty"`
}

// TableDesc describes a table, stream or view and its schema history.
type TableDesc struct {
	ID        TableID           `json:"id"`
	Schema    string            `json:"schema"`
	Name      string            `json:"name"`
	Kind      TableKind         `json:"kind"`
	Versions  []SchemaVersion   `json:"versions"`
	NextColID uint32            `json:"next_col_id"`
	Retention Retention         `json:"retention"`
	Options   map[string]string `json:"options,omitempty"`
	// Definition is a view's defining SELECT.
	Definition string `json:"definition,omitempty"`
	// DependsOn lists the tables a view reads. A materialized view's
	// list holds the tables its state is computed from, with the plain
	// views it reads on the way; a plain view's, the relations its
	// definition names.
	DependsOn []TableID `json:"depends_on,omitempty"`
	// TierFloor is the LSN of the newest event tiering moved out of Pebble
	// (into Iceberg); events up to it are read from Iceberg. It only grows
	// (retention.go).
	TierFloor uint64 `json:"tier_floor,omitempty"`
}

// Current returns the newest schema version.
func (t *TableDesc) Current() *SchemaVersion { return &t.Versions[len(t.Versions)-1] }

// Version returns schema version v, or nil.
func (t *TableDesc) Version(v uint32) *SchemaVersion {
	i := sort.Search(len(t.Versions), func(i int) bool { return t.Versions[i].Version >= v })
	if i < len(t.Versions) && t.Versions[i].Version == v {
		return &t.Versions[i]
	}
	return nil
}

// RoleDesc is a login role. Verifier is a SCRAM-SHA-256 verifier, never a
// clear password.
type RoleDesc struct {
	Name      string `json:"name"`
	Verifier  string `json:"verifier,omitempty"`
	Superuser bool   `json:"superuser,omitempty"`
	Login     bool   `json:"login,omitempty"`
}

// Catalog is the log's metadata. A *Catalog handed out by the log is
// immutable; Intent.Catalog mutates a private clone.
type Catalog struct {
	NextTableID TableID                `json:"next_table_id"`
	Schemas     map[string]bool        `json:"schemas"`
	Tables      map[TableID]*TableDesc `json:"tables"`
	Roles       map[string]*RoleDesc   `json:"roles"`

	byName map[string]TableID
}

func newCatalog() *Catalog {
	c := &Catalog{
		NextTableID: 1,
		Schemas:     map[string]bool{"public": true},
		Tables:      map[TableID]*TableDesc{},
		Roles:       map[string]*RoleDesc{},
	}
	c.index()
	return c
}

func (c *Catalog) index() {
	c.byName = make(map[string]TableID, len(c.Tables))
	for id, t := range c.Tables {
		c.byName[t.Schema+"."+t.Name] = id
	}
}

// Lookup finds a table by schema and name.
func (c *Catalog) Lookup(schema, name string) (*TableDesc, bool) {
	id, ok := c.byName[schema+"."+name]
	if !ok {
		return nil, false
	}
	return c.Tables[id], true
}

// Table finds a table by ID.
func (c *Catalog) Table(id TableID) (*TableDesc, bool) {
	t, ok := c.Tables[id]
	return t, ok
}

// SortedTables lists the tables ordered by schema and name.
func (c *Catalog) SortedTables() []*TableDesc {
	out := make([]*TableDesc, 0, len(c.Tables))
	for _, t := range c.Tables {
		out = append(out, t)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Schema != out[j].Schema {
			return out[i].Schema < out[j].Schema
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// AddTable gives t a fresh ID and adds it. The caller fills in columns; IDs
// of columns are assigned here when zero.
func (c *Catalog) AddTable(t *TableDesc) error {
	if !c.Schemas[t.Schema] {
		return &CatalogError{Code: "3F000", Msg: fmt.Sprintf("schema %q does not exist", t.Schema)}
	}
	if _, ok := c.Lookup(t.Schema, t.Name); ok {
		return &CatalogError{Code: "42P07", Msg: fmt.Sprintf("relation %q already exists", t.Name)}
	}
	if len(t.Versions) == 0 {
		return fmt.Errorf("add table %s.%s: no schema version", t.Schema, t.Name)
	}
	t.ID = c.NextTableID
	c.NextTableID++
	for vi := range t.Versions {
		for ci := range t.Versions[vi].Columns {
			col := &t.Versions[vi].Columns[ci]
			if col.ID == 0 {
				t.NextColID++
				col.ID = t.NextColID
			} else if col.ID > t.NextColID {
				t.NextColID = col.ID
			}
		}
	}
	c.Tables[t.ID] = t
	c.byName[t.Schema+"."+t.Name] = t.ID
	return nil
}

// ReplaceTable stores a changed descriptor (same ID).
func (c *Catalog) ReplaceTable(t *TableDesc) error {
	old, ok := c.Tables[t.ID]
	if !ok {
		return &CatalogError{Code: "42P01", Msg: fmt.Sprintf("relation with id %d does not exist", t.ID)}
	}
	if old.Schema != t.Schema || old.Name != t.Name {
		if _, taken := c.Lookup(t.Schema, t.Name); taken {
			return &CatalogError{Code: "42P07", Msg: fmt.Sprintf("relation %q already exists", t.Name)}
		}
		delete(c.byName, old.Schema+"."+old.Name)
	}
	c.Tables[t.ID] = t
	c.byName[t.Schema+"."+t.Name] = t.ID
	return nil
}

// DropTable removes a table; its data is deleted in the same commit.
func (c *Catalog) DropTable(id TableID) error {
	t, ok := c.Tables[id]
	if !ok {
		return &CatalogError{Code: "42P01", Msg: fmt.Sprintf("relation with id %d does not exist", id)}
	}
	delete(c.byName, t.Schema+"."+t.Name)
	delete(c.Tables, id)
	return nil
}

// CatalogError is a catalog rule broken by an intent, with its SQLSTATE.
type CatalogError struct {
	Code string
	Msg  string
}

func (e *CatalogError) Error() string    { return e.Msg }
func (e *CatalogError) SQLState() string { return e.Code }

// clone deep-copies the catalog through its JSON form; catalog changes are
// rare (DDL) and this keeps every descriptor immutable once published.
func (c *Catalog) Clone() *Catalog { return c.clone() }

// clone deep-copies the catalog.
func (c *Catalog) clone() *Catalog {
	b, err := json.Marshal(c)
	if err != nil {
		panic(fmt.Sprintf("catalog clone: %v", err))
	}
	out, err := unmarshalCatalog(b)
	if err != nil {
		panic(fmt.Sprintf("catalog clone: %v", err))
	}
	return out
}

func unmarshalCatalog(b []byte) (*Catalog, error) {
	c := &Catalog{}
	if err := json.Unmarshal(b, c); err != nil {
		return nil, err
	}
	if c.Schemas == nil {
		c.Schemas = map[string]bool{}
	}
	if c.Tables == nil {
		c.Tables = map[TableID]*TableDesc{}
	}
	if c.Roles == nil {
		c.Roles = map[string]*RoleDesc{}
	}
	c.index()
	return c, nil
}

func encodeCatalog(c *Catalog) []byte {
	b, err := json.Marshal(c)
	if err != nil {
		panic(fmt.Sprintf("catalog encode: %v", err))
	}
	buf := append([]byte{0, 0, 0, 0, 1}, b...)
	return sealValue(buf)
}

func decodeCatalog(v []byte) (*Catalog, error) {
	b, err := openValue(keyCatalog, v, 1)
	if err != nil {
		return nil, err
	}
	c, err := unmarshalCatalog(b)
	if err != nil {
		return nil, &CorruptionError{"catalog", err.Error()}
	}
	return c, nil
}
