package web

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"kawaraban/issues"
	"kawaraban/templates"
)

// Joint issues, duplicating an issue and the compose page's one send-time
// control (issue 17). The rules: an issue may be viewed by whoever may view
// one of its lists, and changed (edited, sent, approved, duplicated) only
// by whoever may do so on every one of them; a joint issue is created only
// with lists the author may edit (403 otherwise).

// jointAdminRoutes are this file's admin routes (adminRoutes copies them).
func (s *Server) jointAdminRoutes() map[string]http.HandlerFunc {
	return map[string]http.HandlerFunc{
		"POST /admin/issues/{id}/duplicate": s.admin(s.handleDuplicateIssue),
	}
}

// jointAPIRoutes are this file's API routes (apiRoutes copies them).
func (s *Server) jointAPIRoutes() map[string]http.HandlerFunc {
	return map[string]http.HandlerFunc{
		"POST /api/v1/issues/{id}/duplicate": s.api(s.apiDuplicateIssue),
	}
}

// issueOn is the issue as one of its lists shows it (the archive): that
// list and the issue's 第N号 there.
func issueOn(is issues.Issue, listID int64) issues.Issue {
	for _, l := range is.Lists {
		if l.ListID == listID {
			is.ListID, is.Number = listID, l.Number
		}
	}
	return is
}

// issuesOn shows a listing of one list's issues as that list's (issueOn
// on each).
func issuesOn(iss []issues.Issue, listID int64) {
	for i := range iss {
		iss[i] = issueOn(iss[i], listID)
	}
}

