package iceberg_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	icebergapi "github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"

	"github.com/strand-db/strand/iceberg"
	"github.com/strand-db/strand/log"
	"github.com/strand-db/strand/tests/strandtest"
)

// dayOf turns a day partition value (days since the epoch, as iceberg-go
// reads it back from a manifest) into an int.
func dayOf(t *testing.T, v any) int {
	t.Helper()
	switch d := v.(type) {
	case icebergapi.Date:
		return int(d)
	case int32:
		return int(d)
	case int:
		return d
	}
	t.Fatalf("day partition value %v has type %T", v, v)
	return 0
}

// tsBound decodes a timestamp column's lower or upper bound (microseconds).
func tsBound(t *testing.T, b []byte) int64 {
	t.Helper()
	if len(b) != 8 {
		t.Fatalf("timestamp bound of %d bytes", len(b))
	}
	return int64(binary.LittleEndian.Uint64(b))
}

// planFiles plans a scan of ident (with filter, when not nil).
func planFiles(t *testing.T, comp *iceberg.Compactor, ident table.Identifier, filter icebergapi.BooleanExpression) (*table.Table, []table.FileScanTask) {
	t.Helper()
	ctx := context.Background()
	tbl, err := comp.Catalog().LoadTable(ctx, ident)
	if err != nil {
		t.Fatal(err)
	}
	var opts []table.ScanOption
	if filter != nil {
		opts = append(opts, table.WithRowFilter(filter))
	}
	tasks, err := tbl.Scan(opts...).PlanFiles(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return tbl, tasks
}

// filteredRows scans ident with a row filter, rendering cols as SELECT does.
func filteredRows(t *testing.T, tbl *table.Table, filter icebergapi.BooleanExpression, cols ...string) []string {
	t.Helper()
	at, err := tbl.Scan(table.WithRowFilter(filter), table.WithSelectedFields(cols...)).ToArrowTable(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer at.Release()
	return arrowRows(t, at, cols)
}

// TestPartitionedStream writes a stream partitioned by day(ts) across five
// days in two commits and checks the Iceberg side: the spec, one day per
// data file (the manifest's partition value and the file's own ts bounds
// agree), a filtered scan that plans only that day's files and returns
// exactly the matching rows, the whole table equal to SELECT, and the
// tiered-read path (ColdReader) returning every event in LSN order.
func TestPartitionedStream(t *testing.T) {
	srv := strandtest.Start(t, "")
	c := srv.Connect(t)
	comp := newCompactor(t, srv, t.TempDir(), nil)
	ctx := context.Background()
	exec(t, c, `SET TimeZone = 'UTC'`,
		`CREATE TABLE clicks (id bigint, page text, ts timestamptz) WITH (partition_by = 'day(ts)')`)
	ident := table.Identifier{"public", "clicks"}
	const days = 5
	n := 0
	for round := 0; round < 2; round++ {
		var vals []string
		for i := 0; i < 300; i++ {
			vals = append(vals, fmt.Sprintf("(%d, 'p%d', '2024-03-%02d %02d:%02d:00+00')", n, n%7, 10+n%days, n%24, n%60))
			n++
		}
		exec(t, c, "INSERT INTO clicks VALUES "+join(vals))
		if err := comp.CompactOnce(ctx); err != nil {
			t.Fatal(err)
		}
	}
	const q = `SELECT id, page, ts FROM clicks`
	cols := []string{"id", "page", "ts"}
	equalRows(t, "whole table", scanRows(t, comp, ident, cols...), selectRows(t, c, q))

	tbl, tasks := planFiles(t, comp, ident, nil)
	spec := tbl.Spec()
	var pf []icebergapi.PartitionField
	for _, f := range spec.Fields() {
		pf = append(pf, f)
	}
	tsID := fieldID(t, tbl, "ts")
	if len(pf) != 1 || pf[0].FieldID != 1000 || pf[0].Name != "ts_day" || pf[0].SourceID() != tsID ||
		pf[0].Transform.String() != "day" {
		t.Fatalf("partition spec: %v (ts is field %d)", spec, tsID)
	}
	// Two commits of five days each: ten files, one day apiece.
	perDay := map[int]int{}
	for _, task := range tasks {
		df := task.File
		day := dayOf(t, df.Partition()[1000])
		lo, hi := tsBound(t, df.LowerBoundValues()[tsID]), tsBound(t, df.UpperBoundValues()[tsID])
		dayStart := int64(day) * 86400e6
		if lo < dayStart || hi >= dayStart+86400e6 {
			t.Fatalf("file %s of day %d holds ts from %d to %d", df.FilePath(), day, lo, hi)
		}
		perDay[day]++
	}
	if len(tasks) != 2*days || len(perDay) != days {
		t.Fatalf("%d files over %d days, want %d over %d: %v", len(tasks), len(perDay), 2*days, days, perDay)
	}

	// A filter on ts prunes by partition: only 2024-03-12's files are planned.
	day12 := time.Date(2024, 3, 12, 0, 0, 0, 0, time.UTC)
	filter := icebergapi.NewAnd(
		icebergapi.GreaterThanEqual(icebergapi.Reference("ts"), icebergapi.Timestamp(day12.UnixMicro())),
		icebergapi.LessThan(icebergapi.Reference("ts"), icebergapi.Timestamp(day12.Add(24*time.Hour).UnixMicro())))
	_, pruned := planFiles(t, comp, ident, filter)
	if len(pruned) != 2 {
		t.Fatalf("a one-day filter planned %d files, want 2", len(pruned))
	}
	for _, task := range pruned {
		if d := dayOf(t, task.File.Partition()[1000]); d != int(day12.Unix()/86400) {
			t.Fatalf("a filter on 2024-03-12 planned a file of day %d", d)
		}
	}
	equalRows(t, "rows of 2024-03-12", filteredRows(t, tbl, filter, cols...),
		selectRows(t, c, q+` WHERE ts >= '2024-03-12' AND ts < '2024-03-13'`))

	// Tiered reads go through the same files: every event, in LSN order.
	td, ok := srv.Log.Catalog().Lookup("public", "clicks")
	if !ok {
		t.Fatal("no table clicks")
	}
	var got int
	var last uint64
	if err := comp.ColdReader().Events(td, 0, srv.Log.Stats().DurableLSN, func(e *log.Event) error {
		if e.LSN <= last {
			return fmt.Errorf("LSN %d after %d", e.LSN, last)
		}
		last = e.LSN
		got++
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if got != n {
		t.Fatalf("cold reader returned %d events, want %d", got, n)
	}
}

// TestPartitionedKeyed partitions a keyed table by identity(region) and
// moves rows between regions, deletes some, adds a column, and checks that the state and
// change-log tables both carry the spec, every state file holds a single
// region, and both tables equal what SELECT (and the event count) say.
func TestPartitionedKeyed(t *testing.T) {
	srv := strandtest.Start(t, "")
	c := srv.Connect(t)
	comp := newCompactor(t, srv, t.TempDir(), nil)
	ctx := context.Background()
	exec(t, c, `CREATE TABLE acct (id bigint PRIMARY KEY, region text, balance integer) WITH (partition_by = 'identity(region)')`)
	state := table.Identifier{"public", "acct"}
	changes := table.Identifier{"public", "acct" + iceberg.ChangesSuffix}
	regions := []string{"eu", "us", "apac"}
	events := 0
	for round := 0; round < 3; round++ {
		var vals []string
		for i := 0; i < 90; i++ {
			vals = append(vals, fmt.Sprintf("(%d, '%s', %d)", round*30+i, regions[(i+round)%3], i))
		}
		tag, err := c.Exec(ctx, `INSERT INTO acct (id, region, balance) VALUES `+join(vals)+` ON CONFLICT (id) DO UPDATE SET region = excluded.region, balance = acct.balance + 1`)
		if err != nil {
			t.Fatal(err)
		}
		events += int(tag.RowsAffected())
		tag, err = c.Exec(ctx, fmt.Sprintf(`DELETE FROM acct WHERE id %% 11 = %d`, round))
		if err != nil {
			t.Fatal(err)
		}
		events += int(tag.RowsAffected())
		if round == 1 {
			// Schema evolution of a partitioned table keeps its spec.
			exec(t, c, `ALTER TABLE acct ADD COLUMN note text`, `UPDATE acct SET note = 'n' WHERE id % 4 = 0`)
			tag, err := c.Exec(ctx, `SELECT 1 FROM acct WHERE id % 4 = 0`)
			if err != nil {
				t.Fatal(err)
			}
			events += int(tag.RowsAffected())
		}
		if err := comp.CompactOnce(ctx); err != nil {
			t.Fatal(err)
		}
		equalRows(t, fmt.Sprintf("state round %d", round), scanRows(t, comp, state, "id", "region", "balance"),
			selectRows(t, c, `SELECT id, region, balance FROM acct`))
		if got := len(scanRows(t, comp, changes, "id", "_version")); got != events {
			t.Fatalf("round %d: change log has %d events, want %d", round, got, events)
		}
	}
	for _, ident := range []table.Identifier{state, changes} {
		tbl, tasks := planFiles(t, comp, ident, nil)
		spec := tbl.Spec()
		regionID := fieldID(t, tbl, "region")
		fs := spec.FieldsBySourceID(regionID)
		if spec.NumFields() != 1 || len(fs) != 1 || fs[0].Name != "region" || fs[0].Transform.String() != "identity" || fs[0].FieldID != 1000 {
			t.Fatalf("%v: partition spec %v", ident, spec)
		}
		f := fs[0]
		for _, task := range tasks {
			v := task.File.Partition()[f.FieldID]
			lo, hi := task.File.LowerBoundValues()[regionID], task.File.UpperBoundValues()[regionID]
			if v == nil && lo != nil || v != nil && (string(lo) != fmt.Sprint(v) || string(hi) != fmt.Sprint(v)) {
				t.Fatalf("%v: file of partition %v holds regions %q..%q", ident, v, lo, hi)
			}
		}
	}
	// One region's rows, read with a pruning filter, equal SELECT's.
	tbl, tasks := planFiles(t, comp, state, icebergapi.EqualTo(icebergapi.Reference("region"), "us"))
	if len(tasks) != 1 {
		t.Fatalf("region = 'us' planned %d state files, want 1", len(tasks))
	}
	equalRows(t, "region us", filteredRows(t, tbl, icebergapi.EqualTo(icebergapi.Reference("region"), "us"), "id", "region", "balance"),
		selectRows(t, c, `SELECT id, region, balance FROM acct WHERE region = 'us'`))
}

// TestPartitionTransforms covers several fields at once, with bucket,
// truncate and month: the spec has them in order with ids from 1000, and
// the rows (and a bucket-pruned lookup) equal SELECT.
func TestPartitionTransforms(t *testing.T) {
	srv := strandtest.Start(t, "")
	c := srv.Connect(t)
	comp := newCompactor(t, srv, t.TempDir(), nil)
	ctx := context.Background()
	exec(t, c, `CREATE TABLE m (id bigint, name text, d date) WITH (partition_by = 'bucket(4, id), truncate(2, name), month(d)')`)
	var vals []string
	for i := 0; i < 200; i++ {
		vals = append(vals, fmt.Sprintf("(%d, '%c%c-%d', '2024-%02d-15')", i, 'a'+i%3, 'a'+i%2, i, 1+i%3))
	}
	vals = append(vals, "(1000, NULL, NULL)")
	exec(t, c, "INSERT INTO m VALUES "+join(vals))
	if err := comp.CompactOnce(ctx); err != nil {
		t.Fatal(err)
	}
	ident := table.Identifier{"public", "m"}
	cols := []string{"id", "name", "d"}
	equalRows(t, "whole table", scanRows(t, comp, ident, cols...), selectRows(t, c, `SELECT id, name, d FROM m`))
	tbl, tasks := planFiles(t, comp, ident, nil)
	var names []string
	var ids []int
	spec := tbl.Spec()
	for _, f := range spec.Fields() {
		names = append(names, f.Transform.String()+":"+f.Name)
		ids = append(ids, f.FieldID)
	}
	if !slices.Equal(names, []string{"bucket[4]:id_bucket", "truncate[2]:name_trunc", "month:d_month"}) || !slices.Equal(ids, []int{1000, 1001, 1002}) {
		t.Fatalf("partition spec: %v %v", names, ids)
	}
	seen := map[string]bool{}
	for _, task := range tasks {
		k := fmt.Sprint(task.File.Partition())
		if seen[k] {
			t.Fatalf("two files of partition %s in one commit", k)
		}
		seen[k] = true
	}
	filter := icebergapi.EqualTo(icebergapi.Reference("id"), int64(42))
	_, pruned := planFiles(t, comp, ident, filter)
	if len(pruned) == 0 || len(pruned) >= len(tasks) {
		t.Fatalf("id = 42 planned %d of %d files", len(pruned), len(tasks))
	}
	equalRows(t, "id 42", filteredRows(t, tbl, filter, cols...), selectRows(t, c, `SELECT id, name, d FROM m WHERE id = 42`))
}

// TestPartitionByErrors: a bad spec fails the CREATE with the SQLSTATE of
// its fault, and a partition source column cannot be dropped.
func TestPartitionByErrors(t *testing.T) {
	srv := strandtest.Start(t, "")
	c := srv.Connect(t)
	for _, tc := range []struct{ spec, code string }{
		{"day(nosuch)", "42703"},
		{"nosuch", "42703"},
		{"day(name)", "22023"},
		{"hour(d)", "22023"},
		{"frob(ts)", "22023"},
		{"bucket(0, id)", "22023"},
		{"bucket(id)", "22023"},
		{"truncate(x, name)", "22023"},
		{"day(ts", "22023"},
		{"day(ts),", "22023"},
		{"", "22023"},
		{"day(ts), day(ts)", "22023"},
	} {
		wantCode(t, c, fmt.Sprintf(`CREATE TABLE bad (id bigint, name text, d date, ts timestamptz) WITH (partition_by = '%s')`, tc.spec), tc.code)
	}
	exec(t, c, `CREATE TABLE good (id bigint, name text, ts timestamptz) WITH (partition_by = 'hour(ts), name')`)
	wantCode(t, c, `ALTER TABLE good DROP COLUMN ts`, "2BP01")
	wantCode(t, c, `ALTER TABLE good SET (partition_by = 'day(ts)')`, "22023")
	exec(t, c, `ALTER TABLE good DROP COLUMN id`)
}

func fieldID(t *testing.T, tbl *table.Table, name string) int {
	t.Helper()
	f, ok := tbl.Schema().FindFieldByName(name)
	if !ok {
		t.Fatalf("%v has no column %q", tbl.Identifier(), name)
	}
	return f.ID
}

// arrowRows renders the named columns of an Arrow table as SELECT prints
// them, sorted.
func arrowRows(t *testing.T, at arrow.Table, cols []string) []string {
	t.Helper()
	idx := make([]int, len(cols))
	for i, name := range cols {
		found := at.Schema().FieldIndices(name)
		if len(found) != 1 {
			t.Fatalf("no column %q in %s", name, at.Schema())
		}
		idx[i] = found[0]
	}
	var out []string
	tr := array.NewTableReader(at, 1024)
	defer tr.Release()
	for tr.Next() {
		rec := tr.RecordBatch()
		for r := 0; r < int(rec.NumRows()); r++ {
			parts := make([]string, len(cols))
			for i, c := range idx {
				parts[i] = pgText(rec.Column(c), r)
			}
			out = append(out, strings.Join(parts, "|"))
		}
	}
	if err := tr.Err(); err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

func join(vals []string) string { return strings.Join(vals, ", ") }

// TestPartitionedMerge: small files are merged per partition only. Three
// commits over two days leave three small files per day; with MergeFiles 3
// each day's files become one, which still holds only that day, and the
// rows still equal SELECT.
func TestPartitionedMerge(t *testing.T) {
	srv := strandtest.Start(t, "")
	c := srv.Connect(t)
	comp, err := iceberg.New(srv.Log, iceberg.Options{Warehouse: t.TempDir(), MergeFiles: 3})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	exec(t, c, `SET TimeZone = 'UTC'`,
		`CREATE TABLE ev (id bigint, ts timestamptz) WITH (partition_by = 'day(ts)')`)
	ident := table.Identifier{"public", "ev"}
	for round := 0; round < 3; round++ {
		var vals []string
		for i := 0; i < 50; i++ {
			vals = append(vals, fmt.Sprintf("(%d, '2024-07-%02d 12:%02d:00+00')", round*50+i, 1+i%2, i))
		}
		exec(t, c, "INSERT INTO ev VALUES "+join(vals))
		if err := comp.CompactOnce(ctx); err != nil {
			t.Fatal(err)
		}
	}
	equalRows(t, "merged table", scanRows(t, comp, ident, "id", "ts"), selectRows(t, c, `SELECT id, ts FROM ev`))
	tbl, tasks := planFiles(t, comp, ident, nil)
	if tbl.CurrentSnapshot().Summary.Properties[iceberg.PropOperation] != "merge" {
		t.Fatalf("no merge snapshot: %v", tbl.CurrentSnapshot().Summary)
	}
	tsID := fieldID(t, tbl, "ts")
	perDay := map[int]int{}
	for _, task := range tasks {
		day := dayOf(t, task.File.Partition()[1000])
		lo, hi := tsBound(t, task.File.LowerBoundValues()[tsID]), tsBound(t, task.File.UpperBoundValues()[tsID])
		if lo < int64(day)*86400e6 || hi >= int64(day+1)*86400e6 {
			t.Fatalf("merged file of day %d holds ts from %d to %d", day, lo, hi)
		}
		perDay[day]++
	}
	if len(perDay) != 2 || len(tasks) != 2 {
		t.Fatalf("after merging: %d files over days %v", len(tasks), perDay)
	}
}
