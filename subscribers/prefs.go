package subscribers

import (
	"context"
	"database/sql"
	"fmt"
)

// Prefs is what the preferences page shows.
type Prefs struct {
	SubscriberID int64
	Email, Name  string
	// MaskedEmail is what the page should show (see MaskEmail).
	MaskedEmail string
	Lang        string
	// Lists are every public list, and the internal lists the subscriber
	// is on, each with the subscriber's state.
	Lists []PrefList
}

// PrefList is one list on the preferences page.
type PrefList struct {
	List List
	// Status is StatusConfirmed, StatusUnconfirmed, StatusUnsubscribed or "".
	Status string
	// Subscribed is true for confirmed and unconfirmed subscriptions (the
	// box is ticked).
	Subscribed bool
}

func (s *Store) prefsSubscriber(ctx context.Context, tok string) (int64, error) {
	ids, err := s.verify(PurposePrefs, tok)
	if err != nil {
		return 0, err
	}
	if len(ids) != 1 {
		return 0, fmt.Errorf("preferences token: %w", ErrBadToken)
	}
	return ids[0], nil
}

// Preferences reads a preferences token and returns the page's content.
// It changes nothing.
func (s *Store) Preferences(ctx context.Context, tok string) (Prefs, error) {
	id, err := s.prefsSubscriber(ctx, tok)
	if err != nil {
		return Prefs{}, err
	}
	return s.prefs(ctx, s.db, id)
}

func (s *Store) prefs(ctx context.Context, q queryer, id int64) (Prefs, error) {
	sub, err := subscriberByID(ctx, q, id)
	if err != nil {
		return Prefs{}, err
	}
	lists, err := s.lists(ctx, q)
	if err != nil {
		return Prefs{}, err
	}
	p := Prefs{SubscriberID: sub.ID, Email: sub.Email, MaskedEmail: MaskEmail(sub.Email), Name: sub.Name, Lang: sub.Lang}
	for _, l := range lists {
		st, _, err := subStatus(ctx, q, l.ID, sub.ID)
		if err != nil {
			return Prefs{}, err
		}
		on := st == StatusConfirmed || st == StatusUnconfirmed
		if (!l.Public() || l.Closed()) && !on {
			// A closed list is shown only to those on it, to leave it.
			continue
		}
		p.Lists = append(p.Lists, PrefList{List: l, Status: st, Subscribed: on})
	}
	return p, nil
}

// SavePreferences sets the subscriber's lists to listSlugs, among the
// lists Preferences shows. Leaving a list records an opt-out at once: the
// link may always remove lists, and it never expires. Joining a list does
// not: a preferences link travels in every issue and can be forwarded, so
// whoever holds it is not known to be the citizen. Each list to join gets
// a confirmation mail as a new subscription would (source SourcePrefs),
// and nothing changes until its link is confirmed (issue 15). An empty
// listSlugs leaves every list. A slug not on the page gives
// ErrUnknownList and changes nothing.
func (s *Store) SavePreferences(ctx context.Context, tok string, listSlugs []string, ev Evidence) error {
	id, err := s.prefsSubscriber(ctx, tok)
	if err != nil {
		return err
	}
	want := map[string]bool{}
	for _, slug := range listSlugs {
		want[slug] = true
	}
	var conf *Confirmation
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		p, err := s.prefs(ctx, tx, id)
		if err != nil {
			return err
		}
		shown := map[string]bool{}
		for _, pl := range p.Lists {
			shown[pl.List.Slug] = true
		}
		for slug := range want {
			if !shown[slug] {
				return fmt.Errorf("list %q: %w", slug, ErrUnknownList)
			}
		}
		sub := subscriber{ID: p.SubscriberID, Email: p.Email, Name: p.Name, Lang: p.Lang}
		var join []List
		for _, pl := range p.Lists {
			switch w := want[pl.List.Slug]; {
			case w && pl.Status != StatusConfirmed && !pl.List.Closed():
				join = append(join, pl.List)
			case !w && pl.Subscribed:
				if _, err := s.optOut(ctx, tx, pl.List.ID, sub, SourcePrefs, ev); err != nil {
					return err
				}
			}
		}
		conf, err = s.requestConfirmation(ctx, tx, sub, join, SourcePrefs, ev)
		return err
	})
	if err != nil {
		return fmt.Errorf("saving preferences of subscriber %d: %w", id, err)
	}
	if conf == nil || s.opt.Confirmer == nil {
		return nil
	}
	if err := s.opt.Confirmer.SendConfirmation(ctx, *conf); err != nil {
		return fmt.Errorf("sending confirmation to subscriber %d: %w", conf.SubscriberID, err)
	}
	return nil
}
