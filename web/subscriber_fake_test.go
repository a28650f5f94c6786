package web

import (
	"context"
	"strings"
	"sync"
	"time"

	"kawaraban/bounces"
	"kawaraban/bounces/classify"
	"kawaraban/mailer"
	"kawaraban/subscribers"
)

// fakeSubscriberDetail serves the subscriber page over fakeSubscribers'
// readers. Subscribers 0, 1 and 3 start suppressed for every list; 3 has
// a bounce and a delivery of issue 2.
type fakeSubscriberDetail struct {
	f      *fakeSubscribers
	mu     sync.Mutex
	erased map[int64]bool
	attrs  map[int64]map[string]string
	supp   map[int64]bool
}

func newFakeSubscriberDetail(f *fakeSubscribers) *fakeSubscriberDetail {
	return &fakeSubscriberDetail{f: f, erased: map[int64]bool{}, attrs: map[int64]map[string]string{},
		supp: map[int64]bool{0: true, 1: true, 3: true}}
}

func (d *fakeSubscriberDetail) sub(id int64) (*fakeSub, error) {
	d.f.mu.Lock()
	defer d.f.mu.Unlock()
	if id < 0 || int(id) >= len(d.f.subs) || d.erased[id] {
		return nil, subscribers.ErrNotFound
	}
	return d.f.subs[id], nil
}

func (d *fakeSubscriberDetail) SubscriberLists(ctx context.Context, id int64) ([]string, error) {
	d.mu.Lock()
	erased := d.erased[id]
	d.mu.Unlock()
	if erased {
		return nil, ErrNotFound
	}
	return d.f.SubscriberLists(ctx, id)
}

func (d *fakeSubscriberDetail) Profile(ctx context.Context, id int64) (subscribers.Profile, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	s, err := d.sub(id)
	if err != nil {
		return subscribers.Profile{}, err
	}
	d.f.mu.Lock()
	defer d.f.mu.Unlock()
	at := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	p := subscribers.Profile{ID: id, Email: s.Email, Name: s.Name, Lang: "ja", Attributes: d.attrs[id], Created: at}
	for _, l := range testLists {
		if st, ok := s.Lists[l.Slug]; ok {
			p.Subscriptions = append(p.Subscriptions, subscribers.Subscription{ListID: l.ID, ListSlug: l.Slug, Status: st,
				Source: "web", RequestedAt: at})
		}
	}
	if d.supp[id] {
		p.Suppressions = []subscribers.Suppression{{Reason: subscribers.ReasonHardBounce, Since: at}}
	}
	return p, nil
}

func (d *fakeSubscriberDetail) History(ctx context.Context, id int64) ([]subscribers.ConsentEvent, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	s, err := d.sub(id)
	if err != nil {
		return nil, err
	}
	var out []subscribers.ConsentEvent
	for _, e := range s.Events {
		parts := strings.SplitN(e, " ", 3)
		out = append(out, subscribers.ConsentEvent{Event: parts[0], ListSlug: parts[1], Source: "web", Evidence: Evidence{IP: parts[2]}})
	}
	if id == 3 { // a confirmed reader whose mailbox then vanished
		out = append(out, subscribers.ConsentEvent{Event: "opt-in", ListSlug: "kankyo-hozen", Source: "empty-mail", Detail: "confirmed by link", Evidence: Evidence{IP: "192.0.2.1"}},
			subscribers.ConsentEvent{Event: "opt-in", ListSlug: "kankyo-hozen", Source: "admin", Detail: "added by admin", Evidence: Evidence{Actor: "admin"}})
	}
	return out, nil
}

func (d *fakeSubscriberDetail) Bounces(ctx context.Context, id int64) ([]bounces.Bounce, error) {
	if id != 3 {
		return nil, nil
	}
	return []bounces.Bounce{{ID: 1, ListID: 2, Class: classify.Hard, Status: "5.1.1", Diagnostic: "550 5.1.1 User unknown",
		AttributedBy: "verp", Outcome: "suppressed", Received: time.Date(2026, 11, 20, 1, 0, 0, 0, time.UTC)}}, nil
}

func (d *fakeSubscriberDetail) Deliveries(ctx context.Context, id, before int64, limit int) ([]mailer.SubscriberDelivery, error) {
	if id != 3 || before != 0 && before <= 2 {
		return nil, nil
	}
	return []mailer.SubscriberDelivery{{ID: 7, IssueID: 2, Status: "bounced", Attempts: 1, Code: 550, Enhanced: "5.1.1",
		Done: time.Date(2026, 11, 20, 0, 59, 0, 0, time.UTC)}}, nil
}

func (d *fakeSubscriberDetail) IssueList(ctx context.Context, issueID int64) (string, string, error) {
	return listOf(issueID).Slug, "既存の号", nil
}

func (d *fakeSubscriberDetail) UpdateProfile(ctx context.Context, id int64, name string, attrs map[string]string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	s, err := d.sub(id)
	if err != nil {
		return err
	}
	for k := range attrs {
		if k == "" {
			return subscribers.ErrBadAttributes
		}
	}
	d.f.mu.Lock()
	s.Name = name
	d.f.mu.Unlock()
	d.attrs[id] = attrs
	return nil
}

func (d *fakeSubscriberDetail) UnsubscribeFromList(ctx context.Context, id int64, slug, source string, ev Evidence) (bool, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	s, err := d.sub(id)
	if err != nil {
		return false, err
	}
	d.f.mu.Lock()
	defer d.f.mu.Unlock()
	if st, ok := s.Lists[slug]; !ok || st == "unsubscribed" {
		return false, nil
	}
	s.Lists[slug] = "unsubscribed"
	s.Events = append(s.Events, "opt-out "+slug+" "+ev.IP)
	return true, nil
}

func (d *fakeSubscriberDetail) LiftSuppression(ctx context.Context, id, listID int64, reason, source string, ev Evidence) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, err := d.sub(id); err != nil {
		return err
	}
	if strings.TrimSpace(reason) == "" {
		return subscribers.ErrReasonRequired
	}
	if listID != 0 || !d.supp[id] {
		return subscribers.ErrNotSuppressed
	}
	delete(d.supp, id)
	return nil
}

func (d *fakeSubscriberDetail) Erase(ctx context.Context, id int64, actor, reason string) (subscribers.Erased, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, err := d.sub(id); err != nil {
		return subscribers.Erased{}, err
	}
	if strings.TrimSpace(reason) == "" {
		return subscribers.Erased{}, subscribers.ErrReasonRequired
	}
	d.erased[id] = true
	return subscribers.Erased{SubscriberID: id}, nil
}
