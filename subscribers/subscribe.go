package subscribers

import (
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"time"

	"kawaraban/token"
)

// Confirmer sends a double opt-in confirmation mail. cmd supplies one built
// from templates and mailer. It should queue the mail rather than wait for
// SMTP, so that Subscribe takes about as long whether or not a mail is
// sent (no enumeration through timing).
type Confirmer interface {
	SendConfirmation(ctx context.Context, c Confirmation) error
}

// Confirmation is what a confirmation mail needs.
type Confirmation struct {
	SubscriberID int64
	// To is the normalised address (Address.String()); use the SMTP form
	// (ParseAddress(To) then SMTP()) for the envelope and the To header.
	To   string
	Name string
	// Lists are the lists the link confirms.
	Lists []List
	// ConfirmURL is BaseURL/confirm/TOKEN, valid for ConfirmTTL.
	ConfirmURL string
	// Lang is the subscriber's language ("ja" or "en").
	Lang string
}

// SubscribeRequest is a request to join one or more public lists.
type SubscribeRequest struct {
	Email, Name string
	Lists       []string // list slugs; public lists only
	Source      string   // SourceWeb (default), SourceEmptyMail, SourceAPI
	Evidence    Evidence
	Lang        string // "ja" (default) or "en"
}

// Subscribe records a request to join public lists and sends one
// confirmation mail for the lists that need it. It returns nil whether the
// address is new, unconfirmed, confirmed or suppressed, so that its answer
// says nothing about who is subscribed. It returns an *AddressError for a
// bad address, ErrNoList or ErrUnknownList (also for internal lists) for
// bad list choices, ErrListClosed for a list closed to new subscribers.
//
// No confirmation mail goes out for lists already confirmed, for an
// address suppressed by hand, or beyond MaxConfirmationsPerAddressPerDay
// mails to the address in 24 hours. An address suppressed after a hard
// bounce or a complaint gets a confirmation mail even for lists it is on:
// confirming is the only way back. A list without DoubleOptIn is joined at
// once (unless the address is suppressed).
func (s *Store) Subscribe(ctx context.Context, req SubscribeRequest) error {
	return s.subscribe(ctx, req, intakeClaim{})
}

// intakeClaim is how the intake joins a Subscribe: claim runs first in
// the transaction that records the request, and an error from it undoes
// everything and is returned (the intake deletes its row there, so a
// request is recorded once with its row gone, or not at all); lock, when
// not nil, is held around that transaction.
type intakeClaim struct {
	claim func(*sql.Tx) error
	lock  sync.Locker
}

// subscribe is Subscribe, joined by the intake when ic is not empty.
func (s *Store) subscribe(ctx context.Context, req SubscribeRequest, ic intakeClaim) error {
	if s.opt.Signer == nil {
		return ErrNoSigner
	}
	a, err := ParseAddress(req.Email)
	if err != nil {
		return err
	}
	if req.Source == "" {
		req.Source = SourceWeb
	}
	if err := checkSource(req.Source); err != nil {
		return err
	}
	lists, err := s.publicLists(ctx, req.Lists)
	if err != nil {
		return err
	}
	var conf *Confirmation
	if ic.lock != nil {
		ic.lock.Lock()
	}
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		if ic.claim != nil {
			if err := ic.claim(tx); err != nil {
				return err
			}
		}
		var err error
		conf, err = s.subscribeTx(ctx, tx, a, req, lists)
		return err
	})
	if ic.lock != nil {
		ic.lock.Unlock()
	}
	if err != nil {
		return fmt.Errorf("subscribing: %w", err)
	}
	if conf == nil || s.opt.Confirmer == nil {
		return nil
	}
	if err := s.opt.Confirmer.SendConfirmation(ctx, *conf); err != nil {
		return notSentError{fmt.Errorf("sending confirmation to subscriber %d: %w", conf.SubscriberID, err)}
	}
	return nil
}

// notSentError is a Subscribe that recorded the request but could not
// hand on its confirmation mail: trying again sends it (within the
// daily limit) without a second subscriber.
type notSentError struct{ error }

func (e notSentError) Unwrap() error { return e.error }

