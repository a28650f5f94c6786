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
)

// EventUnsuppress marks a suppression lifted by staff; the consent log
// keeps who lifted it (Evidence.Actor) and why (Detail).
const EventUnsuppress = "unsuppress"

var (
	// ErrReasonRequired is returned when an action that must say why
	// (lifting a suppression, erasing) is given no reason.
	ErrReasonRequired = errors.New("a reason is required")
	// ErrBadAttributes is returned for attributes that cannot be stored
	// (an empty or too long key or value, too many of them).
	ErrBadAttributes = errors.New("bad attributes")
	// ErrNotSuppressed is returned when there is no such suppression to lift.
	ErrNotSuppressed = errors.New("not suppressed")
)

// Limits of a subscriber's attributes as staff edit them.
const (
	MaxAttributes        = 50
	MaxAttributeKeyRunes = 64
	MaxAttributeValRunes = 500
)

// Profile is everything the admin's subscriber page shows of one
// subscriber from this package's tables.
type Profile struct {
	ID         int64
	Email      string
	Name       string
	Lang       string
	Attributes map[string]string
	Created    time.Time
	// Subscriptions are the subscriber's states per list, by list slug.
	Subscriptions []Subscription
	// Suppressions hold for the address (ListID 0: every list).
	Suppressions []Suppression
}

// Subscription is a subscriber's state on one list.
type Subscription struct {
	ListID         int64
	ListSlug       string
	Status         string // StatusUnconfirmed, StatusConfirmed or StatusUnsubscribed
	Source         string // how the last opt-in request came
	RequestedAt    time.Time
	ConfirmedAt    time.Time // zero: never
	UnsubscribedAt time.Time // zero: never
}

// Suppression is one suppression of an address.
type Suppression struct {
	ListID   int64  // 0: every list
	ListSlug string // "" for every list
	Reason   string // ReasonHardBounce, ReasonComplaint or ReasonManual
	Detail   string
	Since    time.Time
}

// Profile returns a subscriber with its subscriptions and suppressions;
// ErrNotFound if there is none (or it was erased).
func (s *Store) Profile(ctx context.Context, id int64) (Profile, error) {
	var p Profile
	var attrs string
	var created int64
	err := s.db.QueryRowContext(ctx, `SELECT id, email, name, lang, attributes, created FROM subscribers WHERE id = ?`, id).
		Scan(&p.ID, &p.Email, &p.Name, &p.Lang, &attrs, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return p, fmt.Errorf("subscriber %d: %w", id, ErrNotFound)
	} else if err != nil {
		return p, fmt.Errorf("loading subscriber %d: %w", id, err)
	}
	p.Attributes = decodeAttributes(attrs)
	p.Created = time.Unix(created, 0).In(s.opt.Location)
	if p.Subscriptions, err = s.subscriptionsOf(ctx, id); err != nil {
		return p, err
	}
	p.Suppressions, err = s.suppressionsOf(ctx, p.Email)
	return p, err
}

func (s *Store) subscriptionsOf(ctx context.Context, id int64) ([]Subscription, error) {
	rows, err := s.db.QueryContext(ctx, `
SELECT p.list_id, l.slug, p.status, p.source, p.requested_at, p.confirmed_at, p.unsubscribed_at
FROM subscriptions p JOIN lists l ON l.id = p.list_id WHERE p.subscriber_id = ? ORDER BY l.slug`, id)
	if err != nil {
		return nil, fmt.Errorf("loading subscriptions of %d: %w", id, err)
	}
	defer rows.Close()
	out := []Subscription{}
	for rows.Next() {
		var sub Subscription
		var req int64
		var conf, unsub sql.NullInt64
		if err := rows.Scan(&sub.ListID, &sub.ListSlug, &sub.Status, &sub.Source, &req, &conf, &unsub); err != nil {
			return nil, fmt.Errorf("loading subscriptions of %d: %w", id, err)
		}
		sub.RequestedAt = time.Unix(req, 0).In(s.opt.Location)
		sub.ConfirmedAt = unixOrZero(conf, s.opt.Location)
		sub.UnsubscribedAt = unixOrZero(unsub, s.opt.Location)
		out = append(out, sub)
	}
	return out, rows.Err()
}

