package web

import (
	"context"

	"kawaraban/bounces"
	"kawaraban/mailer"
	"kawaraban/newsletter"
	"kawaraban/subscribers"
)

// webSubscriberDetail serves the subscriber page (SubscriberDetail): the
// subscribers store (SubscriberLists, Profile, History, UpdateProfile,
// UnsubscribeFromList, LiftSuppression as they are), the bounces and
// deliveries of the others and the application layer's erasure.
type webSubscriberDetail struct {
	*subscribers.Store
	d       Domain
	erasure *newsletter.Erasure
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

func (w webSubscriberDetail) Erase(ctx context.Context, id int64, actor, reason string) (subscribers.Erased, error) {
	er, err := w.erasure.Erase(ctx, id, actor, reason)
	return er, domainErr(err)
}