func (s *Store) subscribeTx(ctx context.Context, tx *sql.Tx, a Address, req SubscribeRequest, lists []List) (*Confirmation, error) {
	sub, err := s.ensureSubscriber(ctx, tx, a, req.Name, req.Lang)
	if err != nil {
		return nil, err
	}
	reason, err := suppressionReason(ctx, tx, sub.Email)
	if err != nil || reason == ReasonManual {
		return nil, err
	}
	var pending []List
	for _, l := range lists {
		st, _, err := subStatus(ctx, tx, l.ID, sub.ID)
		if err != nil {
			return nil, err
		}
		switch {
		case st == StatusConfirmed && reason == "":
			continue
		case !l.DoubleOptIn && reason == "" && !sub.Erased:
			// An erased address comes back only by confirming (its
			// owner asked to be forgotten; a form filled in by anyone
			// must not undo that).
			if err := s.optIn(ctx, tx, l.ID, sub, req.Source, req.Evidence, "single opt-in"); err != nil {
				return nil, err
			}
			continue
		case st != StatusConfirmed:
			if err := s.setStatus(ctx, tx, l.ID, sub.ID, StatusUnconfirmed, req.Source); err != nil {
				return nil, err
			}
		}
		pending = append(pending, l)
	}
	return s.requestConfirmation(ctx, tx, sub, pending, req.Source, req.Evidence)
}

// requestConfirmation records a confirmation request for lists and returns
// the mail to send, or nil when there is nothing to confirm, the address
// is suppressed by hand, or the daily per-address limit is reached. It
// changes no subscription.
func (s *Store) requestConfirmation(ctx context.Context, tx *sql.Tx, sub subscriber, lists []List, source string, ev Evidence) (*Confirmation, error) {
	if len(lists) == 0 {
		return nil, nil
	}
	reason, err := suppressionReason(ctx, tx, sub.Email)
	if err != nil || reason == ReasonManual {
		return nil, err
	}
	ok, err := s.allowConfirmation(ctx, tx, sub.Email)
	if err != nil {
		return nil, err
	}
	if !ok {
		s.log.Info("confirmation mail rate-limited", "subscriber_id", sub.ID)
		return nil, nil
	}
	ids := []int64{sub.ID}
	for _, l := range lists {
		ids = append(ids, l.ID)
		err := s.record(ctx, tx, ConsentEvent{ListID: l.ID, SubscriberID: sub.ID, Email: sub.Email,
			Event: EventConfirmRequest, Source: source, Evidence: ev})
		if err != nil {
			return nil, err
		}
	}
	tok := s.opt.Signer.Sign(PurposeConfirm, token.IDs(ids...), s.now().Add(ConfirmTTL))
	return &Confirmation{SubscriberID: sub.ID, To: sub.Email, Name: sub.Name, Lists: lists,
		ConfirmURL: s.opt.BaseURL + "/confirm/" + tok, Lang: sub.Lang}, nil
}

// optIn confirms a subscription and records the opt-in.
func (s *Store) optIn(ctx context.Context, tx *sql.Tx, listID int64, sub subscriber, source string, ev Evidence, detail string) error {
	if err := s.setStatus(ctx, tx, listID, sub.ID, StatusConfirmed, source); err != nil {
		return err
	}
	return s.record(ctx, tx, ConsentEvent{ListID: listID, SubscriberID: sub.ID, Email: sub.Email,
		Event: EventOptIn, Source: source, Evidence: ev, Detail: detail})
}

// optOut unsubscribes and records the opt-out, unless already unsubscribed
// or never subscribed. It reports whether anything changed.
func (s *Store) optOut(ctx context.Context, tx *sql.Tx, listID int64, sub subscriber, source string, ev Evidence) (bool, error) {
	st, _, err := subStatus(ctx, tx, listID, sub.ID)
	if err != nil || st == "" || st == StatusUnsubscribed {
		return false, err
	}
	if err := s.setStatus(ctx, tx, listID, sub.ID, StatusUnsubscribed, source); err != nil {
		return false, err
	}
	return true, s.record(ctx, tx, ConsentEvent{ListID: listID, SubscriberID: sub.ID, Email: sub.Email,
		Event: EventOptOut, Source: source, Evidence: ev})
}

