package mailer

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"time"
)

// result is what a worker learned about one delivery; the recorder writes
// it in a batched transaction.
type result struct {
	d         Delivery
	status    string // new status
	attempted bool   // an SMTP attempt was made (attempts+1)
	next      time.Time
	e         *Error
	note      string // last_error when e is nil
	msgID     string
	queueID   string
	relay     string
}

// How the engine bounds its work (see docs/BENCHMARKS.md):
//
//   - the dispatcher claims at most BatchSize deliveries at a time, and only
//     while fewer than InFlight are claimed and not yet recorded;
//   - the recorder commits results every 100 results or 50 ms;
//   - on start, rows left "sending" by a crash go back to "queued".
//
// So after a kill -9 at most InFlight recipients can receive a second copy,
// and none is lost. One Run per database is assumed.
const (
	recordEvery = 100
	recordAfter = 50 * time.Millisecond
	idlePoll    = 200 * time.Millisecond
	deferAfter  = time.Second // a wait longer than this goes back to the table
)

// Run sends queued deliveries until ctx ends. Results still pending when
// ctx ends are committed before Run returns.
func (m *Mailer) Run(ctx context.Context) error {
	if m.opt.Renderer == nil {
		return errors.New("mailer: Run needs Options.Renderer")
	}
	if len(m.pool.relays) == 0 {
		return ErrNoRelay
	}
	if _, err := m.db.ExecContext(ctx, `UPDATE deliveries SET status = 'queued' WHERE status = 'sending'`); err != nil {
		return fmt.Errorf("recovering claimed deliveries: %w", err)
	}
	if err := m.refreshStates(ctx); err != nil {
		return err
	}
	slots := make(chan struct{}, m.opt.InFlight)
	jobs := make(chan Delivery, m.opt.BatchSize)
	results := make(chan result, m.opt.InFlight)

	var wg sync.WaitGroup
	for range m.opt.Workers {
		wg.Go(func() { m.work(ctx, jobs, results) })
	}
	recDone := make(chan error, 1)
	go func() { recDone <- m.record(ctx, results, slots) }()
	go m.watchStates(ctx)

	err := m.dispatch(ctx, jobs, slots)
	close(jobs)
	wg.Wait()
	close(results)
	rerr := <-recDone
	m.pool.closeAll()
	if rerr != nil {
		return rerr
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return nil
	}
	return err
}

