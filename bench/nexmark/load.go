package nexmark

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// Tables are the three Nexmark sources, in the order a chunk is loaded
// (people before the auctions they sell, auctions before their bids).
var Tables = []string{"person", "auction", "bid"}

// Schema returns the CREATE TABLE statements. On Strand, bid is an
// append-only stream keyed by auction (bids are never updated); person and
// auction are keyed by id. PostgreSQL gets plain tables with the same
// columns.
func Schema(strand bool) []string {
	bid := `CREATE TABLE bid (auction bigint, bidder bigint, price bigint, channel text, url text, date_time timestamp, extra text)`
	if strand {
		bid += ` APPEND ONLY KEY (auction)`
	}
	return []string{
		`CREATE TABLE person (id bigint PRIMARY KEY, name text, email_address text, credit_card text, city text, state text, date_time timestamp, extra text)`,
		`CREATE TABLE auction (id bigint PRIMARY KEY, item_name text, description text, initial_bid bigint, reserve bigint, date_time timestamp, expires timestamp, seller bigint, category bigint, extra text)`,
		bid,
	}
}

// Chunk is the COPY text (PostgreSQL's text format) of consecutive events,
// one buffer per table in Tables' order.
type Chunk struct {
	Rows   [3]bytes.Buffer
	Events int
}

// Reset empties the chunk for reuse.
func (c *Chunk) Reset() {
	for i := range c.Rows {
		c.Rows[i].Reset()
	}
	c.Events = 0
}

// Fill appends the next n events to c.
func (g *Generator) Fill(c *Chunk, n int) {
	var e Event
	var buf []byte
	for i := 0; i < n; i++ {
		g.Next(&e)
		buf = buf[:0]
		var t int
		switch e.Kind {
		case PersonEvent:
			p := &e.Person
			buf = strconv.AppendInt(buf, p.ID, 10)
			buf = appendText(buf, p.Name, p.Email, p.CreditCard, p.City, p.State)
			buf = appendTime(buf, p.DateTime)
			buf = appendText(buf, p.Extra)
		case AuctionEvent:
			t = 1
			a := &e.Auction
			buf = strconv.AppendInt(buf, a.ID, 10)
			buf = appendText(buf, a.ItemName, a.Desc)
			buf = appendInts(buf, a.InitialBid, a.Reserve)
			buf = appendTime(buf, a.DateTime)
			buf = appendTime(buf, a.Expires)
			buf = appendInts(buf, a.Seller, a.Category)
			buf = appendText(buf, a.Extra)
		case BidEvent:
			t = 2
			b := &e.Bid
			buf = strconv.AppendInt(buf, b.Auction, 10)
			buf = appendInts(buf, b.Bidder, b.Price)
			buf = appendText(buf, b.Channel, b.URL)
			buf = appendTime(buf, b.DateTime)
			buf = appendText(buf, b.Extra)
		}
		buf = append(buf, '\n')
		c.Rows[t].Write(buf)
		c.Events++
	}
}

// The generated text holds letters, digits, spaces and URL punctuation,
// never a tab, newline or backslash, so no COPY escaping is needed.
func appendText(buf []byte, ss ...string) []byte {
	for _, s := range ss {
		buf = append(append(buf, '\t'), s...)
	}
	return buf
}

func appendInts(buf []byte, xs ...int64) []byte {
	for _, x := range xs {
		buf = strconv.AppendInt(append(buf, '\t'), x, 10)
	}
	return buf
}

func appendTime(buf []byte, t time.Time) []byte {
	return t.AppendFormat(append(buf, '\t'), "2006-01-02 15:04:05.000")
}

// Copy loads a chunk into a server with one COPY per table. Outside a
// transaction each COPY commits on its own.
func Copy(ctx context.Context, c *pgconn.PgConn, ch *Chunk) error {
	for i, t := range Tables {
		if ch.Rows[i].Len() == 0 {
			continue
		}
		if _, err := c.CopyFrom(ctx, bytes.NewReader(ch.Rows[i].Bytes()), "COPY "+t+" FROM STDIN"); err != nil {
			return fmt.Errorf("copy %s: %w", t, err)
		}
	}
	return nil
}
