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

// Bounces are the subscriber's bounces (Fill sets the detail only with a
// bounce service).
func (w webSubscriberDetail) Bounces(ctx context.Context, id int64) ([]bounces.Bounce, error) {
	return w.d.Bounces.List(ctx, bounces.Filter{SubscriberID: id, PerPage: 100})
}

func (w webSubscriberDetail) Deliveries(ctx context.Context, id, beforeIssue int64, limit int) ([]mailer.SubscriberDelivery, error) {
	if w.d.Mailer == nil {
		return nil, nil
	}
	return w.d.Mailer.SubscriberDeliveries(ctx, id, beforeIssue, limit)
}

func (w webSubscriberDetail) IssueList(ctx context.Context, issueID int64) (string, string, error) {
	if w.d.Issues == nil {
		return "", "", ErrNotFound
	}
	is, err := w.d.Issues.ByID(ctx, issueID)
	if err != nil {
		return "", "", err
	}
	l, err := w.Store.ListByID(ctx, is.ListID)
	return l.Slug, is.Subject, err
}

func (w webSubscriberDetail) Erase(ctx context.Context, id int64, actor, reason string) (subscribers.Erased, error) {
	return w.erasure.Erase(ctx, id, actor, reason)
}
