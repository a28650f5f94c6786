package web

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"kawaraban/subscribers"
)

// listJSON is a list in the API (GET /api/v1/lists, POST and PATCH).
type listJSON struct {
	Slug            string     `json:"slug"`
	NameJA          string     `json:"name_ja"`
	NameEN          string     `json:"name_en"`
	Kind            string     `json:"kind"`
	DescriptionJA   string     `json:"description_ja"`
	DescriptionEN   string     `json:"description_en"`
	FromAddress     string     `json:"from_address"`
	FromName        string     `json:"from_name"`
	PostalAddress   string     `json:"postal_address"`
	Contact         string     `json:"contact"`
	Encoding        string     `json:"encoding"`
	DoubleOptIn     bool       `json:"double_opt_in"`
	AllowedDomains  []string   `json:"allowed_domains"`
	RequireApproval bool       `json:"require_approval"`
	NameFallback    string     `json:"name_fallback"`
	Archive         bool       `json:"archive"`
	CountClicks     bool       `json:"count_clicks"`
	Closed          bool       `json:"closed"`
	ClosedAt        *time.Time `json:"closed_at"`
	// EditedInUI are the fields the config file no longer sets.
	EditedInUI []string `json:"edited_in_ui"`
}

func listJSONOf(l List) listJSON {
	j := listJSON{Slug: l.Slug, NameJA: l.NameJA, NameEN: l.NameEN, Kind: l.Kind,
		DescriptionJA: l.DescriptionJA, DescriptionEN: l.DescriptionEN,
		FromAddress: l.FromAddress, FromName: l.FromName, PostalAddress: l.PostalAddress, Contact: l.Contact,
		Encoding: l.Encoding, DoubleOptIn: l.DoubleOptIn, AllowedDomains: l.AllowedDomains,
		RequireApproval: l.RequireApproval, NameFallback: l.NameFallback, Archive: !l.ArchiveOff,
		CountClicks: l.CountClicks, Closed: l.Closed(), ClosedAt: timePtr(l.ClosedAt), EditedInUI: l.UIFields}
	if j.AllowedDomains == nil {
		j.AllowedDomains = []string{}
	}
	if j.EditedInUI == nil {
		j.EditedInUI = []string{}
	}
	return j
}

// listPatch is the body of POST /api/v1/lists (slug and the required
// fields set) and PATCH /api/v1/lists/{slug} (only the fields to change).
type listPatch struct {
	Slug            *string   `json:"slug"`
	NameJA          *string   `json:"name_ja"`
	NameEN          *string   `json:"name_en"`
	Kind            *string   `json:"kind"`
	DescriptionJA   *string   `json:"description_ja"`
	DescriptionEN   *string   `json:"description_en"`
	FromAddress     *string   `json:"from_address"`
	FromName        *string   `json:"from_name"`
	PostalAddress   *string   `json:"postal_address"`
	Contact         *string   `json:"contact"`
	Encoding        *string   `json:"encoding"`
	DoubleOptIn     *bool     `json:"double_opt_in"`
	AllowedDomains  *[]string `json:"allowed_domains"`
	RequireApproval *bool     `json:"require_approval"`
	NameFallback    *string   `json:"name_fallback"`
	Archive         *bool     `json:"archive"`
	CountClicks     *bool     `json:"count_clicks"`
	// Closed closes the list to new subscribers (true) or opens it (false).
	Closed *bool `json:"closed"`
	// UseConfig hands fields back to the config file (PATCH; applied at
	// the next start).
	UseConfig []string `json:"use_config"`
}

// apply sets the fields p names on l.
func (p listPatch) apply(l *List) {
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	set(&l.NameJA, p.NameJA)
	set(&l.NameEN, p.NameEN)
	set(&l.Kind, p.Kind)
	set(&l.DescriptionJA, p.DescriptionJA)
	set(&l.DescriptionEN, p.DescriptionEN)
	set(&l.FromAddress, p.FromAddress)
	set(&l.FromName, p.FromName)
	set(&l.PostalAddress, p.PostalAddress)
	set(&l.Contact, p.Contact)
	set(&l.Encoding, p.Encoding)
	set(&l.NameFallback, p.NameFallback)
	if p.DoubleOptIn != nil {
		l.DoubleOptIn = *p.DoubleOptIn
	}
	if p.RequireApproval != nil {
		l.RequireApproval = *p.RequireApproval
	}
	if p.Archive != nil {
		l.ArchiveOff = !*p.Archive
	}
	if p.CountClicks != nil {
		l.CountClicks = *p.CountClicks
	}
	if p.AllowedDomains != nil {
		l.AllowedDomains = *p.AllowedDomains
	}
}

