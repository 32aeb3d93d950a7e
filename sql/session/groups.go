package session

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/strand-db/strand/exec"
	"github.com/strand-db/strand/log"
	"github.com/strand-db/strand/planner"
	"github.com/strand-db/strand/sql"
	"github.com/strand-db/strand/sql/pgerr"
	"github.com/strand-db/strand/sql/types"
)

// The SQL surface of consumer groups (docs/GROUPS.md): CREATE and DROP
// CONSUMER GROUP, FETCH ... FROM GROUP, ACK and NACK, and the status view
// pg_catalog.strand_consumer_groups. The mechanism is in groups_state.go.

// groupRegistry holds the groups open in this server, by progress table.
type groupRegistry struct {
	mu   sync.Mutex
	open map[log.TableID]*group
}

// groupFetchColumns are the columns FETCH ... FROM GROUP returns: those of
// SUBSCRIBE, the delivery attempt, and the row as JSON (NULL for a delete),
// since a group may span tables of different shapes.
var groupFetchColumns = []exec.Column{
	{Name: "_position", T: types.Make(types.Int8OID)},
	{Name: "_table", T: types.Make(types.TextOID)},
	{Name: "_key", T: types.Make(types.TextOID)},
	{Name: exec.VersionColumn, T: types.Make(types.Int8OID)},
	{Name: "_op", T: types.Make(types.TextOID)},
	{Name: "_attempt", T: types.Make(types.Int4OID)},
	{Name: "_row", T: types.Make(types.JSONOID)},
}

// groupStatement runs a consumer-group statement; ok is false for other
// statements.
func (s *Session) groupStatement(ctx context.Context, st sql.Statement, params []types.Datum) (rows rowSeq, tag string, ok bool, err error) {
	switch x := st.(type) {
	case *sql.CreateConsumerGroup:
		return nil, "CREATE CONSUMER GROUP", true, s.createGroup(ctx, x)
	case *sql.DropConsumerGroup:
		return nil, "DROP CONSUMER GROUP", true, s.dropGroup(ctx, x)
	case *sql.FetchGroup:
		rows, tag, err := s.fetchGroup(ctx, x)
		return rows, tag, true, err
	case *sql.AckGroup:
		tag, err := s.ackGroup(ctx, x, params)
		return nil, tag, true, err
	}
	return nil, "", false, nil
}

