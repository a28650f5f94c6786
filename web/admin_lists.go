package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"kawaraban/subscribers"
)

// Lists in the database, created and edited by admins in the UI and the
// API (issue 17). Package subscribers owns the rules (the checks, the
// precedence over the config file, what closing means); this file shows
// them and audits every change. Editors and coordinators see the lists
// they may view, read-only; only admins edit.

// ListAdmin is the admins' side of the lists (package subscribers).
type ListAdmin interface {
	// ListBySlug is the list as stored (ErrNotFound for none).
	ListBySlug(ctx context.Context, slug string) (List, error)
	CreateList(ctx context.Context, l List) (List, error)
	UpdateList(ctx context.Context, slug string, l List) (List, []string, error)
	CloseList(ctx context.Context, slug string) (List, bool, error)
	ReopenList(ctx context.Context, slug string) (List, bool, error)
	// ReleaseListFields hands fields back to the config file (applied at
	// the next start).
	ReleaseListFields(ctx context.Context, slug string, fields []string) (List, []string, error)
}

// adminListRoutes are the list pages (behind a session).
func (s *Server) adminListRoutes() map[string]http.HandlerFunc {
	return map[string]http.HandlerFunc{
		"GET /admin/lists":                s.admin(s.handleLists),
		"GET /admin/lists/new":            s.admin(s.handleNewList),
		"POST /admin/lists":               s.admin(s.handleCreateList),
		"GET /admin/lists/{slug}":         s.admin(s.handleEditList),
		"POST /admin/lists/{slug}":        s.admin(s.handleUpdateList),
		"POST /admin/lists/{slug}/close":  s.admin(s.handleCloseList(true)),
		"POST /admin/lists/{slug}/reopen": s.admin(s.handleCloseList(false)),
	}
}

// apiListRoutes are the list API's patterns (GET /api/v1/lists is in
// routes.go).
func (s *Server) apiListRoutes() map[string]http.HandlerFunc {
	return map[string]http.HandlerFunc{
		"POST /api/v1/lists":         s.api(s.apiCreateList),
		"PATCH /api/v1/lists/{slug}": s.api(s.apiUpdateList),
	}
}

// listsPageData is the lists page.
type listsPageData struct {
	Lists []List
}

// listFormData is the form to create or edit a list.
type listFormData struct {
	New  bool
	List List
	// Problems maps a field to what is wrong with it, in the page's language.
	Problems map[string]string
	// Domains is the allowed domains as typed, one per line.
	Domains string
}

// Problem returns the field's problem ("" when none).
func (d listFormData) Problem(field string) string { return d.Problems[field] }

// UI reports whether the field was edited in the UI (the config no
// longer sets it); not marked on a list created here, which is the UI's
// in every field.
func (d listFormData) UI(field string) bool {
	return !d.New && !d.CreatedHere() && d.List.EditedInUI(field)
}

// CreatedHere reports whether every field belongs to the UI, as for a
// list created in the UI or the API.
func (d listFormData) CreatedHere() bool {
	return len(d.List.UIFields) == len(subscribers.ListFieldKeys())
}

// listAdminReady answers 403 to non-admins and 503 without the store.
func (s *Server) listAdminReady(w http.ResponseWriter, r *http.Request, u User) bool {
	if !authorize(u, ActAdmin, "") {
		s.fail(w, r, errForbidden)
		return false
	}
	if s.opt.ListAdmin == nil {
		s.errorPage(w, r, http.StatusServiceUnavailable, "err.unavailable")
		return false
	}
	return true
}

