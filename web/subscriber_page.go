package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"kawaraban/bounces"
	"kawaraban/mailer"
	"kawaraban/subscribers"
)

// The admin's page of one subscriber (issue 17): who it is, its lists,
// consent history, bounces and deliveries, and the actions staff take on
// it (edit, unsubscribe from one list, lift a suppression, erase), each
// written to the audit log with who and why.

// SubscriberDetail is what the subscriber page and its API need: the
// domain's own types (subscribers, bounces, mailer), no mirrors.
type SubscriberDetail interface {
	// SubscriberLists returns the slugs of the lists the subscriber is or
	// was on; ErrNotFound (or subscribers.ErrNotFound) when there is none.
	SubscriberLists(ctx context.Context, id int64) ([]string, error)
	Profile(ctx context.Context, id int64) (subscribers.Profile, error)
	History(ctx context.Context, id int64) ([]subscribers.ConsentEvent, error)
	Bounces(ctx context.Context, id int64) ([]bounces.Bounce, error)
	// Deliveries pages the subscriber's deliveries by issue, newest first.
	Deliveries(ctx context.Context, id, beforeIssue int64, limit int) ([]mailer.SubscriberDelivery, error)
	// IssueList returns the slug and subject of an issue.
	IssueList(ctx context.Context, issueID int64) (slug, subject string, err error)
	UpdateProfile(ctx context.Context, id int64, name string, attrs map[string]string) error
	UnsubscribeFromList(ctx context.Context, id int64, listSlug, source string, ev Evidence) (bool, error)
	LiftSuppression(ctx context.Context, id, listID int64, reason, source string, ev Evidence) error
	Erase(ctx context.Context, id int64, actor, reason string) (subscribers.Erased, error)
}

// subscriberRoutes are the subscriber page's admin routes.
func (s *Server) subscriberRoutes() map[string]http.HandlerFunc {
	return map[string]http.HandlerFunc{
		"GET /admin/subscribers/{id}":              s.admin(s.handleSubscriber),
		"POST /admin/subscribers/{id}/profile":     s.admin(s.handleSubscriberProfile),
		"POST /admin/subscribers/{id}/unsubscribe": s.admin(s.handleSubscriberUnsubscribe),
		"POST /admin/subscribers/{id}/unsuppress":  s.admin(s.handleSubscriberUnsuppress),
		"POST /admin/subscribers/{id}/erase":       s.admin(s.handleSubscriberErase),
	}
}

