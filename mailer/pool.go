package mailer

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// pool keeps reusable SMTP connections to the relays, lowest Priority
// first; a relay that fails to connect is skipped for a while (failover).
type pool struct {
	relays  []*relayPool
	helo    string
	timeout time.Duration
	log     *slog.Logger
}

type relayPool struct {
	r     Relay
	name  string
	sem   chan struct{} // one token per open connection
	probe *chunkProbe   // how BDAT transactions are written to it

	mu        sync.Mutex
	idle      []*conn
	downUntil time.Time // failed to connect: others are tried first
	holdUntil time.Time // asked us to slow down (421): nothing is sent to it
	holdWhy   string    // the reply that asked
	penalty   int       // throttling replies since its last success
}

type conn struct {
	rp        *relayPool
	w         *wire
	msgs      int
	perDomain map[string]int
	broken    bool
	lastUsed  time.Time
	log       *slog.Logger
}

// maxIdle is how long a pooled connection may sit unused before it is
// replaced: relays drop idle clients (Postfix after 300 s), and a message
// sent into a dead connection would wait a whole retry interval.
const maxIdle = 30 * time.Second

func newPool(relays []Relay, helo string, timeout time.Duration, log *slog.Logger) *pool {
	p := &pool{helo: helo, timeout: timeout, log: log}
	for _, r := range relays {
		if r.MaxConns <= 0 {
			r.MaxConns = 4
		}
		p.relays = append(p.relays, &relayPool{
			r:     r,
			name:  net.JoinHostPort(r.Host, strconv.Itoa(r.Port)),
			sem:   make(chan struct{}, r.MaxConns),
			probe: newChunkProbe(),
		})
	}
	slices.SortStableFunc(p.relays, func(a, b *relayPool) int { return a.r.Priority - b.r.Priority })
	return p
}

