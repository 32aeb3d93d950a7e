package subscribe

import (
	"context"
	"testing"
	"time"

	"github.com/strand-db/strand/tests/strandtest"
)

// TestListenNotify: NOTIFY reaches listeners at once outside a
// transaction, at COMMIT inside one, and never after ROLLBACK.
func TestListenNotify(t *testing.T) {
	s := strandtest.Start(t, "")
	ctx := context.Background()
	l, n := s.Connect(t), s.Connect(t)
	if _, err := l.Exec(ctx, `LISTEN orders`); err != nil {
		t.Fatal(err)
	}
	wait := func(want string) {
		t.Helper()
		wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		got, err := l.WaitForNotification(wctx)
		if err != nil {
			t.Fatalf("waiting for %q: %v", want, err)
		}
		if got.Channel != "orders" || got.Payload != want {
			t.Fatalf("got %s/%q, want orders/%q", got.Channel, got.Payload, want)
		}
	}
	n.Exec(ctx, `NOTIFY orders, 'now'`)
	wait("now")
	n.Exec(ctx, `BEGIN`)
	n.Exec(ctx, `NOTIFY orders, 'rolled back'`)
	n.Exec(ctx, `ROLLBACK`)
	n.Exec(ctx, `BEGIN`)
	n.Exec(ctx, `NOTIFY orders, 'committed'`)
	n.Exec(ctx, `NOTIFY orders, 'committed'`)
	n.Exec(ctx, `COMMIT`)
	wait("committed")
	n.Exec(ctx, `NOTIFY orders, 'last'`)
	wait("last") // 'rolled back' and the duplicate never arrived
	if _, err := l.Exec(ctx, `UNLISTEN *`); err != nil {
		t.Fatal(err)
	}
}
