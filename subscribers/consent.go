package subscribers

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Consent event kinds.
const (
	EventOptIn          = "opt-in"
	EventOptOut         = "opt-out"
	EventConfirmRequest = "confirm-request"
)

// Subscription statuses. StatusSuppressed is never stored: exports and
// searches report it for a subscription whose address is suppressed.
const (
	StatusUnconfirmed  = "unconfirmed"
	StatusConfirmed    = "confirmed"
	StatusUnsubscribed = "unsubscribed"
	StatusSuppressed   = "suppressed"
)

// ConsentEvent is one row of the append-only consent log.
type ConsentEvent struct {
	ID           int64
	At           time.Time
	ListID       int64
	ListSlug     string
	SubscriberID int64
	Email        string
	Event        string // EventOptIn, EventOptOut or EventConfirmRequest
	Source       string // SourceWeb, SourceImport, …
	Evidence     Evidence
	Detail       string // e.g. the consent source text of an import
}

// record appends one consent event; it is the only writer of the table
// apart from PruneConsent.
func (s *Store) record(ctx context.Context, tx *sql.Tx, e ConsentEvent) error {
	_, err := tx.ExecContext(ctx, `
INSERT INTO consent_events (at_ms, list_id, subscriber_id, email, event, source, ip, user_agent, message_id, actor, detail)
VALUES (?,?,?,?,?,?,?,?,?,?,?)`,
		s.now().UnixMilli(), e.ListID, e.SubscriberID, e.Email, e.Event, e.Source,
		e.Evidence.IP, e.Evidence.UserAgent, e.Evidence.MessageID, e.Evidence.Actor, e.Detail)
	if err != nil {
		return fmt.Errorf("recording %s for subscriber %d: %w", e.Event, e.SubscriberID, err)
	}
	return nil
}

// subscriber is a row of subscribers.
type subscriber struct {
	ID    int64
	Email string
	Name  string
	Lang  string
	// Erased is set when this row was just created for an address that
	// had been erased: only a fresh opt-in by confirmation brings it back.
	Erased bool
}

