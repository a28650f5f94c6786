package web

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"kawaraban/issues"
	"kawaraban/templates"
)

type issuesData struct {
	Lists  []List
	List   List
	Issues []issues.Issue
	Page   int
	More   bool
	// All is the all-lists view (?list=*): every list the user may view,
	// newest issue first, with each issue's lists named; List is empty.
	All bool
	// Names are the lists' names by id, for the all-lists view's column.
	Names map[int64]List
	// Compose: the user may write an issue on one of the lists.
	Compose bool
}

// ListsOf are the lists of is the page may name (the all-lists view's
// column), the lead first.
func (d issuesData) ListsOf(is issues.Issue) []List {
	var out []List
	for _, ln := range is.Lists {
		if l, ok := d.Names[ln.ListID]; ok {
			out = append(out, l)
		}
	}
	if len(out) == 0 {
		if l, ok := d.Names[is.ListID]; ok {
			out = append(out, l)
		}
	}
	return out
}

// ListSlug is the ?list= of the page's links.
func (d issuesData) ListSlug() string {
	if d.All {
		return allLists
	}
	return d.List.Slug
}

// chosenList reads ?list= (or the first list the user may view).
func (s *Server) chosenList(r *http.Request, u User, slug string) (List, []List, error) {
	all, err := s.lists(r.Context())
	if err != nil {
		return List{}, nil, err
	}
	mine := visible(u, all)
	if slug == "" {
		if len(mine) == 0 {
			return List{}, mine, ErrNotFound
		}
		return mine[0], mine, nil
	}
	l, err := s.listBySlug(r.Context(), slug)
	if err != nil {
		return List{}, mine, err
	}
	if !authorize(u, ActView, l.Slug) {
		return List{}, mine, errForbidden
	}
	return l, mine, nil
}

// editableList reads the form's list (or the first the user may view)
// and refuses with 403 a list the user may not edit (import into, add to).
func (s *Server) editableList(r *http.Request, u User) (List, []List, error) {
	l, mine, err := s.chosenList(r, u, r.PostFormValue("list"))
	if err == nil && !authorize(u, ActEdit, l.Slug) {
		err = errForbidden
	}
	return l, mine, err
}