// issueLists loads the issue's lists, the lead first.
func (s *Server) issueLists(ctx context.Context, is issues.Issue) ([]List, error) {
	var out []List
	for _, id := range is.ListIDs() {
		l, err := s.listByID(ctx, id)
		if err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	return out, nil
}

// mayOnIssue applies the rule above: ActView on one of lists, any other
// action on all of them.
func mayOnIssue(u User, act Action, lists []List) bool {
	some, all := false, len(lists) > 0
	for _, l := range lists {
		ok := authorize(u, act, l.Slug)
		some, all = some || ok, all && ok
	}
	if act == ActView {
		return some
	}
	return all
}

// draftLists resolves a new issue's lists: lead first, then the others in
// the order given, each once. The author must be allowed to edit every one
// (errForbidden) and the issue needs approval when one of them asks for it
// for this author.
func (s *Server) draftLists(ctx context.Context, u User, lead string, others []string) ([]List, bool, error) {
	slugs := []string{lead}
	for _, o := range others {
		if o = strings.TrimSpace(o); o != "" && !slices.Contains(slugs, o) {
			slugs = append(slugs, o)
		}
	}
	var (
		out      []List
		approval bool
	)
	for _, slug := range slugs {
		l, err := s.listBySlug(ctx, slug)
		if err != nil {
			return nil, false, err
		}
		if !authorize(u, ActEdit, l.Slug) {
			return nil, false, errForbidden
		}
		approval = approval || needsApproval(u, l)
		out = append(out, l)
	}
	if len(out) > issues.MaxLists {
		return nil, false, &InputError{Field: "lists", Message: fmt.Sprintf("at most %d lists", issues.MaxLists),
			MessageJA: fmt.Sprintf("配信先は%d件までです", issues.MaxLists)}
	}
	return out, approval, nil
}

// withLists sets a draft's lists (nil ListIDs for one list).
func withLists(d issues.Draft, lists []List) issues.Draft {
	d.ListID = lists[0].ID
	if len(lists) > 1 {
		d.ListIDs = make([]int64, len(lists))
		for i, l := range lists {
			d.ListIDs[i] = l.ID
		}
	}
	return d
}

// slugs names lists for the audit log and the API.
func slugs(lists []List) []string {
	out := make([]string, len(lists))
	for i, l := range lists {
		out[i] = l.Slug
	}
	return out
}

// duplicate copies the issue of the {id} path for u: edit rights on every
// list of it are needed (issueFor), and the copy needs approval as a new
// issue by u would.
func (s *Server) duplicate(r *http.Request, u User) (issues.Issue, []List, error) {
	if s.opt.Drafts == nil {
		return issues.Issue{}, nil, errUnavailable
	}
	is, _, err := s.issueFor(r, u, ActEdit)
	if err != nil {
		return issues.Issue{}, nil, err
	}
	lists, err := s.issueLists(r.Context(), is)
	if err != nil {
		return issues.Issue{}, nil, err
	}
	approval := false
	for _, l := range lists {
		approval = approval || needsApproval(u, l)
	}
	cp, err := s.opt.Drafts.Duplicate(r.Context(), is.ID, actor(u.Login), approval)
	if err != nil {
		return issues.Issue{}, nil, err
	}
	s.audit(r, u.Login, "issue.duplicate", "issue:"+strconv.FormatInt(cp.ID, 10),
		fmt.Sprintf("copy of issue %d; lists %s", is.ID, strings.Join(slugs(lists), ",")))
	return cp, lists, nil
}

func (s *Server) handleDuplicateIssue(w http.ResponseWriter, r *http.Request, sess *session, v *view) {
	cp, _, err := s.duplicate(r, sess.user)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/admin/issues/%d?done=duplicate", cp.ID), http.StatusSeeOther)
}

func (s *Server) apiDuplicateIssue(w http.ResponseWriter, r *http.Request, u User) {
	cp, lists, err := s.duplicate(r, u)
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/issues/"+strconv.FormatInt(cp.ID, 10))
	writeJSON(w, http.StatusCreated, s.issueView(r.Context(), cp, lists[0]))
}

// CanAll reports whether the user may do act on every one of lists (the
// issue page's actions on a joint issue).
func (v *view) CanAll(act string, lists []List) bool {
	if len(lists) == 0 {
		return false
	}
	for _, l := range lists {
		if !v.Can(act, l.Slug) {
			return false
		}
	}
	return true
}

// ListNames names lists in the page's language, joined with ・ (or ", ").
func (v *view) ListNames(lists []List) string {
	names := make([]string, len(lists))
	for i, l := range lists {
		names[i] = v.Name(l.NameJA, l.NameEN)
	}
	if v.EN() {
		return strings.Join(names, ", ")
	}
	return strings.Join(names, "・")
}

// scheduleAfterSave is the compose form's "schedule at this time" button
// (the one send-time control): the draft was saved with its send time,
// now it is scheduled for it.
func (s *Server) scheduleAfterSave(r *http.Request, u User, id int64, d issues.Draft) error {
	if r.PostFormValue("op") != "schedule" {
		return nil
	}
	if d.SendAt == nil {
		return &InputError{Field: "send_at", Message: "choose a send time", MessageJA: "配信日時を選んでください"}
	}
	if s.opt.Sending == nil {
		return errUnavailable
	}
	if err := s.opt.Sending.Schedule(r.Context(), id, *d.SendAt, actor(u.Login)); err != nil {
		return err
	}
	s.audit(r, u.Login, "issue.schedule", fmt.Sprintf("issue:%d", id), "at "+d.SendAt.Format("2006-01-02T15:04:05Z07:00"))
	return nil
}

var duplicateRe = regexp.MustCompile(`^duplicate of issue (\d+)$`)

// duplicateComment words the create event of a copy ("duplicate of issue
// 7" → 「#7 を複製」).
func (v *view) duplicateComment(c string) (string, bool) {
	m := duplicateRe.FindStringSubmatch(c)
	if m == nil {
		return "", false
	}
	return fmt.Sprintf(v.T("joint.dupof"), m[1]), true
}

// previewDraft renders the compose form's draft for the live preview: of
// a joint issue (several lists) with the footer that names them all.
func (s *Server) previewDraft(ctx context.Context, lists []List, subject, body string) (Parts, error) {
	ids := make([]int64, len(lists))
	for i, l := range lists {
		ids[i] = l.ID
	}
	return partsOf(s.opt.Renderer.PreviewJoint(ctx, ids, ids[0], subject, body, templates.Recipient{}))
}