func (s *Store) suppressionsOf(ctx context.Context, email string) ([]Suppression, error) {
	rows, err := s.db.QueryContext(ctx, `
SELECT x.list_id, coalesce(l.slug, ''), x.reason, x.detail, x.since
FROM suppressions x LEFT JOIN lists l ON l.id = x.list_id WHERE x.email = ? COLLATE NOCASE ORDER BY x.list_id`, email)
	if err != nil {
		return nil, fmt.Errorf("loading suppressions: %w", err)
	}
	defer rows.Close()
	out := []Suppression{}
	for rows.Next() {
		var x Suppression
		var since int64
		if err := rows.Scan(&x.ListID, &x.ListSlug, &x.Reason, &x.Detail, &since); err != nil {
			return nil, fmt.Errorf("loading suppressions: %w", err)
		}
		x.Since = time.Unix(since, 0).In(s.opt.Location)
		out = append(out, x)
	}
	return out, rows.Err()
}

// UpdateProfile sets a subscriber's name and attributes (replacing all of
// them). The name is cleaned as on the subscribe form; attributes are
// checked against the limits above (ErrBadAttributes).
func (s *Store) UpdateProfile(ctx context.Context, id int64, name string, attrs map[string]string) error {
	if err := checkAttributes(attrs); err != nil {
		return err
	}
	res, err := s.db.ExecContext(ctx, `UPDATE subscribers SET name = ?, attributes = ? WHERE id = ?`,
		cleanName(name), encodeAttributes(attrs), id)
	if err != nil {
		return fmt.Errorf("updating subscriber %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("updating subscriber %d: %w", id, ErrNotFound)
	}
	return nil
}

func checkAttributes(attrs map[string]string) error {
	if len(attrs) > MaxAttributes {
		return fmt.Errorf("%d attributes, at most %d: %w", len(attrs), MaxAttributes, ErrBadAttributes)
	}
	for k, v := range attrs {
		switch {
		case strings.TrimSpace(k) == "" || k != strings.TrimSpace(k):
			return fmt.Errorf("attribute key %q: empty or padded: %w", k, ErrBadAttributes)
		case utf8.RuneCountInString(k) > MaxAttributeKeyRunes || utf8.RuneCountInString(v) > MaxAttributeValRunes:
			return fmt.Errorf("attribute %q: too long: %w", k, ErrBadAttributes)
		case strings.ContainsFunc(k+v, unicode.IsControl) || !utf8.ValidString(k+v):
			return fmt.Errorf("attribute %q: control characters: %w", k, ErrBadAttributes)
		}
	}
	return nil
}

// UnsubscribeFromList takes a subscriber off one list as staff ask
// (source SourceAdmin or SourceAPI, ev.Actor naming who); the consent log
// records the opt-out. It reports whether anything changed (false when
// the subscriber was not on the list or had left it already).
func (s *Store) UnsubscribeFromList(ctx context.Context, id int64, listSlug, source string, ev Evidence) (bool, error) {
	if err := checkSource(source); err != nil {
		return false, err
	}
	l, err := s.ListBySlug(ctx, listSlug)
	if err != nil {
		return false, err
	}
	var changed bool
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		sub, err := subscriberByID(ctx, tx, id)
		if err != nil {
			return err
		}
		changed, err = s.optOut(ctx, tx, l.ID, sub, source, ev)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("unsubscribing %d from %s: %w", id, listSlug, err)
	}
	return changed, nil
}

// LiftSuppression lifts the suppression of a subscriber's address on one
// list (listID 0: the one for every list), as staff decide: reason is
// required (ErrReasonRequired) and goes into the consent log with
// ev.Actor, as an EventUnsuppress. ErrNotSuppressed if there is no such
// suppression.
func (s *Store) LiftSuppression(ctx context.Context, id, listID int64, reason, source string, ev Evidence) error {
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return ErrReasonRequired
	}
	if err := checkSource(source); err != nil {
		return err
	}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		sub, err := subscriberByID(ctx, tx, id)
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM suppressions WHERE email = ? COLLATE NOCASE AND list_id = ?`, sub.Email, listID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotSuppressed
		}
		return s.record(ctx, tx, ConsentEvent{ListID: listID, SubscriberID: id, Email: sub.Email, Event: EventUnsuppress,
			Source: source, Evidence: ev, Detail: reason})
	})
	if err != nil {
		return fmt.Errorf("lifting suppression of %d: %w", id, err)
	}
	s.log.Info("suppression lifted", "subscriber_id", id, "list_id", listID, "actor", ev.Actor)
	return nil
}
