package subscribers

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// Bulk actions act on many subscriptions of one list at once: the ones
// staff ticked on a page, or every one a filter matches (issue 17). Each
// runs in batches, one short write transaction per batch with a pause
// between them (as imports do), so the daemon's own writes keep going;
// and each is idempotent: running it again changes nothing that the first
// run changed, and finishes what a stopped run left.

// Bulk actions.
const (
	// BulkUnsubscribe unsubscribes each selected subscription that is
	// not unsubscribed yet, with an opt-out in the consent log (source
	// admin, the actor and the reason recorded).
	BulkUnsubscribe = "unsubscribe"
	// BulkSuppress stops mail to each selected address on this list (a
	// manual suppression for the list; other lists are not touched,
	// since an editor may act only on its own lists). An address already
	// suppressed for the list or everywhere is left as it is.
	BulkSuppress = "suppress"
)

// Errors of the list page's filters and bulk actions.
var (
	// ErrDeepOffset: a page beyond MaxOffset, or a page number in a
	// search of several lists; page by key (After) instead.
	ErrDeepOffset = errors.New("page too deep: page by key (after) instead")
	// ErrTooManyIDs: more than MaxSelectedIDs subscribers selected.
	ErrTooManyIDs = errors.New("too many subscribers selected")
	// ErrBadAction: a bulk action this package does not know.
	ErrBadAction = errors.New("unknown bulk action")
)

// A bulk action changes a batch of subscriptions per transaction, sized
// (as imports do) so that a transaction holds the write lock about
// bulkTarget, then pauses batchGap (imports' pause: longer than SQLite's
// longest busy-handler sleep, so a waiting writer of the daemon gets its
// turn). Each batch is a few set-based statements, not one per row.
const (
	bulkFirst  = 500
	bulkMin    = 50
	bulkMax    = 2000
	bulkTarget = 50 * time.Millisecond
)

// Selection names the subscriptions of one list a bulk action acts on:
// those matching Status and Text, and of them only IDs when IDs is set.
type Selection struct {
	ListSlug string
	// Status is unconfirmed, confirmed, unsubscribed, suppressed or ""
	// (all), as in SearchQuery.
	Status string
	// Text matches the start of the address or name, as in SearchQuery.
	Text string
	// IDs are the subscribers ticked on a page (at most MaxSelectedIDs);
	// empty means every subscription the filter matches.
	IDs []int64
}

func (sel Selection) query() SearchQuery {
	return SearchQuery{ListSlug: sel.ListSlug, Status: sel.Status, Text: sel.Text, IDs: sel.IDs, PerPage: bulkFirst, SkipTotal: true, batch: bulkMax}
}

// BulkResult says what a bulk action did.
type BulkResult struct {
	Action string
	// Matched is how many subscriptions the selection held.
	Matched int
	// Changed is how many this run changed; Matched - Changed were
	// already as the action leaves them.
	Changed int
	// Batches is the number of write transactions; LongestBatch the
	// longest of them, i.e. the longest hold of the write lock.
	Batches      int
	LongestBatch time.Duration
}

