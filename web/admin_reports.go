package web

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"kawaraban/issues"
	"kawaraban/progress"
)

// The coordinator's side of the bureaus' reports (issue 23): review and
// publish, enter or correct a report by hand, compose the internal
// newsletter's draft from the published reports, export for the council.
// Every change is audited.

// adminReportRoutes are the admin UI's report patterns (behind a session).
func (s *Server) adminReportRoutes() map[string]http.HandlerFunc {
	return map[string]http.HandlerFunc{
		"GET /admin/progress/reports":                      s.admin(s.handleAdminReports),
		"GET /admin/progress/reports/{deadline}/{bureau}":  s.admin(s.handleAdminReport),
		"POST /admin/progress/reports/{deadline}/{bureau}": s.admin(s.handleAdminSaveReport),
		"POST /admin/progress/publish":                     s.admin(s.handlePublishReports),
		"POST /admin/progress/draft-issue":                 s.admin(s.handleDraftIssue),
	}
}

// adminReportsData is the review page.
type adminReportsData struct {
	Deadlines []progress.DeadlineReports
	// Lists the user may write a draft for (the internal newsletter first).
	Lists []List
}

// reportBureau is a bureau of a deadline on the review page.
type reportBureau struct{ ID, Name string }

// Bureaus returns the deadline's bureaus in the order of their first
// project.
func (d adminReportsData) Bureaus(dl progress.DeadlineReports) []reportBureau {
	var out []reportBureau
	for _, p := range dl.Projects {
		if !slices.ContainsFunc(out, func(b reportBureau) bool { return b.ID == p.Bureau }) {
			out = append(out, reportBureau{p.Bureau, p.BureauName})
		}
	}
	return out
}

func (s *Server) reportsReady(w http.ResponseWriter, r *http.Request, u User, act Action) bool {
	if !authorize(u, act, "") {
		s.fail(w, r, errForbidden)
		return false
	}
	if s.opt.Reports == nil {
		s.errorPage(w, r, http.StatusServiceUnavailable, "err.unavailable")
		return false
	}
	return true
}

