package web

import (
	"errors"
	"io/fs"
	"maps"
	"net/http"
	"strings"
)

// apiRoutes are the JSON API's patterns; openapi.json must describe exactly
// these (TestOpenAPIMatchesRoutes).
func (s *Server) apiRoutes() map[string]http.HandlerFunc {
	routes := map[string]http.HandlerFunc{
		"POST /api/v1/issues":                   s.api(s.apiCreateIssue),
		"GET /api/v1/issues":                    s.api(s.apiListIssues),
		"GET /api/v1/issues/{id}":               s.api(s.apiIssue),
		"POST /api/v1/issues/{id}/send":         s.api(s.apiSendIssue),
		"POST /api/v1/issues/{id}/preview":      s.api(s.apiPreview),
		"POST /api/v1/issues/{id}/test":         s.api(s.apiTestSend),
		"GET /api/v1/schedules":                 s.api(s.apiSchedules),
		"POST /api/v1/schedules":                s.api(s.apiAddSchedule),
		"POST /api/v1/schedules/{id}/pause":     s.api(s.apiScheduleAction("pause")),
		"POST /api/v1/schedules/{id}/resume":    s.api(s.apiScheduleAction("resume")),
		"DELETE /api/v1/schedules/{id}":         s.api(s.apiScheduleAction("delete")),
		"GET /api/v1/lists":                     s.api(s.apiLists),
		"GET /api/v1/lists/{slug}/subscribers":  s.api(s.apiSubscribers),
		"POST /api/v1/lists/{slug}/subscribers": s.api(s.apiAddSubscriber),
		"GET /api/v1/bounces":                   s.api(s.apiBounces),
		"GET /api/v1/openapi.json":              s.handleOpenAPI,
		"POST /api/v1/progress/publish":         s.api(s.apiPublishReports),
		"POST /api/v1/progress/draft-issue":     s.api(s.apiDraftIssue),

		// Issue 14: staff judge a recorded bounce not a bounce.
		"POST /api/v1/bounces/{id}/not-a-bounce": s.api(s.apiNotABounce),
	}
	maps.Copy(routes, s.subscriberAPIRoutes())
	maps.Copy(routes, s.sublistAPIRoutes())
	maps.Copy(routes, s.apiListRoutes())
	maps.Copy(routes, s.jointAPIRoutes())
	return routes
}

func (s *Server) routes() {
	m := s.mux
	m.HandleFunc("GET /healthz", s.handleHealthz)
	m.Handle("GET /metrics", s.metricsHandler())
	static, _ := fs.Sub(staticFS, "static")
	m.Handle("GET /static/", http.StripPrefix("/static/", staticCache(http.FileServerFS(static))))

	m.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/subscribe", http.StatusSeeOther)
	})
	m.HandleFunc("GET /subscribe", s.handleSubscribeForm)
	m.HandleFunc("POST /subscribe", s.handleSubscribe)
	m.HandleFunc("GET /confirm/{token}", s.handleConfirmPage)
	m.HandleFunc("POST /confirm/{token}", s.handleConfirm)
	m.HandleFunc("GET /unsubscribe/{token}", s.handleUnsubscribePage)
	m.HandleFunc("POST /unsubscribe/{token}", s.handleUnsubscribe)
	m.HandleFunc("GET /preferences/{token}", s.handlePreferences)
	m.HandleFunc("POST /preferences/{token}", s.handleSavePreferences)
	m.HandleFunc("GET /r/{token}", s.handleClick) // stats.go
	m.HandleFunc("GET /archive", s.handleArchiveIndex)
	m.HandleFunc("GET /privacy", s.handlePrivacy)
	m.HandleFunc("GET /archive/{list}", s.handleArchive)
	m.HandleFunc("GET /archive/{list}/{id}", s.handleArchiveIssue)
	m.HandleFunc("GET /archive/{list}/feed.atom", s.handleFeed)
	m.HandleFunc("GET /progress/submitted/{token}", s.handleSubmittedPage)
	m.HandleFunc("POST /progress/submitted/{token}", s.handleSubmitted)
	m.HandleFunc("GET /progress/ics/{file}", s.handleICS)
	m.HandleFunc("GET /progress", s.handlePublicProgress)
	m.HandleFunc("GET /progress/{measure}", s.handlePublicMeasure)
	m.HandleFunc("GET /progress/feed.atom", s.handleProgressFeed)

	m.HandleFunc("GET /admin/login", s.handleLoginForm)
	m.HandleFunc("POST /admin/login", s.handleLogin)
	for pattern, h := range s.adminRoutes() {
		m.HandleFunc(pattern, h)
	}
	for pattern, h := range s.apiRoutes() {
		m.HandleFunc(pattern, h)
	}
	m.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.errorPage(w, r, http.StatusNotFound, "err.notfound")
	})
	m.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		apiError(w, http.StatusNotFound, "no such endpoint")
	})
}

