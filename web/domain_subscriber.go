package web

import (
	"context"

	"kawaraban/bounces"
	"kawaraban/mailer"
	"kawaraban/newsletter"
	"kawaraban/subscribers"
)

// webSubscriberDetail serves the subscriber page (SubscriberDetail) from
// the stores and the application layer's erasure.
type webSubscriberDetail struct {
	d       Domain
	erasure *newsletter.Erasure
}

func (w webSubscriberDetail) SubscriberLists(ctx context.Context, id int64) ([]string, error) {
	slugs, err := w.d.Subscribers.SubscriberLists(ctx, id)
	return slugs, domainErr(err)
}

func (w webSubscriberDetail) Profile(ctx context.Context, id int64) (subscribers.Profile, error) {
	p, err := w.d.Subscribers.Profile(ctx, id)
	return p, domainErr(err)
}

func (w webSubscriberDetail) History(ctx context.Context, id int64) ([]subscribers.ConsentEvent, error) {
	h, err := w.d.Subscribers.History(ctx, id)
	return h, domainErr(err)
}

func (w webSubscriberDetail) Bounces(ctx context.Context, id int64) ([]bounces.Bounce, error) {
	if w.d.Bounces == nil {
		return nil, nil
	}
	bs, err := w.d.Bounces.List(ctx, bounces.Filter{SubscriberID: id, PerPage: 100})
	return bs, domainErr(err)
}

func (w webSubscriberDetail) Deliveries(ctx context.Context, id, beforeIssue int64, limit int) ([]mailer.SubscriberDelivery, error) {
	if w.d.Mailer == nil {
		return nil, nil
	}
	ds, err := w.d.Mailer.SubscriberDeliveries(ctx, id, beforeIssue, limit)
	return ds, domainErr(err)
}

func (w webSubscriberDetail) IssueList(ctx context.Context, issueID int64) (string, string, error) {
	if w.d.Issues == nil {
		return "", "", ErrNotFound
	}
	is, err := w.d.Issues.ByID(ctx, issueID)
	if err != nil {
		return "", "", domainErr(err)
	}
	l, err := w.d.Subscribers.ListByID(ctx, is.ListID)
	return l.Slug, is.Subject, domainErr(err)
}

func (w webSubscriberDetail) UpdateProfile(ctx context.Context, id int64, name string, attrs map[string]string) error {
	return domainErr(w.d.Subscribers.UpdateProfile(ctx, id, name, attrs))
}

func (w webSubscriberDetail) UnsubscribeFromList(ctx context.Context, id int64, slug, source string, ev Evidence) (bool, error) {
	changed, err := w.d.Subscribers.UnsubscribeFromList(ctx, id, slug, source, ev)
	return changed, domainErr(err)
}

func (w webSubscriberDetail) LiftSuppression(ctx context.Context, id, listID int64, reason, source string, ev Evidence) error {
	return domainErr(w.d.Subscribers.LiftSuppression(ctx, id, listID, reason, source, ev))
}

func (w webSubscriberDetail) Erase(ctx context.Context, id int64, actor, reason string) (subscribers.Erased, error) {
	er, err := w.erasure.Erase(ctx, id, actor, reason)
	return er, domainErr(err)
}
