package mailer

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Run is an issue's run through the outbox: its list, when its recipients
// were snapshotted, and when its state last changed (for a done run, when
// it finished).
type Run struct {
	IssueID, ListID  int64
	Started, Changed time.Time
	Done             bool
}

// RunOf returns the issue's run; ok is false for an issue never handed to
// the outbox.
func (m *Mailer) RunOf(ctx context.Context, issueID int64) (Run, bool, error) {
	r := Run{IssueID: issueID}
	var started, changed int64
	var state string
	err := m.db.QueryRowContext(ctx, `SELECT list_id, created_ms, updated_ms, state FROM mailer_runs WHERE issue_id = ?`,
		issueID).Scan(&r.ListID, &started, &changed, &state)
	if errors.Is(err, sql.ErrNoRows) {
		return Run{}, false, nil
	}
	if err != nil {
		return Run{}, false, fmt.Errorf("reading run of issue %d: %w", issueID, err)
	}
	r.Started, r.Changed, r.Done = time.UnixMilli(started).UTC(), time.UnixMilli(changed).UTC(), state == "done"
	return r, true, nil
}

// SentProbe asks for a subscriber's last delivery before a time.
type SentProbe struct {
	SubscriberID int64
	Before       time.Time
}

// LastSent is a subscriber's last delivery before a probe's time: the
// issue and when the relay accepted it. IssueID is 0 when there was none.
type LastSent struct {
	IssueID int64
	At      time.Time
}

// LastSent answers each probe with the subscriber's last delivery that was
// sent (accepted by the relay, not bounced since) strictly before the
// probe's time for list listID (the list the delivery was sent for: a
// joint issue's reader gets it for one of its lists), among the runs
// started at or after since.
// The answers are in the probes' order. One query: each probe costs an
// index lookup per run in the window.
func (m *Mailer) LastSent(ctx context.Context, listID int64, since time.Time, probes []SentProbe) ([]LastSent, error) {
	out := make([]LastSent, len(probes))
	if len(probes) == 0 {
		return out, nil
	}
	in := make([][2]int64, len(probes))
	for i, p := range probes {
		in[i] = [2]int64{p.SubscriberID, p.Before.UnixMilli()}
	}
	js, err := json.Marshal(in)
	if err != nil {
		return nil, fmt.Errorf("probing last deliveries: %w", err)
	}
	// CROSS JOIN keeps this order (probes, the list's runs, then each
	// delivery by its unique (issue_id, subscriber_id) index) whatever
	// the planner's statistics say: never a scan of deliveries.
	// SQLite takes the bare columns of a max() aggregate from the row that
	// has the maximum (https://sqlite.org/lang_select.html#bareagg).
	rows, err := m.db.QueryContext(ctx, `
WITH p(i, sub, before_ms) AS (
  SELECT key, json_extract(value, '$[0]'), json_extract(value, '$[1]') FROM json_each(?)),
r(issue_id) AS (
  SELECT issue_id FROM mailer_runs WHERE created_ms >= ?)
SELECT p.i, d.issue_id, max(d.done_ms)
FROM p CROSS JOIN r CROSS JOIN deliveries d ON d.issue_id = r.issue_id AND d.subscriber_id = p.sub
WHERE d.list_id = ? AND d.status = 'sent' AND d.done_ms < p.before_ms
GROUP BY p.i`, string(js), since.UnixMilli(), listID)
	if err != nil {
		return nil, fmt.Errorf("probing last deliveries of list %d: %w", listID, err)
	}
	defer rows.Close()
	for rows.Next() {
		var i int
		var ls LastSent
		var at int64
		if err := rows.Scan(&i, &ls.IssueID, &at); err != nil {
			return nil, fmt.Errorf("probing last deliveries of list %d: %w", listID, err)
		}
		ls.At = time.UnixMilli(at).UTC()
		out[i] = ls
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("probing last deliveries of list %d: %w", listID, err)
	}
	return out, nil
}
