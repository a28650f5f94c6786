package mailer

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"sync"
	"time"
)

// The system-mail queue keeps mail that one person is waiting for (a
// subscription confirmation) in the database until a relay takes it, so
// that a crash or a relay outage delays it instead of losing it. Issues
// have their own outbox (deliveries); this is for single messages.

// queueBatch is how many due queue rows one pass reads.
const queueBatch = 50

// queuePoll is how often RunQueue looks for due rows when nothing wakes it
// (rows enqueued by another process, retries coming due).
const queuePoll = 5 * time.Second

// Enqueue builds msg (DKIM-signed when configured) and stores it for
// RunQueue to send. kind names it in logs ("confirmation"). It returns once
// the message is in the database.
func (m *Mailer) Enqueue(ctx context.Context, kind string, msg *Message) error {
	if msg.MessageID == "" {
		msg.MessageID = newMessageID(Domain(msg.FromAddress))
	}
	data, err := m.Build(msg)
	if err != nil {
		return fmt.Errorf("queueing %s mail: %w", kind, err)
	}
	from := msg.ReturnPath
	if from == "" {
		from = msg.FromAddress
	}
	now := m.now().UnixMilli()
	if _, err := m.db.ExecContext(ctx, `INSERT INTO mail_queue
		(kind, mail_from, rcpt, message_id, data, created_ms, next_attempt_ms) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		kind, from, msg.To, msg.MessageID, data, now, now); err != nil {
		return fmt.Errorf("queueing %s mail: %w", kind, err)
	}
	select {
	case m.queueWake <- struct{}{}:
	default:
	}
	return nil
}

// QueueLength is how many system mails wait for a relay.
func (m *Mailer) QueueLength(ctx context.Context) (int, error) {
	var n int
	if err := m.db.QueryRowContext(ctx, `SELECT count(*) FROM mail_queue`).Scan(&n); err != nil {
		return 0, fmt.Errorf("counting queued mail: %w", err)
	}
	return n, nil
}

// queueLease is how long a claimed mail is kept from being claimed again:
// it covers the send and the tries to record its result. If the daemon
// dies between the send and the record, the mail goes out again after the
// lease, so a mail is sent at most once per lease.
const queueLease = 5 * time.Minute

// RunQueue sends queued system mail until ctx ends: at once when Enqueue
// wakes it, and every few seconds for retries. A temporary failure is
// retried with backoff (a relay's request to slow down is honoured) until
// MaxRetryAge; a permanent one drops the mail with a log line, as does
// age.
//
// Each mail is claimed with a lease before it is sent (its next attempt
// moves past the lease), so a mail whose result cannot be written is not
// due again. Results that cannot be written are kept and written again
// after pauses that grow to half a minute; nothing new is claimed or sent
// until they are, nor while Health reports a problem.
func (m *Mailer) RunQueue(ctx context.Context) error {
	if len(m.pool.relays) == 0 {
		return ErrNoRelay
	}
	q := &queueRun{pending: map[int64]queueOutcome{}}
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			if len(q.pending) > 0 {
				// One last try; the lease keeps what stays unwritten from
				// going out again at once after a restart.
				m.recordQueued(ctx, q.outcomes())
			}
			return nil
		case <-m.queueWake:
			if wait := time.Until(q.retryAt); wait > 0 {
				t.Reset(wait) // a wake does not shorten a pause
				continue
			}
		case <-t.C:
		}
		t.Reset(m.queueStep(ctx, q))
	}
}

// queueRun is what RunQueue carries from one step to the next.
type queueRun struct {
	pending map[int64]queueOutcome // sent or tried, result not yet written
	pause   time.Duration          // the current pause after a failed write
	retryAt time.Time              // no step before this (wall time)
}

func (q *queueRun) outcomes() []queueOutcome {
	out := make([]queueOutcome, 0, len(q.pending))
	for _, o := range q.pending {
		out = append(out, o)
	}
	return out
}

// queueStep writes pending results, then sends one batch of due mail; it
// returns how long to wait before the next step.
func (m *Mailer) queueStep(ctx context.Context, q *queueRun) time.Duration {
	failed := func(msg string, err error) time.Duration {
		m.observeWrite(err)
		q.pause = grow(q.pause, m.pauseLo, m.pauseHi)
		q.retryAt = time.Now().Add(q.pause)
		if ctx.Err() == nil {
			m.errs.error(msg, err, "pending", len(q.pending), "pause", q.pause)
		}
		return q.pause
	}
	if len(q.pending) > 0 {
		err := m.recordQueued(ctx, q.outcomes())
		if err != nil {
			return failed("recording queued mail; retrying, not sending meanwhile", err)
		}
		m.observeWrite(nil)
		clear(q.pending)
	}
	if err := m.healthErr(); err != nil {
		m.errs.error("database unhealthy; queued mail waits", err)
		return queuePoll
	}
	more, err := m.sendQueued(ctx, q.pending)
	if err != nil {
		return failed("claiming queued mail", err)
	}
	if len(q.pending) > 0 {
		if err := m.recordQueued(ctx, q.outcomes()); err != nil {
			return failed("recording queued mail; retrying, not sending meanwhile", err)
		}
		clear(q.pending)
		m.observeWrite(nil)
	}
	q.pause = 0
	if more {
		return 0
	}
	if next, ok := m.nextQueued(ctx); ok {
		return min(max(next.Sub(m.now()), 0), queuePoll)
	}
	return queuePoll
}

// nextQueued is when the earliest queued mail is due.
func (m *Mailer) nextQueued(ctx context.Context) (time.Time, bool) {
	var next sql.NullInt64
	if err := m.db.QueryRowContext(ctx, `SELECT min(next_attempt_ms) FROM mail_queue`).Scan(&next); err != nil || !next.Valid {
		return time.Time{}, false
	}
	return time.UnixMilli(next.Int64), true
}

type queued struct {
	id               int64
	kind, from, rcpt string
	data             []byte
	attempts         int
	created          time.Time
}

// queueSenders is how many queued mails go out at once.
const queueSenders = 4

// queueOutcome is what becomes of one queued mail after a try.
type queueOutcome struct {
	id        int64
	done      bool      // sent, refused or too old: delete the row
	next      time.Time // otherwise: try again then
	reason    string
	attempted bool
}

// sendQueued claims the due rows of one batch, sends them queueSenders at
// a time and puts their outcomes in pending; more is true when the batch
// was full. A claim that cannot be written sends nothing.
func (m *Mailer) sendQueued(ctx context.Context, pending map[int64]queueOutcome) (more bool, err error) {
	due, err := m.claimQueued(ctx)
	if err != nil || len(due) == 0 {
		return false, err
	}
	out := make([]queueOutcome, len(due))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(queueSenders, len(due)) {
		wg.Go(func() {
			for i := range next {
				out[i] = m.tryQueued(ctx, due[i])
			}
		})
	}
	for i := range due {
		next <- i
	}
	close(next)
	wg.Wait()
	for _, o := range out {
		pending[o.id] = o
	}
	return len(due) == queueBatch, nil
}

// claimQueued leases the due rows of one batch: their next attempt moves
// to the end of the lease in the same statement that reads them.
func (m *Mailer) claimQueued(ctx context.Context) ([]queued, error) {
	now := m.now()
	rows, err := m.db.QueryContext(ctx, `UPDATE mail_queue SET next_attempt_ms = ?
		WHERE id IN (SELECT id FROM mail_queue WHERE next_attempt_ms <= ? ORDER BY next_attempt_ms, id LIMIT ?)
		RETURNING id, kind, mail_from, rcpt, data, attempts, created_ms`,
		now.Add(queueLease).UnixMilli(), now.UnixMilli(), queueBatch)
	if err != nil {
		return nil, fmt.Errorf("claiming queued mail: %w", err)
	}
	defer rows.Close()
	var due []queued
	for rows.Next() {
		var q queued
		var created int64
		if err := rows.Scan(&q.id, &q.kind, &q.from, &q.rcpt, &q.data, &q.attempts, &created); err != nil {
			return nil, fmt.Errorf("claiming queued mail: %w", err)
		}
		q.created = time.UnixMilli(created)
		due = append(due, q)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("claiming queued mail: %w", err)
	}
	sort.Slice(due, func(i, j int) bool { return due[i].id < due[j].id })
	return due, nil
}

// tryQueued tries one queued mail.
func (m *Mailer) tryQueued(ctx context.Context, q queued) queueOutcome {
	o := queueOutcome{id: q.id}
	if ctx.Err() != nil {
		o.next = m.now()
		return o
	}
	domain := Domain(q.rcpt)
	if until, why := m.pool.heldUntil(m.now()); !until.IsZero() {
		o.next, o.reason = until, "waiting for the relay, which answered: "+why
		return o
	}
	if wait, ok := m.limits.acquire(domain, m.now()); !ok {
		o.next = m.now().Add(wait)
		return o
	}
	qid, relay, e := m.transmit(ctx, &Message{ReturnPath: q.from, To: q.rcpt}, q.data, domain)
	m.limits.release(domain)
	switch {
	case e == nil:
		m.limits.ok(domain)
		m.pool.ok(relay)
		m.log.Info("queued mail sent", "kind", q.kind, "id", q.id, "relay", relay, "queue_id", qid, "attempts", q.attempts+1)
		o.done = true
		return o
	case !e.Temporary && !refusesSender(e):
		// Codes, not the reply text: replies often quote the address.
		m.log.Warn("queued mail refused, dropped", "kind", q.kind, "id", q.id, "stage", e.Stage, "code", e.Code, "enhanced", e.Enhanced)
		o.done = true
		return o
	case m.now().Sub(q.created) >= m.opt.MaxRetryAge:
		m.log.Error("queued mail too old, dropped", "kind", q.kind, "id", q.id,
			"age", m.now().Sub(q.created).Round(time.Second), "stage", e.Stage, "code", e.Code, "enhanced", e.Enhanced)
		o.done = true
		return o
	}
	o.next, o.reason, o.attempted = m.now().Add(m.backoff(q.attempts+1)), e.Error(), true
	if until := m.rest(e, relay, domain); until.After(o.next) {
		o.next = until
	}
	m.log.Info("queued mail retry", "kind", q.kind, "id", q.id, "attempts", q.attempts+1, "next", o.next,
		"stage", e.Stage, "code", e.Code, "enhanced", e.Enhanced)
	return o
}

// recordQueued writes the outcomes of one batch: sent mail leaves the
// queue even while the daemon stops.
func (m *Mailer) recordQueued(ctx context.Context, out []queueOutcome) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	tx, err := m.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("recording queued mail: %w", err)
	}
	defer tx.Rollback()
	for _, o := range out {
		if o.done {
			_, err = tx.ExecContext(ctx, `DELETE FROM mail_queue WHERE id = ?`, o.id)
		} else {
			n := 0
			if o.attempted {
				n = 1
			}
			_, err = tx.ExecContext(ctx, `UPDATE mail_queue SET next_attempt_ms = ?, attempts = attempts + ?,
				last_error = coalesce(nullif(?, ''), last_error) WHERE id = ?`, o.next.UnixMilli(), n, o.reason, o.id)
		}
		if err != nil {
			return fmt.Errorf("recording queued mail %d: %w", o.id, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("recording queued mail: %w", err)
	}
	return nil
}
