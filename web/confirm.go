package web

import (
	"context"
	"errors"
	"net/http"

	"kawaraban/subscribers"
)

// ConfirmChecker checks a confirmation link without following it, so that
// the page behind a GET can say at once that a link is forged or expired.
// The Subscribers value satisfies it when it can.
type ConfirmChecker interface {
	CheckConfirm(ctx context.Context, tok string) error
}

type confirmData struct {
	Token string
	// Done: the POST confirmed Lists. Superseded: the link was issued
	// before the citizen left Lists, so it did nothing; they may ask again.
	Done, Superseded bool
	Lists            []List
	// PreferencesToken opens the preferences page, a next step (issue 21).
	PreferencesToken string
}

// handleConfirmPage shows a button and changes nothing: opt-in happens only
// by a POST from a page the citizen sees, never because a link was fetched
// (mail scanners prefetch links; DESIGN.md, contract).
func (s *Server) handleConfirmPage(w http.ResponseWriter, r *http.Request) {
	if s.opt.Subscribers == nil {
		s.errorPage(w, r, http.StatusServiceUnavailable, "err.unavailable")
		return
	}
	tok := r.PathValue("token")
	if cc, ok := s.opt.Subscribers.(ConfirmChecker); ok {
		if err := cc.CheckConfirm(r.Context(), tok); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	v := s.newView(w, r, "title.confirm")
	v.Data = confirmData{Token: tok}
	s.render(w, r, http.StatusOK, "confirm", v)
}

// handleConfirm confirms. The signed token in the path is the authority,
// as for unsubscribing: only the mailbox that received it has it. A link
// older than the citizen's latest opt-out of its lists is refused with a
// page that offers to subscribe again.
func (s *Server) handleConfirm(w http.ResponseWriter, r *http.Request) {
	if s.opt.Subscribers == nil {
		s.errorPage(w, r, http.StatusServiceUnavailable, "err.unavailable")
		return
	}
	tok := r.PathValue("token")
	res, err := s.opt.Subscribers.Confirm(r.Context(), tok, s.evidence(r, ""))
	if errors.Is(err, subscribers.ErrSupersededToken) {
		v := s.newView(w, r, "title.superseded")
		v.Data = confirmData{Token: tok, Superseded: true, Lists: res.Lists}
		s.render(w, r, http.StatusConflict, "confirm", v)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v := s.newView(w, r, "title.confirmed")
	v.Data = confirmData{Token: tok, Done: true, Lists: res.Lists, PreferencesToken: res.PreferencesToken}
	s.render(w, r, http.StatusOK, "confirm", v)
}