func subscriberByID(ctx context.Context, q queryer, id int64) (subscriber, error) {
	var sub subscriber
	err := q.QueryRowContext(ctx, `SELECT id, email, name, lang FROM subscribers WHERE id = ?`, id).
		Scan(&sub.ID, &sub.Email, &sub.Name, &sub.Lang)
	if errors.Is(err, sql.ErrNoRows) {
		return sub, fmt.Errorf("subscriber %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return sub, fmt.Errorf("loading subscriber %d: %w", id, err)
	}
	return sub, nil
}

func subscriberByEmail(ctx context.Context, q queryer, email string) (subscriber, error) {
	var sub subscriber
	err := q.QueryRowContext(ctx, `SELECT id, email, name, lang FROM subscribers WHERE email = ?`, email).
		Scan(&sub.ID, &sub.Email, &sub.Name, &sub.Lang)
	if errors.Is(err, sql.ErrNoRows) {
		return sub, fmt.Errorf("subscriber: %w", ErrNotFound)
	}
	if err != nil {
		return sub, fmt.Errorf("loading subscriber: %w", err)
	}
	return sub, nil
}

// ensureSubscriber returns the subscriber for a, creating it with name and
// lang when new. An existing subscriber's name is filled in only when it
// was empty and the address has never confirmed a subscription: an
// unauthenticated form must not rename or name someone whose magazines
// would then greet them with a stranger's words.
func (s *Store) ensureSubscriber(ctx context.Context, tx *sql.Tx, a Address, name, lang string) (subscriber, error) {
	key := a.String()
	name = cleanName(name)
	sub, err := subscriberByEmail(ctx, tx, key)
	if err == nil {
		var confirmed int
		if sub.Name == "" && name != "" {
			err := tx.QueryRowContext(ctx, `SELECT count(*) FROM subscriptions WHERE subscriber_id = ? AND confirmed_at IS NOT NULL`,
				sub.ID).Scan(&confirmed)
			if err != nil {
				return sub, fmt.Errorf("checking subscriber %d: %w", sub.ID, err)
			}
		}
		if sub.Name == "" && name != "" && confirmed == 0 {
			if _, err := tx.ExecContext(ctx, `UPDATE subscribers SET name = ? WHERE id = ?`, name, sub.ID); err != nil {
				return sub, fmt.Errorf("naming subscriber %d: %w", sub.ID, err)
			}
			sub.Name = name
		}
		return sub, nil
	}
	if !errors.Is(err, ErrNotFound) {
		return sub, err
	}
	if lang != "en" {
		lang = "ja"
	}
	erased, err := s.wasErased(ctx, tx, key)
	if err != nil {
		return sub, err
	}
	if erased {
		if err := s.reclaimErased(ctx, tx, key); err != nil {
			return sub, err
		}
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO subscribers (id, email, name, lang, created) VALUES (`+nextIDSQL+`,?,?,?,?)`,
		key, name, lang, s.now().Unix())
	if err != nil {
		return sub, fmt.Errorf("adding subscriber: %w", err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return sub, fmt.Errorf("adding subscriber: %w", err)
	}
	return subscriber{ID: id, Email: key, Name: name, Lang: lang, Erased: erased}, nil
}

// subStatus returns the subscription's status and the source of its last
// opt-in request, or "" when there is none.
func subStatus(ctx context.Context, q queryer, listID, subID int64) (status, source string, err error) {
	err = q.QueryRowContext(ctx, `SELECT status, source FROM subscriptions WHERE list_id = ? AND subscriber_id = ?`,
		listID, subID).Scan(&status, &source)
	if errors.Is(err, sql.ErrNoRows) {
		return "", "", nil
	}
	if err != nil {
		return "", "", fmt.Errorf("loading subscription of %d to list %d: %w", subID, listID, err)
	}
	return status, source, nil
}

// setStatus moves a subscription to status, creating it if needed, and
// stamps the matching time.
func (s *Store) setStatus(ctx context.Context, tx *sql.Tx, listID, subID int64, status, source string) error {
	now := s.now().Unix()
	var q string
	switch status {
	case StatusUnconfirmed:
		q = `INSERT INTO subscriptions (list_id, subscriber_id, status, source, requested_at) VALUES (?1,?2,?3,?4,?5)
ON CONFLICT DO UPDATE SET status=?3, source=?4, requested_at=?5`
	case StatusConfirmed:
		q = `INSERT INTO subscriptions (list_id, subscriber_id, status, source, requested_at, confirmed_at) VALUES (?1,?2,?3,?4,?5,?5)
ON CONFLICT DO UPDATE SET status=?3, confirmed_at=?5, unsubscribed_at=NULL`
	case StatusUnsubscribed:
		q = `INSERT INTO subscriptions (list_id, subscriber_id, status, source, requested_at, unsubscribed_at) VALUES (?1,?2,?3,?4,?5,?5)
ON CONFLICT DO UPDATE SET status=?3, unsubscribed_at=?5`
	default:
		return fmt.Errorf("unknown status %q", status)
	}
	if _, err := tx.ExecContext(ctx, q, listID, subID, status, source, now); err != nil {
		return fmt.Errorf("setting subscription of %d to list %d %s: %w", subID, listID, status, err)
	}
	return nil
}

// maxNameRunes caps a subscriber's name.
const maxNameRunes = 100

// cleanName trims a name, applies NFC, drops control characters (a name
// may end up in a mail header) and caps its length.
func cleanName(name string) string {
	name = norm.NFC.String(strings.TrimSpace(name))
	var b strings.Builder
	n := 0
	for _, r := range name {
		if unicode.IsControl(r) || r == utf8.RuneError {
			continue
		}
		if n++; n > maxNameRunes {
			break
		}
		b.WriteRune(r)
	}
	return strings.TrimSpace(b.String())
}
