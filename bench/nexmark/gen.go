// Package nexmark is a seeded Go port of the Nexmark event generator (the
// one Flink's and RisingWave's Nexmark benchmarks use) and the Nexmark
// queries q0–q8 written as Strand materialized views.
//
// The generator follows the reference NexmarkGenerator's rules: event n is
// a person, an auction or a bid by n mod 50 (1:3:46); ids are dense and
// derived from n, so a bid names an auction and a bidder that exist (or
// are a few ids ahead, as in the reference, which lets some bids precede
// their auction); half the bids go to the hot auction of the last 100,
// three quarters of auctions to the hot seller of the last 100 people and
// three quarters of bids to the hot bidder; prices are 100·10^U(0,6) cents;
// auction lengths average the time until 100 more auctions exist; the
// "extra" column pads each event to the reference's average sizes (person
// 200, auction 500, bid 100 bytes). Event n's time is BaseTime + n /
// EventsPerSecond, truncated to milliseconds as in the reference. Each
// event draws from its own random stream, seeded by (Seed, n), so event n
// is the same whatever was generated before it.
package nexmark

import (
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
)

// Proportions of the event kinds, out of proportionDenominator events.
const (
	personProportion      = 1
	auctionProportion     = 3
	bidProportion         = 46
	proportionDenominator = personProportion + auctionProportion + bidProportion

	firstPersonID   = 1000
	firstAuctionID  = 1000
	firstCategoryID = 10
	numCategories   = 5

	hotAuctionRatio  = 100 // the hot auction is the first of each 100
	hotSellerRatio   = 100
	hotBidderRatio   = 100
	hotChannelsRatio = 2
	channelsNumber   = 10_000

	personIDLead  = 10
	auctionIDLead = 10
	minStringLen  = 3
)

var (
	usStates    = []string{"AZ", "CA", "ID", "OR", "WA", "WY"}
	usCities    = []string{"Phoenix", "Los Angeles", "San Francisco", "Boise", "Portland", "Bend", "Redmond", "Seattle", "Kent", "Cheyenne"}
	firstNames  = []string{"Peter", "Paul", "Luke", "John", "Saul", "Vicky", "Kate", "Julie", "Sarah", "Deiter", "Walter"}
	lastNames   = []string{"Shultz", "Abrams", "Spencer", "White", "Bartels", "Walton", "Smith", "Jones", "Noris"}
	hotChannels = []string{"Google", "Facebook", "Baidu", "Apple"}
	hotURLs     = []string{
		"https://www.nexmark.com/googl/item.htm?query=1",
		"https://www.nexmark.com/faceb/item.htm?query=1",
		"https://www.nexmark.com/baidu/item.htm?query=1",
		"https://www.nexmark.com/apple/item.htm?query=1",
	}
)

// Config chooses the stream. The zero value of a field means the
// reference's default.
type Config struct {
	Seed uint64
	// BaseTime is the first event's time (default 2024-01-01 00:00 UTC).
	BaseTime time.Time
	// EventsPerSecond spaces the events' times (default 10,000, the
	// reference's first_event_rate).
	EventsPerSecond int
	// InFlightAuctions (default 100) and ActivePeople (default 1,000)
	// bound the ids a random bid, auction or seller picks from.
	InFlightAuctions int64
	ActivePeople     int64
	// Average sizes the extra column pads each kind to (defaults 200, 500
	// and 100 bytes).
	AvgPersonBytes, AvgAuctionBytes, AvgBidBytes int
}

// Kind is an event's kind.
type Kind uint8

const (
	PersonEvent Kind = iota
	AuctionEvent
	BidEvent
)

// Person is a new user.
type Person struct {
	ID                                   int64
	Name, Email, CreditCard, City, State string
	DateTime                             time.Time
	Extra                                string
}

// Auction is a new item for sale.
type Auction struct {
	ID                  int64
	ItemName, Desc      string
	InitialBid, Reserve int64
	DateTime, Expires   time.Time
	Seller, Category    int64
	Extra               string
}

// Bid is a bid on an auction.
type Bid struct {
	Auction, Bidder, Price int64
	Channel, URL           string
	DateTime               time.Time
	Extra                  string
}

// Event is one generated event; the field of its Kind is set.
type Event struct {
	Kind    Kind
	Person  Person
	Auction Auction
	Bid     Bid
}

