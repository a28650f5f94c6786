package subscribers

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

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
