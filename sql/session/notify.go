package session

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"sync"

	"github.com/strand-db/strand/log"

	"github.com/strand-db/strand/sql"
	"github.com/strand-db/strand/sql/pgerr"
)

// LISTEN/NOTIFY as in PostgreSQL: NOTIFY outside a transaction block is
// delivered at once to every session listening on the channel (including
// the sender); inside a block it is delivered when the block commits, and
// dropped when it rolls back. Identical notifications of one transaction
// are sent once.

// listeners is the engine's registry of listening sessions.
type listeners struct {
	mu       sync.Mutex
	channels map[string]map[*Session]bool
	// tables starts the table notifier at the first LISTEN.
	tables sync.Once
}

func (e *Engine) listen(s *Session, channel string) {
	e.notify.tables.Do(e.startTableNotifier)
	e.notify.mu.Lock()
	defer e.notify.mu.Unlock()
	if e.notify.channels == nil {
		e.notify.channels = map[string]map[*Session]bool{}
	}
	if e.notify.channels[channel] == nil {
		e.notify.channels[channel] = map[*Session]bool{}
	}
	e.notify.channels[channel][s] = true
}

func (e *Engine) unlisten(s *Session, channel string, all bool) {
	e.notify.mu.Lock()
	defer e.notify.mu.Unlock()
	for ch, set := range e.notify.channels {
		if all || ch == channel {
			delete(set, s)
			if len(set) == 0 {
				delete(e.notify.channels, ch)
			}
		}
	}
}

func (e *Engine) deliver(pid uint32, channel, payload string) {
	e.notify.mu.Lock()
	var to []*Session
	for s := range e.notify.channels[channel] {
		to = append(to, s)
	}
	e.notify.mu.Unlock()
	for _, s := range to {
		s.info.Client.Notify(pid, channel, payload)
	}
}

type pendingNotify struct{ channel, payload string }

func (s *Session) notifyStatement(n *sql.Notify) error {
	if len(n.Payload) >= 8000 {
		return pgerr.New(pgerr.InvalidParameterValue, "payload string too long")
	}
	if n.Channel == "" {
		return pgerr.New(pgerr.InvalidParameterValue, "channel name cannot be empty")
	}
	if s.txn == nil {
		s.eng.deliver(s.info.ProcessID, n.Channel, n.Payload)
		return nil
	}
	for _, p := range s.notifies {
		if p.channel == n.Channel && p.payload == n.Payload {
			return nil
		}
	}
	s.notifies = append(s.notifies, pendingNotify{n.Channel, n.Payload})
	return nil
}

// flushNotifies delivers a committed transaction's notifications.
func (s *Session) flushNotifies(committed bool) {
	if committed {
		for _, p := range s.notifies {
			s.eng.deliver(s.info.ProcessID, p.channel, p.payload)
		}
	}
	s.notifies = nil
}

// Table notifications: a table with the option notify = 'channel' (CREATE
// TABLE ... WITH (notify = 'c') or ALTER TABLE ... SET (notify = 'c'))
// notifies that channel after each commit that wrote it, whoever wrote it
// (INSERT, COPY, a transaction), once per table and commit. The payload is
// JSON: {"table": "schema.name", "position": <the commit's last LSN for the
// table>, "changes": <events the commit wrote to it>}. The sending PID is
// 0: the server, not a session.
//
// One goroutine per engine follows the log through a subscription whose
// table set is "every table with a notify option" (decided on the catalog
// at each commit, so SET/RESET take effect at their commit): the log's
// router hands it only those tables' events. It starts at the first LISTEN
// (nobody could have received earlier notifications) and ends with the log.
// Events of one commit share their commit time and have consecutive LSNs,
// which is how the notifier tells commits apart.

func (e *Engine) startTableNotifier() {
	snap := e.Log.Snapshot()
	from := snap.LSN()
	snap.Release()
	sub, err := e.Log.Subscribe(log.SubscriptionSpec{
		TableFilter: func(td *log.TableDesc) bool { return td.Options["notify"] != "" },
		From:        from,
	})
	if err != nil {
		e.Logger.Error("table notifications unavailable", slog.Any("err", err))
		return
	}
	go e.notifyTables(sub)
}

type tableNotice struct {
	Table    string `json:"table"`
	Position uint64 `json:"position"`
	Changes  int    `json:"changes"`
}

func (e *Engine) notifyTables(sub *log.Subscription) {
	defer sub.Close()
	for {
		evs, err := sub.Next(context.Background(), 4096)
		if err != nil {
			if !errors.Is(err, log.ErrSubscriptionClosed) {
				e.Logger.Error("table notifications stopped", slog.Any("err", err))
			}
			return
		}
		cat := e.Log.Catalog()
		// A run of events with one commit time and consecutive LSNs is
		// one commit; within it, one notice per table.
		for i := 0; i < len(evs); {
			j := i + 1
			for j < len(evs) && evs[j].CommitTime == evs[i].CommitTime && evs[j].LSN == evs[j-1].LSN+1 {
				j++
			}
			var order []log.TableID
			notices := map[log.TableID]*tableNotice{}
			for _, ev := range evs[i:j] {
				n := notices[ev.Table]
				if n == nil {
					td, ok := cat.Table(ev.Table)
					if !ok || td.Options["notify"] == "" {
						continue
					}
					n = &tableNotice{Table: td.Schema + "." + td.Name}
					notices[ev.Table] = n
					order = append(order, ev.Table)
				}
				n.Position = ev.LSN
				n.Changes++
			}
			for _, t := range order {
				td, _ := cat.Table(t)
				payload, _ := json.Marshal(notices[t])
				e.deliver(0, td.Options["notify"], string(payload))
			}
			i = j
		}
	}
}
