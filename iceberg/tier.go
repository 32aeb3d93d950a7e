package iceberg

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/strand-db/strand/log"
)

// Tiering: after each compaction pass, the events of a table that are in a
// durable Iceberg commit and older than the table's local retention leave
// the log (log/retention.go has the mechanism and the read side):
//
//  1. The new floor F is the LSN of the newest event with LSN <= W (the
//     watermark of the Iceberg table holding the events: the stream's
//     table, or a keyed table's change log) committed more than the local
//     retention ago. W is read from the compactor's own committed table, so
//     every event up to F is in a commit that is already durable (the
//     commit is the create-if-absent of the metadata file, fsynced or
//     PUT).
//  2. log.RaiseTierFloors records F in the table's catalog entry, through
//     the sequencer (durable before it returns; one catalog change for all
//     tables of the pass).
//  3. log.DropTiered deletes the events up to F and their version-index
//     entries from Pebble, and publishes a snapshot without them (one more
//     catalog change, empty). A crash between 2 and 3 leaves them there;
//     the next pass deletes them (DropTiered runs whenever a floor is set).
//
// Key heads (a keyed table's current rows) stay in Pebble. Reads of tiered
// events go through ColdReader.

// TableOptionLocalRetention is the table option (CREATE TABLE ... WITH
// (local_retention = '1h')) that overrides Options.Tiering for one table:
// a Go duration ('0s', '90m', '24h') or 'off'.
const TableOptionLocalRetention = "local_retention"

// Tiering says when compacted events leave the local log.
type Tiering struct {
	// On tiers every table without a local_retention option.
	On bool
	// LocalRetention keeps events younger than this in the log even once
	// they are in Iceberg (0: tier everything compacted).
	LocalRetention time.Duration
}

// retentionOf is the local retention of td: on reports whether its events
// are tiered at all.
func (c *Compactor) retentionOf(td *log.TableDesc) (keep time.Duration, on bool, err error) {
	v, ok := td.Options[TableOptionLocalRetention]
	if !ok {
		return c.opts.Tiering.LocalRetention, c.opts.Tiering.On, nil
	}
	if v == "off" {
		return 0, false, nil
	}
	keep, err = time.ParseDuration(v)
	if err != nil || keep < 0 {
		return 0, false, fmt.Errorf("table option %s = %q: want a duration such as '1h' or 'off'", TableOptionLocalRetention, v)
	}
	return keep, true, nil
}

// describeRetention is the retention as the status shows it.
func (c *Compactor) describeRetention(td *log.TableDesc) string {
	keep, on, err := c.retentionOf(td)
	switch {
	case err != nil:
		return "invalid"
	case !on:
		return "off"
	}
	return keep.String()
}

// afterPass runs after every compaction pass: it counts each table's
// events not yet in Iceberg and tiers what retention allows, with one
// catalog change raising every table's floor and one publishing the
// deletions.
func (c *Compactor) afterPass(ctx context.Context, snap *log.Snapshot, now time.Time) error {
	type tableTier struct {
		td      *log.TableDesc
		ts      *tableState
		lagRows int64
		floor   uint64
		err     error
	}
	var tables []*tableTier
	raise := map[log.TableID]uint64{}
	var drop []log.TableID
	for _, td := range snap.Catalog().SortedTables() {
		if td.Kind != log.Stream && td.Kind != log.Keyed {
			continue
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		c.mu.Lock()
		ts, ok := c.mu.tables[td.ID]
		var wm uint64
		if ok {
			wm = ts.status.Watermark
		}
		c.mu.Unlock()
		if !ok {
			continue
		}
		tt := &tableTier{td: td, ts: ts, floor: td.TierFloor}
		tables = append(tables, tt)
		_ = snap.Events(td.ID, max(wm, td.TierFloor), func(*log.Event) error { tt.lagRows++; return nil })
		next, err := c.nextFloor(snap, td, ts, now)
		if err != nil {
			tt.err = err
			continue
		}
		if next > td.TierFloor {
			raise[td.ID], tt.floor = next, next
		}
		if tt.floor > 0 {
			// Also when tiering was turned off since: finish what a crash
			// (or the last pass) left undone below the floor.
			drop = append(drop, td.ID)
		}
	}
	// The floors are durable before anything below them is deleted.
	err := c.log.RaiseTierFloors(ctx, raise)
	if err == nil {
		var n int
		n, err = c.log.DropTiered(ctx, drop...)
		if n > 0 {
			c.opts.Logger.Debug("iceberg: tiered events out of the log", slog.Int("tables", len(drop)), slog.Int("events", n))
		}
	}
	if err != nil {
		err = fmt.Errorf("tier: %w", err)
	}
	first := err
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, tt := range tables {
		st := &tt.ts.status
		st.LagRows, st.LocalRetention = tt.lagRows, c.describeRetention(tt.td)
		if err == nil {
			st.TierFloor = tt.floor
		} else {
			st.TierFloor = tt.td.TierFloor
		}
		e := tt.err
		if e == nil && err != nil && tt.floor > 0 {
			e = err
		}
		if e != nil {
			st.LastError = fmt.Sprintf("tier %s.%s: %v", tt.td.Schema, tt.td.Name, e)
			if first == nil {
				first = errors.New(st.LastError)
			}
		}
	}
	return first
}

// nextFloor is the floor retention allows for td now: the newest event at
// or below the watermark of the table's committed Iceberg table of events
// and older than the retention (td's current floor when none is newer, or
// tiering is off).
func (c *Compactor) nextFloor(snap *log.Snapshot, td *log.TableDesc, ts *tableState, now time.Time) (uint64, error) {
	floor := td.TierFloor
	keep, on, err := c.retentionOf(td)
	if err != nil || !on {
		return floor, err
	}
	sh := shapeStream
	if td.Kind == log.Keyed {
		sh = shapeChanges
	}
	tg := ts.target(sh)
	if tg == nil || tg.tbl == nil {
		return floor, nil // not loaded (or failed this pass): nothing known durable
	}
	wm, err := watermark(tg.tbl)
	if err != nil {
		return floor, err
	}
	cutoff := now.Add(-keep).UnixMicro()
	next := floor
	err = snap.Events(td.ID, floor, func(e *log.Event) error {
		if e.LSN > wm || e.CommitTime > cutoff {
			return log.ErrStop
		}
		next = e.LSN
		return nil
	})
	return next, err
}
