package mailer

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// SubscriberDelivery is one delivery to a subscriber, as the admin's
// subscriber page shows it.
type SubscriberDelivery struct {
	ID, IssueID int64
	Status      string // queued, sending, sent, failed, bounced, skipped, cancelled
	Attempts    int
	Done        time.Time // zero while not finished
	Code        int       // the last SMTP reply code, 0 if none
	Enhanced    string    // the last RFC 3463 status, "" if none
	Error       string    // the last error in the relay's words
}

// SubscriberDeliveries returns a subscriber's deliveries, newest issue
// first, at most limit (default 20), of issues below beforeIssue (0: from
// the newest). It looks each issue up through the (issue, subscriber)
// key, so it costs one index probe per issue, not a scan of the outbox.
func (m *Mailer) SubscriberDeliveries(ctx context.Context, subscriberID, beforeIssue int64, limit int) ([]SubscriberDelivery, error) {
	if limit <= 0 {
		limit = 20
	}
	if beforeIssue <= 0 {
		beforeIssue = 1<<63 - 1
	}
	rows, err := m.db.QueryContext(ctx, `
SELECT d.id, d.issue_id, d.status, d.attempts, d.done_ms, coalesce(d.last_code, 0), coalesce(d.last_enhanced, ''),
  coalesce(d.last_error, '')
FROM mailer_runs r CROSS JOIN deliveries d ON d.issue_id = r.issue_id AND d.subscriber_id = ?
WHERE r.issue_id < ? ORDER BY r.issue_id DESC LIMIT ?`, subscriberID, beforeIssue, limit)
	if err != nil {
		return nil, fmt.Errorf("loading deliveries of subscriber %d: %w", subscriberID, err)
	}
	defer rows.Close()
	var out []SubscriberDelivery
	for rows.Next() {
		var d SubscriberDelivery
		var done sql.NullInt64
		if err := rows.Scan(&d.ID, &d.IssueID, &d.Status, &d.Attempts, &done, &d.Code, &d.Enhanced, &d.Error); err != nil {
			return nil, fmt.Errorf("loading deliveries of subscriber %d: %w", subscriberID, err)
		}
		if done.Valid {
			d.Done = time.UnixMilli(done.Int64)
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// ForgetRecipient removes an erased subscriber's address and name from the
// outbox and the system-mail queue (a deletion request; the caller erased
// the subscriber). Deliveries stay for the issues' statistics, with no
// address, name, domain or error text (a relay's reply often quotes the
// address) and the subscriber id negated, so that a later subscriber
// given the same id is not taken for it; one still queued is cancelled.
// Queued system mail to the address (a confirmation) is deleted unsent.
func (m *Mailer) ForgetRecipient(ctx context.Context, subscriberID int64, email string) error {
	tx, err := m.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("forgetting a recipient: %w", err)
	}
	defer tx.Rollback()
	_, err = tx.ExecContext(ctx, `UPDATE deliveries SET email = '', name = '', domain = '', last_error = NULL,
  status = CASE status WHEN 'queued' THEN 'cancelled' ELSE status END, subscriber_id = -subscriber_id
WHERE issue_id IN (SELECT issue_id FROM mailer_runs) AND subscriber_id = ?`, subscriberID)
	if err != nil {
		return fmt.Errorf("forgetting deliveries of subscriber %d: %w", subscriberID, err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM mail_queue WHERE rcpt = ? COLLATE NOCASE`, email); err != nil {
		return fmt.Errorf("forgetting queued mail: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("forgetting a recipient: %w", err)
	}
	return nil
}
