package subscribers

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"kawaraban/token"
)

// UnsubscribeToken returns the token for leaving one list, for the
// unsubscribe link and the mailto address of List-Unsubscribe (RFC 2369
// §3.2, RFC 8058). It never expires: an old issue's link must still work.
// It returns "" when the Store has no Signer.
func (s *Store) UnsubscribeToken(subscriberID, listID int64) string {
	if s.opt.Signer == nil {
		return ""
	}
	return s.opt.Signer.Sign(PurposeUnsubscribe, token.IDs(subscriberID, listID), time.Time{})
}

// UnsubscribeURL returns BaseURL/unsubscribe/TOKEN for one subscriber and list.
func (s *Store) UnsubscribeURL(subscriberID, listID int64) string {
	return s.UnsubscribeURLFor(s.UnsubscribeToken(subscriberID, listID))
}

// UnsubscribeURLFor returns BaseURL/unsubscribe/tok for a token made by
// UnsubscribeToken (the sender signs it once for the link and the mailto).
func (s *Store) UnsubscribeURLFor(tok string) string {
	return s.opt.BaseURL + "/unsubscribe/" + tok
}

// PreferencesToken returns the never-expiring token of a subscriber's
// preferences page, or "" when the Store has no Signer.
func (s *Store) PreferencesToken(subscriberID int64) string {
	if s.opt.Signer == nil {
		return ""
	}
	return s.opt.Signer.Sign(PurposePrefs, token.IDs(subscriberID), time.Time{})
}

// PreferencesURL returns BaseURL/preferences/TOKEN for a subscriber.
func (s *Store) PreferencesURL(subscriberID int64) string {
	return s.opt.BaseURL + "/preferences/" + s.PreferencesToken(subscriberID)
}

// UnsubscribeInfo is what the unsubscribe page shows before the button is
// pressed.
type UnsubscribeInfo struct {
	SubscriberID int64
	// Email is the subscriber's address; MaskedEmail is what a page
	// should show (a forwarded link must not reveal the address).
	Email, MaskedEmail string
	List               List
	// Subscribed is false when the address already left the list (or was
	// never on it).
	Subscribed bool
}

// UnsubscribeResult says what an unsubscribe did.
type UnsubscribeResult struct {
	SubscriberID int64
	List         List
	// AlreadyUnsubscribed is true when nothing changed.
	AlreadyUnsubscribed bool
}

func (s *Store) unsubscribeIDs(tok string) (subID, listID int64, err error) {
	ids, err := s.verify(PurposeUnsubscribe, tok)
	if err != nil {
		return 0, 0, err
	}
	if len(ids) != 2 {
		return 0, 0, fmt.Errorf("unsubscribe token: %w", ErrBadToken)
	}
	return ids[0], ids[1], nil
}

// UnsubscribeInfo reads an unsubscribe token for the page a GET shows. It
// changes nothing: link scanners follow GETs.
func (s *Store) UnsubscribeInfo(ctx context.Context, tok string) (UnsubscribeInfo, error) {
	subID, listID, err := s.unsubscribeIDs(tok)
	if err != nil {
		return UnsubscribeInfo{}, err
	}
	l, err := s.ListByID(ctx, listID)
	if err != nil {
		return UnsubscribeInfo{}, err
	}
	info := UnsubscribeInfo{SubscriberID: subID, List: l}
	sub, err := subscriberByID(ctx, s.db, subID)
	if errors.Is(err, ErrNotFound) {
		return info, nil
	}
	if err != nil {
		return UnsubscribeInfo{}, err
	}
	info.Email, info.MaskedEmail = sub.Email, MaskEmail(sub.Email)
	st, _, err := subStatus(ctx, s.db, listID, subID)
	info.Subscribed = st == StatusConfirmed || st == StatusUnconfirmed
	return info, err
}

// UnsubscribeByToken removes the token's subscriber from the token's list
// and records an opt-out with source (SourceOneClick for an RFC 8058 POST,
// SourceWeb for the page's button) and ev. Doing it again changes nothing
// and is not an error; nor is a subscriber that no longer exists.
func (s *Store) UnsubscribeByToken(ctx context.Context, tok, source string, ev Evidence) (UnsubscribeResult, error) {
	subID, listID, err := s.unsubscribeIDs(tok)
	if err != nil {
		return UnsubscribeResult{}, err
	}
	if err := checkSource(source); err != nil {
		return UnsubscribeResult{}, err
	}
	l, err := s.ListByID(ctx, listID)
	if err != nil {
		return UnsubscribeResult{}, err
	}
	res := UnsubscribeResult{SubscriberID: subID, List: l, AlreadyUnsubscribed: true}
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		sub, err := subscriberByID(ctx, tx, subID)
		if errors.Is(err, ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		changed, err := s.optOut(ctx, tx, listID, sub, source, ev)
		res.AlreadyUnsubscribed = !changed
		return err
	})
	if err != nil {
		return UnsubscribeResult{}, fmt.Errorf("unsubscribing: %w", err)
	}
	if !res.AlreadyUnsubscribed {
		s.log.Info("unsubscribed", "subscriber_id", subID, "list_id", listID, "source", source)
	}
	return res, nil
}

// UnsubscribeAddress removes email from the list with listSlug, as a mail
// to the list's unsubscribe address asks (source SourceMailto, evidence
// the inbound Message-ID). An unknown address is not an error.
func (s *Store) UnsubscribeAddress(ctx context.Context, email, listSlug, source string, ev Evidence) error {
	l, err := s.ListBySlug(ctx, listSlug)
	if err != nil {
		return err
	}
	return s.unsubscribeEmail(ctx, email, source, ev, []List{l})
}

// UnsubscribeAll removes email from every list, as a spam complaint asks
// (source SourceComplaint). An unknown address is not an error. Use
// Suppress as well to stop all mail.
func (s *Store) UnsubscribeAll(ctx context.Context, email, source string, ev Evidence) error {
	lists, err := s.Lists(ctx)
	if err != nil {
		return err
	}
	return s.unsubscribeEmail(ctx, email, source, ev, lists)
}

func (s *Store) unsubscribeEmail(ctx context.Context, email, source string, ev Evidence, lists []List) error {
	a, err := ParseAddress(email)
	if err != nil {
		return err
	}
	if err := checkSource(source); err != nil {
		return err
	}
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		sub, err := subscriberByEmail(ctx, tx, a.String())
		if errors.Is(err, ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		for _, l := range lists {
			if _, err := s.optOut(ctx, tx, l.ID, sub, source, ev); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("unsubscribing address: %w", err)
	}
	return nil
}
