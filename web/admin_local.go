package web

import (
	"context"
	"net/http"
	"net/mail"
	"strings"

	"kawaraban/bounces"
	"kawaraban/localmail"
)

// LocalInbox puts mail into local mode's bounce mailbox, where the bounce
// reader picks it up as it would a real one: an empty mail to a join
// address, a mail to an unsubscribe address, a bounce. cmd passes it only
// in local mode (localmail.Inbox); nil hides the page.
type LocalInbox interface {
	// Deliver appends m; a mail that cannot be built is
	// localmail.ErrBadInbound.
	Deliver(ctx context.Context, m localmail.Inbound) error
	// InboundDomain is the domain of the join and unsubscribe addresses.
	InboundDomain() string
}

// localMailData is the local mail page.
type localMailData struct {
	Mail   localmail.Inbound
	Domain string
	Lists  []List // public lists, for their join addresses
	Sent   bool
}

func (s *Server) localMailAllowed(w http.ResponseWriter, r *http.Request, sess *session) bool {
	if s.opt.LocalInbox == nil || !s.opt.LocalMode {
		s.errorPage(w, r, http.StatusNotFound, "err.notfound")
		return false
	}
	if !authorize(sess.user, ActAdmin, "") {
		s.fail(w, r, errForbidden)
		return false
	}
	return true
}

func (s *Server) handleLocalMail(w http.ResponseWriter, r *http.Request, sess *session, v *view) {
	if !s.localMailAllowed(w, r, sess) {
		return
	}
	s.renderLocalMail(w, r, v, http.StatusOK, localmail.Inbound{From: "citizen@example.jp"}, r.URL.Query().Get("done") != "")
}

func (s *Server) renderLocalMail(w http.ResponseWriter, r *http.Request, v *view, code int, m localmail.Inbound, sent bool) {
	d := localMailData{Mail: m, Domain: s.opt.LocalInbox.InboundDomain(), Sent: sent}
	if s.opt.Subscribers != nil {
		ls, err := s.opt.Subscribers.Lists(r.Context())
		if err != nil {
			s.fail(w, r, err)
			return
		}
		for _, l := range ls {
			if l.Kind == "public" {
				d.Lists = append(d.Lists, l)
			}
		}
	}
	if d.Mail.To == "" && len(d.Lists) > 0 {
		d.Mail.To = bounces.JoinAddress(d.Domain, d.Lists[0].Slug)
	}
	if sent {
		v.Flash = v.T("local.sent")
	}
	v.Nav, v.Title, v.Data = "localmail", v.T("nav.localmail"), d
	s.render(w, r, code, "localmail", v)
}

func (s *Server) handleLocalMailSend(w http.ResponseWriter, r *http.Request, sess *session, v *view) {
	if !s.localMailAllowed(w, r, sess) {
		return
	}
	m := localmail.Inbound{From: strings.TrimSpace(r.PostFormValue("from")), To: strings.TrimSpace(r.PostFormValue("to")),
		Subject: r.PostFormValue("subject"), Body: []byte(r.PostFormValue("body"))}
	err := error(nil)
	if m.From == "" || m.To == "" {
		err = &InputError{Field: "to", Message: "give both the sender and the recipient address", MessageJA: "差出人と宛先のメールアドレスを入力してください。"}
	} else {
		err = s.opt.LocalInbox.Deliver(r.Context(), m)
	}
	if err != nil {
		code, key := statusOf(err)
		if code >= 500 {
			s.fail(w, r, err)
			return
		}
		v.Error = userMessage(v, key, err)
		s.renderLocalMail(w, r, v, code, m, false) // keep what was typed
		return
	}
	s.audit(r, sess.user.Login, "local.mail", "to:"+m.To, "from-domain "+senderDomain(m.From))
	http.Redirect(w, r, "/admin/local/mail?done=1", http.StatusSeeOther)
}

// senderDomain is the domain of the simulated sender, who stands for a
// citizen: like every audit row, local.mail's names no person's address.
// from was delivered, so it parses (localmail.Inbound.Message).
func senderDomain(from string) string {
	if a, err := mail.ParseAddress(from); err == nil {
		from = a.Address
	}
	return strings.ToLower(from[strings.LastIndexByte(from, '@')+1:])
}
