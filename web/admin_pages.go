package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"kawaraban/bounces"
	"kawaraban/issues"
	"kawaraban/subscribers"
)

type dashList struct {
	List   List
	Stats  ListStats
	Chart  chart
	Issues []dashIssue
}

// dashIssue is one of a list's recent issues on the dashboard, with its
// figures (dashIssueStats).
type dashIssue struct {
	issues.Issue
	Counts dashCounts
}

// dashCounts are a dashboard issue's delivered, bounced and opt-outs.
type dashCounts struct{ Sent, Bounced, Unsubscribed int }

type chart struct {
	Points string // SVG polyline points
	Max    int
	First  string
	Last   string
	Empty  bool
}

// growthChart scales points into a 600×160 SVG viewBox.
func growthChart(pts []subscribers.DayCount) chart {
	if len(pts) == 0 {
		return chart{Empty: true}
	}
	c := chart{First: pts[0].Day.Format("01/02"), Last: pts[len(pts)-1].Day.Format("01/02")}
	for _, p := range pts {
		c.Max = max(c.Max, p.Subscribed)
	}
	top := max(c.Max, 1)
	var b strings.Builder
	for i, p := range pts {
		x := 0.0
		if len(pts) > 1 {
			x = float64(i) * 600 / float64(len(pts)-1)
		}
		y := 150 - float64(p.Subscribed)*140/float64(top)
		fmt.Fprintf(&b, "%.1f,%.1f ", x, y)
	}
	c.Points = strings.TrimSpace(b.String())
	return c
}

