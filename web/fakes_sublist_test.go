package web

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"

	"kawaraban/subscribers"
)

// The fake's side of SubscriberBrowser: a subscriber's id is its index,
// a suppression is the status "suppressed" on the list.

func (f *fakeSubscribers) rows(slugs []string, status, text string, ids []int64) []subscribers.SubscriberRow {
	var out []subscribers.SubscriberRow
	for i := len(f.subs) - 1; i >= 0; i-- {
		s := f.subs[i]
		for _, slug := range slugs {
			st, ok := s.Lists[slug]
			if !ok || status != "" && st != status ||
				!strings.HasPrefix(strings.ToLower(s.Email), strings.ToLower(text)) ||
				len(ids) > 0 && !slices.Contains(ids, int64(i)) {
				continue
			}
			out = append(out, subscribers.SubscriberRow{SubscriberID: int64(i), Email: s.Email, Name: s.Name, Status: st, ListSlug: slug})
		}
	}
	return out
}

// Search pages by key (After, Before) or by Page, as the store does.
func (f *fakeSubscribers) Search(ctx context.Context, q subscribers.SearchQuery) ([]subscribers.SubscriberRow, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	slugs := q.ListSlugs
	if q.ListSlug != "" {
		slugs = []string{q.ListSlug}
	}
	rows := f.rows(slugs, q.Status, q.Text, q.IDs)
	if q.ListSlug != "" {
		for i := range rows {
			rows[i].ListSlug = ""
		}
	}
	var out []subscribers.SubscriberRow
	for _, r := range rows {
		if (q.After == 0 || r.SubscriberID < q.After) && (q.Before == 0 || r.SubscriberID > q.Before) {
			out = append(out, r)
		}
	}
	per := max(q.PerPage, 1)
	if q.After == 0 && q.Before == 0 && q.Page > 1 {
		out = out[min(len(out), (q.Page-1)*per):]
	}
	return out[:min(len(out), per)], nil
}

func (f *fakeSubscribers) Counts(ctx context.Context, slugs []string) (subscribers.ListStats, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var st subscribers.ListStats
	for _, r := range f.rows(slugs, "", "", nil) {
		switch r.Status {
		case "confirmed":
			st.Confirmed++
		case "unconfirmed":
			st.Unconfirmed++
		case "unsubscribed":
			st.Unsubscribed++
		case "suppressed":
			st.Suppressed++
		}
	}
	return st, nil
}

func (f *fakeSubscribers) CountSelection(ctx context.Context, sel subscribers.Selection) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.rows([]string{sel.ListSlug}, sel.Status, sel.Text, sel.IDs)), nil
}

func (f *fakeSubscribers) Bulk(ctx context.Context, sel subscribers.Selection, action string, ev Evidence, reason string) (subscribers.BulkResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	res := subscribers.BulkResult{Action: action}
	if strings.TrimSpace(reason) == "" {
		return res, domainErr(subscribers.ErrReasonRequired)
	}
	want := map[string]string{subscribers.BulkUnsubscribe: "unsubscribed", subscribers.BulkSuppress: "suppressed"}[action]
	if want == "" {
		return res, domainErr(subscribers.ErrBadAction)
	}
	for _, r := range f.rows([]string{sel.ListSlug}, sel.Status, sel.Text, sel.IDs) {
		res.Matched++
		if s := f.subs[r.SubscriberID]; s.Lists[sel.ListSlug] != want {
			s.Lists[sel.ListSlug] = want
			s.Events = append(s.Events, fmt.Sprintf("%s %s admin", want, sel.ListSlug))
			res.Changed++
		}
	}
	res.Batches = 1
	return res, nil
}

func (f *fakeSubscribers) ExportSelection(ctx context.Context, w io.Writer, sel subscribers.Selection) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	fmt.Fprint(w, "\ufeffemail,name,status\r\n")
	for _, r := range f.rows([]string{sel.ListSlug}, sel.Status, sel.Text, sel.IDs) {
		fmt.Fprintf(w, "%s,%s,%s\r\n", r.Email, r.Name, r.Status)
	}
	return nil
}