func (s *Session) createGroup(ctx context.Context, x *sql.CreateConsumerGroup) error {
	schema := x.Name.Schema
	if schema == "" {
		schema = s.vars.searchPath()[0]
	}
	def := groupDef{Name: x.Name.Name, MaxAttempts: 5, LeaseMS: 30000, BackoffMS: 1000, OnFailure: "park",
		DeadLetters: x.Name.Name + "_dead_letters"}
	for _, o := range x.Options {
		switch o.Name {
		case "max_attempts":
			n, err := strconv.Atoi(o.Value)
			if err != nil || n < 1 {
				return pgerr.New(pgerr.InvalidParameterValue, "max_attempts must be a positive integer, not %q", o.Value)
			}
			def.MaxAttempts = n
		case "lease", "backoff":
			d, err := parseGroupDuration(o.Value)
			if err != nil || d < 0 || (o.Name == "lease" && d <= 0) {
				return pgerr.New(pgerr.InvalidParameterValue, "%s must be a duration such as '30s' or '500ms', not %q", o.Name, o.Value)
			}
			if o.Name == "lease" {
				def.LeaseMS = d.Milliseconds()
			} else {
				def.BackoffMS = d.Milliseconds()
			}
		case "on_failure":
			if o.Value != "park" && o.Value != "block" {
				return pgerr.New(pgerr.InvalidParameterValue, "on_failure must be 'park' or 'block', not %q", o.Value)
			}
			def.OnFailure = o.Value
		default:
			return pgerr.New(pgerr.SyntaxError, "consumer group option %q not recognized", o.Name)
		}
	}
	var err error
	if def.Tables, def.TableIDs, err = s.groupTargets(x.Subscribe); err != nil {
		return err
	}
	if def.Start, def.KeyPrefix, err = s.groupStart(x.Subscribe); err != nil {
		return err
	}
	defJSON, err := json.Marshal(def)
	if err != nil {
		return pgerr.New(pgerr.InternalError, "encode consumer group: %v", err)
	}
	text, int8, int4 := types.Make(types.TextOID), types.Make(types.Int8OID), types.Make(types.Int4OID)
	col := func(id uint32, name string, t types.T) log.Column {
		return log.Column{ID: id, Name: name, TypeOID: uint32(t.OID), Typmod: -1}
	}
	// Only a key's latest progress matters: once the log enforces
	// retention, the history of progress rows is dropped.
	progress := &log.TableDesc{Schema: schema, Name: x.Name.Name + "_progress", Kind: log.Keyed, NextColID: 4,
		Options:   map[string]string{optGroup: string(defJSON)},
		Retention: log.Retention{MaxVersionsPerKey: 1},
		Versions: []log.SchemaVersion{{Version: 1, Key: []uint32{1, 2}, Columns: []log.Column{
			col(1, "table_id", int8), col(2, "key", text), col(3, "acked_version", int8), col(4, "attempts", int4)}}}}
	dead := &log.TableDesc{Schema: schema, Name: def.DeadLetters, Kind: log.Keyed, NextColID: 9,
		Options: map[string]string{optDeadLetters: x.Name.Name},
		Versions: []log.SchemaVersion{{Version: 1, Key: []uint32{1, 2, 3}, Columns: []log.Column{
			col(1, "source_table", text), col(2, "key", text), col(3, "version", int8), col(4, "position", int8),
			col(5, "op", text), col(6, "attempts", int4), col(7, "error", text),
			col(8, "parked_at", types.Make(types.TimestampTZOID)), col(9, "row", types.Make(types.JSONOID))}}}}
	for _, t := range []*log.TableDesc{progress, dead} {
		for i := range t.Versions[0].Columns {
			if t.Versions[0].Columns[i].ID <= uint32(len(t.Versions[0].Key)) {
				t.Versions[0].Columns[i].NotNull = true
			}
		}
	}
	ifNotExists := x.IfNotExists
	change := func(c *log.Catalog) error {
		if old, ok := c.Lookup(progress.Schema, progress.Name); ok && ifNotExists && old.Options[optGroup] != "" {
			return nil
		}
		p, d := *progress, *dead
		if err := c.AddTable(&p); err != nil {
			return err
		}
		return c.AddTable(&d)
	}
	if s.txn != nil {
		return pgerr.New(pgerr.ActiveSQLTransaction, "CREATE CONSUMER GROUP cannot run inside a transaction block")
	}
	_, err = s.eng.Log.Commit(ctx, &log.Intent{Catalog: change})
	return err
}

// groupStart reads the SUBSCRIBE options a group keeps: start =
// 'beginning' (default), 'now' or a position, and key_prefix = 'text'.
func (s *Session) groupStart(sub *sql.Subscribe) (pos uint64, keyPrefix string, err error) {
	for _, op := range sub.Options {
		switch op.Name {
		case "start":
			switch op.Value {
			case "beginning":
			case "now":
				snap := s.eng.Log.Snapshot()
				pos = snap.LSN()
				snap.Release()
			default:
				p, perr := strconv.ParseUint(op.Value, 10, 64)
				if perr != nil {
					return 0, "", pgerr.New(pgerr.InvalidParameterValue, "SUBSCRIBE start must be 'beginning', 'now' or a position, not %q", op.Value)
				}
				pos = p
			}
		case "key_prefix":
			keyPrefix = op.Value
		default:
			return 0, "", pgerr.New(pgerr.FeatureNotSupported, "SUBSCRIBE option %q is not supported in a consumer group", op.Name)
		}
	}
	return pos, keyPrefix, nil
}