func (s *Server) handleDashboard(w http.ResponseWriter, r *http.Request, sess *session, v *view) {
	all, err := s.lists(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var out []dashList
	for _, l := range visible(sess.user, all) {
		d := dashList{List: l}
		if sa := s.opt.SubscriberAdmin; sa != nil {
			if d.Stats, err = sa.Stats(r.Context(), l.ID); err != nil {
				s.fail(w, r, err)
				return
			}
			g, err := sa.Growth(r.Context(), l.ID, 90)
			if err != nil {
				s.fail(w, r, err)
				return
			}
			d.Chart = growthChart(g)
		}
		if s.opt.Issues != nil {
			iss, err := s.opt.Issues.ListByList(r.Context(), l.ID, issues.Page{Limit: 3})
			if err != nil {
				s.fail(w, r, err)
				return
			}
			issuesOn(iss, l.ID)
			d.Issues = s.dashIssueStats(r.Context(), iss)
		}
		out = append(out, d)
	}
	d := dashboardData{Lists: out}
	// Refusals for policy or reputation (RFC 3463 X.7.X) concern the whole
	// sending setup: admins see them here.
	if s.opt.Bounces != nil && sess.user.Role == RoleAdmin {
		if d.Alerts, err = s.opt.Bounces.Alerts(r.Context()); err != nil {
			s.fail(w, r, err)
			return
		}
		d.Alerts = d.Alerts[:min(len(d.Alerts), 10)]
	}
	v.Nav, v.Title, v.Data = "dashboard", v.T("nav.dashboard"), d
	s.render(w, r, http.StatusOK, "dashboard", v)
}

type dashboardData struct {
	Lists  []dashList
	Alerts []bounces.Alert // newest first, at most ten; admins only
}

type subscribersData struct {
	Lists  []List
	List   List
	Query  string
	Report *ImportReport
	DryRun bool
	Status string
	Page   int
	More   bool
	// Imports are the list's recent CSV imports.
	Imports []subscribers.ImportRecord
	Next    int64 // the ?after= of the next page
	Prev    int64 // the ?before= of the previous page
	listView
	// Staged is the id of a dry run's kept file ("import these");
	// RejectedTotal counts the report's rejected rows (import_staged.go).
	Staged        string
	RejectedTotal int
}

// importList is where an upload and "import these" both begin: imports
// need the subscriber admin, and the list must be one the user may edit.
// It writes the error page itself and reports whether to go on.
func (s *Server) importList(w http.ResponseWriter, r *http.Request, sess *session) (List, []List, bool) {
	if s.opt.SubscriberAdmin == nil {
		s.errorPage(w, r, http.StatusServiceUnavailable, "err.unavailable")
		return List{}, nil, false
	}
	l, mine, err := s.editableList(r, sess.user)
	if err != nil {
		s.fail(w, r, err)
		return List{}, nil, false
	}
	return l, mine, true
}

func (s *Server) handleImport(w http.ResponseWriter, r *http.Request, sess *session, v *view) {
	l, mine, ok := s.importList(w, r, sess)
	if !ok {
		return
	}
	f, fh, err := r.FormFile("file")
	if err != nil {
		s.fail(w, r, &InputError{Field: "file", Message: "choose a CSV file", MessageJA: "CSVファイルを選んでください"})
		return
	}
	defer f.Close()
	dry := r.PostFormValue("dry_run") != ""
	consent := r.PostFormValue("consent_source")
	rep, err := s.opt.SubscriberAdmin.Import(r.Context(), f, ImportOptions{ListSlug: l.Slug,
		ConsentSource: consent, DryRun: dry, Actor: sess.user.Login, FileName: fh.Filename})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var staged string
	if dry {
		// Kept for "import these" (import_staged.go).
		if staged, err = s.stageImport(f, stagedImport{List: l.Slug, Login: sess.user.Login, ConsentSource: consent,
			FileName: fh.Filename, Created: s.now()}); err != nil {
			s.log.Warn("keeping a checked import", "err", err)
		}
	} else {
		s.audit(r, sess.user.Login, "subscribers.import", "list:"+l.Slug,
			fmt.Sprintf("added %d, existing %d, rejected %d", rep.Added, rep.Existing(), len(rep.Rejected)))
	}
	s.renderImportReport(w, r, v, mine, l, rep, dry, staged)
}

// handleAddMember adds an address to an internal list at once (members
// of the internal newsletter are added by staff, without opt-in).
func (s *Server) handleAddMember(w http.ResponseWriter, r *http.Request, sess *session, v *view) {
	if s.opt.SubscriberAdmin == nil {
		s.errorPage(w, r, http.StatusServiceUnavailable, "err.unavailable")
		return
	}
	l, mine, err := s.editableList(r, sess.user)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if l.Kind != "internal" {
		s.fail(w, r, &InputError{Field: "list", Message: "public lists need the subscriber's own confirmation",
			MessageJA: "公開のメールマガジンには、本人の確認(登録フォーム)が必要です"})
		return
	}
	email := strings.TrimSpace(r.PostFormValue("email"))
	err = domainErr(s.opt.SubscriberAdmin.AddMember(r.Context(), l.Slug, email, strings.TrimSpace(r.PostFormValue("name")),
		"admin", s.evidence(r, sess.user.Login)))
	var ie *InputError
	if errors.As(err, &ie) {
		v.Nav, v.Title = "subscribers", v.T("nav.subscribers")
		v.Error = v.Name(ie.MessageJA, ie.Message)
		v.Data = subscribersData{Lists: mine, List: l, Page: 1}
		s.render(w, r, http.StatusUnprocessableEntity, "subscribers", v)
		return
	} else if err != nil {
		s.fail(w, r, err)
		return
	}
	s.audit(r, sess.user.Login, "subscriber.add", "list:"+l.Slug, "")
	http.Redirect(w, r, "/admin/subscribers?list="+url.QueryEscape(l.Slug), http.StatusSeeOther)
}

func (s *Server) handleExport(w http.ResponseWriter, r *http.Request, sess *session, v *view) {
	if s.opt.SubscriberAdmin == nil {
		s.errorPage(w, r, http.StatusServiceUnavailable, "err.unavailable")
		return
	}
	l, _, err := s.chosenList(r, sess.user, r.URL.Query().Get("list"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if !authorize(sess.user, ActEdit, l.Slug) {
		s.fail(w, r, errForbidden)
		return
	}
	s.audit(r, sess.user.Login, "subscribers.export", "list:"+l.Slug, "")
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+l.Slug+`-subscribers.csv"`)
	if err := s.opt.SubscriberAdmin.ExportSubscribers(r.Context(), w, l.Slug); err != nil {
		s.log.Error("exporting subscribers", "list", l.Slug, "err", err)
	}
}

func (s *Server) handleBounces(w http.ResponseWriter, r *http.Request, sess *session, v *view) {
	if s.opt.Bounces == nil {
		s.errorPage(w, r, http.StatusServiceUnavailable, "err.unavailable")
		return
	}
	items, _, _, err := s.bounces(r, sess.user)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	all, _ := s.lists(r.Context())
	v.Nav, v.Title = "bounces", v.T("nav.bounces")
	v.Data = map[string]any{"Bounces": items, "Lists": visible(sess.user, all),
		"List": r.URL.Query().Get("list"), "Class": r.URL.Query().Get("class"),
		"Classes": []string{"hard", "soft", "autoreply", "complaint", "delivered", "other"}}
	s.render(w, r, http.StatusOK, "bounces", v)
}

func (s *Server) handleProgress(w http.ResponseWriter, r *http.Request, sess *session, v *view) {
	if !authorize(sess.user, ActProgressView, "") {
		s.fail(w, r, errForbidden)
		return
	}
	if s.opt.Plan == nil {
		s.errorPage(w, r, http.StatusServiceUnavailable, "err.unavailable")
		return
	}
	rows, err := s.deadlineRows(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v.Nav, v.Title, v.Data = "progress", v.T("nav.progress"), rows
	s.render(w, r, http.StatusOK, "progress", v)
}

func (s *Server) handleMarkSubmitted(w http.ResponseWriter, r *http.Request, sess *session, v *view) {
	if !authorize(sess.user, ActProgressEdit, "") {
		s.fail(w, r, errForbidden)
		return
	}
	if s.opt.Plan == nil {
		s.errorPage(w, r, http.StatusServiceUnavailable, "err.unavailable")
		return
	}
	dl, bureau := r.PostFormValue("deadline"), r.PostFormValue("bureau")
	if err := s.opt.Plan.MarkSubmitted(r.Context(), dl, bureau, "admin", sess.user.Login); err != nil {
		s.fail(w, r, err)
		return
	}
	s.audit(r, sess.user.Login, "progress.submitted", "deadline:"+dl, "bureau "+bureau)
	http.Redirect(w, r, "/admin/progress", http.StatusSeeOther)
}

func (s *Server) handleProgressCSV(w http.ResponseWriter, r *http.Request, sess *session, v *view) {
	if !authorize(sess.user, ActProgressView, "") {
		s.fail(w, r, errForbidden)
		return
	}
	if s.opt.Plan == nil {
		s.errorPage(w, r, http.StatusServiceUnavailable, "err.unavailable")
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="progress.csv"`)
	if err := s.opt.Plan.ExportCSV(r.Context(), w); err != nil {
		s.log.Error("exporting progress", "err", err)
	}
}

func (s *Server) handleUsers(w http.ResponseWriter, r *http.Request, sess *session, v *view) {
	if !authorize(sess.user, ActAdmin, "") {
		s.fail(w, r, errForbidden)
		return
	}
	s.renderUsers(w, r, v, http.StatusOK, userForm{Role: "editor"})
}

// userForm is what was typed into "add a user" (never the password).
type userForm struct {
	Login, Role, Lists string
}

// renderUsers shows the users page, with the add form as it was typed.
func (s *Server) renderUsers(w http.ResponseWriter, r *http.Request, v *view, code int, f userForm) {
	us, err := s.users.All(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v.Nav, v.Title, v.Data = "users", v.T("nav.users"), map[string]any{"Users": us, "Form": f}
	s.render(w, r, code, "users", v)
}

func splitLists(s string) []string {
	var out []string
	for _, p := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '、' }) {
		out = append(out, strings.TrimSpace(p))
	}
	sort.Strings(out)
	return out
}

func (s *Server) handleAddUser(w http.ResponseWriter, r *http.Request, sess *session, v *view) {
	if !authorize(sess.user, ActAdmin, "") {
		s.fail(w, r, errForbidden)
		return
	}
	login := strings.TrimSpace(r.PostFormValue("login"))
	role := r.PostFormValue("role")
	err := s.users.Add(r.Context(), login, r.PostFormValue("password"), role, splitLists(r.PostFormValue("lists")))
	if code, key := statusOf(err); err != nil && code < 500 {
		v.Error = userMessage(v, key, err) // say what is wrong; keep what was typed
		s.renderUsers(w, r, v, code, userForm{Login: login, Role: role, Lists: r.PostFormValue("lists")})
		return
	} else if err != nil {
		s.fail(w, r, err)
		return
	}
	s.audit(r, sess.user.Login, "user.add", "user:"+login, "role "+role+"; lists "+r.PostFormValue("lists"))
	http.Redirect(w, r, "/admin/users", http.StatusSeeOther)
}

func (s *Server) handleUpdateUser(w http.ResponseWriter, r *http.Request, sess *session, v *view) {
	if !authorize(sess.user, ActAdmin, "") {
		s.fail(w, r, errForbidden)
		return
	}
	login := r.PathValue("login")
	role, lists, approver := r.PostFormValue("role"), splitLists(r.PostFormValue("lists")), r.PostFormValue("approver") != ""
	if err := s.users.Update(r.Context(), login, role, lists, approver); err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.users.SetEmail(r.Context(), login, r.PostFormValue("email")); err != nil {
		s.fail(w, r, err)
		return
	}
	s.audit(r, sess.user.Login, "user.update", "user:"+login,
		fmt.Sprintf("role %s; lists %s; approver %v", role, strings.Join(lists, ","), approver))
	http.Redirect(w, r, "/admin/users", http.StatusSeeOther)
}

func (s *Server) handleSetPassword(w http.ResponseWriter, r *http.Request, sess *session, v *view) {
	if !authorize(sess.user, ActAdmin, "") {
		s.fail(w, r, errForbidden)
		return
	}
	login := r.PathValue("login")
	var err error
	switch pw := r.PostFormValue("password"); {
	case pw == "":
		err = ErrWeakPassword
	case login != sess.user.Login:
		// A password an admin chose for someone else is a temporary one,
		// and the user's API tokens are revoked (issue 15).
		_, err = s.users.ResetPassword(r.Context(), login, pw)
	default:
		err = s.users.SetPassword(r.Context(), login, pw)
	}
	if err != nil {
		if code, key := statusOf(err); code < 500 {
			v.Error = login + ": " + userMessage(v, key, err)
			s.renderUsers(w, r, v, code, userForm{Role: "editor"})
			return
		}
		s.fail(w, r, err)
		return
	}
	s.audit(r, sess.user.Login, "user.password", "user:"+login, "")
	http.Redirect(w, r, "/admin/users", http.StatusSeeOther)
}

func (s *Server) handleDisableUser(w http.ResponseWriter, r *http.Request, sess *session, v *view) {
	if !authorize(sess.user, ActAdmin, "") {
		s.fail(w, r, errForbidden)
		return
	}
	login := r.PathValue("login")
	if login == sess.user.Login {
		s.fail(w, r, &InputError{Field: "login", Message: "you cannot disable yourself", MessageJA: "自分自身は無効にできません"})
		return
	}
	if err := s.users.Disable(r.Context(), login); err != nil {
		s.fail(w, r, err)
		return
	}
	s.audit(r, sess.user.Login, "user.disable", "user:"+login, "")
	http.Redirect(w, r, "/admin/users", http.StatusSeeOther)
}

func (s *Server) handleAudit(w http.ResponseWriter, r *http.Request, sess *session, v *view) {
	if !authorize(sess.user, ActAdmin, "") {
		s.fail(w, r, errForbidden)
		return
	}
	limit, offset := page(r)
	es, err := s.auditLog(r.Context(), limit, offset)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v.Nav, v.Title, v.Data = "audit", v.T("nav.audit"), map[string]any{"Entries": es, "Next": offset + limit, "More": len(es) == limit}
	s.render(w, r, http.StatusOK, "audit", v)
}
