package subscribers

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// SearchQuery selects subscribers for the admin UI.
type SearchQuery struct {
	// ListSlug limits the search to one list's subscriptions ("" = every
	// subscriber, without a status).
	ListSlug string
	// Text matches part of the address or the name.
	Text string
	// Page counts from 1; PerPage defaults to 50 (at most 500).
	Page, PerPage int
}

// SubscriberRow is one search result.
type SubscriberRow struct {
	SubscriberID int64
	Email, Name  string
	Created      time.Time
	// Status on the searched list (with suppression applied as in
	// exports); "" when no list was given.
	Status       string
	SubscribedAt time.Time
	ConfirmedAt  time.Time
	// Suppression is the suppression reason, or "".
	Suppression string
}

// Search finds subscribers, newest first, and returns one page of them
// with the total number of matches.
func (s *Store) Search(ctx context.Context, q SearchQuery) ([]SubscriberRow, int, error) {
	if q.PerPage <= 0 {
		q.PerPage = 50
	}
	q.PerPage = min(q.PerPage, 500)
	q.Page = max(q.Page, 1)
	var listID int64
	if q.ListSlug != "" {
		l, err := s.ListBySlug(ctx, q.ListSlug)
		if err != nil {
			return nil, 0, err
		}
		listID = l.ID
	}
	from := `FROM subscribers s`
	where := []string{"1=1"}
	args := []any{}
	if listID != 0 {
		from += ` JOIN subscriptions p ON p.subscriber_id = s.id AND p.list_id = ?`
		args = append(args, listID)
	} else {
		from += ` LEFT JOIN subscriptions p ON 0`
	}
	if t := strings.TrimSpace(q.Text); t != "" {
		like := "%" + strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(t) + "%"
		where = append(where, `(s.email LIKE ? ESCAPE '\' OR s.name LIKE ? ESCAPE '\')`)
		args = append(args, like, like)
	}
	cond := from + ` WHERE ` + strings.Join(where, " AND ")
	var total int
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) `+cond, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("searching subscribers: %w", err)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT s.id, s.email, s.name, s.created, coalesce(p.status, ''), p.requested_at, p.confirmed_at,
  coalesce((SELECT reason FROM suppressions x WHERE x.email = s.email COLLATE NOCASE AND x.list_id IN (0, ?) LIMIT 1), '') `+
		cond+` ORDER BY s.id DESC LIMIT ? OFFSET ?`,
		append(append([]any{listID}, args...), q.PerPage, (q.Page-1)*q.PerPage)...)
	if err != nil {
		return nil, 0, fmt.Errorf("searching subscribers: %w", err)
	}
	defer rows.Close()
	var out []SubscriberRow
	for rows.Next() {
		var r SubscriberRow
		var created int64
		var req, conf sql.NullInt64
		if err := rows.Scan(&r.SubscriberID, &r.Email, &r.Name, &created, &r.Status, &req, &conf, &r.Suppression); err != nil {
			return nil, 0, fmt.Errorf("searching subscribers: %w", err)
		}
		r.Created = time.Unix(created, 0).In(s.opt.Location)
		r.SubscribedAt = unixOrZero(req, s.opt.Location)
		r.ConfirmedAt = unixOrZero(conf, s.opt.Location)
		if r.Status != "" {
			r.Status = exportStatus(r.Status, r.Suppression)
		}
		out = append(out, r)
	}
	return out, total, rows.Err()
}