// apiListReady answers 403 to non-admins and 503 without the store.
func (s *Server) apiListReady(w http.ResponseWriter, r *http.Request, u User) bool {
	if !authorize(u, ActAdmin, "") {
		s.apiFail(w, r, errForbidden)
		return false
	}
	if s.opt.ListAdmin == nil {
		apiError(w, http.StatusServiceUnavailable, errUnavailable.Error())
		return false
	}
	return true
}

func (s *Server) apiCreateList(w http.ResponseWriter, r *http.Request, u User) {
	if !s.apiListReady(w, r, u) {
		return
	}
	var p listPatch
	if !decodeJSON(w, r, &p, false) {
		return
	}
	l := List{Kind: subscribers.KindPublic, Encoding: subscribers.EncodingUTF8, NameFallback: "読者", DoubleOptIn: true}
	if p.Slug != nil {
		l.Slug = *p.Slug
	}
	if p.Kind != nil && *p.Kind == subscribers.KindInternal && p.DoubleOptIn == nil {
		l.DoubleOptIn = false // staff are added by admins, as in the config
	}
	p.apply(&l)
	created, err := s.opt.ListAdmin.CreateList(r.Context(), l)
	if err != nil {
		s.apiListFail(w, r, err)
		return
	}
	s.audit(r, u.Login, "list.create", created.Slug, "api")
	if p.Closed != nil && *p.Closed {
		if created, _, err = s.opt.ListAdmin.CloseList(r.Context(), created.Slug); err != nil {
			s.apiFail(w, r, err)
			return
		}
		s.audit(r, u.Login, "list.close", created.Slug, "api")
	}
	w.Header().Set("Location", "/api/v1/lists/"+created.Slug)
	writeJSON(w, http.StatusCreated, listJSONOf(created))
}

func (s *Server) apiUpdateList(w http.ResponseWriter, r *http.Request, u User) {
	if !s.apiListReady(w, r, u) {
		return
	}
	l, err := s.opt.ListAdmin.ListBySlug(r.Context(), r.PathValue("slug"))
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	var p listPatch
	if !decodeJSON(w, r, &p, false) {
		return
	}
	if p.Slug != nil && *p.Slug != l.Slug {
		writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"error": "slug: cannot be changed",
			"fields": map[string]string{"slug": "cannot be changed"}})
		return
	}
	p.apply(&l)
	l, changed, err := s.opt.ListAdmin.UpdateList(r.Context(), l.Slug, l)
	if err != nil {
		s.apiListFail(w, r, err)
		return
	}
	if len(changed) > 0 {
		s.audit(r, u.Login, "list.update", l.Slug, "api; fields: "+strings.Join(changed, ","))
	}
	if len(p.UseConfig) > 0 {
		var released []string
		if l, released, err = s.opt.ListAdmin.ReleaseListFields(r.Context(), l.Slug, p.UseConfig); err != nil {
			s.apiListFail(w, r, err)
			return
		}
		if len(released) > 0 {
			s.audit(r, u.Login, "list.release", l.Slug, "api; fields: "+strings.Join(released, ","))
		}
	}
	if p.Closed != nil {
		var moved bool
		if l, moved, err = s.setListClosed(r.Context(), l.Slug, *p.Closed); err != nil {
			s.apiFail(w, r, err)
			return
		}
		if moved {
			s.audit(r, u.Login, map[bool]string{true: "list.close", false: "list.reopen"}[*p.Closed], l.Slug, "api")
		}
	}
	writeJSON(w, http.StatusOK, listJSONOf(l))
}

// apiListFail answers a refused list with 422, the problems joined in
// "error" and one message per field in "fields".
func (s *Server) apiListFail(w http.ResponseWriter, r *http.Request, err error) {
	var le *subscribers.ListError
	if !errors.As(err, &le) {
		s.apiFail(w, r, err)
		return
	}
	fields := map[string]string{}
	for _, p := range le.Problems {
		if _, ok := fields[p.Field]; !ok {
			fields[p.Field] = listProblem("en", p)
		}
	}
	writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"error": le.Error(), "fields": fields})
}