// allowConfirmation applies the daily per-address limit and, when a mail
// may go, logs it.
func (s *Store) allowConfirmation(ctx context.Context, tx *sql.Tx, key string) (bool, error) {
	now := s.now().Unix()
	var n int
	err := tx.QueryRowContext(ctx, `SELECT count(*) FROM confirmation_sends WHERE email = ? COLLATE NOCASE AND at > ?`,
		key, now-int64(24*time.Hour/time.Second)).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("counting confirmation mails: %w", err)
	}
	if n >= s.opt.MaxConfirmationsPerAddressPerDay {
		return false, nil
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO confirmation_sends (email, at) VALUES (?, ?)`, key, now); err != nil {
		return false, fmt.Errorf("logging confirmation mail: %w", err)
	}
	return true, nil
}

// publicLists resolves slugs to public lists, without duplicates.
func (s *Store) publicLists(ctx context.Context, slugs []string) ([]List, error) {
	if len(slugs) == 0 {
		return nil, ErrNoList
	}
	seen := map[string]bool{}
	var out []List
	for _, slug := range slugs {
		if seen[slug] {
			continue
		}
		seen[slug] = true
		l, err := s.ListBySlug(ctx, slug)
		if errors.Is(err, ErrNotFound) || err == nil && !l.Public() {
			return nil, fmt.Errorf("list %q: %w", slug, ErrUnknownList)
		}
		if err != nil {
			return nil, err
		}
		if err := l.checkOpen(); err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	return out, nil
}

// ConfirmResult says what a confirmation link did.
type ConfirmResult struct {
	SubscriberID int64
	// Lists are the lists the link names (that still exist and are open).
	Lists []List
	// Closed are the lists the link names that were closed to new
	// subscribers since it was sent; they are not joined.
	Closed []List
	// Superseded are the lists of Lists the link did not confirm because
	// the address left them after the link was issued.
	Superseded []List
	// AlreadyConfirmed is true when the link had been followed before and
	// nothing changed.
	AlreadyConfirmed bool
	// PreferencesToken opens the subscriber's preferences page, the next
	// step the confirmed page offers.
	PreferencesToken string
}

// Confirm follows a confirmation link: each list it names becomes
// confirmed, with an opt-in event carrying ev, and a hard-bounce or
// complaint suppression of the address is lifted. Following it again
// changes nothing. A forged or malformed token gives ErrBadToken, an old
// one ErrExpiredToken.
//
// A link never undoes a later opt-out (issue 15): a list the address left
// after the link was issued is not confirmed but reported in
// res.Superseded; when that is every list of the link, Confirm returns res
// with ErrSupersededToken, and the citizen must ask again.
func (s *Store) Confirm(ctx context.Context, tok string, ev Evidence) (ConfirmResult, error) {
	ids, issued, err := s.verifyIssued(PurposeConfirm, tok, ConfirmTTL)
	if err != nil {
		return ConfirmResult{}, err
	}
	if len(ids) < 2 {
		return ConfirmResult{}, fmt.Errorf("confirmation token: %w", ErrBadToken)
	}
	res := ConfirmResult{SubscriberID: ids[0], AlreadyConfirmed: true}
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		sub, err := subscriberByID(ctx, tx, ids[0])
		if err != nil {
			return err
		}
		var todo []List
		for _, id := range ids[1:] {
			l, err := listBy(ctx, tx, "id", id)
			if errors.Is(err, ErrNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			if l.Closed() {
				// Closed since the link was sent: no new subscribers.
				res.Closed = append(res.Closed, l)
				continue
			}
			res.Lists = append(res.Lists, l)
			left, err := optedOutSince(ctx, tx, l.ID, sub.ID, issued)
			if err != nil {
				return err
			}
			if left {
				res.Superseded = append(res.Superseded, l)
				continue
			}
			todo = append(todo, l)
		}
		if len(todo) == 0 {
			return nil
		}
		lifted, err := liftOnConfirm(ctx, tx, sub.Email)
		if err != nil {
			return err
		}
		for _, l := range todo {
			st, src, err := subStatus(ctx, tx, l.ID, sub.ID)
			if err != nil {
				return err
			}
			if st == StatusConfirmed && !lifted {
				continue
			}
			if rs, err := requestSource(ctx, tx, l.ID, sub.ID); err != nil {
				return err
			} else if rs != "" {
				src = rs
			}
			if src == "" {
				src = SourceWeb
			}
			res.AlreadyConfirmed = false
			if err := s.optIn(ctx, tx, l.ID, sub, src, ev, "confirmed by link"); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return ConfirmResult{}, fmt.Errorf("confirming: %w", err)
	}
	if len(res.Lists) == 0 && len(res.Closed) > 0 {
		return res, fmt.Errorf("confirming: %w", ErrListClosed)
	}
	if len(res.Superseded) > 0 && len(res.Superseded) == len(res.Lists) {
		s.log.Info("confirmation link older than an opt-out refused", "subscriber_id", res.SubscriberID)
		res.AlreadyConfirmed = false
		return res, fmt.Errorf("confirming: %w", ErrSupersededToken)
	}
	if !res.AlreadyConfirmed {
		s.log.Info("subscription confirmed", "subscriber_id", res.SubscriberID, "lists", len(res.Lists))
	}
	res.PreferencesToken = s.PreferencesToken(res.SubscriberID)
	return res, nil
}

// CheckConfirm reports whether tok is a confirmation link that Confirm
// would read (ErrBadToken, ErrExpiredToken otherwise). It changes nothing:
// the page behind a GET of the link calls it.
func (s *Store) CheckConfirm(ctx context.Context, tok string) error {
	ids, err := s.verify(PurposeConfirm, tok)
	if err == nil && len(ids) < 2 {
		err = fmt.Errorf("confirmation token: %w", ErrBadToken)
	}
	return err
}

// requestSource returns the source of the latest confirmation request for
// the subscription ("" when there was none): the opt-in a link confirms
// came from where it was asked for (the form, an empty mail, preferences).
func requestSource(ctx context.Context, q queryer, listID, subID int64) (string, error) {
	var src string
	err := q.QueryRowContext(ctx, `SELECT source FROM consent_events WHERE subscriber_id = ? AND list_id = ? AND event = ?
		ORDER BY at_ms DESC, id DESC LIMIT 1`, subID, listID, EventConfirmRequest).Scan(&src)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("looking up the confirmation request of subscriber %d: %w", subID, err)
	}
	return src, nil
}

// optedOutSince reports whether the subscriber left the list after a
// confirmation link issued at issued (whole seconds, from the token) was
// requested. The request's own consent event orders it exactly: an opt-out
// logged after it (a larger id) supersedes the link. Without that event
// (a pruned log) the opt-out's time decides, and one in the second the link
// was issued counts as later: in doubt the link is refused, never the
// opt-out undone.
func optedOutSince(ctx context.Context, q queryer, listID, subID int64, issued time.Time) (bool, error) {
	var req sql.NullInt64
	err := q.QueryRowContext(ctx, `SELECT max(id) FROM consent_events
		WHERE subscriber_id = ? AND list_id = ? AND event = ? AND at_ms < ?`,
		subID, listID, EventConfirmRequest, issued.Add(time.Second).UnixMilli()).Scan(&req)
	if err != nil {
		return false, fmt.Errorf("looking up the confirmation request of subscriber %d: %w", subID, err)
	}
	cond, arg := "at_ms >= ?", any(issued.UnixMilli())
	if req.Valid {
		cond, arg = "id > ?", req.Int64
	}
	var n int
	err = q.QueryRowContext(ctx, `SELECT count(*) FROM consent_events
		WHERE subscriber_id = ? AND list_id = ? AND event = ? AND `+cond, subID, listID, EventOptOut, arg).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("looking for opt-outs of subscriber %d: %w", subID, err)
	}
	return n > 0, nil
}

// verifyIssued is verify for a token signed to expire ttl after it was
// issued; it also returns when that was (the zero time when unknown).
func (s *Store) verifyIssued(purpose, tok string, ttl time.Duration) ([]int64, time.Time, error) {
	ids, err := s.verify(purpose, tok)
	if err != nil {
		return nil, time.Time{}, err
	}
	_, exp, err := s.opt.Signer.VerifyExpiry(purpose, tok, s.now())
	if err != nil || exp.IsZero() {
		return ids, time.Time{}, nil
	}
	return ids, exp.Add(-ttl), nil
}

// verify checks a token of purpose and decodes its ids, mapping token
// errors to this package's sentinels.
func (s *Store) verify(purpose, tok string) ([]int64, error) {
	if s.opt.Signer == nil {
		return nil, ErrNoSigner
	}
	p, err := s.opt.Signer.Verify(purpose, tok, s.now())
	if errors.Is(err, token.ErrExpired) {
		return nil, fmt.Errorf("%s token: %w (%w)", purpose, ErrExpiredToken, err)
	}
	if err != nil {
		return nil, fmt.Errorf("%s token: %w (%w)", purpose, ErrBadToken, err)
	}
	var ids []int64
	for len(p) > 0 {
		v, n := binary.Varint(p)
		if n <= 0 {
			return nil, fmt.Errorf("%s token: %w", purpose, ErrBadToken)
		}
		ids = append(ids, v)
		p = p[n:]
	}
	if len(ids) == 0 {
		return nil, fmt.Errorf("%s token: %w", purpose, ErrBadToken)
	}
	return ids, nil
}

// SubscribeByMail handles an empty mail (空メール) to a list's join
// address: the same as a form request with source SourceEmptyMail and the
// inbound Message-ID as evidence. The confirmation mail still goes out,
// because a From header can be forged.
func (s *Store) SubscribeByMail(ctx context.Context, email, listSlug, messageID string) error {
	return s.Subscribe(ctx, SubscribeRequest{Email: email, Lists: []string{listSlug},
		Source: SourceEmptyMail, Evidence: Evidence{MessageID: messageID}})
}
