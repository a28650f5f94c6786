package subscribers

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
)

// searchLists serves a SearchQuery over several lists (ListSlugs): each
// list is searched on its own index for one page after (or before) the
// key, and the pages are merged, newest first. A page so costs at most
// one page per list, however large the lists, where one query over all
// of them would have to sort every match.
func (s *Store) searchLists(ctx context.Context, q SearchQuery) ([]SubscriberRow, int, error) {
	if q.After <= 0 && q.Before <= 0 && q.Page > 1 {
		return nil, 0, fmt.Errorf("searching subscribers of %d lists: page %d: %w", len(q.ListSlugs), q.Page, ErrDeepOffset)
	}
	var all []SubscriberRow
	seen := map[string]bool{}
	for _, slug := range q.ListSlugs {
		if seen[slug] {
			continue
		}
		seen[slug] = true
		one := q
		one.ListSlug, one.ListSlugs, one.Page, one.SkipTotal = slug, nil, 1, true
		rows, _, err := s.Search(ctx, one)
		if err != nil {
			return nil, 0, err
		}
		for i := range rows {
			rows[i].ListSlug = slug
		}
		all = append(all, rows...)
	}
	// Newest first, then by list; before a key the nearest newer rows
	// are the page, so the oldest of them are kept.
	slices.SortFunc(all, func(a, b SubscriberRow) int {
		return cmp.Or(cmp.Compare(b.SubscriberID, a.SubscriberID), cmp.Compare(a.ListSlug, b.ListSlug))
	})
	// A subscriber's rows stay on one page (the key is the subscriber),
	// so a page may hold a few more than PerPage rows.
	if q.After <= 0 && q.Before > 0 && len(all) > q.PerPage {
		from := len(all) - q.PerPage
		for from > 0 && all[from-1].SubscriberID == all[from].SubscriberID {
			from--
		}
		return all[from:], 0, nil
	}
	end := min(len(all), q.PerPage)
	for end > 0 && end < len(all) && all[end].SubscriberID == all[end-1].SubscriberID {
		end++
	}
	return all[:end], 0, nil
}

// Counts adds up the kept counts of the lists with these slugs: the
// number of subscriptions by status (a subscriber on two of them counts
// twice). It reads a few rows per list, whatever their size.
func (s *Store) Counts(ctx context.Context, slugs []string) (ListStats, error) {
	var sum ListStats
	for _, slug := range slugs {
		l, err := s.ListBySlug(ctx, slug)
		if err != nil {
			return ListStats{}, err
		}
		st, err := s.Stats(ctx, l.ID)
		if err != nil {
			return ListStats{}, err
		}
		sum.Confirmed += st.Confirmed
		sum.Unconfirmed += st.Unconfirmed
		sum.Unsubscribed += st.Unsubscribed
		sum.Suppressed += st.Suppressed
	}
	return sum, nil
}

// Total is the number of subscriptions the stats count, every status.
func (st ListStats) Total() int {
	return st.Confirmed + st.Unconfirmed + st.Unsubscribed + st.Suppressed
}

// Of returns the count of one status as exports show it ("" = Total).
func (st ListStats) Of(status string) (int, error) {
	switch status {
	case "":
		return st.Total(), nil
	case StatusConfirmed:
		return st.Confirmed, nil
	case StatusUnconfirmed:
		return st.Unconfirmed, nil
	case StatusUnsubscribed:
		return st.Unsubscribed, nil
	case StatusSuppressed:
		return st.Suppressed, nil
	}
	return 0, fmt.Errorf("counting status %q: %w", status, ErrBadStatus)
}

func idsJSON(ids []int64) string {
	b, _ := json.Marshal(ids)
	return string(b)
}
