package web

import (
	"net/http"
	"strings"
)

// The bureaus' calendar feed. The form behind the signed "submitted" link
// that reminders carry is in progress_reports.go.

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
