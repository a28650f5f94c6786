package subscribers

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Recipient is one address an issue goes to.
type Recipient struct {
	SubscriberID int64
	// Email is the normalised address (Address.String()); parse it and use
	// SMTP() for the envelope.
	Email string
	Name  string
	// Attributes are the extra columns of an import (nil when none).
	Attributes map[string]string
}

// eligibleSQL is the rule for who gets a list's mail: a confirmed
// subscription and no suppression of the address for this list or all.
const eligibleSQL = `p.list_id = ?1 AND p.status = 'confirmed'
  AND NOT EXISTS (SELECT 1 FROM suppressions x WHERE x.email = s.email COLLATE NOCASE AND x.list_id IN (0, ?1))`

// EachRecipient calls fn for every subscriber eligible for listID, in
// subscriber id order, streaming rows rather than loading them all. When
// tx is not nil the rows are read in it, so that a caller can snapshot the
// recipients into its own table in the same transaction (fn may use tx).
// An error from fn stops the walk and is returned as is.
func (s *Store) EachRecipient(ctx context.Context, tx *sql.Tx, listID int64, fn func(Recipient) error) error {
	var q queryer = s.db
	if tx != nil {
		q = tx
	}
	rows, err := q.QueryContext(ctx, `SELECT s.id, s.email, s.name, s.attributes
FROM subscriptions p JOIN subscribers s ON s.id = p.subscriber_id
WHERE `+eligibleSQL+` ORDER BY p.subscriber_id`, listID)
	if err != nil {
		return fmt.Errorf("listing recipients of list %d: %w", listID, err)
	}
	defer rows.Close()
	for rows.Next() {
		var r Recipient
		var attrs string
		if err := rows.Scan(&r.SubscriberID, &r.Email, &r.Name, &attrs); err != nil {
			return fmt.Errorf("listing recipients of list %d: %w", listID, err)
		}
		r.Attributes = decodeAttributes(attrs)
		if err := fn(r); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("listing recipients of list %d: %w", listID, err)
	}
	return nil
}

// RecipientOf returns a subscriber of listID (any subscription status) as
// a recipient, for a preview personalised for them; ErrNotFound when the
// subscriber has no subscription on the list.
func (s *Store) RecipientOf(ctx context.Context, listID, subscriberID int64) (Recipient, error) {
	var r Recipient
	var attrs string
	err := s.db.QueryRowContext(ctx, `SELECT s.id, s.email, s.name, s.attributes
FROM subscriptions p JOIN subscribers s ON s.id = p.subscriber_id
WHERE p.list_id = ? AND p.subscriber_id = ?`, listID, subscriberID).Scan(&r.SubscriberID, &r.Email, &r.Name, &attrs)
	if errors.Is(err, sql.ErrNoRows) {
		return Recipient{}, fmt.Errorf("subscriber %d of list %d: %w", subscriberID, listID, ErrNotFound)
	} else if err != nil {
		return Recipient{}, fmt.Errorf("subscriber %d of list %d: %w", subscriberID, listID, err)
	}
	r.Attributes = decodeAttributes(attrs)
	return r, nil
}

// Eligible re-checks, just before sending, which of subscriberIDs may
// still get listID's mail, so that an opt-out or suppression after the
// snapshot is honoured at once. Ids missing from the map are not eligible.
func (s *Store) Eligible(ctx context.Context, listID int64, subscriberIDs []int64) (map[int64]bool, error) {
	out := make(map[int64]bool, len(subscriberIDs))
	const chunk = 500
	for start := 0; start < len(subscriberIDs); start += chunk {
		ids := subscriberIDs[start:min(start+chunk, len(subscriberIDs))]
		args := make([]any, 0, len(ids)+1)
		args = append(args, listID)
		for _, id := range ids {
			args = append(args, id)
		}
		marks := strings.TrimSuffix(strings.Repeat("?,", len(ids)), ",")
		rows, err := s.db.QueryContext(ctx, `SELECT s.id
FROM subscriptions p JOIN subscribers s ON s.id = p.subscriber_id
WHERE `+eligibleSQL+` AND p.subscriber_id IN (`+marks+`)`, args...)
		if err != nil {
			return nil, fmt.Errorf("checking recipients of list %d: %w", listID, err)
		}
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return nil, fmt.Errorf("checking recipients of list %d: %w", listID, err)
			}
			out[id] = true
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("checking recipients of list %d: %w", listID, err)
		}
	}
	return out, nil
}

func decodeAttributes(s string) map[string]string {
	if s == "" || s == "{}" {
		return nil
	}
	var m map[string]string
	if json.Unmarshal([]byte(s), &m) != nil {
		return nil
	}
	return m
}

func encodeAttributes(m map[string]string) string {
	if len(m) == 0 {
		return "{}"
	}
	b, err := json.Marshal(m)
	if err != nil {
		return "{}"
	}
	return string(b)
}

// AddMember puts email on the list with listSlug at once, without a
// confirmation mail, as an admin or API client does (source SourceAdmin or
// SourceAPI, ev.Actor naming who). For internal lists this is how members
// join; an address outside the list's AllowedDomains gives
// ErrDomainNotAllowed. For a public list the caller vouches for the
// consent, which the opt-in event records. A suppression is not lifted.
func (s *Store) AddMember(ctx context.Context, listSlug, email, name, source string, ev Evidence) error {
	a, err := ParseAddress(email)
	if err != nil {
		return err
	}
	if err := checkSource(source); err != nil {
		return err
	}
	l, err := s.ListBySlug(ctx, listSlug)
	if err != nil {
		return err
	}
	if err := l.checkOpen(); err != nil {
		return err
	}
	if err := l.checkDomain(a); err != nil {
		return err
	}
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		sub, err := s.ensureSubscriber(ctx, tx, a, name, "")
		if err != nil {
			return err
		}
		if sub.Erased {
			return ErrPreviouslyErased
		}
		st, _, err := subStatus(ctx, tx, l.ID, sub.ID)
		if err != nil || st == StatusConfirmed {
			return err
		}
		return s.optIn(ctx, tx, l.ID, sub, source, ev, "added by "+source)
	})
	if err != nil {
		return fmt.Errorf("adding member to %s: %w", listSlug, err)
	}
	return nil
}