// parseGroupDuration reads '30s', '500ms', '2m' or a number of seconds.
func parseGroupDuration(v string) (time.Duration, error) {
	if f, err := strconv.ParseFloat(v, 64); err == nil {
		return time.Duration(f * float64(time.Second)), nil
	}
	return time.ParseDuration(strings.ReplaceAll(v, " ", ""))
}

// groupTargets lists the tables and table patterns ("schema.name",
// "shop.*", "telemetry.>") a group's SUBSCRIBE names.
func (s *Session) groupTargets(sub *sql.Subscribe) (patterns []string, ids []log.TableID, err error) {
	if sub.Where != nil {
		return nil, nil, pgerr.New(pgerr.FeatureNotSupported, "a consumer group's SUBSCRIBE cannot have a WHERE clause yet")
	}
	targets := sub.Targets
	if len(targets) == 0 {
		targets = []sql.SubscribeTarget{{Name: sub.Target}}
	}
	b := s.builder(s.catalog(), nil)
	for _, t := range targets {
		if t.Pattern != "" {
			p := t.Pattern
			if strings.HasPrefix(p, ".") {
				p = s.vars.searchPath()[0] + p
			}
			patterns = append(patterns, p)
			continue
		}
		td, err := b.LookupTable(t.Name.Schema, t.Name.Name)
		if err != nil {
			return nil, nil, err
		}
		switch {
		case td.Kind == log.View && !td.LogsChanges():
			return nil, nil, pgerr.New(pgerr.FeatureNotSupported, "a consumer group over a materialized view needs its changelog").
				WithDetail("A consumer group reads events by key; materialized view %q keeps none.", td.Name).
				WithHint("Create the view WITH (changelog = true): its rows' changes are then kept as events of its own.")
		case td.Kind == log.PlainView:
			return nil, nil, pgerr.New(pgerr.FeatureNotSupported, "a consumer group over a view is not supported").
				WithHint("A consumer group reads tables' events; a view has none of its own.")
		}
		if td.Options[optGroup] != "" || td.Options[optDeadLetters] != "" {
			return nil, nil, pgerr.New(pgerr.WrongObjectType, "%q belongs to a consumer group", td.Name)
		}
		// Named tables are kept by ID: the group follows a rename.
		ids = append(ids, td.ID)
	}
	return patterns, ids, nil
}

func (s *Session) dropGroup(ctx context.Context, x *sql.DropConsumerGroup) error {
	if s.txn != nil {
		return pgerr.New(pgerr.ActiveSQLTransaction, "DROP CONSUMER GROUP cannot run inside a transaction block")
	}
	td, err := s.lookupGroup(x.Name)
	if err != nil {
		if x.IfExists && pgerr.CodeOf(err) == pgerr.UndefinedObject {
			return nil
		}
		return err
	}
	var def groupDef
	_ = json.Unmarshal([]byte(td.Options[optGroup]), &def)
	id := td.ID
	change := func(c *log.Catalog) error {
		if err := c.DropTable(id); err != nil {
			return err
		}
		if d, ok := c.Lookup(td.Schema, def.DeadLetters); ok && d.Options[optDeadLetters] != "" {
			return c.DropTable(d.ID)
		}
		return nil
	}
	// Stop the group first, so that nothing writes its progress after its
	// tables are gone; a failed drop leaves it to be opened again.
	s.eng.groups.mu.Lock()
	g := s.eng.groups.open[id]
	delete(s.eng.groups.open, id)
	s.eng.groups.mu.Unlock()
	if g != nil {
		g.close(pgerr.New(pgerr.UndefinedObject, "consumer group %q was dropped", def.Name))
		<-g.done
	}
	_, err = s.eng.Log.Commit(ctx, &log.Intent{Catalog: change})
	return err
}

