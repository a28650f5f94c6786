package mailer

import (
	"context"
	"time"
)

// maxGroup is the most transactions a worker writes at once on one
// connection (wire.sendGroup).
const maxGroup = 4

// work delivers jobs until the channel closes. Once chunkProbe has chosen
// the first relay's BDAT shape, a worker takes the jobs that wait, up to
// maxGroup, and sends them together: in one write when the relay answers
// that without stalling (issue 19), else one after another with each next
// MAIL and RCPT behind the previous BDAT LAST (wire.sendChain, issue 22);
// per message one system call and one wake-up fewer. Otherwise, and for
// recipient domains with limits of their own, one at a time.
func (m *Mailer) work(ctx context.Context, jobs <-chan Delivery, results chan<- result) {
	group := make([]Delivery, 0, maxGroup)
	for d := range jobs {
		if !m.pool.grouping(m.now()) {
			results <- m.deliver(ctx, d)
			continue
		}
		group = append(group[:0], d)
	more:
		for len(group) < maxGroup {
			select {
			case d, ok := <-jobs:
				if !ok {
					break more
				}
				group = append(group, d)
			default:
				break more
			}
		}
		m.deliverGroup(ctx, group, results)
	}
}

// deliverGroup prepares each delivery of group and sends those ready
// together; each gets its own result.
func (m *Mailer) deliverGroup(ctx context.Context, group []Delivery, results chan<- result) {
	ready := make([]*outgoing, 0, len(group))
	for _, d := range group {
		if m.limits.limit(Domain(d.Email)) != (DomainLimit{}) {
			// Its concurrency or per-connection cap counts one message
			// at a time.
			results <- m.deliver(ctx, d)
			continue
		}
		o, r, ok := m.prepare(ctx, d)
		if !ok {
			results <- r
			continue
		}
		ready = append(ready, o)
	}
	for len(ready) > 0 {
		ready = m.transmitGroup(ctx, ready, results)
	}
}

// transmitGroup sends as many of ready as one connection may still carry
// and returns the others.
func (m *Mailer) transmitGroup(ctx context.Context, ready []*outgoing, results chan<- result) []*outgoing {
	now := m.now()
	if until, why := m.pool.heldUntil(now); !until.IsZero() {
		for _, o := range ready {
			results <- result{d: o.d, status: StatusQueued, next: until, note: "waiting for the relay, which answered: " + why}
			m.done(o)
		}
		return nil
	}
	c, err := m.pool.get(ctx, now, ready[0].domain, DomainLimit{})
	if err != nil {
		e := toError(StageConnect, err)
		for _, o := range ready {
			results <- m.outcome(ctx, o.d, o.msg, e, "", "", o.domain)
			m.done(o)
		}
		return nil
	}
	n := len(ready)
	if mm := c.rp.r.MaxMessagesPerConn; mm > 0 {
		n = max(1, min(n, mm-c.msgs))
	}
	relay := c.rp.name
	txs := make([]*tx, 0, n)
	sending := make([]*outgoing, 0, n)
	for _, o := range ready[:n] {
		to, err := SMTPAddress(o.msg.To)
		if err != nil {
			results <- m.outcome(ctx, o.d, o.msg, &Error{Text: err.Error(), Stage: StageRcpt}, "", relay, o.domain)
			m.done(o)
			continue
		}
		from := o.msg.ReturnPath
		if from == "" {
			from = o.msg.FromAddress
		}
		txs = append(txs, &tx{from: from, to: to, data: o.buf.Bytes()})
		sending = append(sending, o)
	}
	start := time.Now()
	c.sendGroup(txs)
	m.pool.put(c)
	took := time.Since(start).Seconds() / float64(max(len(txs), 1))
	for i, t := range txs {
		o := sending[i]
		label := resultLabel(t.e)
		m.metrics.sent.WithLabelValues(relay, label).Inc()
		m.metrics.latency.WithLabelValues(relay, label).Observe(took)
		results <- m.outcome(ctx, o.d, o.msg, t.e, t.queueID, relay, o.domain)
		m.done(o)
	}
	return ready[n:]
}

// grouping reports whether the relay mail goes to first at now takes
// several transactions at a time: its BDAT shape was measured (the one
// write: several transactions per write; split: each next transaction's
// MAIL and RCPT behind the previous BDAT LAST, wire.sendChain).
func (p *pool) grouping(now time.Time) bool {
	if len(p.relays) == 0 {
		return false
	}
	rp := p.relays[0]
	if rp.isDown() || rp.heldAt(now) {
		return false
	}
	_, ok := rp.probe.settled()
	return ok
}

// sendGroup carries txs over c, several per write when c's relay allows
// it, else one by one.
func (c *conn) sendGroup(txs []*tx) {
	shape, settled := c.rp.probe.settled()
	if len(txs) > 1 && c.w.chunking() && settled && shape == chunkSplit {
		c.rp.probe.advance(len(txs))
		if c.w.sendChain(txs) {
			c.broken = true
		}
		for _, t := range txs {
			if t.e == nil {
				c.msgs++
				c.perDomain[Domain(t.to)]++
			}
		}
		return
	}
	if len(txs) == 1 || !c.w.chunking() || !settled || shape != chunkOneWrite {
		for i, t := range txs {
			t.queueID, t.e = c.send(t.from, t.to, t.data)
			if c.broken {
				for _, u := range txs[i+1:] {
					u.e = &Error{Temporary: true, Text: "connection lost before this message", Stage: StageConnect}
				}
				return
			}
		}
		return
	}
	c.rp.probe.advance(len(txs))
	if c.w.sendGroup(txs) {
		c.broken = true
	}
	for _, t := range txs {
		if t.e == nil {
			c.msgs++
			c.perDomain[Domain(t.to)]++
		}
	}
}