// History returns a subscriber's consent events, oldest first.
func (s *Store) History(ctx context.Context, subscriberID int64) ([]ConsentEvent, error) {
	rows, err := s.db.QueryContext(ctx, `
SELECT e.id, e.at_ms, e.list_id, coalesce(l.slug, ''), e.subscriber_id, e.email, e.event, e.source,
  e.ip, e.user_agent, e.message_id, e.actor, e.detail
FROM consent_events e LEFT JOIN lists l ON l.id = e.list_id
WHERE e.subscriber_id = ? ORDER BY e.at_ms, e.id`, subscriberID)
	if err != nil {
		return nil, fmt.Errorf("loading history of subscriber %d: %w", subscriberID, err)
	}
	defer rows.Close()
	var out []ConsentEvent
	for rows.Next() {
		var e ConsentEvent
		var at int64
		err := rows.Scan(&e.ID, &at, &e.ListID, &e.ListSlug, &e.SubscriberID, &e.Email, &e.Event, &e.Source,
			&e.Evidence.IP, &e.Evidence.UserAgent, &e.Evidence.MessageID, &e.Evidence.Actor, &e.Detail)
		if err != nil {
			return nil, fmt.Errorf("loading history of subscriber %d: %w", subscriberID, err)
		}
		e.At = time.UnixMilli(at).In(s.opt.Location)
		out = append(out, e)
	}
	return out, rows.Err()
}

// SubscriberLists returns the slugs of the lists a subscriber is or was
// on (any subscription, even unsubscribed, or a consent event), sorted;
// ErrNotFound if there is no such subscriber. The admin uses it to decide
// who may see the subscriber.
func (s *Store) SubscriberLists(ctx context.Context, subscriberID int64) ([]string, error) {
	var one int
	err := s.db.QueryRowContext(ctx, `SELECT 1 FROM subscribers WHERE id = ?`, subscriberID).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("lists of subscriber %d: %w", subscriberID, ErrNotFound)
	} else if err != nil {
		return nil, fmt.Errorf("lists of subscriber %d: %w", subscriberID, err)
	}
	rows, err := s.db.QueryContext(ctx, `
SELECT l.slug FROM lists l WHERE l.id IN (
  SELECT list_id FROM subscriptions WHERE subscriber_id = ?1
  UNION SELECT list_id FROM consent_events WHERE subscriber_id = ?1)
ORDER BY l.slug`, subscriberID)
	if err != nil {
		return nil, fmt.Errorf("lists of subscriber %d: %w", subscriberID, err)
	}
	defer rows.Close()
	out := []string{}
	for rows.Next() {
		var slug string
		if err := rows.Scan(&slug); err != nil {
			return nil, fmt.Errorf("lists of subscriber %d: %w", subscriberID, err)
		}
		out = append(out, slug)
	}
	return out, rows.Err()
}

// ListStats counts a list's subscriptions by the status exports show:
// Confirmed are the ones mailed; Suppressed are confirmed or unconfirmed
// subscriptions whose address is suppressed.
type ListStats struct {
	Confirmed, Unconfirmed, Unsubscribed, Suppressed int
}

// Stats counts the subscriptions of listID.
func (s *Store) Stats(ctx context.Context, listID int64) (ListStats, error) {
	rows, err := s.db.QueryContext(ctx, `
SELECT p.status, EXISTS (SELECT 1 FROM suppressions x WHERE x.email = s.email COLLATE NOCASE AND x.list_id IN (0, p.list_id)), count(*)
FROM subscriptions p JOIN subscribers s ON s.id = p.subscriber_id
WHERE p.list_id = ? GROUP BY 1, 2`, listID)
	if err != nil {
		return ListStats{}, fmt.Errorf("counting list %d: %w", listID, err)
	}
	defer rows.Close()
	var st ListStats
	for rows.Next() {
		var status string
		var suppressed bool
		var n int
		if err := rows.Scan(&status, &suppressed, &n); err != nil {
			return ListStats{}, fmt.Errorf("counting list %d: %w", listID, err)
		}
		reason := ""
		if suppressed {
			reason = "yes"
		}
		switch exportStatus(status, reason) {
		case StatusConfirmed:
			st.Confirmed += n
		case StatusUnconfirmed:
			st.Unconfirmed += n
		case StatusUnsubscribed:
			st.Unsubscribed += n
		case StatusSuppressed:
			st.Suppressed += n
		}
	}
	return st, rows.Err()
}

