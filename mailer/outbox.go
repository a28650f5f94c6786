package mailer

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Delivery states in table deliveries.
const (
	StatusQueued    = "queued"
	StatusSending   = "sending"
	StatusSent      = "sent"
	StatusFailed    = "failed"
	StatusBounced   = "bounced"
	StatusSkipped   = "skipped"
	StatusCancelled = "cancelled"
)

// Run states in table mailer_runs.
const (
	runRunning   = "running"
	runPaused    = "paused"
	runCancelled = "cancelled"
	runDone      = "done"
)

// Recipient is one address to snapshot into the outbox.
type Recipient struct {
	SubscriberID int64
	Email, Name  string
}

// RecipientSource lists an issue's recipients (confirmed, not suppressed).
// package subscribers satisfies it; it reads inside tx so that the snapshot
// is one consistent transaction.
type RecipientSource interface {
	EachRecipient(ctx context.Context, tx *sql.Tx, listID int64, fn func(Recipient) error) error
}

// Delivery is one claimed row of the outbox, handed to the Renderer.
type Delivery struct {
	ID, IssueID, SubscriberID int64
	// ListID is the list the delivery is sent for: of a joint issue, the
	// recipient's first list of the issue they are on.
	ListID      int64
	Email, Name string
	Attempts    int

	firstAttempt time.Time // zero before the first attempt
	skip         bool      // the Checker said the recipient no longer wants it
	hold         bool      // the Checker could not answer: try again shortly
}

// Checker re-checks a claimed batch just before it is sent and returns the
// ids of the deliveries whose recipient no longer wants them (unsubscribed
// or suppressed since the snapshot); those end "skipped".
type Checker interface {
	Unwanted(ctx context.Context, ds []Delivery) (map[int64]bool, error)
}

// Renderer makes the personal message for a delivery. It may return ErrSkip
// (the recipient unsubscribed meanwhile). The mailer fills To when empty,
// ReturnPath (VERP), MessageID and FeedbackID itself.
type Renderer interface {
	Render(ctx context.Context, d Delivery) (*Message, error)
}

// BounceRecorder hears at once of a permanent failure (5xx at RCPT or DATA)
// so that the bounce policy can apply; package bounces satisfies it.
type BounceRecorder interface {
	RecordSendFailure(ctx context.Context, d Delivery, e *Error) error
}

// Progress counts an issue's deliveries by state, with the send rate over
// the last minute and the time left at that rate.
type Progress struct {
	Queued, Sending, Sent, Failed, Bounced, Skipped, Cancelled int
	PerSecond                                                  float64
	ETA                                                        time.Duration
	// LastError is the issue's last failure in the last 15 minutes (a
	// relay's reply, a network error, or why mail waits), with its time.
	LastError   string
	LastErrorAt time.Time
}

// snapshotChunk is the number of rows per multi-row INSERT in Snapshot.
const snapshotChunk = 200

// Snapshot copies listID's recipients for issueID into the outbox in one
// transaction and returns how many it added. Calling it again for the same
// issue adds nothing and returns 0.
func (m *Mailer) Snapshot(ctx context.Context, issueID, listID int64, src RecipientSource) (int, error) {
	return m.SnapshotLists(ctx, issueID, []int64{listID}, src)
}

