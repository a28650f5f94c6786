package web

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"kawaraban/newsletter"
	"kawaraban/subscribers"
)

// The subscriber list (issue 17): filters by list (or every list the user
// may view), status and the start of an address or name; the counts per
// status; keyset paging; and bulk actions on the ticked subscribers or on
// the whole filter, each confirmed with its count, audited with who and
// why, and carried out by package subscribers in short batches.

// SubscriberBrowser is what the list page and the bulk actions need from
// the subscribers (webSubscriberAdmin; fakes in tests).
type SubscriberBrowser interface {
	// Counts adds up the kept counts by status of these lists.
	Counts(ctx context.Context, slugs []string) (subscribers.ListStats, error)
	CountSelection(ctx context.Context, sel subscribers.Selection) (int, error)
	Bulk(ctx context.Context, sel subscribers.Selection, action string, ev Evidence, reason string) (subscribers.BulkResult, error)
	// ExportSelection writes the selection as CSV with a BOM (for Excel).
	ExportSelection(ctx context.Context, w io.Writer, sel subscribers.Selection) error
}

// SubscriberBulkEraser erases a selection (newsletter.Erasure); may
// says, from the lists a subscriber is or was on, whether the user may
// erase it.
type SubscriberBulkEraser interface {
	EraseSelection(ctx context.Context, sel subscribers.Selection, actor, reason string,
		may func(lists []string) bool) (newsletter.EraseResult, error)
}

// bulkErase is the erase action (newsletter.EraseSelection).
const bulkErase = "erase"

// allLists is the list filter's value for "every list I may view".
const allLists = "*"

// bulkActions are the actions the page offers, in its order.
var bulkActions = []string{subscribers.BulkUnsubscribe, subscribers.BulkSuppress, "export", bulkErase}

// subscriberStatuses are the status filters, in the page's order.
var subscriberStatuses = []string{subscribers.StatusConfirmed, subscribers.StatusUnconfirmed,
	subscribers.StatusUnsubscribed, subscribers.StatusSuppressed}

func (s *Server) sublistRoutes() map[string]http.HandlerFunc {
	return map[string]http.HandlerFunc{
		"GET /admin/subscribers":       s.admin(s.handleSubscriberList),
		"POST /admin/subscribers/bulk": s.admin(s.handleSubscriberBulk),
	}
}

func (s *Server) sublistAPIRoutes() map[string]http.HandlerFunc {
	return map[string]http.HandlerFunc{
		"POST /api/v1/lists/{slug}/subscribers/bulk": s.api(s.apiSubscriberBulk),
	}
}

// listView is what the list page shows besides the import forms.
type listView struct {
	// All is the "every list I may view" view; List is then empty.
	All    bool
	Rows   []subscribers.SubscriberRow
	Counts subscribers.ListStats
	// Names are the lists by slug, for the list column of All.
	Names map[string]List
	// CanBulk: one list, which the user may edit. EditsSome: the user
	// may edit one of Lists (the all-lists view then says how to act).
	CanBulk, EditsSome bool
	Statuses           []string
	Actions            []string
}

func (s *Server) browser() (SubscriberBrowser, bool) {
	b, ok := s.opt.SubscriberAdmin.(SubscriberBrowser)
	return b, ok
}