// dispatch claims batches while the in-flight window has room.
func (m *Mailer) dispatch(ctx context.Context, jobs chan<- Delivery, slots chan struct{}) error {
	for {
		n := 0
		for n < m.opt.BatchSize {
			select {
			case slots <- struct{}{}:
				n++
				continue
			case <-ctx.Done():
				freeSlots(slots, n)
				return ctx.Err()
			default:
			}
			if n > 0 {
				break
			}
			select { // window full: wait for one slot
			case slots <- struct{}{}:
				n++
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		ds, err := m.claim(ctx, n)
		if err != nil {
			freeSlots(slots, n)
			if ctx.Err() != nil {
				return ctx.Err()
			}
			m.observeWrite(err)
			m.errs.error("claiming deliveries", err)
			ds, n = nil, 0 // the slots are free already
		}
		freeSlots(slots, n-len(ds))
		m.recheck(ctx, ds)
		for _, d := range ds {
			jobs <- d // never blocks forever: workers drain jobs
		}
		if len(ds) == 0 {
			select {
			case <-time.After(idlePoll):
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	}
}

func freeSlots(slots chan struct{}, n int) {
	for range n {
		<-slots
	}
}

// claim marks up to n due deliveries of running issues as sending.
func (m *Mailer) claim(ctx context.Context, n int) ([]Delivery, error) {
	now := m.now()
	if w := m.opt.Window; w != nil && w.Next(now, "").After(now) {
		return nil, nil
	}
	if err := m.healthErr(); err != nil {
		m.errs.error("database unhealthy; outbox waits", err)
		return nil, nil
	}
	rows, err := m.db.QueryContext(ctx, `UPDATE deliveries SET status = 'sending'
		WHERE id IN (SELECT d.id FROM deliveries d JOIN mailer_runs r ON r.issue_id = d.issue_id
			WHERE d.status = 'queued' AND d.next_attempt_ms <= ? AND r.state = 'running'
			ORDER BY d.next_attempt_ms, d.id LIMIT ?)
		RETURNING id, issue_id, subscriber_id, COALESCE(list_id, 0), email, name, attempts, first_attempt_ms`, now.UnixMilli(), n)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	ds := make([]Delivery, 0, n)
	for rows.Next() {
		var d Delivery
		var first sql.NullInt64
		if err := rows.Scan(&d.ID, &d.IssueID, &d.SubscriberID, &d.ListID, &d.Email, &d.Name, &d.Attempts, &first); err != nil {
			return nil, err
		}
		if first.Valid {
			d.firstAttempt = time.UnixMilli(first.Int64)
		}
		ds = append(ds, d)
	}
	return ds, rows.Err()
}

// record commits results in batches and frees their in-flight slots.
//
// A batch that cannot be committed is tried again after pauses that grow
// to half a minute, for as long as the run lives: its slots stay taken,
// so nothing more is claimed (at most InFlight mails wait sent but
// unrecorded), and when the write works again (disk space freed) the
// batch is recorded and sending resumes by itself — nothing goes twice.
// Once the run is stopping (ctx done) a batch gets a few more tries; what
// still cannot be written stays "sending" for the next start to resend,
// within the in-flight bound, and Run returns the error.
func (m *Mailer) record(ctx context.Context, results <-chan result, slots chan struct{}) error {
	batch := make([]result, 0, recordEvery)
	tick := time.NewTicker(recordAfter)
	defer tick.Stop()
	var failed error
	flush := func() {
		if len(batch) == 0 {
			return
		}
		var err error
		pause := time.Duration(0)
		for try := 0; ; try++ {
			if err = m.commitFor(batch); err == nil {
				break
			}
			m.observeWrite(err)
			m.errs.error("recording results failed; retrying, not claiming meanwhile", err, "results", len(batch))
			if ctx.Err() != nil && try >= 2 {
				break
			}
			pause = grow(pause, m.pauseLo/10, m.pauseHi)
			select {
			case <-time.After(pause):
			case <-ctx.Done():
				if try >= 2 {
					time.Sleep(pause) // stopping: a last few tries, paced
				}
			}
		}
		if err != nil {
			failed = err
			batch = batch[:0]
			return
		}
		if pause > 0 {
			m.observeWrite(nil)
			m.log.Info("recording results works again", "results", len(batch))
		}
		m.observe(batch)
		rctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		m.delivered(rctx, batch)
		m.checkDone(rctx, batch)
		cancel()
		freeSlots(slots, len(batch))
		batch = batch[:0]
	}
	for {
		select {
		case r, ok := <-results:
			if !ok {
				flush()
				return failed
			}
			batch = append(batch, r)
			if len(batch) >= recordEvery {
				flush()
			}
		case <-tick.C:
			flush()
		}
	}
}

// commitFor commits batch within 30 s, even while Run is shutting down:
// results must reach the table.
func (m *Mailer) commitFor(batch []result) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return m.commit(ctx, batch)
}

// commitSQL records a batch of results in one statement: the batch is a
// JSON array with one array per result (resultJSON), so the cost per
// result is SQLite's row update, not a statement's binds, steps and cgo
// calls (issue 19).
const commitSQL = `UPDATE deliveries SET status = r.value ->> 0, attempts = attempts + (r.value ->> 1),
	next_attempt_ms = r.value ->> 2, first_attempt_ms = coalesce(first_attempt_ms, r.value ->> 3),
	done_ms = r.value ->> 4, last_code = r.value ->> 5, last_enhanced = r.value ->> 6,
	last_error = r.value ->> 7, message_id = coalesce(r.value ->> 8, message_id),
	queue_id = coalesce(r.value ->> 9, queue_id), relay = coalesce(r.value ->> 10, relay)
	FROM json_each(?) AS r
	WHERE deliveries.id = r.value ->> 11 AND deliveries.status = 'sending'`

func (m *Mailer) commit(ctx context.Context, batch []result) error {
	now := m.now().UnixMilli()
	js := make([]byte, 0, 160*len(batch))
	js = append(js, '[')
	for i, r := range batch {
		if i > 0 {
			js = append(js, ',')
		}
		js = r.appendJSON(js, now)
	}
	js = append(js, ']')
	// One statement is its own transaction.
	if _, err := m.db.ExecContext(ctx, commitSQL, string(js)); err != nil {
		return fmt.Errorf("recording results: %w", err)
	}
	return nil
}

// appendJSON appends r's new column values to js as a JSON array in
// commitSQL's order: status, attempts added, next_attempt_ms,
// first_attempt_ms, done_ms, last_code, last_enhanced, last_error,
// message_id, queue_id, relay, id (nulls where the column keeps its value
// or is cleared).
func (r result) appendJSON(js []byte, now int64) []byte {
	attempted, first := 0, int64(-1)
	if r.attempted {
		attempted, first = 1, now
	}
	done := int64(-1)
	if r.status != StatusQueued {
		done = now
	}
	next := now
	if !r.next.IsZero() {
		next = r.next.UnixMilli()
	}
	var code int64 = -1
	var enh, text string
	if r.e != nil {
		text = r.e.Error()
		if r.e.Code != 0 {
			code = int64(r.e.Code)
		}
		enh = r.e.Enhanced
	} else {
		text = r.note
	}
	js = append(js, '[')
	js = appendJSONString(js, r.status)
	js = append(js, ',')
	js = strconv.AppendInt(js, int64(attempted), 10)
	js = append(js, ',')
	js = strconv.AppendInt(js, next, 10)
	for _, v := range [...]int64{first, done, code} {
		js = append(js, ',')
		js = appendJSONInt(js, v)
	}
	for _, v := range [...]string{enh, text, r.msgID, r.queueID, r.relay} {
		js = append(js, ',')
		js = appendJSONString(js, v)
	}
	js = append(js, ',')
	js = strconv.AppendInt(js, r.d.ID, 10)
	return append(js, ']')
}

// appendJSONInt appends v, or null for -1.
func appendJSONInt(js []byte, v int64) []byte {
	if v == -1 {
		return append(js, "null"...)
	}
	return strconv.AppendInt(js, v, 10)
}

// appendJSONString appends s as a JSON string, or null when it is empty.
// Text that needs escaping (a relay's reply) goes through encoding/json,
// which also replaces invalid UTF-8.
func appendJSONString(js []byte, s string) []byte {
	if s == "" {
		return append(js, "null"...)
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c >= 0x80 {
			b, _ := json.Marshal(s)
			return append(js, b...)
		}
	}
	js = append(js, '"')
	js = append(js, s...)
	return append(js, '"')
}

// observe tells the meter what a committed batch sent, and the last
// failure of each issue in it.
func (m *Mailer) observe(batch []result) {
	now := m.now()
	var issue int64
	n := 0
	for _, r := range batch {
		switch {
		case r.e != nil:
			m.meter.fail(r.d.IssueID, now, r.e.Error())
		case r.status == StatusQueued && r.note != "":
			m.meter.fail(r.d.IssueID, now, r.note)
		}
		if r.status != StatusSent {
			continue
		}
		if r.d.IssueID != issue {
			m.meter.add(issue, now, n)
			issue, n = r.d.IssueID, 0
		}
		n++
	}
	m.meter.add(issue, now, n)
}

// delivered tells OnDelivered who of a committed batch was accepted.
func (m *Mailer) delivered(ctx context.Context, batch []result) {
	if m.opt.OnDelivered == nil {
		return
	}
	var emails []string
	for _, r := range batch {
		if r.status == StatusSent {
			emails = append(emails, r.d.Email)
		}
	}
	if len(emails) > 0 {
		m.opt.OnDelivered(ctx, emails)
	}
}

// checkDone marks finished issues done and tells OnIssueDone.
func (m *Mailer) checkDone(ctx context.Context, batch []result) {
	seen := map[int64]bool{}
	for _, r := range batch {
		if seen[r.d.IssueID] || r.status == StatusQueued {
			continue
		}
		seen[r.d.IssueID] = true
		var left bool
		err := m.db.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM deliveries
			WHERE issue_id = ? AND status IN ('queued', 'sending'))`, r.d.IssueID).Scan(&left)
		if err != nil || left {
			continue
		}
		res, err := m.db.ExecContext(ctx, `UPDATE mailer_runs SET state = 'done', updated_ms = ?
			WHERE issue_id = ? AND state = 'running'`, m.now().UnixMilli(), r.d.IssueID)
		if err != nil {
			m.log.Error("marking issue done", "issue_id", r.d.IssueID, "err", err)
			continue
		}
		if n, _ := res.RowsAffected(); n == 1 {
			m.setState(r.d.IssueID, runDone)
			m.log.Info("issue sent", "issue_id", r.d.IssueID)
			if m.opt.OnIssueDone != nil {
				m.opt.OnIssueDone(ctx, r.d.IssueID)
			}
		}
	}
}

// watchStates refreshes issue states from the table so that a pause or
// cancel made by another process takes effect within a second.
func (m *Mailer) watchStates(ctx context.Context) {
	t := time.NewTicker(500 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := m.refreshStates(ctx); err != nil && ctx.Err() == nil {
				m.log.Warn("refreshing issue states", "err", err)
			}
			if err := m.finishIdle(ctx); err != nil && ctx.Err() == nil {
				m.log.Warn("finishing idle issues", "err", err)
			}
		}
	}
}

// finishIdle marks done the running issues with nothing left to send that
// checkDone never saw finish: an issue with no recipients at all, or one
// whose last result was committed just before a crash. The quiet period
// keeps it clear of a snapshot that is still being made.
func (m *Mailer) finishIdle(ctx context.Context) error {
	quiet := m.now().Add(-2 * time.Second).UnixMilli()
	rows, err := m.db.QueryContext(ctx, `SELECT issue_id FROM mailer_runs r WHERE state = 'running' AND updated_ms < ?
		AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.issue_id = r.issue_id AND d.status IN ('queued', 'sending'))`, quiet)
	if err != nil {
		return fmt.Errorf("finding idle issues: %w", err)
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return fmt.Errorf("finding idle issues: %w", err)
		}
		ids = append(ids, id)
	}
	rows.Close()
	for _, id := range ids {
		m.checkDone(ctx, []result{{d: Delivery{IssueID: id}, status: StatusSent}})
	}
	return nil
}

func (m *Mailer) refreshStates(ctx context.Context) error {
	rows, err := m.db.QueryContext(ctx, `SELECT issue_id, state FROM mailer_runs WHERE state != 'done'`)
	if err != nil {
		return fmt.Errorf("reading issue states: %w", err)
	}
	defer rows.Close()
	states := map[int64]string{}
	for rows.Next() {
		var id int64
		var st string
		if err := rows.Scan(&id, &st); err != nil {
			return fmt.Errorf("reading issue states: %w", err)
		}
		states[id] = st
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("reading issue states: %w", err)
	}
	m.mu.Lock()
	for id, st := range states {
		m.states[id] = st
	}
	m.mu.Unlock()
	return nil
}

// backoff returns the delay before retry number attempts (1 = first retry):
// RetryBase doubled each time up to RetryMax, ±20% jitter.
func (m *Mailer) backoff(attempts int) time.Duration {
	d := m.opt.RetryBase << min(max(attempts-1, 0), 20)
	if d > m.opt.RetryMax || d <= 0 {
		d = m.opt.RetryMax
	}
	j := time.Duration(rand.Int64N(int64(d)/5*2+1)) - d/5
	return d + j
}

// recheck asks the Checker, once per claimed batch, which deliveries are no
// longer wanted (the recipient left or was suppressed after the snapshot),
// so an opt-out is honoured up to the moment of sending at the cost of one
// query per batch rather than one per message. If the check fails the batch
// is held back for a moment rather than sent unchecked.
func (m *Mailer) recheck(ctx context.Context, ds []Delivery) {
	if m.opt.Checker == nil || len(ds) == 0 {
		return
	}
	unwanted, err := m.opt.Checker.Unwanted(ctx, ds)
	if err != nil {
		if ctx.Err() == nil {
			m.log.Error("re-checking recipients", "err", err)
		}
		for i := range ds {
			ds[i].hold = true
		}
		return
	}
	for i := range ds {
		ds[i].skip = unwanted[ds[i].ID]
	}
}
