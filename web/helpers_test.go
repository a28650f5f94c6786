package web

import (
	"context"
	"database/sql"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"kawaraban/internal/testclock"
	"kawaraban/store"
)

type env struct {
	t      testing.TB
	db     *sql.DB
	clock  *testclock.Clock
	srv    *Server
	http   *httptest.Server
	users  *Users
	subs   *fakeSubscribers
	issues *fakeIssues
}

// testPassword is long enough for Users.Add.
const testPassword = "correct horse battery"

func openDB(t testing.TB) *sql.DB {
	t.Helper()
	db, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "k.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func newEnv(t testing.TB, edit func(*Options)) *env {
	t.Helper()
	db := openDB(t)
	c := testclock.New(time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC))
	subs := newFakeSubscribers(c.Now)
	iss := &fakeIssues{now: c.Now, subs: subs}
	users := NewUsers(db, UsersOptions{Now: c.Now, Hash: HashParams{MemoryKiB: 1024, Time: 1}})
	opt := Options{DB: db, Now: c.Now, BaseURL: "http://kawaraban.test", LocalMode: true, Users: users,
		Subscribers: subs, SubscriberAdmin: subs, SubscriberDetail: newFakeSubscriberDetail(subs),
		Issues: iss, Drafts: iss, Sending: iss, Checks: iss, Approvals: iss, Renderer: fakeRenderer{}, Bounces: fakeBounces{},
		Schedules: &fakeSchedules{}, Plan: &fakePlan{}, Reports: newTestReports(db, c.Now), TestRecipients: []string{"me@city.example.jp"},
		LocalInbox: &fakeInbox{}, ListAdmin: newTestListAdmin(t, db, c.Now), ImportStagingDir: t.TempDir(),
		Settings: func() map[string]any {
			return map[string]any{"smtp": map[string]any{"host": "relay.example.jp", "password": "********", "password_env": "SMTP_PASSWORD"}}
		}}
	if edit != nil {
		edit(&opt)
	}
	s, err := New(opt)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(s)
	t.Cleanup(hs.Close)
	e := &env{t: t, db: db, clock: c, srv: s, http: hs, users: users, subs: subs, issues: iss}
	ctx := context.Background()
	for _, u := range []struct{ login, role, lists string }{
		{"admin", "admin", ""}, {"editor", "editor", "shimin-katsudo"}, {"coord", "coordinator", ""}, {"viewer", "viewer", ""},
	} {
		var lists []string
		if u.lists != "" {
			lists = strings.Split(u.lists, ",")
		}
		if err := users.Add(ctx, u.login, testPassword, u.role, lists); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

// client is a browser: a cookie jar, no automatic redirects.
func (e *env) client() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func (e *env) get(c *http.Client, path string) (*http.Response, string) {
	e.t.Helper()
	resp, err := c.Get(e.http.URL + path)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp, readBody(e.t, resp)
}

func (e *env) post(c *http.Client, path string, form url.Values) (*http.Response, string) {
	e.t.Helper()
	resp, err := c.PostForm(e.http.URL+path, form)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp, readBody(e.t, resp)
}

func readBody(t testing.TB, resp *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

var hiddenRE = regexp.MustCompile(`name="(csrf|form_token)" value="([^"]+)"`)

// hidden returns the value of the csrf or form_token field in a page.
func hidden(t testing.TB, page, name string) string {
	t.Helper()
	for _, m := range hiddenRE.FindAllStringSubmatch(page, -1) {
		if m[1] == name {
			return m[2]
		}
	}
	t.Fatalf("no %s field in page", name)
	return ""
}

// login logs a browser in and returns it with its session CSRF token.
func (e *env) login(login string) (*http.Client, string) {
	e.t.Helper()
	c := e.client()
	_, page := e.get(c, "/admin/login")
	resp, _ := e.post(c, "/admin/login", url.Values{"csrf": {hidden(e.t, page, "csrf")}, "login": {login}, "password": {testPassword}})
	if resp.StatusCode != http.StatusSeeOther {
		e.t.Fatalf("login %s: status %d", login, resp.StatusCode)
	}
	_, page = e.get(c, "/admin/")
	return c, hidden(e.t, page, "csrf")
}

// bearer makes an API token for login.
func (e *env) bearer(login string) string {
	e.t.Helper()
	tok, err := e.users.CreateToken(context.Background(), login)
	if err != nil {
		e.t.Fatal(err)
	}
	return tok
}

func (e *env) api(method, path, tok, body string) (*http.Response, string) {
	e.t.Helper()
	req, _ := http.NewRequest(method, e.http.URL+path, strings.NewReader(body))
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp, readBody(e.t, resp)
}

var keyRE = regexp.MustCompile(`>\s*(err|title|nav|sub|issue|dash|count|status|import|login|prefs|unsub|user|sched|progress|settings)\.[a-z]+\s*<`)

func sep(p string) string {
	if strings.Contains(p, "?") {
		return "&"
	}
	return "?"
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
