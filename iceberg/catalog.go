package iceberg

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"iter"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/catalog"
	icebergio "github.com/apache/iceberg-go/io"
	"github.com/apache/iceberg-go/table"
)

// Catalog is the warehouse's Iceberg catalog: a folder (local or an S3
// prefix) laid out as Hadoop catalogs lay it out, with no service and no
// database beside it:
//
//	<warehouse>/<namespace>/<table>/metadata/vN.metadata.json   every version
//	<warehouse>/<namespace>/<table>/metadata/version-hint.text  a recent N
//	<warehouse>/<namespace>/<table>/metadata/*.avro             manifests
//	<warehouse>/<namespace>/<table>/data/*.parquet              data files
//
// A table's current version is its highest vN. Committing version N+1
// creates v{N+1}.metadata.json only if no such object exists (link(2)
// locally, a PUT with If-None-Match: * on S3), so of two writers that both
// read version N exactly one commits and the other gets
// table.ErrCommitFailed: commits are linearizable without locks or
// renames (iceberg-go's own Hadoop catalog renames, which S3 cannot do
// atomically). version-hint.text is written after each commit to find N
// without listing; it may lag, so readers probe v{N+1}, v{N+2}, ... from
// it until one is missing.
//
// A commit whose new snapshot records a log range (PropLSNFrom) must start
// exactly at the current snapshot's PropLSNTo: the catalog refuses it
// otherwise (not as a retryable conflict), so a writer working from a stale
// view can never commit the same events twice, whatever a retry loop
// replays.
type Catalog struct {
	name  string
	st    store
	props iceberg.Properties
	// client are the FileIO properties readers need (S3 endpoint, region,
	// addressing style), served by the REST catalog.
	client map[string]string
}

var _ catalog.Catalog = (*Catalog)(nil)

// OpenCatalog opens the warehouse: a local folder (a path or file:// URL)
// or s3://bucket/prefix, reached as s3cfg says. props are iceberg-go FileIO
// properties for the S3 FileIO (s3.* names); they override s3cfg. It does
// no I/O: a missing local folder is created by the first write.
func OpenCatalog(ctx context.Context, warehouse string, s3cfg S3Config, props iceberg.Properties) (*Catalog, error) {
	if warehouse == "" {
		return nil, errors.New("iceberg: no warehouse")
	}
	c := &Catalog{name: "strand", props: props, client: map[string]string{}}
	if !strings.Contains(warehouse, "://") {
		st, err := newLocalStore(warehouse)
		if err != nil {
			return nil, err
		}
		c.st = st
		return c, nil
	}
	u, err := url.Parse(warehouse)
	if err != nil {
		return nil, fmt.Errorf("iceberg: warehouse %s: %w", warehouse, err)
	}
	switch u.Scheme {
	case "s3", "s3a":
		st, err := newS3Store(ctx, u, s3cfg, props)
		if err != nil {
			return nil, err
		}
		c.st = st
		c.client = s3cfg.ClientProperties(st.region)
	case "file":
		if c.st, err = newLocalStore(u.Path); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("iceberg: warehouse %s: unsupported scheme %q (use a folder or s3://bucket/prefix)", warehouse, u.Scheme)
	}
	return c, nil
}

// Location is the warehouse root as table locations start.
func (c *Catalog) Location() string { return c.st.location("") }

// ClientProperties are the FileIO properties a reader needs to open the
// warehouse's files (for S3: endpoint, region, path-style addressing);
// empty for a local warehouse. They carry no credentials.
func (c *Catalog) ClientProperties() map[string]string {
	out := make(map[string]string, len(c.client))
	for k, v := range c.client {
		out[k] = v
	}
	return out
}

// FileIO reads and writes the warehouse's files.
func (c *Catalog) FileIO() icebergio.IO { return c.st.fileIO() }

func (c *Catalog) CatalogType() catalog.Type { return catalog.Hadoop }

func (c *Catalog) fsys(context.Context) (icebergio.IO, error) { return c.st.fileIO(), nil }

const hintName = "version-hint.text"

var versionName = regexp.MustCompile(`^v([0-9]+)\.metadata\.json$`)

func tableKey(ident table.Identifier) string { return joinKey(ident...) }

func metadataKey(ident table.Identifier, version int) string {
	return joinKey(tableKey(ident), "metadata", fmt.Sprintf("v%d.metadata.json", version))
}

