package web

import (
	"context"
	"fmt"
	"net/http"

	"kawaraban/issues"
)

// issueConfirmData is the page that asks before 今すぐ配信 and 中止: it names
// the issue and how many recipients it reaches, and posts the action again
// (with its CSRF token) only when the user confirms.
type issueConfirmData struct {
	Issue    issues.Issue
	List     List
	Action   string // send | cancel
	Question string
	Count    string
	Button   string
}

// needsConfirm answers the confirmation page for send and cancel when the
// form does not carry confirm=yes, and reports whether it did.
func (s *Server) needsConfirm(w http.ResponseWriter, r *http.Request, v *view, action string, is issues.Issue, l List) bool {
	if (action != "send" && action != "cancel") || r.PostFormValue("confirm") == "yes" {
		return false
	}
	d := issueConfirmData{Issue: is, List: l, Action: action}
	if action == "send" {
		if s.opt.Checks == nil {
			s.fail(w, r, errUnavailable)
			return true
		}
		n, err := s.opt.Checks.IssueRecipients(r.Context(), is)
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
			// The count the decision rests on: an error fails the page
			// rather than showing a stale one.
			p, err := s.deliveryProgress(r.Context(), is)
			if err != nil {
				s.fail(w, r, err)
				return true
			}
			total := p.Queued + p.Sending + p.Sent + p.Failed + p.Bounced + p.Skipped
			d.Count = fmt.Sprintf(v.T("issueconfirm.cancelcount"), p.Queued+p.Sending, total)
		}
	}
	v.Nav, v.Title, v.Data = "issues", is.Subject, d
	s.render(w, r, http.StatusOK, "issue_confirm", v)
	return true
}

// deliveryProgress is the mailer's progress of an issue; none for a
// draft, without a mailer, or with the mailer's error.
func (s *Server) deliveryProgress(ctx context.Context, is issues.Issue) (Progress, error) {
	if s.opt.Deliveries == nil || is.Status == "draft" {
		return Progress{}, nil
	}
	p, err := s.opt.Deliveries.Progress(ctx, is.ID)
	if err != nil {
		return Progress{}, err
	}
	return p, nil
}
