package sql

import (
	"fmt"
	"testing"
)

// TestParseConsumerGroups covers the consumer-group statements and their
// syntax errors.
func TestParseConsumerGroups(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`CREATE CONSUMER GROUP g FOR SUBSCRIBE orders`, `create g if=false opts=[] target=orders sub=[]`},
		{`create consumer group if not exists s.g with (max_attempts = 3, lease = '2s', on_failure = block) for subscribe to orders with (start = 'now')`,
			`create s.g if=true opts=[{max_attempts 3} {lease 2s} {on_failure block}] target=orders sub=[{start now}]`},
		{`DROP CONSUMER GROUP IF EXISTS s.g`, `drop s.g if=true`},
		{`FETCH 10 FROM GROUP g WITH (timeout = '1s')`, `fetch g n=10 all=false opts=[{timeout 1s}]`},
		{`FETCH ALL IN GROUP s.g`, `fetch s.g n=0 all=true opts=[]`},
		{`FETCH FROM GROUP g`, `fetch g n=1 all=false opts=[]`},
		{`ACK GROUP g ('orders', 'a/b', 3), (public.t, 42, 1)`, `ack g nack=false all=false [{orders a/b 3  [0 0 0 0]} {public.t 42 1  [0 0 0 0]}]`},
		{`NACK GROUP g ('t', 'k', 2, 'boom')`, `ack g nack=true all=false [{t k 2 boom [0 0 0 0]}]`},
		{`ACK GROUP g ALL`, `ack g nack=false all=true []`},
		{`NACK GROUP g ($1, $2, $3, $4)`, `ack g nack=true all=false [{  0  [1 2 3 4]}]`},
	} {
		stmts, err := ParseUncached(c.in)
		if err != nil {
			t.Errorf("%s: %v", c.in, err)
			continue
		}
		var got string
		switch x := stmts[0].(type) {
		case *CreateConsumerGroup:
			got = fmt.Sprintf("create %s if=%v opts=%v target=%s sub=%v", x.Name, x.IfNotExists, x.Options, x.Subscribe.Target, x.Subscribe.Options)
		case *DropConsumerGroup:
			got = fmt.Sprintf("drop %s if=%v", x.Name, x.IfExists)
		case *FetchGroup:
			got = fmt.Sprintf("fetch %s n=%d all=%v opts=%v", x.Group, x.Count, x.All, x.Options)
		case *AckGroup:
			got = fmt.Sprintf("ack %s nack=%v all=%v %v", x.Group, x.Nack, x.All, x.Items)
		default:
			got = fmt.Sprintf("%T", x)
		}
		if got != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.in, got, c.want)
		}
	}
	for _, in := range []string{
		`CREATE CONSUMER GROUP g FOR SELECT 1`,
		`CREATE CONSUMER GROUP g SUBSCRIBE t`,
		`FETCH 1 FROM GROUP`,
		`ACK GROUP g ('t', 'k')`,
		`ACK GROUP g ('t', 'k', 0)`,
		`NACK GROUP g ALL`,
		`ACK GROUP g ('t', 'k', 1) extra`,
	} {
		if _, err := ParseUncached(in); err == nil {
			t.Errorf("%s: parsed", in)
		}
	}
	// A cursor named like a plain word still parses as a cursor FETCH.
	stmts, err := ParseUncached(`FETCH 2 FROM grouped`)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := stmts[0].(*Fetch); !ok {
		t.Fatalf("FETCH FROM grouped is %T", stmts[0])
	}
}