func (s *Server) handleAdminReports(w http.ResponseWriter, r *http.Request, sess *session, v *view) {
	if !s.reportsReady(w, r, sess.user, ActProgressView) {
		return
	}
	ds, err := s.opt.Reports.Reports(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := adminReportsData{Deadlines: ds}
	if lists, err := s.lists(r.Context()); err == nil {
		for _, l := range lists {
			if authorize(sess.user, ActEdit, l.Slug) {
				if l.Slug == InternalNewsletter {
					d.Lists = append([]List{l}, d.Lists...)
				} else {
					d.Lists = append(d.Lists, l)
				}
			}
		}
	}
	v.Nav, v.Title, v.Data = "progress", v.T("title.reports"), d
	if f := r.URL.Query().Get("done"); f == "saved" || f == "published" {
		n, _ := strconv.Atoi(r.URL.Query().Get("n"))
		v.Flash = fmt.Sprintf(v.T("rep.done."+f), strconv.Itoa(n))
	}
	s.render(w, r, http.StatusOK, "admin_reports", v)
}

// handleAdminReport shows one bureau's report as a form the coordinator
// may correct.
func (s *Server) handleAdminReport(w http.ResponseWriter, r *http.Request, sess *session, v *view) {
	if !s.reportsReady(w, r, sess.user, ActProgressView) {
		return
	}
	rep, err := s.opt.Reports.Report(r.Context(), r.PathValue("deadline"), r.PathValue("bureau"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := newReportForm(rep)
	d.Action = "/admin/progress/reports/" + url.PathEscape(rep.DeadlineID) + "/" + url.PathEscape(rep.Bureau)
	if d.History, err = s.opt.Reports.History(r.Context(), rep.DeadlineID, rep.Bureau); err != nil {
		s.fail(w, r, err)
		return
	}
	v.Nav, v.Title, v.Data = "progress", rep.BureauName+" — "+rep.Title, d
	s.render(w, r, http.StatusOK, "report_form", v)
}

func (s *Server) handleAdminSaveReport(w http.ResponseWriter, r *http.Request, sess *session, v *view) {
	if !s.reportsReady(w, r, sess.user, ActProgressEdit) {
		return
	}
	dl, bureau := r.PathValue("deadline"), r.PathValue("bureau")
	rep, err := s.opt.Reports.Report(r.Context(), dl, bureau)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	in, lines := reportInputs(r, rep)
	ev := progress.Evidence{Actor: sess.user.Login, IP: s.clientIP(r), UserAgent: truncate(r.UserAgent(), 200)}
	n, err := s.opt.Reports.SaveReport(r.Context(), dl, bureau, in, ev)
	if err == nil {
		s.audit(r, sess.user.Login, "progress.report", "deadline:"+dl, fmt.Sprintf("bureau %s; %d revisions", bureau, n))
		http.Redirect(w, r, "/admin/progress/reports?done=saved&n="+strconv.Itoa(n), http.StatusSeeOther)
		return
	}
	code, key := statusOf(err)
	if code >= 500 {
		s.fail(w, r, err)
		return
	}
	d := newReportForm(rep)
	d.Action, d.Lines, d.Problems = "/admin/progress/reports/"+url.PathEscape(dl)+"/"+url.PathEscape(bureau), lines, reportProblems(v, err)
	v.Nav, v.Title, v.Error, v.Data = "progress", rep.BureauName+" — "+rep.Title, userMessage(v, key, err), d
	s.render(w, r, code, "report_form", v)
}

// handlePublishReports is the coordinator's button: the newest revisions
// of a deadline (or of one bureau in it) become public.
func (s *Server) handlePublishReports(w http.ResponseWriter, r *http.Request, sess *session, v *view) {
	if !s.reportsReady(w, r, sess.user, ActProgressEdit) {
		return
	}
	dl, bureau := r.PostFormValue("deadline"), r.PostFormValue("bureau")
	n, err := s.opt.Reports.Publish(r.Context(), dl, bureau, sess.user.Login)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.audit(r, sess.user.Login, "progress.publish", "deadline:"+dl, fmt.Sprintf("bureau %q; %d published", bureau, n))
	http.Redirect(w, r, "/admin/progress/reports?done=published&n="+strconv.Itoa(n), http.StatusSeeOther)
}

// createReportsIssue composes the newsletter draft from the published
// reports and creates it as an ordinary draft of list, by u.
func (s *Server) createReportsIssue(r *http.Request, u User, listSlug, deadline string) (issues.Issue, List, error) {
	if s.opt.Drafts == nil || s.opt.Reports == nil {
		return issues.Issue{}, List{}, errUnavailable
	}
	if !authorize(u, ActProgressView, "") {
		return issues.Issue{}, List{}, errForbidden
	}
	l, err := s.listBySlug(r.Context(), listSlug)
	if err != nil {
		return issues.Issue{}, List{}, err
	}
	if !authorize(u, ActEdit, l.Slug) {
		return issues.Issue{}, List{}, errForbidden
	}
	dr, err := s.opt.Reports.ComposeIssue(r.Context(), deadline)
	if err != nil {
		return issues.Issue{}, List{}, err
	}
	is, err := s.opt.Drafts.Create(r.Context(), issues.Draft{ListID: l.ID, Subject: dr.Subject, BodyMarkdown: dr.Markdown,
		Author: u.Login, Source: "web", RequireApproval: needsApproval(u, l)})
	if err != nil {
		return issues.Issue{}, List{}, err
	}
	s.audit(r, u.Login, "issue.create", fmt.Sprintf("issue:%d", is.ID),
		fmt.Sprintf("list %s; from %d published progress reports (deadline %q)", l.Slug, dr.Reports, deadline))
	return is, l, nil
}

func (s *Server) handleDraftIssue(w http.ResponseWriter, r *http.Request, sess *session, v *view) {
	list := r.PostFormValue("list")
	if list == "" {
		list = InternalNewsletter
	}
	is, _, err := s.createReportsIssue(r, sess.user, list, r.PostFormValue("deadline"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/admin/issues/%d", is.ID), http.StatusSeeOther)
}

// handleReportsCSV exports every project's newest report for the council
// report; ?deadline= limits it to one deadline, ?bom=0 leaves out the
// byte order mark Excel needs, ?by=bureau gives the older per-bureau
// submission export instead.
func (s *Server) handleReportsCSV(w http.ResponseWriter, r *http.Request, sess *session, v *view) {
	if r.URL.Query().Get("by") == "bureau" {
		s.handleProgressCSV(w, r, sess, v)
		return
	}
	if !s.reportsReady(w, r, sess.user, ActProgressView) {
		return
	}
	q := r.URL.Query()
	opt := progress.CSVOptions{Deadline: q.Get("deadline"), BOM: q.Get("bom") != "0"}
	var buf strings.Builder
	if err := s.opt.Reports.ExportReportsCSV(r.Context(), &buf, opt); err != nil {
		s.fail(w, r, err)
		return
	}
	name := "progress-reports.csv"
	if opt.Deadline != "" {
		name = "progress-reports-" + url.PathEscape(opt.Deadline) + ".csv"
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	w.Write([]byte(buf.String()))
}

// apiPublishReports: POST /api/v1/progress/publish {"deadline","bureau"?}
// → 200 {"published": n}.
func (s *Server) apiPublishReports(w http.ResponseWriter, r *http.Request, u User) {
	var req struct {
		Deadline string `json:"deadline"`
		Bureau   string `json:"bureau"`
	}
	if !decodeJSON(w, r, &req, false) {
		return
	}
	if req.Deadline == "" {
		apiError(w, http.StatusUnprocessableEntity, "deadline is required")
		return
	}
	if !authorize(u, ActProgressEdit, "") {
		s.apiFail(w, r, errForbidden)
		return
	}
	if s.opt.Reports == nil {
		apiError(w, http.StatusServiceUnavailable, errUnavailable.Error())
		return
	}
	n, err := s.opt.Reports.Publish(r.Context(), req.Deadline, req.Bureau, u.Login)
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	s.audit(r, u.Login, "progress.publish", "deadline:"+req.Deadline, fmt.Sprintf("api; bureau %q; %d published", req.Bureau, n))
	writeJSON(w, http.StatusOK, map[string]int{"published": n})
}

// apiDraftIssue: POST /api/v1/progress/draft-issue {"list","deadline"?}
// → 201 with the new draft, as POST /api/v1/issues answers.
func (s *Server) apiDraftIssue(w http.ResponseWriter, r *http.Request, u User) {
	var req struct {
		List     string `json:"list"`
		Deadline string `json:"deadline"`
	}
	if !decodeJSON(w, r, &req, false) {
		return
	}
	if req.List == "" {
		apiError(w, http.StatusUnprocessableEntity, "list is required")
		return
	}
	is, l, err := s.createReportsIssue(r, u, req.List, req.Deadline)
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/issues/"+strconv.FormatInt(is.ID, 10))
	writeJSON(w, http.StatusCreated, s.issueView(r.Context(), is, l))
}
