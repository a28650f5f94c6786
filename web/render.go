package web

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"kawaraban/progress"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// pages holds one parsed template set per page, each with the layout.
type pages struct {
	byName map[string]*template.Template
}

var funcs = template.FuncMap{
	"pct":   func(f float64) string { return fmt.Sprintf("%.1f%%", f*100) },
	"join":  strings.Join,
	"add":   func(a, b int) int { return a + b },
	"sub":   func(a, b int) int { return a - b },
	"words": func(s ...string) []string { return s },
}

func loadPages() (*pages, error) {
	layout, err := template.New("layout").Funcs(funcs).ParseFS(templateFS, "templates/layout.html")
	if err != nil {
		return nil, fmt.Errorf("parsing layout: %w", err)
	}
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	p := &pages{byName: map[string]*template.Template{}}
	for _, n := range names {
		base := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if base == "layout" {
			continue
		}
		t, err := template.Must(layout.Clone()).ParseFS(templateFS, n)
		if err != nil {
			return nil, fmt.Errorf("parsing %s: %w", n, err)
		}
		p.byName[base] = t
	}
	return p, nil
}

// view is what every page template gets.
type view struct {
	loc       *time.Location
	Lang      string
	Title     string
	Admin     bool
	User      *User
	CSRF      string
	LocalMode bool
	DBProblem string // catalogue key of the database problem banner, or ""
	LocalMail bool   // the local-mode mail page exists (admin_local.go)
	lists     func() []List
	plan      func() []progress.DeadlineStatus
	Path      string // current path and query, for the language switch
	Nav       string // current admin section
	Flash     string
	Error     string
	Data      any
}

// Date shows a time in the server's time zone, with the zone's name
// (2026-12-01 09:00 JST), "—" for none.
func (v *view) Date(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	// With its zone: a citizen abroad, or a server in UTC, must not guess.
	return t.In(v.loc).Format("2006-01-02 15:04 MST")
}

// DateOf is Date of an optional time (an issue's SendAt, SentAt): "—"
// when there is none.
func (v *view) DateOf(t *time.Time) string {
	if t == nil {
		return v.Date(time.Time{})
	}
	return v.Date(*t)
}

// T translates a catalog key into the page's language.
func (v *view) T(key string) string { return tr(v.Lang, key) }

// EN reports whether the page is in English.
func (v *view) EN() bool { return v.Lang == "en" }

// Name picks the Japanese or English name.
func (v *view) Name(ja, en string) string {
	if v.Lang == "en" && en != "" {
		return en
	}
	return ja
}

// Can reports whether the page's user may do act on list (template use).
func (v *view) Can(act string, list string) bool {
	if v.User == nil {
		return false
	}
	a, ok := map[string]Action{"view": ActView, "edit": ActEdit, "approve": ActApprove,
		"progress": ActProgressView, "progressEdit": ActProgressEdit, "system": ActSystemView,
		"systemEdit": ActSystemEdit, "admin": ActAdmin}[act]
	return ok && authorize(*v.User, a, list)
}

// SeesSchedules says whether the schedules page is for the user: those
// with system rights, and editors (their lists' recurring schedules).
func (v *view) SeesSchedules() bool {
	if v.User == nil {
		return false
	}
	return authorize(*v.User, ActSystemView, "") || slices.ContainsFunc(v.User.Lists, func(l string) bool {
		return authorize(*v.User, ActEdit, l)
	})
}

// SwitchLang is the current URL in the other language.
func (v *view) SwitchLang() string {
	u, err := url.Parse(v.Path)
	if err != nil {
		u = &url.URL{Path: "/"}
	}
	q := u.Query()
	if v.Lang == "en" {
		q.Set("lang", "ja")
	} else {
		q.Set("lang", "en")
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// lang picks the language: ?lang= (remembered in a cookie), then the
// cookie, then Japanese.
func (s *Server) lang(w http.ResponseWriter, r *http.Request) string {
	if l := r.URL.Query().Get("lang"); l == "ja" || l == "en" {
		http.SetCookie(w, &http.Cookie{Name: "kw_lang", Value: l, Path: "/", MaxAge: 365 * 24 * 3600,
			HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode})
		return l
	}
	if c, err := r.Cookie("kw_lang"); err == nil && (c.Value == "en" || c.Value == "ja") {
		return c.Value
	}
	return "ja"
}

func (s *Server) newView(w http.ResponseWriter, r *http.Request, title string) *view {
	v := &view{loc: s.opt.Location, Lang: s.lang(w, r), Path: r.URL.RequestURI(), LocalMode: s.opt.LocalMode,
		DBProblem: s.healthBanner(),
		LocalMail: s.opt.LocalMode && s.opt.LocalInbox != nil}
	// ListName (words.go) loads the lists once, when a page asks.
	ctx := r.Context()
	v.lists = sync.OnceValue(func() []List {
		ls, _ := s.lists(ctx)
		return ls
	})
	v.plan = sync.OnceValue(func() []progress.DeadlineStatus {
		if s.opt.Plan == nil {
			return nil
		}
		ds, _ := s.opt.Plan.Status(ctx)
		return ds
	})
	v.Title = v.T(title)
	return v
}

// render writes a page with status code.
func (s *Server) render(w http.ResponseWriter, r *http.Request, code int, name string, v *view) {
	t, ok := s.pages.byName[name]
	if !ok {
		s.log.Error("unknown page template", "page", name)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", v); err != nil {
		s.log.Error("rendering page", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	w.Write(buf.Bytes())
}

// errorPage answers with a page explaining status; messages never carry
// internal details.
func (s *Server) errorPage(w http.ResponseWriter, r *http.Request, code int, key string) {
	s.errorPageErr(w, r, code, key, nil)
}

// errorPageErr is errorPage with the error's own message when it is one a
// person can act on (bad input).
func (s *Server) errorPageErr(w http.ResponseWriter, r *http.Request, code int, key string, err error) {
	v := s.newView(w, r, "title.error")
	v.Error = userMessage(v, key, err)
	v.Data = code
	if strings.HasPrefix(r.URL.Path, "/admin/") {
		v.Admin = true
	}
	s.render(w, r, code, "error", v)
}

// fail answers err on an HTML page, logging only server faults.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	code, key := statusOf(err)
	if code >= 500 {
		s.observe(err)
		s.log.Error("request failed", "route", r.Pattern, "err", err)
	}
	s.errorPageErr(w, r, code, key, err)
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(true)
	enc.Encode(v)
}