// lookupGroup finds a group's progress table by the group's name.
func (s *Session) lookupGroup(name sql.ObjectName) (*log.TableDesc, error) {
	cat := s.eng.Log.Catalog()
	schemas := []string{name.Schema}
	if name.Schema == "" {
		schemas = s.vars.searchPath()
	}
	for _, sc := range schemas {
		if td, ok := cat.Lookup(sc, name.Name+"_progress"); ok && td.Options[optGroup] != "" {
			return td, nil
		}
	}
	return nil, pgerr.New(pgerr.UndefinedObject, "consumer group %q does not exist", name.Name)
}

// group returns the open group named name, opening it on first use.
func (s *Session) group(name sql.ObjectName) (*group, error) {
	td, err := s.lookupGroup(name)
	if err != nil {
		return nil, err
	}
	return s.eng.openGroup(td)
}

func (e *Engine) openGroup(td *log.TableDesc) (*group, error) {
	r := &e.groups
	r.mu.Lock()
	defer r.mu.Unlock()
	if g := r.open[td.ID]; g != nil && !g.isClosed() {
		return g, nil
	}
	// Groups dropped by DROP TABLE of their tables stop here.
	cat := e.Log.Catalog()
	for id, g := range r.open {
		if _, ok := cat.Table(id); !ok {
			g.close(nil)
			delete(r.open, id)
		}
	}
	g, err := openGroup(e, td)
	if err != nil {
		return nil, err
	}
	if r.open == nil {
		r.open = map[log.TableID]*group{}
	}
	r.open[td.ID] = g
	return g, nil
}

// leaveGroups ends a closing session's memberships. The last session to
// close also closes the open groups (their progress written), so that no
// group goroutine outlives the sessions that could use it: the server
// closes the log once its connections are gone. A later FETCH or ACK opens
// the group again from its durable progress.
func (e *Engine) leaveGroups(s *Session) {
	e.groups.mu.Lock()
	gs := make([]*group, 0, len(e.groups.open))
	for _, g := range e.groups.open {
		gs = append(gs, g)
	}
	last := e.sessions.Load() <= 1
	if last {
		e.groups.open = nil
	}
	e.groups.mu.Unlock()
	for _, g := range gs {
		g.leave(s)
		if last {
			g.mu.Lock()
			gen := g.mu.gen
			g.mu.Unlock()
			if err := g.flush(context.Background(), gen); err != nil {
				g.logger.Warn("consumer group progress write failed", "group", g.def.Name, "err", err)
			}
			g.close(nil)
			<-g.done
		}
	}
}

func (s *Session) fetchGroup(ctx context.Context, x *sql.FetchGroup) (rowSeq, string, error) {
	timeout := time.Duration(0)
	for _, o := range x.Options {
		switch o.Name {
		case "timeout":
			d, err := parseGroupDuration(o.Value)
			if err != nil || d < 0 {
				return nil, "", pgerr.New(pgerr.InvalidParameterValue, "timeout must be a duration such as '1s', not %q", o.Value)
			}
			timeout = d
		default:
			return nil, "", pgerr.New(pgerr.SyntaxError, "FETCH FROM GROUP option %q not recognized", o.Name)
		}
	}
	g, err := s.group(x.Group)
	if err != nil {
		return nil, "", err
	}
	max := int(x.Count)
	if x.All {
		max = 0
	} else if max == 0 {
		return nil, "FETCH 0", nil
	}
	ds, err := g.fetch(ctx, s, max, timeout)
	if err != nil {
		return nil, "", err
	}
	out := make([]exec.Row, 0, len(ds))
	for _, d := range ds {
		var table string
		var row any
		if l, err := g.layout(d.ev.Table, d.ev.SchemaVersion); err == nil {
			j, err := eventJSON(l, d.ev)
			if err != nil {
				return nil, "", err
			}
			if j != nil {
				row = *j
			}
			table = tableText(l.Desc)
		} else {
			// The table was dropped after the event: the key is still
			// handed out (and acknowledged) so that it does not hang.
			table = strconv.FormatUint(uint64(d.ev.Table), 10)
		}
		out = append(out, exec.Row{int64(d.ev.LSN), table, d.keyText, int64(d.ev.Version), d.ev.Op.String(), int64(d.attempt), row})
	}
	return func(yield func(exec.Row, error) bool) {
		for _, r := range out {
			if !yield(r, nil) {
				return
			}
		}
	}, "FETCH " + strconv.Itoa(len(out)), nil
}

