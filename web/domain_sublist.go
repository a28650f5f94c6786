package web

import (
	"context"
	"io"

	"kawaraban/newsletter"
	"kawaraban/subscribers"
)

// The subscriber list's filters, counts and bulk actions (issue 17) over
// the real store (SubscriberBrowser).

func (w webSubscriberAdmin) Counts(ctx context.Context, slugs []string) (subscribers.ListStats, error) {
	st, err := w.d.Subscribers.Counts(ctx, slugs)
	return st, domainErr(err)
}

func (w webSubscriberAdmin) CountSelection(ctx context.Context, sel subscribers.Selection) (int, error) {
	n, err := w.d.Subscribers.CountSelection(ctx, sel)
	return n, domainErr(err)
}

func (w webSubscriberAdmin) Bulk(ctx context.Context, sel subscribers.Selection, action string, ev Evidence, reason string) (subscribers.BulkResult, error) {
	res, err := w.d.Subscribers.Bulk(ctx, sel, action, ev, reason)
	return res, domainErr(err)
}

func (w webSubscriberAdmin) ExportSelection(ctx context.Context, wr io.Writer, sel subscribers.Selection) error {
	return domainErr(w.d.Subscribers.ExportSelection(ctx, wr, sel, true))
}

func (w webSubscriberAdmin) EraseSelection(ctx context.Context, sel subscribers.Selection, actor, reason string,
	may func(lists []string) bool) (newsletter.EraseResult, error) {
	res, err := newsletter.NewErasure(w.d.Subscribers, w.d.Mailer, w.d.Bounces).EraseSelection(ctx, sel, actor, reason, may)
	return res, domainErr(err)
}
