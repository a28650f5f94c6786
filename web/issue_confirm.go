package web

import (
	"fmt"
	"net/http"
)

// issueConfirmData is the page that asks before 今すぐ配信 and 中止: it names
// the issue and how many recipients it reaches, and posts the action again
// (with its CSRF token) only when the user confirms.
type issueConfirmData struct {
	Issue    Issue
	List     List
	Action   string // send | cancel
	Question string
	Count    string
	Button   string
}

// needsConfirm answers the confirmation page for send and cancel when the
// form does not carry confirm=yes, and reports whether it did.
func (s *Server) needsConfirm(w http.ResponseWriter, r *http.Request, v *view, action string, is Issue, l List) bool {
	if (action != "send" && action != "cancel") || r.PostFormValue("confirm") == "yes" {
		return false
	}
	d := issueConfirmData{Issue: is, List: l, Action: action}
	if action == "send" {
		n, err := s.opt.Issues.Recipients(r.Context(), l.ID)
		if err != nil {
			s.fail(w, r, err)
			return true
		}
		d.Question, d.Button = v.T("issueconfirm.send"), v.T("issue.send")
		d.Count = fmt.Sprintf(v.T("issueconfirm.sendcount"), n)
	} else {
		d.Question, d.Button = v.T("issueconfirm.cancel"), v.T("issue.cancel")
		d.Count = v.T("issueconfirm.cancelnote")
		if is.Status == "sending" || is.Status == "paused" {
			p, total, _ := s.progress(r.Context(), is)
			d.Count = fmt.Sprintf(v.T("issueconfirm.cancelcount"), total-p.Sent-p.Failed-p.Bounced-p.Skipped, total)
		}
	}
	v.Nav, v.Title, v.Data = "issues", is.Subject, d
	s.render(w, r, http.StatusOK, "issue_confirm", v)
	return true
}
