package web

import (
	"context"
	"net/url"
	"strconv"

	"kawaraban/subscribers"
)

// pageAfter reads ?after= (0 when absent or bad).
func pageAfter(q url.Values) int64 { return pageKey(q, "after") }

// pageKey reads a page key such as ?before= (0 when absent or bad).
func pageKey(q url.Values, name string) int64 {
	n, err := strconv.ParseInt(q.Get(name), 10, 64)
	if err != nil || n < 0 {
		return 0
	}
	return n
}

// subscriberPageJSON is a page of the subscribers API; next is the
// ?after= of the following page (absent on the last).
type subscriberPageJSON struct {
	Items any `json:"items"`
	// Total counts the list's subscribers with the status asked for, from
	// the maintained counts; absent when the page is a search (?q=).
	Total  *int  `json:"total,omitempty"`
	Limit  int   `json:"limit"`
	Offset int   `json:"offset"`
	Next   int64 `json:"next,omitempty"`
}

// SubscriberCounter is what a SubscriberAdmin may offer to count a list's
// subscribers by status without scanning them.
type SubscriberCounter interface {
	StatusCounts(ctx context.Context, listID int64) (subscribers.ListStats, error)
}

// subscriberTotal counts a list's subscribers with status ("" for all) for
// the API's total; ok is false when the SubscriberAdmin cannot count.
func (s *Server) subscriberTotal(ctx context.Context, listID int64, status string) (n int, ok bool, err error) {
	c, ok := s.opt.SubscriberAdmin.(SubscriberCounter)
	if !ok {
		return 0, false, nil
	}
	st, err := c.StatusCounts(ctx, listID)
	if err != nil {
		return 0, false, err
	}
	switch status {
	case "":
		n = st.Confirmed + st.Unconfirmed + st.Unsubscribed + st.Suppressed
	case subscribers.StatusConfirmed:
		n = st.Confirmed
	case subscribers.StatusUnconfirmed:
		n = st.Unconfirmed
	case subscribers.StatusUnsubscribed:
		n = st.Unsubscribed
	case subscribers.StatusSuppressed:
		n = st.Suppressed
	default:
		return 0, false, nil
	}
	return n, true, nil
}
