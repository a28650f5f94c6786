package mailer

import (
	"bytes"
	"context"
	"errors"
	"strconv"
	"sync"
	"time"
)

var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// outgoing is a delivery rendered, built and cleared by the limits, ready
// for the wire; done gives back its buffer and its domain's slot.
type outgoing struct {
	d      Delivery
	msg    *Message
	buf    *bytes.Buffer
	domain string
}

func (m *Mailer) done(o *outgoing) {
	m.limits.release(o.domain)
	bufPool.Put(o.buf)
}

// deliver renders and sends one claimed delivery and says what became of it.
func (m *Mailer) deliver(ctx context.Context, d Delivery) result {
	o, r, ok := m.prepare(ctx, d)
	if !ok {
		return r
	}
	defer m.done(o)
	if until, why := m.pool.heldUntil(m.now()); !until.IsZero() {
		// Every relay asked us to slow down: back to the table until the
		// first one takes mail again. Not an attempt.
		return result{d: d, status: StatusQueued, next: until, note: "waiting for the relay, which answered: " + why}
	}
	qid, relay, e := m.transmit(ctx, o.msg, o.buf.Bytes(), o.domain)
	return m.outcome(ctx, d, o.msg, e, qid, relay, o.domain)
}

// prepare does what comes before the wire: the run's state, the re-check,
// the sending window, rendering, building and the rate limits. ok false
// means the delivery ends here with r.
func (m *Mailer) prepare(ctx context.Context, d Delivery) (o *outgoing, r result, ok bool) {
	switch m.state(d.IssueID) {
	case runPaused:
		return nil, result{d: d, status: StatusQueued}, false
	case runCancelled:
		return nil, result{d: d, status: StatusCancelled}, false
	}
	if ctx.Err() != nil {
		return nil, result{d: d, status: StatusQueued}, false
	}
	if d.skip {
		return nil, result{d: d, status: StatusSkipped, note: "recipient left or was suppressed after the snapshot"}, false
	}
	if d.hold {
		return nil, result{d: d, status: StatusQueued, next: m.now().Add(time.Second)}, false
	}
	domain := Domain(d.Email)
	now := m.now()
	if open := m.opt.Window.Next(now, domain); open.After(now) {
		return nil, result{d: d, status: StatusQueued, next: open}, false
	}
	msg, err := m.opt.Renderer.Render(ctx, d)
	if errors.Is(err, ErrSkip) {
		return nil, result{d: d, status: StatusSkipped, note: "skipped by renderer"}, false
	}
	if errors.Is(err, ErrUnrenderable) {
		return nil, result{d: d, status: StatusFailed, note: "render: " + err.Error()}, false
	}
	if err != nil {
		return nil, m.retry(d, &Error{Temporary: true, Text: "render: " + err.Error(), Stage: "render"}, time.Time{}), false
	}
	m.fill(msg, d)
	buf := bufPool.Get().(*bytes.Buffer)
	buf.Reset()
	if err := m.build(buf, msg); err != nil {
		bufPool.Put(buf)
		return nil, result{d: d, status: StatusFailed, attempted: true, note: "build: " + err.Error()}, false
	}
	if r, ok := m.waitLimits(ctx, d, domain); !ok {
		bufPool.Put(buf)
		return nil, r, false
	}
	return &outgoing{d: d, msg: msg, buf: buf, domain: domain}, result{}, true
}

// fill sets what the outbox owns in every message.
func (m *Mailer) fill(msg *Message, d Delivery) {
	if msg.To == "" {
		msg.To, msg.ToName = d.Email, d.Name
	}
	if v := m.VERP(d.ID); v != "" {
		msg.ReturnPath = v
	}
	if msg.MessageID == "" {
		msg.MessageID = m.deliveryMessageID(d.IssueID, d.ID, Domain(msg.FromAddress))
	}
	if msg.FeedbackID == "" {
		msg.FeedbackID = strconv.FormatInt(d.IssueID, 10) + ":issue:kawaraban"
	}
}

func domainOr(d string) string {
	if d == "" {
		return "kawaraban.invalid"
	}
	return d
}

// waitLimits waits for the rate limits; a long wait puts the delivery back
// into the table for later instead of holding a worker.
func (m *Mailer) waitLimits(ctx context.Context, d Delivery, domain string) (result, bool) {
	for {
		wait, ok := m.limits.acquire(domain, m.now())
		if ok {
			return result{}, true
		}
		if wait > deferAfter {
			return result{d: d, status: StatusQueued, next: m.now().Add(wait)}, false
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return result{d: d, status: StatusQueued}, false
		}
	}
}

