package session

import (
	"sync"

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
}

func (e *Engine) listen(s *Session, channel string) {
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