// handleSubscriberList is GET /admin/subscribers.
func (s *Server) handleSubscriberList(w http.ResponseWriter, r *http.Request, sess *session, v *view) {
	b, ok := s.browser()
	if !ok {
		s.errorPage(w, r, http.StatusServiceUnavailable, "err.unavailable")
		return
	}
	qv := r.URL.Query()
	d := subscribersData{Query: strings.TrimSpace(qv.Get("q")), Status: qv.Get("status")}
	d.Statuses, d.Actions = subscriberStatuses, bulkActions
	q := subscribers.SearchQuery{Text: d.Query, Status: d.Status, PerPage: 50,
		After: pageAfter(qv), Before: pageKey(qv, "before")}
	var slugs []string
	if qv.Get("list") == allLists {
		all, err := s.lists(r.Context())
		if err != nil {
			s.fail(w, r, err)
			return
		}
		d.Lists, d.All, d.Names = visible(sess.user, all), true, map[string]List{}
		for _, l := range d.Lists {
			slugs = append(slugs, l.Slug)
			d.Names[l.Slug] = l
			d.EditsSome = d.EditsSome || authorize(sess.user, ActEdit, l.Slug)
		}
		q.ListSlugs = slugs
	} else {
		l, mine, err := s.chosenList(r, sess.user, qv.Get("list"))
		if err != nil {
			s.fail(w, r, err)
			return
		}
		d.Lists, d.List, slugs = mine, l, []string{l.Slug}
		q.ListSlug = l.Slug
		d.CanBulk = authorize(sess.user, ActEdit, l.Slug)
		d.Imports = s.recent(r.Context(), l.Slug)
	}
	pg, _ := strconv.Atoi(qv.Get("page"))
	d.Page = max(pg, 1)
	if q.After == 0 && q.Before == 0 {
		q.Page = d.Page
	}
	var err error
	if d.Counts, err = b.Counts(r.Context(), slugs); err != nil {
		s.fail(w, r, err)
		return
	}
	if len(slugs) > 0 {
		if d.Rows, err = s.opt.SubscriberAdmin.Search(r.Context(), q); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	if d.More = len(d.Rows) >= q.PerPage; d.More {
		d.Next = d.Rows[len(d.Rows)-1].SubscriberID
	}
	if len(d.Rows) > 0 && d.Page > 1 {
		d.Prev = d.Rows[0].SubscriberID
	}
	v.Nav, v.Title, v.Data = "subscribers", v.T("nav.subscribers"), d
	s.render(w, r, http.StatusOK, "subscribers", v)
}

// FilterURL is the page's address with the list, search and status
// given (and no page key), for the status counts' links.
func (d subscribersData) FilterURL(status string) string {
	list := d.List.Slug
	if d.All {
		list = allLists
	}
	return "/admin/subscribers?" + url.Values{"list": {list}, "q": {d.Query}, "status": {status}}.Encode()
}

// CountOf is the count of one status ("" = all).
func (d subscribersData) CountOf(status string) int {
	n, _ := d.Counts.Of(status)
	return n
}

// bulkData is the confirmation page of a bulk action, and its result.
type bulkData struct {
	List   List
	Action string
	Status string
	Query  string
	IDs    []int64
	Count  int
	Reason string
	Done   bool
	Result subscribers.BulkResult
	// Skipped counts the subscribers an erasure left (on a list the
	// user may not edit).
	Skipped int
	BackURL string
}

// handleSubscriberBulk is POST /admin/subscribers/bulk: without confirm
// it shows what would be done to how many; with confirm=yes and a reason
// it does it (export: the CSV) and shows the result.
func (s *Server) handleSubscriberBulk(w http.ResponseWriter, r *http.Request, sess *session, v *view) {
	b, ok := s.browser()
	if !ok {
		s.errorPage(w, r, http.StatusServiceUnavailable, "err.unavailable")
		return
	}
	l, err := s.listBySlug(r.Context(), r.PostFormValue("list"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if !authorize(sess.user, ActEdit, l.Slug) {
		s.fail(w, r, errForbidden)
		return
	}
	sel, action, err := bulkForm(r, l)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := bulkData{List: l, Action: action, Status: sel.Status, Query: sel.Text, IDs: sel.IDs,
		Reason: strings.TrimSpace(r.PostFormValue("reason"))}
	d.BackURL = "/admin/subscribers?" + url.Values{"list": {l.Slug}, "q": {sel.Text}, "status": {sel.Status}}.Encode()
	v.Nav, v.Title = "subscribers", v.T("bulk.title")
	if r.PostFormValue("confirm") != "yes" || d.Reason == "" {
		if d.Count, err = b.CountSelection(r.Context(), sel); err != nil {
			s.fail(w, r, err)
			return
		}
		code := http.StatusOK
		if r.PostFormValue("confirm") == "yes" {
			v.Error, code = v.T("bulk.needreason"), http.StatusUnprocessableEntity
		}
		v.Data = d
		s.render(w, r, code, "subscribers_bulk", v)
		return
	}
	detail := fmt.Sprintf("%s; %s", describeSelection(sel), d.Reason)
	if action == "export" {
		s.audit(r, sess.user.Login, "subscribers.bulk.export", "list:"+l.Slug, detail)
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="`+l.Slug+`-subscribers-selection.csv"`)
		if err := b.ExportSelection(r.Context(), w, sel); err != nil {
			s.log.Error("exporting a selection", "list", l.Slug, "err", err)
		}
		return
	}
	res, skipped, err := s.bulkRun(r.Context(), b, sel, action, sess.user, s.evidence(r, sess.user.Login), d.Reason)
	d.Skipped = skipped
	// The batches done before a failure stay done: the audit log says so.
	if err == nil || res.Batches > 0 {
		s.audit(r, sess.user.Login, "subscribers.bulk."+action, "list:"+l.Slug,
			fmt.Sprintf("%s; matched %d, changed %d, skipped %d; %s", describeSelection(sel), res.Matched, res.Changed, d.Skipped, d.Reason))
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d.Done, d.Result, d.Count = true, res, res.Matched
	v.Title, v.Data = v.T("bulk.titledone"), d
	s.render(w, r, http.StatusOK, "subscribers_bulk", v)
}

// bulkRun carries out an unsubscribe or suppress (subscribers.Bulk) or
// an erasure (newsletter.EraseSelection, of the subscribers u may erase:
// those on no list u may not edit); skipped counts the others.
func (s *Server) bulkRun(ctx context.Context, b SubscriberBrowser, sel subscribers.Selection, action string, u User,
	ev Evidence, reason string) (res subscribers.BulkResult, skipped int, err error) {
	if action != bulkErase {
		res, err = b.Bulk(ctx, sel, action, ev, reason)
		return res, 0, err
	}
	er, ok := b.(SubscriberBulkEraser)
	if !ok {
		return res, 0, errUnavailable
	}
	out, err := er.EraseSelection(ctx, sel, u.Login, reason, func(lists []string) bool { return mayEditAll(u, lists) })
	res = subscribers.BulkResult{Action: action, Matched: out.Matched, Changed: out.Erased}
	if out.Matched > 0 {
		res.Batches = 1
	}
	return res, out.Skipped, err
}

// bulkForm reads the selection and the action of a bulk form: scope
// "selected" takes the ticked ids (none ticked is an input error),
// anything else the whole filter.
func bulkForm(r *http.Request, l List) (subscribers.Selection, string, error) {
	sel := subscribers.Selection{ListSlug: l.Slug, Status: r.PostFormValue("status"), Text: strings.TrimSpace(r.PostFormValue("q"))}
	action := r.PostFormValue("action")
	known := false
	for _, a := range bulkActions {
		known = known || a == action
	}
	if !known {
		return sel, "", fmt.Errorf("bulk %q: %w", action, subscribers.ErrBadAction)
	}
	if r.PostFormValue("scope") == "selected" {
		for _, v := range r.PostForm["id"] {
			id, err := strconv.ParseInt(v, 10, 64)
			if err != nil || id < 0 {
				return sel, "", &InputError{Field: "id", Message: "bad subscriber id", MessageJA: "選択が正しくありません。"}
			}
			sel.IDs = append(sel.IDs, id)
		}
		if len(sel.IDs) == 0 {
			return sel, "", &InputError{Field: "id", Message: "tick at least one subscriber", MessageJA: "対象の登録者にチェックを入れてください。"}
		}
	}
	return sel, action, nil
}

// describeSelection says in the audit log what a bulk action acted on.
func describeSelection(sel subscribers.Selection) string {
	d := "filter status=" + sel.Status + " q=" + sel.Text
	if len(sel.IDs) > 0 {
		d = fmt.Sprintf("%d ticked (%s)", len(sel.IDs), d)
	}
	return d
}

type bulkRequest struct {
	Action string  `json:"action"`
	Status string  `json:"status"`
	Q      string  `json:"q"`
	IDs    []int64 `json:"ids"`
	Reason string  `json:"reason"`
	DryRun bool    `json:"dry_run"`
}

type bulkResultJSON struct {
	Action  string `json:"action"`
	Matched int    `json:"matched"`
	Changed int    `json:"changed"`
	Skipped int    `json:"skipped,omitempty"`
	Batches int    `json:"batches"`
	DryRun  bool   `json:"dry_run,omitempty"`
}

// apiSubscriberBulk is POST /api/v1/lists/{slug}/subscribers/bulk:
// unsubscribe or suppress the subscribers a filter (or ids) selects;
// dry_run only counts them, as the UI's confirmation step does.
func (s *Server) apiSubscriberBulk(w http.ResponseWriter, r *http.Request, u User) {
	b, ok := s.browser()
	if !ok {
		apiError(w, http.StatusServiceUnavailable, errUnavailable.Error())
		return
	}
	l, err := s.listBySlug(r.Context(), r.PathValue("slug"))
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	if !authorize(u, ActEdit, l.Slug) {
		s.apiFail(w, r, errForbidden)
		return
	}
	var req bulkRequest
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		apiError(w, http.StatusBadRequest, `body must be {"action", "reason", "status"?, "q"?, "ids"?, "dry_run"?}`)
		return
	}
	sel := subscribers.Selection{ListSlug: l.Slug, Status: req.Status, Text: strings.TrimSpace(req.Q), IDs: req.IDs}
	if req.Action != subscribers.BulkUnsubscribe && req.Action != subscribers.BulkSuppress && req.Action != bulkErase {
		s.apiFail(w, r, fmt.Errorf("bulk %q: %w", req.Action, subscribers.ErrBadAction))
		return
	}
	if req.DryRun {
		n, err := b.CountSelection(r.Context(), sel)
		if err != nil {
			s.apiFail(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, bulkResultJSON{Action: req.Action, Matched: n, DryRun: true})
		return
	}
	res, skipped, err := s.bulkRun(r.Context(), b, sel, req.Action, u, s.evidence(r, u.Login), req.Reason)
	if err == nil || res.Batches > 0 {
		s.audit(r, u.Login, "subscribers.bulk."+req.Action, "list:"+l.Slug,
			fmt.Sprintf("api; %s; matched %d, changed %d, skipped %d; %s", describeSelection(sel), res.Matched, res.Changed, skipped,
				strings.TrimSpace(req.Reason)))
	}
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, bulkResultJSON{Action: req.Action, Matched: res.Matched, Changed: res.Changed,
		Skipped: skipped, Batches: res.Batches})
}
