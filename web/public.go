package web

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

func (s *Server) evidence(r *http.Request, actor string) Evidence {
	return Evidence{IP: s.clientIP(r), UserAgent: truncate(r.UserAgent(), 300), Actor: actor}
}

type subscribeData struct {
	Lists    []List
	Selected []string
	Email    string
	Name     string
	Token    string
}

// Checked reports whether slug is selected on the form.
func (d subscribeData) Checked(slug string) bool { return slices.Contains(d.Selected, slug) }

func (s *Server) publicLists(r *http.Request) ([]List, error) {
	all, err := s.lists(r.Context())
	if err != nil {
		return nil, err
	}
	var out []List
	for _, l := range all {
		if l.Kind != "internal" {
			out = append(out, l)
		}
	}
	return out, nil
}

func (s *Server) handleSubscribeForm(w http.ResponseWriter, r *http.Request) {
	if s.opt.Subscribers == nil {
		s.errorPage(w, r, http.StatusServiceUnavailable, "err.unavailable")
		return
	}
	lists, err := s.publicLists(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v := s.newView(w, r, "title.subscribe")
	d := subscribeData{Lists: openLists(lists), Token: s.formToken("subscribe", "")}
	if l := r.URL.Query().Get("list"); l != "" {
		d.Selected = []string{l}
	}
	v.Data = d
	s.render(w, r, http.StatusOK, "subscribe", v)
}

func (s *Server) handleSubscribe(w http.ResponseWriter, r *http.Request) {
	if s.opt.Subscribers == nil {
		s.errorPage(w, r, http.StatusServiceUnavailable, "err.unavailable")
		return
	}
	if !s.allowSubscribe(s.clientIP(r)) {
		w.Header().Set("Retry-After", "60")
		s.errorPage(w, r, http.StatusTooManyRequests, "err.ratelimit")
		return
	}
	if err := parseBody(r, 0); err != nil {
		s.fail(w, r, err)
		return
	}
	if !s.subscribeFormOK(r) {
		s.errorPage(w, r, http.StatusForbidden, "err.formtoken")
		return
	}
	v := s.newView(w, r, "title.thanks")
	// The honeypot: people never see the field "website"; robots fill it.
	// They get the same thanks page and nothing happens.
	lists, err := s.publicLists(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v.Data = thanksFor(lists, r.PostForm["list"])
	if r.PostFormValue("website") != "" {
		s.render(w, r, http.StatusOK, "thanks", v)
		return
	}
	d := subscribeData{Lists: openLists(lists), Selected: r.PostForm["list"], Email: strings.TrimSpace(r.PostFormValue("email")),
		Name: strings.TrimSpace(r.PostFormValue("name")), Token: s.formToken("subscribe", "")}
	var chosen []string
	for _, l := range lists { // closed ones too: Subscribe says why it refuses them
		if d.Checked(l.Slug) {
			chosen = append(chosen, l.Slug)
		}
	}
	var formErr string
	switch {
	case d.Email == "":
		formErr = v.T("sub.needemail")
	case len(chosen) == 0:
		formErr = v.T("sub.needlist")
	}
	if formErr == "" {
		err = domainErr(s.opt.Subscribers.Subscribe(r.Context(), SubscribeRequest{Email: d.Email, Name: d.Name, Lists: chosen,
			Source: "web", Evidence: s.evidence(r, ""), Lang: v.Lang}))
		var ie *InputError
		switch {
		case errors.As(err, &ie):
			formErr = ie.MessageJA
			if v.EN() || formErr == "" {
				formErr = ie.Message
			}
		case err != nil:
			s.fail(w, r, err)
			return
		}
	}
	if formErr != "" {
		fv := s.newView(w, r, "title.subscribe")
		fv.Error, fv.Data = formErr, d
		s.render(w, r, http.StatusUnprocessableEntity, "subscribe", fv)
		return
	}
	s.render(w, r, http.StatusOK, "thanks", v)
}

// thanksData is the thanks page: the sender addresses of the lists asked
// for, which the citizen may have to allow.
type thanksData struct {
	Senders []string
}

func thanksFor(lists []List, slugs []string) thanksData {
	var d thanksData
	for _, l := range lists {
		if slices.Contains(slugs, l.Slug) && l.FromAddress != "" && !slices.Contains(d.Senders, l.FromAddress) {
			d.Senders = append(d.Senders, l.FromAddress)
		}
	}
	return d
}

type unsubscribeData struct {
	Info  UnsubscribeInfo
	Token string
	Done  bool
}

// handleUnsubscribePage only shows a button: link scanners that follow GET
// links must never unsubscribe anyone (RFC 8058 section 1).
func (s *Server) handleUnsubscribePage(w http.ResponseWriter, r *http.Request) {
	if s.opt.Subscribers == nil {
		s.errorPage(w, r, http.StatusServiceUnavailable, "err.unavailable")
		return
	}
	tok := r.PathValue("token")
	info, err := s.opt.Subscribers.UnsubscribeInfo(r.Context(), tok)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v := s.newView(w, r, "title.unsubscribe")
	v.Data = unsubscribeData{Info: info, Token: tok, Done: !info.Subscribed}
	s.render(w, r, http.StatusOK, "unsubscribe", v)
}

// handleUnsubscribe unsubscribes. The signed token in the path is the
// authority, so neither a cookie nor a CSRF token is needed: a body of
// List-Unsubscribe=One-Click is the RFC 8058 one-click POST from a mail
// client, anything else is the button on our page.
func (s *Server) handleUnsubscribe(w http.ResponseWriter, r *http.Request) {
	if s.opt.Subscribers == nil {
		s.errorPage(w, r, http.StatusServiceUnavailable, "err.unavailable")
		return
	}
	// RFC 8058 section 3.1: the body SHOULD be multipart/form-data and MAY
	// be application/x-www-form-urlencoded; read both.
	if err := parseBody(r, 64<<10); err != nil {
		s.fail(w, r, err)
		return
	}
	tok := r.PathValue("token")
	source := "web"
	if r.PostFormValue("List-Unsubscribe") == "One-Click" {
		source = "one-click"
	}
	if err := s.opt.Subscribers.UnsubscribeByToken(r.Context(), tok, source, s.evidence(r, "")); err != nil {
		if source == "one-click" {
			code, _ := statusOf(err)
			if code >= 500 {
				s.log.Error("one-click unsubscribe failed", "err", err)
			}
			http.Error(w, http.StatusText(code), code)
			return
		}
		s.fail(w, r, err)
		return
	}
	if source == "one-click" {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte("unsubscribed\n"))
		return
	}
	info, err := s.opt.Subscribers.UnsubscribeInfo(r.Context(), tok)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v := s.newView(w, r, "title.unsubscribed")
	v.Data = unsubscribeData{Info: info, Token: tok, Done: true}
	s.render(w, r, http.StatusOK, "unsubscribe", v)
}

type preferencesData struct {
	Prefs Preferences
	Token string
	Form  string
	Saved bool
}

func (s *Server) handlePreferences(w http.ResponseWriter, r *http.Request) {
	if s.opt.Subscribers == nil {
		s.errorPage(w, r, http.StatusServiceUnavailable, "err.unavailable")
		return
	}
	tok := r.PathValue("token")
	p, err := s.opt.Subscribers.Preferences(r.Context(), tok)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v := s.newView(w, r, "title.preferences")
	v.Data = preferencesData{Prefs: p, Token: tok, Form: s.formToken("prefs", tok)}
	s.render(w, r, http.StatusOK, "preferences", v)
}

// handleSavePreferences needs the form token bound to the link's token, so
// a third-party page cannot change someone's lists by posting to it.
func (s *Server) handleSavePreferences(w http.ResponseWriter, r *http.Request) {
	if s.opt.Subscribers == nil {
		s.errorPage(w, r, http.StatusServiceUnavailable, "err.unavailable")
		return
	}
	if err := parseBody(r, 0); err != nil {
		s.fail(w, r, err)
		return
	}
	tok := r.PathValue("token")
	if !s.checkFormToken("prefs", tok, r.PostFormValue("form_token")) {
		s.errorPage(w, r, http.StatusForbidden, "err.formtoken")
		return
	}
	slugs := r.PostForm["list"]
	if r.PostFormValue("leave_all") != "" {
		slugs = nil
	}
	if err := s.opt.Subscribers.SavePreferences(r.Context(), tok, slugs, s.evidence(r, "")); err != nil {
		s.fail(w, r, err)
		return
	}
	p, err := s.opt.Subscribers.Preferences(r.Context(), tok)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v := s.newView(w, r, "title.preferences")
	v.Flash = v.T("prefs.saved")
	if joinPending(slugs, p) {
		// Joining waits for the confirmation mail (issue 15).
		v.Flash = v.T("prefs.pending")
	}
	v.Data = preferencesData{Prefs: p, Token: tok, Form: s.formToken("prefs", tok), Saved: true}
	s.render(w, r, http.StatusOK, "preferences", v)
}

// subscribeFormOK guards POST /subscribe against cross-site requests. A
// browser posting our form sends its signed form token; a browser posting
// from another site sends a foreign Origin (or Referer) and is refused. A
// client that is not a browser (the contract's plain "email, list" POST, a
// city CMS) sends neither and is accepted: what it can do is ask for a
// confirmation mail, which double opt-in and the per-address limit keep
// harmless.
func (s *Server) subscribeFormOK(r *http.Request) bool {
	if tok := r.PostFormValue("form_token"); tok != "" {
		return s.checkFormToken("subscribe", "", tok)
	}
	origin := r.Header.Get("Origin")
	if origin == "" {
		origin = r.Header.Get("Referer")
	}
	if origin == "" {
		return true
	}
	return sameOrigin(origin, s.opt.BaseURL) || sameOrigin(origin, "http://"+r.Host) || sameOrigin(origin, "https://"+r.Host)
}

// sameOrigin reports whether u has the scheme and host of base.
func sameOrigin(u, base string) bool {
	pu, err1 := url.Parse(u)
	pb, err2 := url.Parse(base)
	return err1 == nil && err2 == nil && pu.Scheme == pb.Scheme && strings.EqualFold(pu.Host, pb.Host)
}

// joinPending reports whether some list the form asked to join is not on
// the subscriber's lists yet: it waits for its confirmation mail.
func joinPending(slugs []string, p Preferences) bool {
	for _, pl := range p.Lists {
		if !pl.Subscribed && slices.Contains(slugs, pl.List.Slug) {
			return true
		}
	}
	return false
}