// CountSelection returns how many subscriptions sel selects: what the
// confirmation step shows before a bulk action. A whole status of a list
// is read from the kept counts; a search or a ticked selection is
// counted as Search finds it (its cost grows with the matches).
func (s *Store) CountSelection(ctx context.Context, sel Selection) (int, error) {
	l, err := s.ListBySlug(ctx, sel.ListSlug)
	if err != nil {
		return 0, err
	}
	if strings.TrimSpace(sel.Text) == "" && len(sel.IDs) == 0 {
		st, err := s.Stats(ctx, l.ID)
		if err != nil {
			return 0, err
		}
		return st.Of(sel.Status)
	}
	if len(sel.IDs) > MaxSelectedIDs {
		return 0, fmt.Errorf("counting a selection: %d ids: %w", len(sel.IDs), ErrTooManyIDs)
	}
	q := sel.query()
	if err := s.judgeBroad(ctx, l.ID, &q); err != nil {
		return 0, err
	}
	cond, args, err := searchCond(l.ID, q)
	if err != nil {
		return 0, err
	}
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) `+cond, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("counting a selection of list %s: %w", l.Slug, err)
	}
	return n, nil
}

// Bulk applies action (BulkUnsubscribe or BulkSuppress) to every
// subscription sel selects, in batches. reason says why (required); it
// goes into the consent log's detail or the suppression's detail, with
// ev.Actor naming who. It stops at the first failing batch, keeping the
// batches before it: running it again finishes the rest.
func (s *Store) Bulk(ctx context.Context, sel Selection, action string, ev Evidence, reason string) (BulkResult, error) {
	res := BulkResult{Action: action}
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return res, fmt.Errorf("bulk %s: %w", action, ErrReasonRequired)
	}
	if action != BulkUnsubscribe && action != BulkSuppress {
		return res, fmt.Errorf("bulk %q: %w", action, ErrBadAction)
	}
	l, err := s.ListBySlug(ctx, sel.ListSlug)
	if err != nil {
		return res, err
	}
	q := sel.query()
	for {
		// Read a batch by key without a transaction, then change it in
		// a short one: the write lock is never held while searching.
		rows, _, err := s.Search(ctx, q)
		if err != nil {
			return res, fmt.Errorf("bulk %s on list %s: %w", action, l.Slug, err)
		}
		if len(rows) == 0 {
			break
		}
		t0 := time.Now()
		n, err := s.bulkBatch(ctx, l, rows, action, ev, reason)
		took := time.Since(t0)
		res.LongestBatch = max(res.LongestBatch, took)
		res.Matched += len(rows)
		res.Changed += n
		res.Batches++
		if err != nil {
			return res, fmt.Errorf("bulk %s on list %s: %w", action, l.Slug, err)
		}
		if len(rows) < q.PerPage {
			break
		}
		q.After = rows[len(rows)-1].SubscriberID
		switch {
		case took > bulkTarget:
			q.PerPage = max(q.PerPage/2, bulkMin)
		case took < bulkTarget/2:
			q.PerPage = min(q.PerPage*2, bulkMax)
		}
		select {
		case <-ctx.Done():
			return res, ctx.Err()
		case <-time.After(batchGap):
		}
	}
	s.log.Info("bulk action", "action", action, "list_id", l.ID, "actor", ev.Actor,
		"matched", res.Matched, "changed", res.Changed, "batches", res.Batches, "longest_batch", res.LongestBatch)
	return res, nil
}

// bulkBatch changes one batch in one transaction and returns how many
// subscriptions it changed. The statements test each subscription's state
// again inside the transaction, so a change made since the search is
// respected (an unsubscribed one is not unsubscribed twice).
func (s *Store) bulkBatch(ctx context.Context, l List, rows []SubscriberRow, action string, ev Evidence, reason string) (int, error) {
	ids := make([]int64, len(rows))
	for i, r := range rows {
		ids[i] = r.SubscriberID
	}
	var changed int
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		switch action {
		case BulkUnsubscribe:
			changed, err = s.bulkOptOut(ctx, tx, l, idsJSON(ids), ev, reason)
		case BulkSuppress:
			changed, err = s.bulkSuppress(ctx, tx, l, idsJSON(ids), reason)
		}
		return err
	})
	return changed, err
}

// bulkOptOut unsubscribes the subscriptions of l with these ids that are
// not unsubscribed yet, each with an opt-out in the consent log.
func (s *Store) bulkOptOut(ctx context.Context, tx *sql.Tx, l List, ids string, ev Evidence, reason string) (int, error) {
	now := s.now()
	rows, err := tx.QueryContext(ctx, `UPDATE subscriptions SET status = 'unsubscribed', unsubscribed_at = ?
WHERE list_id = ? AND subscriber_id IN (SELECT value FROM json_each(?)) AND status <> 'unsubscribed'
RETURNING subscriber_id`, now.Unix(), l.ID, ids)
	if err != nil {
		return 0, fmt.Errorf("unsubscribing from list %d: %w", l.ID, err)
	}
	var done []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return 0, fmt.Errorf("unsubscribing from list %d: %w", l.ID, err)
		}
		done = append(done, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(done) == 0 {
		return 0, err
	}
	_, err = tx.ExecContext(ctx, `
INSERT INTO consent_events (at_ms, list_id, subscriber_id, email, event, source, ip, user_agent, message_id, actor, detail)
SELECT ?, ?, s.id, s.email, ?, ?, ?, ?, '', ?, ? FROM subscribers s WHERE s.id IN (SELECT value FROM json_each(?))`,
		now.UnixMilli(), l.ID, EventOptOut, SourceAdmin, ev.IP, ev.UserAgent, ev.Actor, "bulk: "+reason, idsJSON(done))
	if err != nil {
		return 0, fmt.Errorf("recording opt-outs from list %d: %w", l.ID, err)
	}
	return len(done), nil
}

// bulkSuppress suppresses for l the addresses of these subscribers that
// are not suppressed for l or everywhere yet.
func (s *Store) bulkSuppress(ctx context.Context, tx *sql.Tx, l List, ids, reason string) (int, error) {
	res, err := tx.ExecContext(ctx, `
INSERT INTO suppressions (email, list_id, reason, detail, since)
SELECT s.email, ?1, 'manual', ?2, ?3 FROM subscribers s WHERE s.id IN (SELECT value FROM json_each(?4))
  AND NOT EXISTS (SELECT 1 FROM suppressions x WHERE x.email = s.email COLLATE NOCASE AND x.list_id IN (0, ?1))
ON CONFLICT DO NOTHING`, l.ID, reason, s.now().Unix(), ids)
	if err != nil {
		return 0, fmt.Errorf("suppressing on list %d: %w", l.ID, err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

// ExportSelection writes the subscriptions sel selects as ExportSubscribers
// writes a whole list (the same columns, attributes included), reading
// them by key in pages so that no long read holds the database.
func (s *Store) ExportSelection(ctx context.Context, w io.Writer, sel Selection, bom bool) error {
	l, keys, cw, err := s.startExport(ctx, w, sel.ListSlug, bom)
	if err != nil {
		return err
	}
	q := sel.query()
	for {
		rows, _, err := s.Search(ctx, q)
		if err != nil {
			return fmt.Errorf("exporting a selection of list %s: %w", l.Slug, err)
		}
		if len(rows) == 0 {
			break
		}
		if err := s.exportRows(ctx, cw, l, keys, rows); err != nil {
			return err
		}
		q.After = rows[len(rows)-1].SubscriberID
		if len(rows) < q.PerPage {
			break
		}
	}
	cw.Flush()
	return cw.Error()
}