func (s *Server) handleIssues(w http.ResponseWriter, r *http.Request, sess *session, v *view) {
	if s.opt.Issues == nil {
		s.errorPage(w, r, http.StatusServiceUnavailable, "err.unavailable")
		return
	}
	all := r.URL.Query().Get("list") == allLists
	slug := r.URL.Query().Get("list")
	if all {
		slug = ""
	}
	l, mine, err := s.chosenList(r, sess.user, slug)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	pg, _ := strconv.Atoi(r.URL.Query().Get("page"))
	pg = max(pg, 1)
	var iss []issues.Issue
	d := issuesData{Lists: mine, List: l, Page: pg, All: all}
	for _, m := range mine {
		d.Compose = d.Compose || authorize(sess.user, ActEdit, m.Slug)
	}
	if all {
		d.List, d.Names = List{}, make(map[int64]List, len(mine))
		ids := make([]int64, 0, len(mine))
		for _, m := range mine {
			ids, d.Names[m.ID] = append(ids, m.ID), m
		}
		iss, err = s.opt.Issues.ListByLists(r.Context(), ids, issues.Page{Limit: 31, Offset: (pg - 1) * 30})
	} else {
		iss, err = s.opt.Issues.ListByList(r.Context(), l.ID, issues.Page{Limit: 31, Offset: (pg - 1) * 30})
		issuesOn(iss, l.ID)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d.More = len(iss) > 30
	if d.More {
		iss = iss[:30]
	}
	d.Issues = iss
	v.Nav, v.Title, v.Data = "issues", v.T("nav.issues"), d
	s.render(w, r, http.StatusOK, "issues", v)
}

type issueData struct {
	Preview  Parts     // server-rendered preview, so it shows without JavaScript
	NonJIS   []jisChar // characters ISO-2022-JP cannot carry (jis.go)
	Events   []IssueEvent
	List     List
	Issue    issues.Issue
	Editable bool
	SendAt   string
	Progress Progress
	Percent  int
	Total    int
	Stats    *IssueStats // delivered, bounced, opt-outs, clicks (stats.go)

	// Lists are every list of the issue, the lead (List) first; Choice
	// the lists a new issue may also go to (the compose page's joint
	// issue choice), Also the ones chosen (issue 17).
	Lists  []List
	Choice []List
	Also   map[string]bool
}

func (s *Server) handleNewIssue(w http.ResponseWriter, r *http.Request, sess *session, v *view) {
	l, _, err := s.chosenList(r, sess.user, r.URL.Query().Get("list"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if !authorize(sess.user, ActEdit, l.Slug) {
		s.fail(w, r, errForbidden)
		return
	}
	v.Nav, v.Title = "issues", v.T("issue.new")
	v.Data = issueData{List: l, Lists: []List{l}, Editable: true, Issue: issues.Issue{Status: "draft"}, Choice: s.choice(r, sess.user)}
	s.render(w, r, http.StatusOK, "issue", v)
}

// choice are the lists the user may write to: a new issue's further lists.
func (s *Server) choice(r *http.Request, u User) []List {
	all, err := s.lists(r.Context())
	if err != nil {
		return nil
	}
	return editable(u, all)
}

// draftFromForm reads the compose form. datetime-local has no zone: it is
// taken in Options.Location.
func (s *Server) draftFromForm(r *http.Request, u User, listID int64) (issues.Draft, error) {
	d := issues.Draft{ListID: listID, Subject: strings.TrimSpace(r.PostFormValue("subject")),
		BodyMarkdown: r.PostFormValue("body"), Author: u.Login, Source: "web"}
	if d.Subject == "" {
		return d, &InputError{Field: "subject", Message: "subject is required", MessageJA: "件名を入力してください"}
	}
	if at := r.PostFormValue("send_at"); at != "" {
		t, err := time.ParseInLocation("2006-01-02T15:04", at, s.opt.Location)
		if err != nil {
			return d, &InputError{Field: "send_at", Message: "send time is not a date and time", MessageJA: "配信日時の形式が正しくありません"}
		}
		d.SendAt = &t
	}
	return d, nil
}

func (s *Server) handleCreateIssue(w http.ResponseWriter, r *http.Request, sess *session, v *view) {
	if s.opt.Issues == nil || s.opt.Drafts == nil {
		s.errorPage(w, r, http.StatusServiceUnavailable, "err.unavailable")
		return
	}
	// The lead list, and the further lists of a joint issue (issue 17):
	// every one must be the author's to edit.
	lists, approval, err := s.draftLists(r.Context(), sess.user, r.PostFormValue("list"), r.PostForm["lists"])
	if err != nil {
		s.fail(w, r, err)
		return
	}
	l := lists[0]
	d, err := s.draftFromForm(r, sess.user, l.ID)
	d = withLists(d, lists)
	d.RequireApproval = approval
	if err == nil {
		var is issues.Issue
		is, err = s.opt.Drafts.Create(r.Context(), d)
		if err == nil {
			s.audit(r, sess.user.Login, "issue.create", fmt.Sprintf("issue:%d", is.ID), "list "+strings.Join(slugs(lists), ","))
			if err := s.scheduleAfterSave(r, sess.user, is.ID, d); err != nil {
				s.issueError(w, r, v, sess.user, is.ID, l, err)
				return
			}
			w.Header().Set("Location", fmt.Sprintf("/admin/issues/%d", is.ID))
			http.Redirect(w, r, fmt.Sprintf("/admin/issues/%d", is.ID), http.StatusSeeOther)
			return
		}
	}
	s.composeError(w, r, v, lists, issues.Issue{Status: "draft", Subject: d.Subject, BodyMarkdown: d.BodyMarkdown}, err)
}

func (s *Server) composeError(w http.ResponseWriter, r *http.Request, v *view, lists []List, is issues.Issue, err error) {
	code, key := statusOf(err)
	if code >= 500 {
		s.fail(w, r, err)
		return
	}
	l := lists[0]
	v.Error = userMessage(v, key, err)
	v.Nav, v.Title = "issues", v.T("issue.new")
	d := issueData{List: l, Lists: lists, Issue: is, Editable: true, SendAt: r.PostFormValue("send_at"),
		NonJIS: nonJIS(l, is.Subject, is.BodyMarkdown)}
	if is.ID == 0 { // the new-issue form keeps its choice of lists
		d.Choice, d.Also = s.choice(r, *v.User), map[string]bool{}
		for _, o := range lists[1:] {
			d.Also[o.Slug] = true
		}
	}
	v.Data = d
	s.render(w, r, code, "issue", v)
}

func (s *Server) handleIssue(w http.ResponseWriter, r *http.Request, sess *session, v *view) {
	is, l, err := s.issueFor(r, sess.user, ActView)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	lists, err := s.issueLists(r.Context(), is)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := issueData{List: l, Lists: lists, Issue: is, Editable: is.Editable() && mayOnIssue(sess.user, ActEdit, lists)}
	d.SendAt = s.sendAtField(is)
	d.Progress, d.Total, d.Percent = s.progress(r.Context(), is)
	if is.Status != "draft" && is.Status != "scheduled" {
		d.Stats = s.issueStats(r.Context(), is) // once it went to the outbox
	}
	if d.Events, err = s.opt.Issues.Events(r.Context(), is.ID); err != nil {
		s.fail(w, r, err)
		return
	}
	if s.opt.Renderer != nil {
		// A template error shows in the live preview; the page still opens.
		// A joint issue as the lead's readers get it: the footer names
		// every list.
		d.Preview, _ = partsOf(s.opt.Renderer.PreviewJoint(r.Context(), is.ListIDs(), is.ListID, is.Subject,
			is.BodyMarkdown, templates.Recipient{}))
	}
	d.NonJIS = nonJIS(l, is.Subject, is.BodyMarkdown)
	v.Nav, v.Title, v.Data = "issues", is.Subject, d
	if f := r.URL.Query().Get("done"); f != "" {
		v.Flash = v.T("done." + f)
	}
	s.render(w, r, http.StatusOK, "issue", v)
}

// progress is an issue's delivery progress for display: the mailer's, or
// none (logged) when the mailer cannot say.
func (s *Server) progress(ctx context.Context, is issues.Issue) (Progress, int, int) {
	p, err := s.deliveryProgress(ctx, is)
	if err != nil {
		s.log.Warn("delivery progress unavailable", "issue_id", is.ID, "err", err)
	}
	total := p.Queued + p.Sending + p.Sent + p.Failed + p.Bounced + p.Skipped
	if total == 0 {
		if is.Status == "sent" { // nobody to send to: done
			return p, 0, 100
		}
		return p, 0, 0
	}
	done := total - p.Queued - p.Sending
	return p, total, done * 100 / total
}

func (s *Server) handleUpdateIssue(w http.ResponseWriter, r *http.Request, sess *session, v *view) {
	is, l, err := s.issueFor(r, sess.user, ActEdit)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	lists, err := s.issueLists(r.Context(), is)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d, err := s.draftFromForm(r, sess.user, l.ID)
	if err == nil && s.opt.Drafts == nil {
		err = errUnavailable
	}
	if err == nil {
		_, err = s.opt.Drafts.Update(r.Context(), is.ID, d, actor(sess.user.Login))
	}
	if err != nil {
		is.Subject, is.BodyMarkdown = d.Subject, d.BodyMarkdown
		s.composeError(w, r, v, lists, is, err)
		return
	}
	s.audit(r, sess.user.Login, "issue.update", fmt.Sprintf("issue:%d", is.ID), "list "+l.Slug)
	if err := s.scheduleAfterSave(r, sess.user, is.ID, d); err != nil {
		s.issueError(w, r, v, sess.user, is.ID, l, err)
		return
	}
	done := "saved"
	if r.PostFormValue("op") == "schedule" {
		done = "schedule"
	}
	http.Redirect(w, r, fmt.Sprintf("/admin/issues/%d?done=%s", is.ID, done), http.StatusSeeOther)
}

// handleIssueAction runs send, schedule, pause, resume, cancel, retry,
// approve, reject and test on an issue.
func (s *Server) handleIssueAction(w http.ResponseWriter, r *http.Request, sess *session, v *view) {
	action := r.PathValue("action")
	need := ActEdit
	if action == "approve" || action == "reject" {
		need = ActApprove
	}
	is, l, err := s.issueFor(r, sess.user, need)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if !s.canDo(action) {
		s.fail(w, r, errUnavailable)
		return
	}
	if s.needsConfirm(w, r, v, action, is, l) {
		return
	}
	ctx, by := r.Context(), sess.user.Login
	detail := "list " + l.Slug
	switch action {
	case "send":
		err = s.opt.Sending.SendNow(ctx, is.ID, actor(by))
	case "schedule":
		var d issues.Draft
		if d, err = s.draftFromForm(r, sess.user, l.ID); err == nil {
			if d.SendAt == nil {
				err = &InputError{Field: "send_at", Message: "choose a send time", MessageJA: "配信日時を選んでください"}
			} else {
				err = s.opt.Sending.Schedule(ctx, is.ID, *d.SendAt, actor(by))
				detail += "; at " + d.SendAt.Format(time.RFC3339)
			}
		}
	case "pause":
		err = s.opt.Sending.Pause(ctx, is.ID, actor(by))
	case "resume":
		err = s.opt.Sending.Resume(ctx, is.ID, actor(by))
	case "cancel":
		err = s.opt.Sending.Cancel(ctx, is.ID, actor(by))
	case "retry":
		var n int
		n, err = s.opt.Sending.RetryFailed(ctx, is.ID, actor(by))
		detail += fmt.Sprintf("; %d deliveries queued again", n)
	case "approve":
		_, err = s.opt.Approvals.Approve(ctx, is.ID, actor(by), "")
	case "reject":
		comment := strings.TrimSpace(r.PostFormValue("comment"))
		_, err = s.opt.Approvals.Reject(ctx, is.ID, actor(by), comment)
		detail += "; " + comment
	case "test":
		var to string
		switch {
		case sess.user.Email == "":
			err = &InputError{Field: "email", Message: "your account has no e-mail address", MessageJA: "アカウントにメールアドレスがありません"}
		default:
			// The same rule and per-user limit as the API's test send.
			if to, _, err = s.testRecipient(sess.user, ""); err == nil {
				err = s.opt.Checks.TestSend(ctx, is.ID, to)
			}
		}
	default:
		s.errorPage(w, r, http.StatusNotFound, "err.notfound")
		return
	}
	if err != nil {
		s.issueError(w, r, v, sess.user, is.ID, l, err)
		return
	}
	s.audit(r, by, "issue."+action, fmt.Sprintf("issue:%d", is.ID), detail)
	http.Redirect(w, r, fmt.Sprintf("/admin/issues/%d?done=%s", is.ID, action), http.StatusSeeOther)
}

// canDo reports whether the group an issue action needs is configured
// (Options: nil means "not available"); an unknown action is the
// handler's 404.
func (s *Server) canDo(action string) bool {
	switch action {
	case "send", "schedule", "pause", "resume", "cancel", "retry":
		return s.opt.Sending != nil
	case "approve", "reject":
		return s.opt.Approvals != nil
	case "test":
		return s.opt.Checks != nil
	}
	return true
}

// sendAtField is the compose form's send time of is ("" for none).
func (s *Server) sendAtField(is issues.Issue) string {
	if is.SendAt == nil || is.SendAt.IsZero() {
		return ""
	}
	return is.SendAt.In(s.opt.Location).Format("2006-01-02T15:04")
}

// issueError shows the issue page with err (an action or a scheduling
// the issue's state or its input refused).
func (s *Server) issueError(w http.ResponseWriter, r *http.Request, v *view, u User, id int64, l List, err error) {
	code, key := statusOf(err)
	if code >= 500 {
		s.fail(w, r, err)
		return
	}
	ctx := r.Context()
	is, _ := s.opt.Issues.ByID(ctx, id)
	lists, lerr := s.issueLists(ctx, is)
	if lerr != nil {
		lists = []List{l}
	}
	v.Error = userMessage(v, key, err)
	d := issueData{List: l, Lists: lists, Issue: is, Editable: is.Editable() && mayOnIssue(u, ActEdit, lists)}
	d.SendAt = s.sendAtField(is)
	if at := r.PostFormValue("send_at"); at != "" {
		d.SendAt = at // what the user chose, to correct
	}
	d.Progress, d.Total, d.Percent = s.progress(ctx, is)
	v.Nav, v.Title, v.Data = "issues", is.Subject, d
	s.render(w, r, code, "issue", v)
}

func (s *Server) handleProgressJSON(w http.ResponseWriter, r *http.Request, sess *session, v *view) {
	is, _, err := s.issueFor(r, sess.user, ActView)
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	p, total, pct := s.progress(r.Context(), is)
	writeJSON(w, http.StatusOK, map[string]any{
		"status": is.Status, "status_label": v.T("status." + is.Status), "total": total, "percent": pct,
		"queued": p.Queued + p.Sending, "sent": p.Sent, "failed": p.Failed, "bounced": p.Bounced, "skipped": p.Skipped,
		"per_second": p.PerSecond, "eta_seconds": int(p.ETA.Seconds()),
		"last_error": v.LastError(p),
	})
}

// LastError tells an editor why mail of a sending issue waits: the last
// failure and when, or "" when there was none lately.
func (v *view) LastError(p Progress) string {
	if p.LastError == "" || p.Queued+p.Sending == 0 {
		return ""
	}
	return v.T("issue.lasterror") + " (" + v.Date(p.LastErrorAt) + "): " + p.LastError
}

// handlePreview renders the compose form's Markdown as HTML and text
// (live preview; JSON for the script, a page without it).
func (s *Server) handlePreview(w http.ResponseWriter, r *http.Request, sess *session, v *view) {
	// The lead and a joint issue's further lists (issue 17): the preview
	// of a joint issue has the footer that names them all.
	lists, _, err := s.draftLists(r.Context(), sess.user, r.PostFormValue("list"), r.PostForm["lists"])
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	l := lists[0]
	if s.opt.Renderer == nil {
		apiError(w, http.StatusServiceUnavailable, errUnavailable.Error())
		return
	}
	p, err := s.previewDraft(r.Context(), lists, r.PostFormValue("subject"), r.PostFormValue("body"))
	if err != nil {
		code, key := statusOf(err)
		if code >= 500 {
			code = http.StatusUnprocessableEntity // a template error is the author's to fix
		}
		apiError(w, code, userMessage(v, key, err)) // shown to the editor, in the page's language
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"subject": p.Subject, "html": p.HTML, "text": p.Text,
		"non_jis": jisJSON(nonJIS(l, r.PostFormValue("subject"), r.PostFormValue("body")))})
}
