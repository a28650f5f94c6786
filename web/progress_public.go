package web

import (
	"net/http"
	"strings"
)

// The bureaus' side of the plan's progress: the signed "report submitted"
// link that reminders carry, and each bureau's calendar feed.

type submittedData struct {
	Sub   Submission
	Token string
	Form  string
	Done  bool
}

// handleSubmittedPage shows what the link is about and a button; a GET
// records nothing (link scanners follow GETs).
func (s *Server) handleSubmittedPage(w http.ResponseWriter, r *http.Request) {
	if s.opt.Plan == nil {
		s.errorPage(w, r, http.StatusServiceUnavailable, "err.unavailable")
		return
	}
	tok := r.PathValue("token")
	sub, err := s.opt.Plan.SubmissionByToken(r.Context(), tok)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v := s.newView(w, r, "title.submitted")
	v.Data = submittedData{Sub: sub, Token: tok, Form: s.formToken("submitted", tok)}
	s.render(w, r, http.StatusOK, "submitted", v)
}

func (s *Server) handleSubmitted(w http.ResponseWriter, r *http.Request) {
	if s.opt.Plan == nil {
		s.errorPage(w, r, http.StatusServiceUnavailable, "err.unavailable")
		return
	}
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, err)
		return
	}
	tok := r.PathValue("token")
	if !s.checkFormToken("submitted", tok, r.PostFormValue("form_token")) {
		s.errorPage(w, r, http.StatusForbidden, "err.formtoken")
		return
	}
	sub, err := s.opt.Plan.SubmissionByToken(r.Context(), tok)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ev := s.clientIP(r) + " " + truncate(r.UserAgent(), 200)
	if err := s.opt.Plan.SubmitByToken(r.Context(), tok, ev); err != nil {
		s.fail(w, r, err)
		return
	}
	v := s.newView(w, r, "title.submitted")
	v.Data = submittedData{Sub: sub, Token: tok, Done: true}
	s.render(w, r, http.StatusOK, "submitted", v)
}

// handleICS serves a bureau's iCalendar feed (RFC 5545); the path is the
// token with or without ".ics".
func (s *Server) handleICS(w http.ResponseWriter, r *http.Request) {
	if s.opt.Plan == nil {
		s.errorPage(w, r, http.StatusServiceUnavailable, "err.unavailable")
		return
	}
	tok := strings.TrimSuffix(r.PathValue("file"), ".ics")
	b, err := s.opt.Plan.ICS(r.Context(), tok)
	if err != nil {
		code, _ := statusOf(err)
		if code >= 500 {
			s.log.Error("calendar feed", "err", err)
		}
		http.Error(w, http.StatusText(code), code)
		return
	}
	w.Header().Set("Content-Type", "text/calendar; charset=utf-8")
	w.Write(b)
}