// subscriberFor reads subscriber {id} and checks that u may see it: when
// it is or was on a list u may view (one on no list only for those who
// see every list). Someone who does not see every list gets 403 for an id
// that does not exist as well, so that the answer tells nothing about
// subscribers on other lists.
func (s *Server) subscriberFor(r *http.Request, u User) (int64, []string, error) {
	if s.opt.SubscriberDetail == nil {
		return 0, nil, errUnavailable
	}
	seesAll := u.Role == RoleAdmin || u.Role == RoleViewer
	notFound := errForbidden
	if seesAll {
		notFound = ErrNotFound
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id < 0 {
		return 0, nil, notFound
	}
	slugs, err := s.opt.SubscriberDetail.SubscriberLists(r.Context(), id)
	switch {
	case errors.Is(err, ErrNotFound), errors.Is(err, subscribers.ErrNotFound):
		return 0, nil, notFound
	case err != nil:
		return 0, nil, err
	case len(slugs) == 0 && seesAll:
		return id, slugs, nil
	}
	for _, l := range slugs {
		if authorize(u, ActView, l) {
			return id, slugs, nil
		}
	}
	return 0, nil, errForbidden
}

// mayEditAny: u may edit one of the subscriber's lists (its name and
// attributes are shared by them all).
func mayEditAny(u User, slugs []string) bool {
	return slices.ContainsFunc(slugs, func(l string) bool { return authorize(u, ActEdit, l) }) ||
		u.Role == RoleAdmin
}

// mayEditAll: u may edit every list the subscriber is or was on, as
// erasing it or lifting a suppression for every list touches them all.
func mayEditAll(u User, slugs []string) bool {
	if u.Role == RoleAdmin {
		return true
	}
	return len(slugs) > 0 && !slices.ContainsFunc(slugs, func(l string) bool { return !authorize(u, ActEdit, l) })
}

// subscriberData is the subscriber page.
type subscriberData struct {
	P          subscribers.Profile
	Events     []subscribers.ConsentEvent
	Bounces    []bounces.Bounce
	Deliveries []deliveryRow
	// Before is the ?before= of the next (older) page of deliveries, 0
	// when there is none.
	Before int64
	// What the user may do here.
	CanEdit, CanErase bool
	// Form holds what was typed when an action was refused.
	Form subscriberForm
}

// deliveryRow is one delivery with its issue's subject and list.
type deliveryRow struct {
	mailer.SubscriberDelivery
	List, Subject string
}

// subscriberForm is what the page's forms post.
type subscriberForm struct {
	Name, Attributes, Reason, Confirm string
	Field                             string // the action whose form failed
}

const deliveriesPerPage = 20

func (s *Server) handleSubscriber(w http.ResponseWriter, r *http.Request, sess *session, v *view) {
	id, slugs, err := s.subscriberFor(r, sess.user)
	if l := r.URL.Query().Get("list"); err == nil && l != "" && !authorize(sess.user, ActView, l) {
		err = errForbidden // the list page's links carry the list (?list=)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if f := r.URL.Query().Get("done"); f != "" {
		v.Flash = v.T("subp.done." + f)
	}
	s.renderSubscriber(w, r, v, sess.user, id, slugs, subscriberForm{}, nil)
}

// renderSubscriber shows the page; failed is the error of the form
// form.Field, shown above it with what was typed.
func (s *Server) renderSubscriber(w http.ResponseWriter, r *http.Request, v *view, u User, id int64, slugs []string, form subscriberForm, failed error) {
	ctx := r.Context()
	sp := s.opt.SubscriberDetail
	p, err := sp.Profile(ctx, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := subscriberData{P: p, CanEdit: mayEditAny(u, slugs), CanErase: mayEditAll(u, slugs), Form: form}
	if form.Field != "profile" { // the edit form shows what is stored unless its own save failed
		d.Form.Name, d.Form.Attributes = p.Name, formatAttributes(p.Attributes)
	}
	// An editor sees only what belongs to lists it may view (and what
	// belongs to no list).
	visibleList := func(slug string) bool { return slug == "" || authorize(u, ActView, slug) }
	p.Subscriptions = slices.DeleteFunc(p.Subscriptions, func(x subscribers.Subscription) bool { return !visibleList(x.ListSlug) })
	p.Suppressions = slices.DeleteFunc(p.Suppressions, func(x subscribers.Suppression) bool { return !visibleList(x.ListSlug) })
	d.P = p
	if d.Events, err = sp.History(ctx, id); err != nil {
		s.fail(w, r, err)
		return
	}
	d.Events = slices.DeleteFunc(d.Events, func(e subscribers.ConsentEvent) bool { return !visibleList(e.ListSlug) })
	slices.Reverse(d.Events) // newest first
	bs, err := sp.Bounces(ctx, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	slug := func(listID int64) string {
		l, err := s.listByID(ctx, listID)
		if err != nil {
			return ""
		}
		return l.Slug
	}
	for _, b := range bs {
		if visibleList(slug(b.ListID)) {
			d.Bounces = append(d.Bounces, b)
		}
	}
	before := pageKey(r.URL.Query(), "before")
	ds, err := sp.Deliveries(ctx, id, before, deliveriesPerPage)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	for _, dl := range ds {
		l, subject, err := sp.IssueList(ctx, dl.IssueID)
		if err != nil && !isNotFound(err) {
			s.fail(w, r, err)
			return
		}
		if visibleList(l) {
			d.Deliveries = append(d.Deliveries, deliveryRow{SubscriberDelivery: dl, List: l, Subject: subject})
		}
	}
	if len(ds) == deliveriesPerPage {
		d.Before = ds[len(ds)-1].IssueID
	}
	v.Nav, v.Title, v.Data = "subscribers", v.T("subp.title"), d
	code, key := statusOf(failed)
	if failed != nil {
		v.Error = userMessage(v, key, failed)
	}
	s.render(w, r, code, "subscriber", v)
}

// formatAttributes writes attributes one "key=value" a line, sorted.
func formatAttributes(attrs map[string]string) string {
	var lines []string
	for k, val := range attrs {
		lines = append(lines, k+"="+val)
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}

// parseAttributes reads "key=value" lines; blank lines are skipped.
func parseAttributes(text string) (map[string]string, error) {
	out := map[string]string{}
	for line := range strings.Lines(text) {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		k, val, ok := strings.Cut(line, "=")
		if !ok || strings.TrimSpace(k) == "" {
			return nil, fmt.Errorf("line %q has no key=value: %w", line, subscribers.ErrBadAttributes)
		}
		out[strings.TrimSpace(k)] = strings.TrimSpace(val)
	}
	return out, nil
}

// subscriberAction runs an action of the page after the checks every
// action shares; it re-shows the page with the error when the action
// fails with something the user can correct.
func (s *Server) subscriberAction(w http.ResponseWriter, r *http.Request, sess *session, v *view, field string,
	allowed func(u User, slugs []string) bool, act func(id int64) (audit string, err error)) {
	id, slugs, err := s.subscriberFor(r, sess.user)
	if err == nil && !allowed(sess.user, slugs) {
		err = errForbidden
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	detail, err := act(id)
	if code, _ := statusOf(err); err != nil && (code == http.StatusUnprocessableEntity || code == http.StatusConflict) {
		form := subscriberForm{Field: field, Name: r.PostFormValue("name"), Attributes: r.PostFormValue("attributes"),
			Reason: r.PostFormValue("reason")}
		s.renderSubscriber(w, r, v, sess.user, id, slugs, form, err)
		return
	} else if err != nil {
		s.fail(w, r, err)
		return
	}
	s.audit(r, sess.user.Login, "subscriber."+field, "subscriber:"+strconv.FormatInt(id, 10), detail)
	if field == "erase" {
		// Nothing is left to show of it: the answer says what was done
		// and what was kept.
		v.Nav, v.Title, v.Data = "subscribers", v.T("subp.erased.title"), id
		s.render(w, r, http.StatusOK, "subscriber_erased", v)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/admin/subscribers/%d?done=%s", id, field), http.StatusSeeOther)
}

func (s *Server) handleSubscriberProfile(w http.ResponseWriter, r *http.Request, sess *session, v *view) {
	s.subscriberAction(w, r, sess, v, "profile", mayEditAny, func(id int64) (string, error) {
		attrs, err := parseAttributes(r.PostFormValue("attributes"))
		if err == nil {
			err = s.opt.SubscriberDetail.UpdateProfile(r.Context(), id, r.PostFormValue("name"), attrs)
		}
		return fmt.Sprintf("attributes %d", len(attrs)), err
	})
}

func (s *Server) handleSubscriberUnsubscribe(w http.ResponseWriter, r *http.Request, sess *session, v *view) {
	list := r.PostFormValue("list")
	if r.PostFormValue("confirm") != "yes" {
		s.confirmSubscriberUnsubscribe(w, r, sess, v, list)
		return
	}
	mayEditList := func(u User, _ []string) bool { return authorize(u, ActEdit, list) }
	s.subscriberAction(w, r, sess, v, "unsubscribe", mayEditList, func(id int64) (string, error) {
		_, err := s.opt.SubscriberDetail.UnsubscribeFromList(r.Context(), id, list, subscribers.SourceAdmin, s.evidence(r, sess.user.Login))
		return "list " + list, err
	})
}

// confirmSubscriberUnsubscribe asks once more before a subscriber is taken
// off a list (the confirmation step of a destructive action).
func (s *Server) confirmSubscriberUnsubscribe(w http.ResponseWriter, r *http.Request, sess *session, v *view, list string) {
	id, slugs, err := s.subscriberFor(r, sess.user)
	if err == nil && !authorize(sess.user, ActEdit, list) {
		err = errForbidden
	}
	if err == nil && !slices.Contains(slugs, list) {
		err = ErrNotFound
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p, err := s.opt.SubscriberDetail.Profile(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v.Nav, v.Title = "subscribers", v.T("subp.unsub.title")
	v.Data = map[string]any{"P": p, "List": list}
	s.render(w, r, http.StatusOK, "subscriber_unsubscribe", v)
}

func (s *Server) handleSubscriberUnsuppress(w http.ResponseWriter, r *http.Request, sess *session, v *view) {
	list := r.PostFormValue("list") // "" lifts the suppression for every list
	allowed := mayEditAll
	if list != "" {
		allowed = func(u User, _ []string) bool { return authorize(u, ActEdit, list) }
	}
	s.subscriberAction(w, r, sess, v, "unsuppress", allowed, func(id int64) (string, error) {
		listID, err := s.suppressionListID(r.Context(), list)
		if err == nil {
			err = s.opt.SubscriberDetail.LiftSuppression(r.Context(), id, listID, r.PostFormValue("reason"),
				subscribers.SourceAdmin, s.evidence(r, sess.user.Login))
		}
		return unsuppressDetail(list, r.PostFormValue("reason")), err
	})
}

// suppressionListID is the list ID of a suppression ("" = 0, every list).
func (s *Server) suppressionListID(ctx context.Context, slug string) (int64, error) {
	if slug == "" {
		return 0, nil
	}
	l, err := s.listBySlug(ctx, slug)
	return l.ID, err
}

func (s *Server) handleSubscriberErase(w http.ResponseWriter, r *http.Request, sess *session, v *view) {
	s.subscriberAction(w, r, sess, v, "erase", mayEditAll, func(id int64) (string, error) {
		p, err := s.opt.SubscriberDetail.Profile(r.Context(), id)
		if err != nil {
			return "", err
		}
		// Type-to-confirm: the address, as the page shows it.
		if !strings.EqualFold(strings.TrimSpace(r.PostFormValue("confirm")), p.Email) {
			return "", &InputError{Field: "confirm", Message: "type the address to confirm",
				MessageJA: "確認のため、メールアドレスを入力してください", cause: ErrConflict}
		}
		er, err := s.opt.SubscriberDetail.Erase(r.Context(), id, sess.user.Login, r.PostFormValue("reason"))
		return eraseDetail(er.Lists, r.PostFormValue("reason")), err
	})
}

// The audit log's details of the actions (words.go's AuditDetail reads
// their "key value; key value" form).
func unsuppressDetail(list, reason string) string {
	d := "reason " + reason
	if list != "" {
		d = "list " + list + "; " + d
	}
	return d
}

func eraseDetail(lists []string, reason string) string {
	return "lists " + strings.Join(lists, ",") + "; reason " + reason
}