// handleLists shows the lists the user may view; admins get the links to
// create, edit and close them.
func (s *Server) handleLists(w http.ResponseWriter, r *http.Request, sess *session, v *view) {
	lists, err := s.lists(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	lists = visible(sess.user, lists)
	if done := r.URL.Query().Get("done"); slices.Contains([]string{"created", "updated", "closed", "reopened", "unchanged"}, done) {
		v.Flash = fmt.Sprintf(v.T("lists.done."+done), r.URL.Query().Get("slug"))
	}
	v.Nav, v.Title, v.Data = "lists", v.T("title.lists"), listsPageData{Lists: lists}
	s.render(w, r, http.StatusOK, "lists", v)
}

func (s *Server) handleNewList(w http.ResponseWriter, r *http.Request, sess *session, v *view) {
	if !s.listAdminReady(w, r, sess.user) {
		return
	}
	l := List{Kind: subscribers.KindPublic, Encoding: subscribers.EncodingUTF8, DoubleOptIn: true, NameFallback: "読者"}
	s.renderListForm(w, r, v, http.StatusOK, listFormData{New: true, List: l})
}

func (s *Server) handleCreateList(w http.ResponseWriter, r *http.Request, sess *session, v *view) {
	if !s.listAdminReady(w, r, sess.user) {
		return
	}
	in := listFromForm(r)
	in.Slug = strings.TrimSpace(r.PostFormValue("slug"))
	l, err := s.opt.ListAdmin.CreateList(r.Context(), in)
	if err != nil {
		s.listFormFailed(w, r, v, listFormData{New: true, List: in, Domains: r.PostFormValue("allowed_domains")}, err)
		return
	}
	s.audit(r, sess.user.Login, "list.create", l.Slug, "")
	http.Redirect(w, r, "/admin/lists?done=created&slug="+url.QueryEscape(l.Slug), http.StatusSeeOther)
}

func (s *Server) handleEditList(w http.ResponseWriter, r *http.Request, sess *session, v *view) {
	if !s.listAdminReady(w, r, sess.user) {
		return
	}
	l, err := s.opt.ListAdmin.ListBySlug(r.Context(), r.PathValue("slug"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.renderListForm(w, r, v, http.StatusOK, listFormData{List: l})
}

func (s *Server) handleUpdateList(w http.ResponseWriter, r *http.Request, sess *session, v *view) {
	if !s.listAdminReady(w, r, sess.user) {
		return
	}
	old, err := s.opt.ListAdmin.ListBySlug(r.Context(), r.PathValue("slug"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	in := listFromForm(r)
	l, changed, err := s.opt.ListAdmin.UpdateList(r.Context(), old.Slug, in)
	if err != nil {
		in.Slug, in.UIFields, in.ClosedAt = old.Slug, old.UIFields, old.ClosedAt
		s.listFormFailed(w, r, v, listFormData{List: in, Domains: r.PostFormValue("allowed_domains")}, err)
		return
	}
	done := "unchanged"
	if len(changed) > 0 {
		done = "updated"
		s.audit(r, sess.user.Login, "list.update", l.Slug, "fields: "+strings.Join(changed, ","))
	}
	if use := r.PostForm["use_config"]; len(use) > 0 {
		_, released, err := s.opt.ListAdmin.ReleaseListFields(r.Context(), l.Slug, use)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if len(released) > 0 {
			done = "updated"
			s.audit(r, sess.user.Login, "list.release", l.Slug, "fields: "+strings.Join(released, ","))
		}
	}
	http.Redirect(w, r, "/admin/lists?done="+done+"&slug="+url.QueryEscape(l.Slug), http.StatusSeeOther)
}

// handleCloseList closes a list to new subscribers, or opens it again.
func (s *Server) handleCloseList(closing bool) adminFunc {
	return func(w http.ResponseWriter, r *http.Request, sess *session, v *view) {
		if !s.listAdminReady(w, r, sess.user) {
			return
		}
		l, changed, err := s.setListClosed(r.Context(), r.PathValue("slug"), closing)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		done := map[bool]string{true: "closed", false: "reopened"}[closing]
		if changed {
			s.audit(r, sess.user.Login, "list."+map[bool]string{true: "close", false: "reopen"}[closing], l.Slug, "")
		}
		http.Redirect(w, r, "/admin/lists?done="+done+"&slug="+url.QueryEscape(l.Slug), http.StatusSeeOther)
	}
}

func (s *Server) setListClosed(ctx context.Context, slug string, closing bool) (List, bool, error) {
	if closing {
		return s.opt.ListAdmin.CloseList(ctx, slug)
	}
	return s.opt.ListAdmin.ReopenList(ctx, slug)
}

// listFromForm reads the form's fields (not the slug).
func listFromForm(r *http.Request) List {
	f := r.PostForm
	return List{
		NameJA: f.Get("name_ja"), NameEN: f.Get("name_en"),
		DescriptionJA: f.Get("description_ja"), DescriptionEN: f.Get("description_en"),
		Kind: f.Get("kind"), FromAddress: f.Get("from_address"), FromName: f.Get("from_name"),
		PostalAddress: f.Get("postal_address"), Contact: f.Get("contact"),
		Encoding: f.Get("encoding"), NameFallback: f.Get("name_fallback"),
		DoubleOptIn: f.Get("double_opt_in") != "", RequireApproval: f.Get("require_approval") != "",
		ArchiveOff: f.Get("archive") == "", CountClicks: f.Get("count_clicks") != "",
		AllowedDomains: splitDomains(f.Get("allowed_domains")),
	}
}

// splitDomains reads domains separated by commas, spaces or lines.
func splitDomains(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\r' || r == '\t' || r == '、' })
}

// listFormFailed shows the form again with each field's problem (422), or
// fails as any other error.
func (s *Server) listFormFailed(w http.ResponseWriter, r *http.Request, v *view, d listFormData, err error) {
	var le *subscribers.ListError
	if !errors.As(err, &le) {
		s.fail(w, r, err)
		return
	}
	d.Problems = map[string]string{}
	var fields []string
	for _, p := range le.Problems {
		if _, ok := d.Problems[p.Field]; !ok {
			d.Problems[p.Field] = listProblem(v.Lang, p)
			fields = append(fields, v.T("list.f."+p.Field))
		}
	}
	v.Error = fmt.Sprintf(v.T("lists.invalid"), strings.Join(fields, v.T("lists.sep")))
	s.renderListForm(w, r, v, http.StatusUnprocessableEntity, d)
}

// listProblem words one field's problem in lang.
func listProblem(lang string, p subscribers.ListProblem) string {
	key := "list.p." + p.Code
	if p.Code == subscribers.ProblemRequired && slices.Contains([]string{"from_name", "postal_address", "contact"}, p.Field) {
		key = "list.p.required.law"
	}
	msg := strings.ReplaceAll(tr(lang, key), "{field}", tr(lang, "list.f."+p.Field))
	return strings.ReplaceAll(msg, "{max}", fmt.Sprint(p.Max))
}

func (s *Server) renderListForm(w http.ResponseWriter, r *http.Request, v *view, code int, d listFormData) {
	if d.Domains == "" {
		d.Domains = strings.Join(d.List.AllowedDomains, "\n")
	}
	v.Nav, v.Data = "lists", d
	if d.New {
		v.Title = v.T("title.listnew")
	} else {
		v.Title = fmt.Sprintf(v.T("title.listedit"), v.Name(d.List.NameJA, d.List.NameEN))
	}
	s.render(w, r, code, "list_form", v)
}

// openLists drops the lists closed to new subscribers (the public form
// does not offer them).
func openLists(lists []List) []List {
	var out []List
	for _, l := range lists {
		if !l.Closed() {
			out = append(out, l)
		}
	}
	return out
}

// listFieldView is one field of the list form, for its sub-templates.
type listFieldView struct {
	V        *view
	Key      string
	Value    any
	Help     string // catalogue key of the help line, or ""
	Required bool
	UI       bool   // edited in the UI (the config no longer sets it)
	Problem  string // what is wrong with it, or ""
}

// Describe is the ids of the field's help and problem lines.
func (f listFieldView) Describe() string {
	var ids []string
	if f.Problem != "" {
		ids = append(ids, "err-"+f.Key)
	}
	if f.Help != "" {
		ids = append(ids, "help-"+f.Key)
	}
	if slices.Contains([]string{"from_name", "postal_address", "contact"}, f.Key) {
		ids = append(ids, "footer-help")
	}
	return strings.Join(ids, " ")
}

// Field builds one field of the form (template use).
func (d listFormData) Field(v *view, key string, value any, help string, required bool) listFieldView {
	return listFieldView{V: v, Key: key, Value: value, Help: help, Required: required, UI: d.UI(key), Problem: d.Problem(key)}
}