// adminRoutes are the admin UI's patterns (all behind a session), the
// reports' patterns included, so that every test walking the admin routes
// sees those too.
func (s *Server) adminRoutes() map[string]http.HandlerFunc {
	routes := map[string]http.HandlerFunc{
		"POST /admin/logout":                   s.admin(s.handleLogout),
		"GET /admin/{$}":                       s.admin(s.handleDashboard),
		"GET /admin/issues":                    s.admin(s.handleIssues),
		"GET /admin/issues/new":                s.admin(s.handleNewIssue),
		"POST /admin/issues":                   s.admin(s.handleCreateIssue),
		"GET /admin/issues/{id}":               s.admin(s.handleIssue),
		"POST /admin/issues/{id}":              s.admin(s.handleUpdateIssue),
		"POST /admin/issues/{id}/{action}":     s.admin(s.handleIssueAction),
		"GET /admin/issues/{id}/progress.json": s.admin(s.handleProgressJSON),
		"POST /admin/preview":                  s.admin(s.handlePreview),
		"POST /admin/subscribers/import":       s.admin(s.handleImport),
		"GET /admin/subscribers/imports.json":  s.admin(s.handleImportsJSON),
		"POST /admin/subscribers/add":          s.admin(s.handleAddMember),
		"GET /admin/subscribers/export":        s.admin(s.handleExport),
		"GET /admin/bounces":                   s.admin(s.handleBounces),
		"POST /admin/bounces/{id}/verify":      s.admin(s.handleVerifyBounce),
		"GET /admin/schedules":                 s.admin(s.handleSchedules),
		"POST /admin/schedules":                s.admin(s.handleAddSchedule),
		"POST /admin/schedules/{id}/{action}":  s.admin(s.handleScheduleAction),
		"GET /admin/progress":                  s.admin(s.handleProgress),
		"POST /admin/progress/submitted":       s.admin(s.handleMarkSubmitted),
		"GET /admin/progress.csv":              s.admin(s.handleReportsCSV),
		"GET /admin/users":                     s.admin(s.handleUsers),
		"POST /admin/users":                    s.admin(s.handleAddUser),
		"POST /admin/users/{login}/password":   s.admin(s.handleSetPassword),
		"POST /admin/users/{login}/disable":    s.admin(s.handleDisableUser),
		"POST /admin/users/{login}":            s.admin(s.handleUpdateUser),
		"GET /admin/account":                   s.admin(s.handleAccount),
		"POST /admin/account":                  s.admin(s.handleSaveAccount),
		"GET /admin/audit":                     s.admin(s.handleAudit),
		"GET /admin/settings":                  s.admin(s.handleSettings),

		"POST /admin/bounces/{id}/not-a-bounce": s.admin(s.handleNotABounce),
		"GET /admin/local/mail":                 s.admin(s.handleLocalMail),
		"POST /admin/local/mail":                s.admin(s.handleLocalMailSend),
	}
	maps.Copy(routes, s.adminReportRoutes())
	maps.Copy(routes, s.subscriberRoutes())
	maps.Copy(routes, s.sublistRoutes())
	maps.Copy(routes, s.adminListRoutes())
	maps.Copy(routes, s.jointAdminRoutes())
	maps.Copy(routes, s.importStagedRoutes())
	return routes
}

func staticCache(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		h.ServeHTTP(w, r)
	})
}

// adminFunc is an admin handler with its session and page view.
type adminFunc func(w http.ResponseWriter, r *http.Request, sess *session, v *view)

// admin puts a handler behind a session; state-changing requests must
// carry the session's CSRF token.
func (s *Server) admin(h adminFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		sess, err := s.loadSession(r)
		if errors.Is(err, errNoSession) {
			if r.Method == http.MethodGet && !strings.HasSuffix(r.URL.Path, ".json") {
				http.Redirect(w, r, "/admin/login", http.StatusSeeOther)
				return
			}
			s.errorPage(w, r, http.StatusForbidden, "err.login")
			return
		} else if err != nil {
			s.fail(w, r, err)
			return
		}
		if r.Method != http.MethodGet {
			if err := parseBody(r, 1<<20); err != nil {
				s.fail(w, r, err)
				return
			}
			if !checkCSRF(r, sess) {
				s.errorPage(w, r, http.StatusForbidden, "err.csrf")
				return
			}
		}
		if sess.user.MustChangePassword && r.URL.Path != "/admin/account" && r.URL.Path != "/admin/logout" {
			// A one-time or reset password: nothing else until it is replaced.
			http.Redirect(w, r, "/admin/account", http.StatusSeeOther)
			return
		}
		v := s.newView(w, r, "")
		v.Admin, v.User, v.CSRF = true, &sess.user, sess.csrf
		h(w, r, sess, v)
	}
}