// DayCount is one day of a list's growth.
type DayCount struct {
	// Day is midnight of the day in Options.Location.
	Day             time.Time
	OptIns, OptOuts int
	// Subscribed is the number of confirmed subscriptions at the end of
	// the day, estimated back from today's count and the consent log.
	Subscribed int
}

// Growth returns the opt-ins and opt-outs of listID for each of the last
// days days (today included), oldest first, from the consent log.
func (s *Store) Growth(ctx context.Context, listID int64, days int) ([]DayCount, error) {
	if days <= 0 {
		return nil, nil
	}
	now := s.now().In(s.opt.Location)
	first := time.Date(now.Year(), now.Month(), now.Day()-(days-1), 0, 0, 0, 0, s.opt.Location)
	out := make([]DayCount, days)
	index := map[string]int{}
	for i := range out {
		out[i].Day = time.Date(first.Year(), first.Month(), first.Day()+i, 0, 0, 0, 0, s.opt.Location)
		index[out[i].Day.Format(time.DateOnly)] = i
	}
	rows, err := s.db.QueryContext(ctx, `SELECT at_ms, event FROM consent_events
WHERE list_id = ? AND at_ms >= ? AND event IN ('opt-in', 'opt-out')`, listID, first.UnixMilli())
	if err != nil {
		return nil, fmt.Errorf("loading growth of list %d: %w", listID, err)
	}
	defer rows.Close()
	for rows.Next() {
		var at int64
		var ev string
		if err := rows.Scan(&at, &ev); err != nil {
			return nil, fmt.Errorf("loading growth of list %d: %w", listID, err)
		}
		i, ok := index[time.UnixMilli(at).In(s.opt.Location).Format(time.DateOnly)]
		if !ok {
			continue
		}
		if ev == EventOptIn {
			out[i].OptIns++
		} else {
			out[i].OptOuts++
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("loading growth of list %d: %w", listID, err)
	}
	var n int
	err = s.db.QueryRowContext(ctx, `SELECT count(*) FROM subscriptions WHERE list_id = ? AND status = 'confirmed'`, listID).Scan(&n)
	if err != nil {
		return nil, fmt.Errorf("loading growth of list %d: %w", listID, err)
	}
	for i := len(out) - 1; i >= 0; i-- {
		out[i].Subscribed = max(n, 0)
		n -= out[i].OptIns - out[i].OptOuts
	}
	return out, nil
}

// ExpireUnconfirmed deletes subscriptions left unconfirmed for longer than
// ConfirmTTL (their links no longer work), then subscribers left with no
// subscription at all, and the confirmation-mail log older than a day. The
// consent log keeps the requests. It returns how many subscriptions went.
func (s *Store) ExpireUnconfirmed(ctx context.Context) (int, error) {
	now := s.now()
	var n int64
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM subscriptions WHERE status = 'unconfirmed' AND requested_at < ?`,
			now.Add(-ConfirmTTL).Unix())
		if err != nil {
			return err
		}
		n, _ = res.RowsAffected()
		if _, err := tx.ExecContext(ctx, `DELETE FROM subscribers WHERE NOT EXISTS
  (SELECT 1 FROM subscriptions p WHERE p.subscriber_id = subscribers.id)`); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM confirmation_sends WHERE at < ?`, now.Add(-24*time.Hour).Unix())
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("expiring unconfirmed subscriptions: %w", err)
	}
	return int(n), nil
}

// PruneConsent deletes consent events older than ConsentRetention (none
// when it is 0) and returns how many.
func (s *Store) PruneConsent(ctx context.Context) (int, error) {
	if s.opt.ConsentRetention <= 0 {
		return 0, nil
	}
	res, err := s.db.ExecContext(ctx, `DELETE FROM consent_events WHERE at_ms < ?`,
		s.now().Add(-s.opt.ConsentRetention).UnixMilli())
	if err != nil {
		return 0, fmt.Errorf("pruning consent log: %w", err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}