// get returns a connection that may carry one more message to domain
// under lim, from the first relay (by priority) that is neither down nor
// resting at now; the last relay is tried whatever its state. Put it back
// with put.
func (p *pool) get(ctx context.Context, now time.Time, domain string, lim DomainLimit) (*conn, error) {
	if len(p.relays) == 0 {
		return nil, ErrNoRelay
	}
	var last error
	for i, rp := range p.relays {
		if (rp.isDown() || rp.heldAt(now)) && i < len(p.relays)-1 {
			continue
		}
		c, err := p.getFrom(ctx, rp, domain, lim)
		if err == nil {
			return c, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		last = err
	}
	return nil, last
}

func (rp *relayPool) isDown() bool {
	rp.mu.Lock()
	defer rp.mu.Unlock()
	return time.Now().Before(rp.downUntil)
}

func (rp *relayPool) heldAt(now time.Time) bool {
	rp.mu.Lock()
	defer rp.mu.Unlock()
	return now.Before(rp.holdUntil)
}

// heldUntil is when the first relay asked to slow down takes mail again,
// and the reply that asked; zero when some relay takes mail now.
func (p *pool) heldUntil(now time.Time) (time.Time, string) {
	var first time.Time
	var why string
	for _, rp := range p.relays {
		rp.mu.Lock()
		until, w := rp.holdUntil, rp.holdWhy
		rp.mu.Unlock()
		if !now.Before(until) {
			return time.Time{}, ""
		}
		if first.IsZero() || until.Before(first) {
			first, why = until, w
		}
	}
	return first, why
}

// throttle rests the relay called name after it asked us to slow down (why
// is its reply):
// base, doubled for each further request up to ten minutes, as for a
// domain. It returns the end of the rest.
func (p *pool) throttle(name string, now time.Time, base time.Duration, why string) time.Time {
	for _, rp := range p.relays {
		if rp.name != name {
			continue
		}
		rp.mu.Lock()
		defer rp.mu.Unlock()
		d := min(base<<min(rp.penalty, 5), 10*time.Minute)
		rp.penalty++
		if until := now.Add(d); until.After(rp.holdUntil) {
			rp.holdUntil = until
		}
		rp.holdWhy = why
		return rp.holdUntil
	}
	return now.Add(base)
}

// ok clears the throttling penalty of the relay called name.
func (p *pool) ok(name string) {
	for _, rp := range p.relays {
		if rp.name == name {
			rp.mu.Lock()
			rp.penalty = 0
			rp.mu.Unlock()
		}
	}
}

func (p *pool) getFrom(ctx context.Context, rp *relayPool, domain string, lim DomainLimit) (*conn, error) {
	select {
	case rp.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	var stale []*conn
	var got *conn
	rp.mu.Lock()
	for len(rp.idle) > 0 && got == nil {
		c := rp.idle[len(rp.idle)-1]
		rp.idle = rp.idle[:len(rp.idle)-1]
		if c.full(domain, lim) || time.Since(c.lastUsed) > maxIdle {
			stale = append(stale, c)
			continue
		}
		got = c
	}
	rp.mu.Unlock()
	for _, c := range stale {
		c.quit()
	}
	if got != nil {
		return got, nil
	}
	c, err := p.dial(ctx, rp)
	if err != nil {
		<-rp.sem
		rp.mu.Lock()
		rp.downUntil = time.Now().Add(30 * time.Second)
		rp.mu.Unlock()
		return nil, err
	}
	return c, nil
}

func (c *conn) full(domain string, lim DomainLimit) bool {
	if m := c.rp.r.MaxMessagesPerConn; m > 0 && c.msgs >= m {
		return true
	}
	return lim.MaxRcptPerConn > 0 && c.perDomain[domain] >= lim.MaxRcptPerConn
}

// put returns c to its pool, or closes it when it is broken.
func (p *pool) put(c *conn) {
	rp := c.rp
	if c.broken {
		c.w.nc.Close()
	} else {
		c.lastUsed = time.Now()
		rp.mu.Lock()
		rp.idle = append(rp.idle, c)
		rp.mu.Unlock()
	}
	<-rp.sem
}

func (p *pool) closeAll() {
	for _, rp := range p.relays {
		rp.mu.Lock()
		idle := rp.idle
		rp.idle = nil
		rp.mu.Unlock()
		for _, c := range idle {
			c.quit()
		}
	}
}

func (c *conn) quit() { c.w.quit() }

func (p *pool) dial(ctx context.Context, rp *relayPool) (*conn, error) {
	w, err := dialWire(ctx, rp.r, rp.name, p.helo, p.timeout)
	if err != nil {
		return nil, err
	}
	return &conn{rp: rp, w: w, perDomain: map[string]int{}, log: p.log}, nil
}

// queueID finds the relay's queue id in a reply to the message ("250 2.0.0
// Ok: queued as 4F2C81A0B", Postfix; case does not matter), or "".
func queueID(reply string) string {
	const key = "queued as "
	i := 0
	for ; i+len(key) <= len(reply); i++ {
		if strings.EqualFold(reply[i:i+len(key)], key) {
			break
		}
	}
	if i+len(key) > len(reply) {
		return ""
	}
	id := reply[i+len(key):]
	end := 0
	for end < len(id) && isQueueIDByte(id[end]) {
		end++
	}
	return id[:end]
}

func isQueueIDByte(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-'
}

// send carries one message over c; a failure that leaves the connection in
// doubt marks it broken.
func (c *conn) send(from, to string, data []byte) (string, *Error) {
	shape := chunkOneWrite
	probe := c.w.chunking()
	if probe {
		shape = c.rp.probe.shape()
	}
	start := time.Now()
	qid, e, broken := c.w.send(from, to, data, shape)
	if broken {
		c.broken = true
	}
	if probe && e == nil {
		if chosen, med, done := c.rp.probe.record(shape, time.Since(start)); done {
			c.log.Info("relay: BDAT transaction shape chosen", "relay", c.rp.name, "shape", chosen.String(),
				"one_write_median", med[chunkOneWrite], "split_median", med[chunkSplit])
		}
	}
	if e == nil {
		c.msgs++
		c.perDomain[Domain(to)]++
	}
	return qid, e
}

func (rp *relayPool) String() string { return fmt.Sprintf("relay %s", rp.name) }