// transmit sends data over a pooled connection and records metrics.
func (m *Mailer) transmit(ctx context.Context, msg *Message, data []byte, domain string) (qid, relay string, e *Error) {
	c, err := m.pool.get(ctx, m.now(), domain, m.limits.limit(domain))
	if err != nil {
		return "", "", toError(StageConnect, err)
	}
	relay = c.rp.name
	from := msg.ReturnPath
	if from == "" {
		from = msg.FromAddress
	}
	to, err := SMTPAddress(msg.To)
	if err != nil {
		m.pool.put(c)
		return "", relay, &Error{Text: err.Error(), Stage: StageRcpt}
	}
	start := time.Now()
	qid, e = c.send(from, to, data)
	m.pool.put(c)
	label := resultLabel(e)
	m.metrics.sent.WithLabelValues(relay, label).Inc()
	m.metrics.latency.WithLabelValues(relay, label).Observe(time.Since(start).Seconds())
	return qid, relay, e
}

// outcome maps the SMTP result to the delivery's next state (issue 5):
// 2xx sent; 421/454 rest the relay or the domain and retry; other 4xx and
// network errors retry with backoff until MaxRetryAge; 5xx at MAIL rests
// the relay and retries (the relay refuses us, not the recipient); 5xx at
// RCPT or DATA fail at once and are told to the BounceRecorder.
func (m *Mailer) outcome(ctx context.Context, d Delivery, msg *Message, e *Error, qid, relay, domain string) result {
	if e == nil {
		m.limits.ok(domain)
		m.pool.ok(relay)
		return result{d: d, status: StatusSent, attempted: true, msgID: msg.MessageID, queueID: qid, relay: relay}
	}
	r := result{d: d, attempted: true, e: e, msgID: msg.MessageID, relay: relay}
	if e.Temporary || refusesSender(e) {
		rr := m.retry(d, e, m.rest(e, relay, domain))
		rr.msgID, rr.relay = r.msgID, r.relay
		return rr
	}
	r.status = StatusFailed
	if (e.Stage == StageRcpt || e.Stage == StageData) && m.opt.Bounces != nil {
		if err := m.opt.Bounces.RecordSendFailure(ctx, d, e); err != nil {
			m.log.Error("recording send failure", "delivery_id", d.ID, "subscriber_id", d.SubscriberID, "err", err)
		}
	}
	return r
}

// refusesSender reports a 5xx before any recipient was named: the relay
// refuses us (the sender address, our credentials), not the recipient, so
// failing every recipient for a relay setting would lose the issue.
func refusesSender(e *Error) bool {
	return !e.Temporary && (e.Stage == StageMail || e.Stage == StageConnect)
}

// rest applies a reply that asks us to slow down, or refuses our sender,
// and returns when to try again (zero for other failures). A 421 (the
// relay closes the session), a rate-limit reply before any recipient was
// named, or a refused sender rests the whole relay; a rate-limit reply to
// a recipient rests that recipient's domain. Either way the mail waits
// instead of failing (issue 5).
func (m *Mailer) rest(e *Error, relay, domain string) time.Time {
	now := m.now()
	switch {
	case refusesSender(e):
		until := m.pool.throttle(relay, now, m.opt.ThrottleHold, e.Error())
		m.log.Error("relay refuses the sender: mail waits; check the smtp settings and the return path domain",
			"relay", relay, "code", e.Code, "enhanced", e.Enhanced, "until", until)
		return until
	case !e.Throttled():
		return time.Time{}
	case relay != "" && (e.Code == 421 || e.Stage == StageConnect || e.Stage == StageMail):
		until := m.pool.throttle(relay, now, m.opt.ThrottleHold, e.Error())
		m.log.Warn("relay asks to slow down: resting it", "relay", relay, "code", e.Code, "stage", e.Stage, "until", until)
		return until
	}
	until := m.limits.throttle(domain, now)
	m.log.Warn("relay throttling a domain: resting it", "domain", domain, "code", e.Code, "until", until)
	return until
}

// retry schedules a temporary failure, or fails it past MaxRetryAge.
func (m *Mailer) retry(d Delivery, e *Error, notBefore time.Time) result {
	now := m.now()
	r := result{d: d, attempted: true, e: e}
	first := d.firstAttempt
	if first.IsZero() {
		first = now
	}
	if now.Sub(first) >= m.opt.MaxRetryAge {
		r.status = StatusFailed
		return r
	}
	r.status = StatusQueued
	r.next = now.Add(m.backoff(d.Attempts + 1))
	if notBefore.After(r.next) {
		r.next = notBefore
	}
	return r
}