func checkIdent(ident table.Identifier, isTable bool) error {
	if len(ident) == 0 || isTable && len(ident) < 2 {
		return fmt.Errorf("%w: %q", catalog.ErrInvalidIdentifier, identString(ident))
	}
	for _, p := range ident {
		if p == "" || p == "." || p == ".." || strings.ContainsAny(p, `/\`) || strings.HasPrefix(p, ".") {
			return fmt.Errorf("%w: %q", catalog.ErrInvalidIdentifier, identString(ident))
		}
	}
	return nil
}

// currentVersion finds the table's highest metadata version: from the hint
// forward, or by listing when the hint is missing or wrong. It returns
// catalog.ErrNoSuchTable only when the store answered that there is no
// metadata; an unreachable store is an error of its own, never "no table".
func (c *Catalog) currentVersion(ctx context.Context, ident table.Identifier) (int, error) {
	mdir := joinKey(tableKey(ident), "metadata")
	v := 0
	hint, err := c.st.get(ctx, joinKey(mdir, hintName))
	switch {
	case err == nil:
		if n, perr := strconv.Atoi(strings.TrimSpace(string(hint))); perr == nil && n > 0 {
			ok, err := c.st.exists(ctx, metadataKey(ident, n))
			if err != nil {
				return 0, err
			}
			if ok {
				v = n
			}
		}
	case !errors.Is(err, fs.ErrNotExist):
		return 0, err
	}
	if v == 0 {
		names, err := c.st.files(ctx, mdir, "v", 0)
		if err != nil {
			return 0, err
		}
		for _, n := range names {
			if m := versionName.FindStringSubmatch(n); m != nil {
				if x, err := strconv.Atoi(m[1]); err == nil && x > v {
					v = x
				}
			}
		}
		if v == 0 {
			return 0, fmt.Errorf("%w: %s", catalog.ErrNoSuchTable, identString(ident))
		}
	}
	for {
		ok, err := c.st.exists(ctx, metadataKey(ident, v+1))
		if err != nil {
			return 0, err
		}
		if !ok {
			return v, nil
		}
		v++
	}
}

func (c *Catalog) loadTable(ctx context.Context, ident table.Identifier) (*table.Table, int, error) {
	if err := checkIdent(ident, true); err != nil {
		return nil, 0, err
	}
	v, err := c.currentVersion(ctx, ident)
	if err != nil {
		return nil, 0, fmt.Errorf("load %s: %w", identString(ident), err)
	}
	key := metadataKey(ident, v)
	b, err := c.st.get(ctx, key)
	if err != nil {
		return nil, 0, fmt.Errorf("load %s: %w", identString(ident), err)
	}
	meta, err := table.ParseMetadataBytes(b)
	if err != nil {
		return nil, 0, fmt.Errorf("load %s: parse %s: %w", identString(ident), c.st.location(key), err)
	}
	return table.New(ident, meta, c.st.location(key), c.fsys, c), v, nil
}

func (c *Catalog) LoadTable(ctx context.Context, ident table.Identifier) (*table.Table, error) {
	tbl, _, err := c.loadTable(ctx, ident)
	return tbl, err
}

func (c *Catalog) CheckTableExists(ctx context.Context, ident table.Identifier) (bool, error) {
	if err := checkIdent(ident, true); err != nil {
		return false, err
	}
	return c.isTable(ctx, tableKey(ident))
}

// isTable reports whether a folder holds table metadata.
func (c *Catalog) isTable(ctx context.Context, key string) (bool, error) {
	names, err := c.st.files(ctx, joinKey(key, "metadata"), "v", 10)
	if err != nil {
		return false, err
	}
	for _, n := range names {
		if versionName.MatchString(n) {
			return true, nil
		}
	}
	return false, nil
}

// CreateTable writes version 1 of a new table at <warehouse>/<ns>/<name>.
func (c *Catalog) CreateTable(ctx context.Context, ident table.Identifier, sc *iceberg.Schema, opts ...catalog.CreateTableOpt) (*table.Table, error) {
	if err := checkIdent(ident, true); err != nil {
		return nil, err
	}
	var cfg catalog.CreateTableCfg
	for _, opt := range opts {
		opt(&cfg)
	}
	ns := catalog.NamespaceFromIdent(ident)
	ok, err := c.st.isDir(ctx, tableKey(ns))
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", identString(ident), err)
	}
	if !ok {
		return nil, fmt.Errorf("%w: %s", catalog.ErrNoSuchNamespace, identString(ns))
	}
	loc := c.st.location(tableKey(ident))
	if cfg.Location != "" && strings.TrimRight(cfg.Location, "/") != loc {
		return nil, fmt.Errorf("create %s: tables live at %s, not %s", identString(ident), loc, cfg.Location)
	}
	// Old metadata versions are deleted after each commit (keeping the
	// last 100, Iceberg's default), unless the caller says otherwise: a
	// table committed every few seconds would otherwise pile up thousands
	// of vN.metadata.json files a day.
	props := iceberg.Properties{
		table.MetadataDeleteAfterCommitEnabledKey: "true",
		table.MetadataPreviousVersionsMaxKey:      strconv.Itoa(table.MetadataPreviousVersionsMaxDefault),
	}
	for k, v := range cfg.Properties {
		props[k] = v
	}
	meta, err := table.NewMetadata(sc, cfg.PartitionSpec, cfg.SortOrder, loc, props)
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", identString(ident), err)
	}
	key, err := c.publish(ctx, ident, 1, meta)
	if errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("%w: %s", catalog.ErrTableAlreadyExists, identString(ident))
	}
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", identString(ident), err)
	}
	return table.New(ident, meta, c.st.location(key), c.fsys, c), nil
}

// publish creates metadata version v (or fails with fs.ErrExist), then
// moves the hint; a lost hint only costs readers a probe.
func (c *Catalog) publish(ctx context.Context, ident table.Identifier, v int, meta table.Metadata) (string, error) {
	b, err := json.Marshal(meta)
	if err != nil {
		return "", fmt.Errorf("encode metadata: %w", err)
	}
	key := metadataKey(ident, v)
	if err := c.st.putIfAbsent(ctx, key, b); err != nil {
		return "", err
	}
	_ = c.st.put(ctx, joinKey(tableKey(ident), "metadata", hintName), []byte(strconv.Itoa(v)))
	return key, nil
}

// ErrWatermarkMoved is returned by CommitTable for a snapshot whose log
// range does not start at the table's watermark: another writer committed
// those events, or the writer's view of the table is stale. Nothing was
// committed; the writer must reload the table and start again from its
// watermark. It is deliberately not a table.ErrCommitFailed, which
// iceberg-go answers by replaying the same files on top of the new state.
var ErrWatermarkMoved = errors.New("watermark moved")

// CommitTable applies updates to the current version and publishes the
// result as the next one.
func (c *Catalog) CommitTable(ctx context.Context, ident table.Identifier, reqs []table.Requirement, updates []table.Update) (table.Metadata, string, error) {
	cur, v, err := c.loadTable(ctx, ident)
	if err != nil {
		return nil, "", err
	}
	base := cur.Metadata()
	for _, r := range reqs {
		if err := r.Validate(base); err != nil {
			return nil, "", fmt.Errorf("commit %s: %w: %w", identString(ident), table.ErrCommitFailed, err)
		}
	}
	next, err := table.UpdateTableMetadata(base, updates, cur.MetadataLocation())
	if err != nil {
		return nil, "", fmt.Errorf("commit %s: %w", identString(ident), err)
	}
	if next.Location() != base.Location() {
		return nil, "", fmt.Errorf("commit %s: the table location cannot change", identString(ident))
	}
	if err := checkLogRange(base, next); err != nil {
		return nil, "", fmt.Errorf("commit %s: %w", identString(ident), err)
	}
	key, err := c.publish(ctx, ident, v+1, next)
	if errors.Is(err, fs.ErrExist) {
		return nil, "", fmt.Errorf("commit %s: %w: version %d was committed by another writer", identString(ident), table.ErrCommitFailed, v+1)
	}
	if err != nil {
		return nil, "", fmt.Errorf("commit %s: %w", identString(ident), err)
	}
	return next, c.st.location(key), nil
}

// checkLogRange enforces that a new current snapshot recording a log range
// starts at the base's watermark.
func checkLogRange(base, next table.Metadata) error {
	ns := next.CurrentSnapshot()
	if ns == nil || ns.Summary == nil {
		return nil
	}
	bs := base.CurrentSnapshot()
	if bs != nil && bs.SnapshotID == ns.SnapshotID {
		return nil
	}
	from, ok := ns.Summary.Properties[PropLSNFrom]
	if !ok {
		return nil
	}
	wm := "0"
	if bs != nil && bs.Summary != nil {
		wm = bs.Summary.Properties.Get(PropLSNTo, "0")
	}
	f, err1 := strconv.ParseUint(from, 10, 64)
	w, err2 := strconv.ParseUint(wm, 10, 64)
	if err1 != nil || err2 != nil || f != w {
		return fmt.Errorf("%w: snapshot covers the log from %s, but the table's watermark is %s", ErrWatermarkMoved, from, wm)
	}
	return nil
}

func (c *Catalog) ListTables(ctx context.Context, ns table.Identifier) iter.Seq2[table.Identifier, error] {
	return func(yield func(table.Identifier, error) bool) {
		if err := checkIdent(ns, false); err != nil {
			yield(nil, err)
			return
		}
		ok, err := c.st.isDir(ctx, tableKey(ns))
		if err != nil {
			yield(nil, err)
			return
		}
		if !ok {
			yield(nil, fmt.Errorf("%w: %s", catalog.ErrNoSuchNamespace, identString(ns)))
			return
		}
		names, err := c.st.dirs(ctx, tableKey(ns))
		if err != nil {
			yield(nil, err)
			return
		}
		for _, name := range names {
			ident := append(append(table.Identifier{}, ns...), name)
			ok, err := c.isTable(ctx, tableKey(ident))
			if err != nil {
				yield(nil, err)
				return
			}
			if ok && !yield(ident, nil) {
				return
			}
		}
	}
}

func (c *Catalog) ListNamespaces(ctx context.Context, parent table.Identifier) ([]table.Identifier, error) {
	if len(parent) > 0 {
		if err := checkIdent(parent, false); err != nil {
			return nil, err
		}
		ok, err := c.st.isDir(ctx, tableKey(parent))
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, fmt.Errorf("%w: %s", catalog.ErrNoSuchNamespace, identString(parent))
		}
	}
	names, err := c.st.dirs(ctx, tableKey(parent))
	if err != nil {
		return nil, err
	}
	out := []table.Identifier{}
	for _, name := range names {
		ident := append(append(table.Identifier{}, parent...), name)
		if checkIdent(ident, false) != nil {
			continue
		}
		isTable, err := c.isTable(ctx, tableKey(ident))
		if err != nil {
			return nil, err
		}
		if !isTable {
			out = append(out, ident)
		}
	}
	return out, nil
}

func (c *Catalog) CreateNamespace(ctx context.Context, ns table.Identifier, props iceberg.Properties) error {
	if err := checkIdent(ns, false); err != nil {
		return err
	}
	if len(props) > 0 {
		return errors.New("iceberg: namespace properties are not supported")
	}
	ok, err := c.st.isDir(ctx, tableKey(ns))
	if err != nil {
		return err
	}
	if ok {
		return fmt.Errorf("%w: %s", catalog.ErrNamespaceAlreadyExists, identString(ns))
	}
	return c.st.mkdir(ctx, tableKey(ns))
}

func (c *Catalog) CheckNamespaceExists(ctx context.Context, ns table.Identifier) (bool, error) {
	if err := checkIdent(ns, false); err != nil {
		return false, err
	}
	return c.st.isDir(ctx, tableKey(ns))
}

func (c *Catalog) LoadNamespaceProperties(ctx context.Context, ns table.Identifier) (iceberg.Properties, error) {
	ok, err := c.CheckNamespaceExists(ctx, ns)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("%w: %s", catalog.ErrNoSuchNamespace, identString(ns))
	}
	return iceberg.Properties{"location": c.st.location(tableKey(ns))}, nil
}

// Strand creates and evolves its tables; it never drops or renames them
// through the catalog, and the REST endpoint is read-only.
var errUnsupported = errors.New("iceberg: not supported by Strand's catalog")

func (c *Catalog) DropTable(context.Context, table.Identifier) error { return errUnsupported }

func (c *Catalog) RenameTable(context.Context, table.Identifier, table.Identifier) (*table.Table, error) {
	return nil, errUnsupported
}

func (c *Catalog) DropNamespace(context.Context, table.Identifier) error { return errUnsupported }

func (c *Catalog) UpdateNamespaceProperties(context.Context, table.Identifier, []string, iceberg.Properties) (catalog.PropertiesUpdateSummary, error) {
	return catalog.PropertiesUpdateSummary{}, errUnsupported
}
