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
// runs in batches of bulkBatch subscriptions, one short write transaction
// per batch with a pause between them (as imports do), so the daemon's
// own writes wait a few milliseconds at most; and each is idempotent:
// running it again changes nothing that the first run changed.

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
	// ErrBulkReasonRequired: a bulk action without the reason the audit log
	// and the consent log keep.
	ErrBulkReasonRequired = errors.New("a bulk action needs a reason")
)

// bulkBatch subscriptions are changed per transaction; at about 20 µs
// each the write lock is held some 10 ms, then let go for bulkGap.
const (
	bulkBatch = 500
	bulkGap   = 20 * time.Millisecond
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
	return SearchQuery{ListSlug: sel.ListSlug, Status: sel.Status, Text: sel.Text, IDs: sel.IDs, PerPage: bulkBatch, SkipTotal: true}
}

// BulkResult says what a bulk action did.
type BulkResult struct {
	Action string
	// Matched is how many subscriptions the selection held.
	Matched int
	// Changed is how many this run changed; Matched - Changed were
	// already as the action leaves them.
	Changed int
	// Batches is the number of write transactions.
	Batches int
}

// CountSelection returns how many subscriptions sel selects: what the
// confirmation step shows before a bulk action. A whole status of a list
// is read from the kept counts; a search or a ticked selection is
// counted through its indexes.
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
		return res, fmt.Errorf("bulk %s: %w", action, ErrBulkReasonRequired)
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
		n, err := s.bulkBatch(ctx, l, rows, action, ev, reason)
		res.Matched += len(rows)
		res.Changed += n
		res.Batches++
		if err != nil {
			return res, fmt.Errorf("bulk %s on list %s: %w", action, l.Slug, err)
		}
		q.After = rows[len(rows)-1].SubscriberID
		if len(rows) < q.PerPage {
			break
		}
		select {
		case <-ctx.Done():
			return res, ctx.Err()
		case <-time.After(bulkGap):
		}
	}
	s.log.Info("bulk action", "action", action, "list_id", l.ID, "actor", ev.Actor,
		"matched", res.Matched, "changed", res.Changed, "batches", res.Batches)
	return res, nil
}

// bulkBatch changes one batch in one transaction and returns how many
// subscriptions it changed. Each row's state is read again inside the
// transaction, so a change made since the search is respected.
func (s *Store) bulkBatch(ctx context.Context, l List, rows []SubscriberRow, action string, ev Evidence, reason string) (int, error) {
	var changed int
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		for _, r := range rows {
			var ok bool
			var err error
			switch action {
			case BulkUnsubscribe:
				ok, err = s.bulkOptOut(ctx, tx, l, r, ev, reason)
			case BulkSuppress:
				ok, err = s.bulkSuppress(ctx, tx, l, r, reason)
			}
			if err != nil {
				return err
			}
			if ok {
				changed++
			}
		}
		return nil
	})
	return changed, err
}

func (s *Store) bulkOptOut(ctx context.Context, tx *sql.Tx, l List, r SubscriberRow, ev Evidence, reason string) (bool, error) {
	st, _, err := subStatus(ctx, tx, l.ID, r.SubscriberID)
	if err != nil || st == "" || st == StatusUnsubscribed {
		return false, err
	}
	if err := s.setStatus(ctx, tx, l.ID, r.SubscriberID, StatusUnsubscribed, SourceAdmin); err != nil {
		return false, err
	}
	return true, s.record(ctx, tx, ConsentEvent{ListID: l.ID, SubscriberID: r.SubscriberID, Email: r.Email,
		Event: EventOptOut, Source: SourceAdmin, Evidence: ev, Detail: "bulk: " + reason})
}

func (s *Store) bulkSuppress(ctx context.Context, tx *sql.Tx, l List, r SubscriberRow, reason string) (bool, error) {
	res, err := tx.ExecContext(ctx, `
INSERT INTO suppressions (email, list_id, reason, detail, since)
SELECT ?1, ?2, 'manual', ?3, ?4
WHERE NOT EXISTS (SELECT 1 FROM suppressions WHERE email = ?1 COLLATE NOCASE AND list_id IN (0, ?2))`,
		r.Email, l.ID, reason, s.now().Unix())
	if err != nil {
		return false, fmt.Errorf("suppressing subscriber %d on list %d: %w", r.SubscriberID, l.ID, err)
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}

// ExportSelection writes the subscriptions sel selects as ExportSubscribers
// writes a whole list (the same columns, attributes included), reading
// them by key in pages so that no long read holds the database.
func (s *Store) ExportSelection(ctx context.Context, w io.Writer, sel Selection, bom bool) error {
	l, err := s.ListBySlug(ctx, sel.ListSlug)
	if err != nil {
		return err
	}
	keys, err := s.attributeKeys(ctx, l.ID)
	if err != nil {
		return err
	}
	cw, err := newCSV(w, bom)
	if err != nil {
		return err
	}
	if err := cw.Write(exportHeader(keys)); err != nil {
		return fmt.Errorf("writing export: %w", err)
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
