package web

import (
	"context"
	"errors"

	"kawaraban/subscribers"
)

// SearchPage serves keyset paging and the status filter (SubscriberPager):
// no total is counted, as no page shows one.
func (w webSubscriberAdmin) SearchPage(ctx context.Context, p SubscriberPage) ([]Subscriber, error) {
	if p.Limit <= 0 {
		p.Limit = 50
	}
	rows, _, err := w.d.Subscribers.Search(ctx, subscribers.SearchQuery{ListSlug: p.ListSlug, Text: p.Query, Status: p.Status,
		After: p.After, Before: p.Before, Page: p.Offset/p.Limit + 1, PerPage: p.Limit, SkipTotal: true})
	if errors.Is(err, subscribers.ErrBadStatus) {
		return nil, &InputError{Field: "status", Message: err.Error(), MessageJA: "状態の指定を確認してください"}
	}
	out := make([]Subscriber, 0, len(rows))
	for _, r := range rows {
		out = append(out, Subscriber{ID: r.SubscriberID, Email: r.Email, Name: r.Name, Status: r.Status, Created: r.Created})
	}
	return out, domainErr(err)
}