// resolvedAck is an ACK item with its table found.
type resolvedAck struct {
	id      keyID
	version uint64
	reason  string
}

// groupParamTypes types the parameters of ACK and NACK items: table, key
// and reason are text, the version bigint.
func groupParamTypes(x *sql.AckGroup, params *planner.Params) {
	kinds := [4]types.OID{types.TextOID, types.TextOID, types.Int8OID, types.TextOID}
	for _, it := range x.Items {
		for i, n := range it.Params {
			if n > 0 && n <= len(params.Types) && params.Types[n-1].OID == types.UnknownOID {
				params.Types[n-1] = types.Make(kinds[i])
			}
		}
	}
}

// ackItemValues fills an item's parameters in.
func ackItemValues(it sql.AckItem, params []types.Datum) (sql.AckItem, error) {
	for i, n := range it.Params {
		if n == 0 {
			continue
		}
		if n > len(params) || params[n-1] == nil {
			return it, pgerr.New(pgerr.InvalidParameterValue, "ACK parameter $%d must not be null", n)
		}
		v := params[n-1]
		switch i {
		case 2:
			iv, ok := v.(int64)
			if str, isText := v.(string); isText {
				parsed, err := strconv.ParseInt(str, 10, 64)
				iv, ok = parsed, err == nil
			}
			if !ok || iv <= 0 {
				return it, pgerr.New(pgerr.InvalidParameterValue, "ACK version ($%d) must be a positive integer", n)
			}
			it.Version = iv
		default:
			str, ok := v.(string)
			if !ok {
				return it, pgerr.New(pgerr.InvalidParameterValue, "ACK parameter $%d must be text", n)
			}
			switch i {
			case 0:
				it.Table = str
			case 1:
				it.Key = str
			case 3:
				it.Reason = str
			}
		}
	}
	return it, nil
}

func (s *Session) ackGroup(ctx context.Context, x *sql.AckGroup, params []types.Datum) (string, error) {
	tag := "ACK"
	if x.Nack {
		tag = "NACK"
	}
	g, err := s.group(x.Group)
	if err != nil {
		return "", err
	}
	var n int
	if x.All {
		n, err = g.ackAll(ctx, s)
		return tag + " " + strconv.Itoa(n), err
	}
	cat := s.eng.Log.Catalog()
	items := make([]resolvedAck, 0, len(x.Items))
	for _, it := range x.Items {
		it, err := ackItemValues(it, params)
		if err != nil {
			return "", err
		}
		var id log.TableID
		if td, err := s.ackTable(cat, it.Table); err == nil {
			id = td.ID
		} else if n, perr := strconv.ParseUint(it.Table, 10, 32); perr == nil {
			id = log.TableID(n) // a dropped table, as FETCH names it
		} else {
			return "", err
		}
		items = append(items, resolvedAck{id: keyID{id, it.Key}, version: uint64(it.Version), reason: it.Reason})
	}
	n, err = g.ack(ctx, s, items, x.Nack)
	return tag + " " + strconv.Itoa(n), err
}

// ackTable resolves a table as FETCH names it (tableText) or as a
// possibly qualified name on the search path.
func (s *Session) ackTable(cat *log.Catalog, name string) (*log.TableDesc, error) {
	if i := strings.IndexByte(name, '.'); i >= 0 {
		if td, ok := cat.Lookup(name[:i], name[i+1:]); ok {
			return td, nil
		}
	}
	for _, sc := range s.vars.searchPath() {
		if td, ok := cat.Lookup(sc, name); ok {
			return td, nil
		}
	}
	return nil, pgerr.New(pgerr.UndefinedTable, "relation %q does not exist", name)
}