// Generator produces the events in order.
type Generator struct {
	cfg  Config
	next int64
	src  *rand.PCG
	rng  *rand.Rand
}

// NewGenerator makes a generator positioned at event 0.
func NewGenerator(cfg Config) *Generator {
	if cfg.BaseTime.IsZero() {
		cfg.BaseTime = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	if cfg.EventsPerSecond == 0 {
		cfg.EventsPerSecond = 10_000
	}
	if cfg.InFlightAuctions == 0 {
		cfg.InFlightAuctions = 100
	}
	if cfg.ActivePeople == 0 {
		cfg.ActivePeople = 1000
	}
	if cfg.AvgPersonBytes == 0 {
		cfg.AvgPersonBytes = 200
	}
	if cfg.AvgAuctionBytes == 0 {
		cfg.AvgAuctionBytes = 500
	}
	if cfg.AvgBidBytes == 0 {
		cfg.AvgBidBytes = 100
	}
	src := rand.NewPCG(0, 0)
	return &Generator{cfg: cfg, src: src, rng: rand.New(src)}
}

// Count is how many events have been generated.
func (g *Generator) Count() int64 { return g.next }

// Next fills e with the next event.
func (g *Generator) Next(e *Event) {
	n := g.next
	g.next++
	g.src.Seed(g.cfg.Seed, uint64(n))
	ts := g.timestamp(n)
	switch off := n % proportionDenominator; {
	case off < personProportion:
		e.Kind = PersonEvent
		g.person(n, ts, &e.Person)
	case off < personProportion+auctionProportion:
		e.Kind = AuctionEvent
		g.auction(n, ts, &e.Auction)
	default:
		e.Kind = BidEvent
		g.bid(n, ts, &e.Bid)
	}
}

// timestamp is event n's time, in whole milliseconds as in the reference.
func (g *Generator) timestamp(n int64) time.Time {
	us := n * 1_000_000 / int64(g.cfg.EventsPerSecond)
	return g.cfg.BaseTime.Add(time.Duration(us/1000) * time.Millisecond)
}

func (g *Generator) person(n int64, ts time.Time, p *Person) {
	r := g.rng
	p.ID = lastBase0PersonID(n) + firstPersonID
	p.Name = firstNames[r.IntN(len(firstNames))] + " " + lastNames[r.IntN(len(lastNames))]
	p.Email = g.nextString(7) + "@" + g.nextString(5) + ".com"
	p.CreditCard = creditCard(r)
	p.City = usCities[r.IntN(len(usCities))]
	p.State = usStates[r.IntN(len(usStates))]
	p.DateTime = ts
	size := 8 + len(p.Name) + len(p.Email) + len(p.CreditCard) + len(p.City) + len(p.State)
	p.Extra = g.nextExtra(size, g.cfg.AvgPersonBytes)
}

func creditCard(r *rand.Rand) string {
	var sb strings.Builder
	for i := 0; i < 4; i++ {
		if i > 0 {
			sb.WriteByte(' ')
		}
		s := strconv.Itoa(r.IntN(10_000))
		sb.WriteString(strings.Repeat("0", 4-len(s)) + s)
	}
	return sb.String()
}

func (g *Generator) auction(n int64, ts time.Time, a *Auction) {
	r := g.rng
	a.ID = lastBase0AuctionID(n) + firstAuctionID
	// Three sellers in four are the hot seller of the last 100 people.
	if r.IntN(4) > 0 {
		a.Seller = (lastBase0PersonID(n) / hotSellerRatio) * hotSellerRatio
	} else {
		a.Seller = g.nextBase0PersonID(n)
	}
	a.Seller += firstPersonID
	a.Category = firstCategoryID + int64(r.IntN(numCategories))
	a.InitialBid = nextPrice(r)
	a.DateTime = ts
	a.Expires = ts.Add(time.Duration(g.nextAuctionLengthMs(n, ts)) * time.Millisecond)
	a.ItemName = g.nextString(20)
	a.Desc = g.nextString(100)
	a.Reserve = a.InitialBid + nextPrice(r)
	size := 8 + len(a.ItemName) + len(a.Desc) + 8 + 8 + 8 + 8 + 8
	a.Extra = g.nextExtra(size, g.cfg.AvgAuctionBytes)
}

func (g *Generator) bid(n int64, ts time.Time, b *Bid) {
	r := g.rng
	// Half the bids go to the hot auction of the last 100 auctions.
	if r.IntN(2) > 0 {
		b.Auction = (lastBase0AuctionID(n) / hotAuctionRatio) * hotAuctionRatio
	} else {
		b.Auction = g.nextBase0AuctionID(n)
	}
	b.Auction += firstAuctionID
	// Three bidders in four are the hot bidder (the second person of each
	// 100, so hot bidders and hot sellers differ).
	if r.IntN(4) > 0 {
		b.Bidder = (lastBase0PersonID(n)/hotBidderRatio)*hotBidderRatio + 1
	} else {
		b.Bidder = g.nextBase0PersonID(n)
	}
	b.Bidder += firstPersonID
	b.Price = nextPrice(r)
	if r.IntN(hotChannelsRatio) > 0 {
		i := r.IntN(len(hotChannels))
		b.Channel, b.URL = hotChannels[i], hotURLs[i]
	} else {
		c := r.IntN(channelsNumber)
		b.Channel = "channel-" + strconv.Itoa(c)
		b.URL = "https://www.nexmark.com/" + g.nextString(5) + "/" + g.nextString(5) + "/item.htm?query=1&channel_id=" + strconv.Itoa(c)
	}
	b.DateTime = ts
	b.Extra = g.nextExtra(32, g.cfg.AvgBidBytes)
}

// lastBase0PersonID is the id (from 0) of the last person at or before
// event n.
func lastBase0PersonID(n int64) int64 {
	epoch, off := n/proportionDenominator, n%proportionDenominator
	if off >= personProportion {
		off = personProportion - 1
	}
	return epoch*personProportion + off
}

// lastBase0AuctionID is the id (from 0) of the last auction at or before
// event n.
func lastBase0AuctionID(n int64) int64 {
	epoch, off := n/proportionDenominator, n%proportionDenominator
	switch {
	case off < personProportion:
		epoch--
		off = auctionProportion - 1
	case off >= personProportion+auctionProportion:
		off = auctionProportion - 1
	default:
		off -= personProportion
	}
	return epoch*auctionProportion + off
}

// nextBase0PersonID picks one of the active people, or one a few ids
// ahead.
func (g *Generator) nextBase0PersonID(n int64) int64 {
	numPeople := lastBase0PersonID(n) + 1
	active := min(numPeople, g.cfg.ActivePeople)
	return numPeople - active + g.rng.Int64N(active+personIDLead)
}

// nextBase0AuctionID picks one of the auctions in flight, or one a few
// ids ahead.
func (g *Generator) nextBase0AuctionID(n int64) int64 {
	maxAuction := lastBase0AuctionID(n)
	minAuction := max(maxAuction-g.cfg.InFlightAuctions, 0)
	return minAuction + g.rng.Int64N(maxAuction-minAuction+1+auctionIDLead)
}

// nextAuctionLengthMs averages the time until InFlightAuctions more
// auctions have been generated.
func (g *Generator) nextAuctionLengthMs(n int64, ts time.Time) int64 {
	eventsForAuctions := g.cfg.InFlightAuctions * proportionDenominator / auctionProportion
	horizon := g.timestamp(n + eventsForAuctions).Sub(ts).Milliseconds()
	return 1 + g.rng.Int64N(max(horizon*2, 1))
}

// nextPrice is 10^U(0,6) dollars in cents.
func nextPrice(r *rand.Rand) int64 {
	return int64(math.Round(math.Pow(10, r.Float64()*6) * 100))
}

// nextString is 3 to maxLen-1 lowercase letters with about one space in
// 13, trimmed.
func (g *Generator) nextString(maxLen int) string {
	r := g.rng
	n := minStringLen + r.IntN(maxLen-minStringLen)
	b := make([]byte, n)
	for i := range b {
		if r.IntN(13) == 0 {
			b[i] = ' '
		} else {
			b[i] = byte('a' + r.IntN(26))
		}
	}
	return strings.TrimSpace(string(b))
}

// nextExtra pads an event of size bytes towards avg bytes, ±20%.
func (g *Generator) nextExtra(size, avg int) string {
	if size > avg {
		return ""
	}
	avg -= size
	delta := int(math.Round(float64(avg) * 0.2))
	n := avg - delta
	if delta > 0 {
		n += g.rng.IntN(2 * delta)
	}
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('a' + g.rng.IntN(26))
	}
	return string(b)
}