// SnapshotLists is Snapshot for an issue of several lists (a joint issue),
// the lead first: each subscriber eligible on any of them gets one
// delivery, recorded for the first of listIDs they are on (unique (issue,
// subscriber) drops the later lists' rows). One transaction, as Snapshot.
func (m *Mailer) SnapshotLists(ctx context.Context, issueID int64, listIDs []int64, src RecipientSource) (int, error) {
	if len(listIDs) == 0 {
		return 0, fmt.Errorf("snapshotting issue %d: no list", issueID)
	}
	listID := listIDs[0]
	tx, err := m.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("snapshotting issue %d: %w", issueID, err)
	}
	defer tx.Rollback()
	now := m.now().UnixMilli()
	res, err := tx.ExecContext(ctx, `INSERT INTO mailer_runs (issue_id, list_id, created_ms, updated_ms)
		VALUES (?, ?, ?, ?) ON CONFLICT (issue_id) DO NOTHING`, issueID, listID, now, now)
	if err != nil {
		return 0, fmt.Errorf("snapshotting issue %d: %w", issueID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return 0, nil
	}
	ins := &snapshotInserter{ctx: ctx, tx: tx, issueID: issueID}
	for _, id := range listIDs {
		// A list's rows are flushed before the next list's, so that the
		// first list of a subscriber wins the unique (issue, subscriber).
		ins.listID = id
		if err := src.EachRecipient(ctx, tx, id, ins.add); err != nil {
			return 0, fmt.Errorf("snapshotting issue %d: listing recipients of list %d: %w", issueID, id, err)
		}
		if err := ins.flush(); err != nil {
			return 0, fmt.Errorf("snapshotting issue %d: %w", issueID, err)
		}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE mailer_runs SET total = ? WHERE issue_id = ?`, ins.total, issueID); err != nil {
		return 0, fmt.Errorf("snapshotting issue %d: %w", issueID, err)
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("snapshotting issue %d: %w", issueID, err)
	}
	m.setState(issueID, runRunning)
	return ins.total, nil
}

// snapshotInserter batches recipients into multi-row INSERTs.
type snapshotInserter struct {
	ctx     context.Context
	tx      *sql.Tx
	issueID int64
	listID  int64
	args    []any
	n       int
	total   int
	full    *sql.Stmt
}

func (s *snapshotInserter) add(r Recipient) error {
	if r.Email == "" {
		return fmt.Errorf("subscriber %d: %w: empty address", r.SubscriberID, ErrBadAddress)
	}
	s.args = append(s.args, s.issueID, r.SubscriberID, r.Email, r.Name, Domain(r.Email), s.listID)
	s.n++
	if s.n == snapshotChunk {
		return s.flush()
	}
	return nil
}

func (s *snapshotInserter) flush() error {
	if s.n == 0 {
		return nil
	}
	var stmt *sql.Stmt
	var err error
	if s.n == snapshotChunk && s.full != nil {
		stmt = s.full
	} else {
		q := "INSERT INTO deliveries (issue_id, subscriber_id, email, name, domain, list_id) VALUES " +
			strings.TrimSuffix(strings.Repeat("(?,?,?,?,?,?),", s.n), ",") +
			" ON CONFLICT (issue_id, subscriber_id) DO NOTHING"
		if stmt, err = s.tx.PrepareContext(s.ctx, q); err != nil {
			return err
		}
		if s.n == snapshotChunk {
			s.full = stmt
		} else {
			defer stmt.Close()
		}
	}
	res, err := stmt.ExecContext(s.ctx, s.args...)
	if err != nil {
		return err
	}
	k, _ := res.RowsAffected()
	s.total += int(k)
	s.args, s.n = s.args[:0], 0
	return nil
}

// Pause stops claiming the issue's deliveries; claimed ones not yet sent go
// back to the queue. Workers see it before their next message.
func (m *Mailer) Pause(ctx context.Context, issueID int64) error {
	return m.changeState(ctx, issueID, runPaused, runRunning)
}

// Resume lets a paused issue send again.
func (m *Mailer) Resume(ctx context.Context, issueID int64) error {
	return m.changeState(ctx, issueID, runRunning, runPaused)
}

// Cancel stops an issue for good: queued deliveries become cancelled.
func (m *Mailer) Cancel(ctx context.Context, issueID int64) error {
	if err := m.changeState(ctx, issueID, runCancelled, runRunning, runPaused); err != nil {
		return err
	}
	_, err := m.db.ExecContext(ctx, `UPDATE deliveries SET status = 'cancelled', done_ms = ?
		WHERE issue_id = ? AND status = 'queued'`, m.now().UnixMilli(), issueID)
	if err != nil {
		return fmt.Errorf("cancelling issue %d: %w", issueID, err)
	}
	return nil
}

func (m *Mailer) changeState(ctx context.Context, issueID int64, to string, from ...string) error {
	q := `UPDATE mailer_runs SET state = ?, updated_ms = ? WHERE issue_id = ? AND state IN (` +
		strings.TrimSuffix(strings.Repeat("?,", len(from)), ",") + `)`
	args := []any{to, m.now().UnixMilli(), issueID}
	for _, f := range from {
		args = append(args, f)
	}
	res, err := m.db.ExecContext(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("setting issue %d %s: %w", issueID, to, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		var state string
		err := m.db.QueryRowContext(ctx, `SELECT state FROM mailer_runs WHERE issue_id = ?`, issueID).Scan(&state)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("setting issue %d %s: %w", issueID, to, ErrUnknownIssue)
		}
		if err != nil {
			return fmt.Errorf("setting issue %d %s: %w", issueID, to, err)
		}
		if state != to {
			return fmt.Errorf("setting issue %d %s: it is %s", issueID, to, state)
		}
	}
	m.setState(issueID, to)
	return nil
}

func (m *Mailer) setState(issueID int64, state string) {
	m.mu.Lock()
	m.states[issueID] = state
	m.mu.Unlock()
}

func (m *Mailer) state(issueID int64) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.states[issueID]
}

// RetryFailed puts the issue's failed deliveries back in the queue (the
// "resend to those that failed" action) and returns how many. Bounced and
// skipped deliveries stay as they are.
func (m *Mailer) RetryFailed(ctx context.Context, issueID int64) (int, error) {
	tx, err := m.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("retrying issue %d: %w", issueID, err)
	}
	defer tx.Rollback()
	now := m.now().UnixMilli()
	res, err := tx.ExecContext(ctx, `UPDATE deliveries SET status = 'queued', next_attempt_ms = ?,
		first_attempt_ms = NULL, done_ms = NULL WHERE issue_id = ? AND status = 'failed'`, now, issueID)
	if err != nil {
		return 0, fmt.Errorf("retrying issue %d: %w", issueID, err)
	}
	n, _ := res.RowsAffected()
	if n > 0 {
		if _, err := tx.ExecContext(ctx, `UPDATE mailer_runs SET state = 'running', updated_ms = ?
			WHERE issue_id = ? AND state = 'done'`, now, issueID); err != nil {
			return 0, fmt.Errorf("retrying issue %d: %w", issueID, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("retrying issue %d: %w", issueID, err)
	}
	if n > 0 && m.state(issueID) == runDone {
		m.setState(issueID, runRunning)
	}
	return int(n), nil
}

// MarkBounced records that a sent delivery bounced later (the IMAP bounce
// reader found a DSN for it).
func (m *Mailer) MarkBounced(ctx context.Context, deliveryID int64) error {
	res, err := m.db.ExecContext(ctx, `UPDATE deliveries SET status = 'bounced', done_ms = ?
		WHERE id = ? AND status IN ('sent', 'failed', 'sending', 'queued')`, m.now().UnixMilli(), deliveryID)
	if err != nil {
		return fmt.Errorf("marking delivery %d bounced: %w", deliveryID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		var st string
		err := m.db.QueryRowContext(ctx, `SELECT status FROM deliveries WHERE id = ?`, deliveryID).Scan(&st)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("marking delivery %d bounced: %w", deliveryID, ErrUnknownIssue)
		}
	}
	return nil
}

// Progress reports the issue's deliveries by state, the rate over the last
// minute and the estimated time left.
func (m *Mailer) Progress(ctx context.Context, issueID int64) (Progress, error) {
	var p Progress
	// A finished issue's counts are kept in delivery_counts (migration
	// 0020); a running one is counted live.
	n, err := m.addCounts(ctx, &p, `SELECT status, n FROM delivery_counts WHERE issue_id = ?`, issueID)
	if err == nil && n == 0 {
		_, err = m.addCounts(ctx, &p, `SELECT status, count(*) FROM deliveries WHERE issue_id = ? GROUP BY status`, issueID)
	}
	if err != nil {
		return p, fmt.Errorf("progress of issue %d: %w", issueID, err)
	}
	p.LastError, p.LastErrorAt = m.meter.lastError(issueID, m.now())
	if p.PerSecond = m.meter.rate(issueID, m.now()); p.PerSecond > 0 {
		p.ETA = time.Duration(float64(p.Queued+p.Sending) / p.PerSecond * float64(time.Second))
	}
	return p, nil
}

// ProgressOn counts the deliveries of issueID sent for listID: a joint
// issue's share of one list, so that per-list statistics add up to the
// issue's (each delivery is counted for exactly one list). No rate or ETA.
func (m *Mailer) ProgressOn(ctx context.Context, issueID, listID int64) (Progress, error) {
	var p Progress
	_, err := m.addCounts(ctx, &p, `SELECT status, count(*) FROM deliveries WHERE issue_id = ?1
		AND COALESCE(list_id, (SELECT list_id FROM mailer_runs WHERE issue_id = ?1)) = ?2 GROUP BY status`, issueID, listID)
	if err != nil {
		return p, fmt.Errorf("progress of issue %d on list %d: %w", issueID, listID, err)
	}
	return p, nil
}

// addCounts adds the (status, count) rows of query to p and says how many
// rows there were.
func (m *Mailer) addCounts(ctx context.Context, p *Progress, query string, args ...any) (int, error) {
	rows, err := m.db.QueryContext(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	var seen int
	for rows.Next() {
		var st string
		var n int
		if err := rows.Scan(&st, &n); err != nil {
			return 0, err
		}
		*p.field(st) += n
		seen++
	}
	return seen, rows.Err()
}

func (p *Progress) field(status string) *int {
	switch status {
	case StatusQueued:
		return &p.Queued
	case StatusSending:
		return &p.Sending
	case StatusSent:
		return &p.Sent
	case StatusFailed:
		return &p.Failed
	case StatusBounced:
		return &p.Bounced
	case StatusSkipped:
		return &p.Skipped
	default:
		return &p.Cancelled
	}
}