// tableText names a table as FETCH shows it: unqualified in public.
func tableText(td *log.TableDesc) string {
	if td.Schema == "public" {
		return td.Name
	}
	return td.Schema + "." + td.Name
}

// eventJSON renders an event's row as a JSON object of its columns (nil for
// a delete).
func eventJSON(l *exec.TableLayout, e *log.Event) (*types.JSON, error) {
	if e.Op == log.OpDelete || e.Row == nil {
		return nil, nil
	}
	vals, err := l.Decode(e.SchemaVersion, e.Row, e.Version, nil)
	if err != nil {
		return nil, err
	}
	obj := make(map[string]any, len(l.Types))
	names := make([]string, 0, len(l.Types))
	for i, c := range l.Cur.Columns {
		names = append(names, c.Name)
		v := vals[i]
		switch x := v.(type) {
		case nil:
			obj[c.Name] = nil
		case bool:
			obj[c.Name] = x
		case int64:
			obj[c.Name] = x
		case float64:
			obj[c.Name] = x
		case types.JSON:
			obj[c.Name] = json.RawMessage(x)
		case types.JSONB:
			obj[c.Name] = json.RawMessage(x)
		default:
			obj[c.Name] = types.FormatText(l.Types[i], v, nil)
		}
	}
	// Columns in table order, as PostgreSQL's row_to_json writes them.
	var b strings.Builder
	b.WriteByte('{')
	for i, n := range names {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(n)
		v, err := json.Marshal(obj[n])
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	j := types.JSON(b.String())
	return &j, nil
}

// The status view: one row per consumer group of the catalog.
var relConsumerGroups *sysRelation

func init() {
	relConsumerGroups = sysRel("pg_catalog", "strand_consumer_groups", oidSystemRel+0x7000, `name, schema, tables text[],
		on_failure, max_attempts int4, members int8, pending_keys int8, leased_keys int8, blocked_keys int8,
		buffered_events int8, position int8, read_position int8, delivered int8, acked int8, redelivered int8, parked int8`,
		consumerGroupRows)
}

func consumerGroupRows(st *systemTables) []exec.Row {
	var out []exec.Row
	for _, td := range st.cat.SortedTables() {
		if td.Options[optGroup] == "" {
			continue
		}
		var def groupDef
		if json.Unmarshal([]byte(td.Options[optGroup]), &def) != nil {
			continue
		}
		tables := &types.Array{Elem: types.Make(types.TextOID)}
		for _, id := range def.TableIDs {
			if t, ok := st.cat.Table(id); ok {
				tables.Elems = append(tables.Elems, t.Schema+"."+t.Name)
			}
		}
		for _, t := range def.Tables {
			tables.Elems = append(tables.Elems, t)
		}
		row := []any{"name", def.Name, "schema", td.Schema, "tables", tables, "on_failure", def.OnFailure, "max_attempts", def.MaxAttempts}
		if g, err := st.s.eng.openGroup(td); err == nil {
			gs := g.stats()
			parked := countDeadLetters(st.s.eng.Log, g.deadID)
			row = append(row, "members", gs.members, "pending_keys", gs.pendingKeys, "leased_keys", gs.leasedKeys,
				"blocked_keys", gs.blockedKeys, "buffered_events", gs.buffered, "position", int64(gs.position),
				"read_position", int64(gs.readPos), "delivered", int64(gs.delivered), "acked", int64(gs.acked),
				"redelivered", int64(gs.redelivered), "parked", parked)
		}
		out = append(out, relConsumerGroups.row(row...))
	}
	return out
}

// countDeadLetters counts the rows of a dead-letter table (durable, so the
// count survives restarts).
func countDeadLetters(l *log.Log, id log.TableID) int64 {
	snap := l.Snapshot()
	defer snap.Release()
	var n int64
	_ = snap.ScanHeads(id, nil, false, func([]byte, *log.Head) error { n++; return nil })
	return n
}
