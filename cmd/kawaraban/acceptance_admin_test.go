package main

import (
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

var (
	oneTimePasswordRe = regexp.MustCompile(`one-time password (\S+)`)
	csrfRe            = regexp.MustCompile(`name="csrf" value="([^"]+)"`)
)

// Local mode: the admin user printed on first start logs in, and every
// admin page says loudly that mail is captured, not delivered.
func TestAcceptanceAdminLocalMode(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, t.TempDir())
	m := oneTimePasswordRe.FindStringSubmatch(d.out.String())
	if m == nil {
		t.Fatalf("first start printed no one-time password:\n%s", d.out.String())
	}
	jar, _ := cookiejar.New(nil)
	noFollow := func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	client := &http.Client{Jar: jar, CheckRedirect: noFollow}

	resp, err := client.Get(d.BaseURL + "/admin/")
	if err != nil {
		t.Fatal(err)
	}
	readAll(t, resp)
	if resp.StatusCode < 300 || resp.StatusCode >= 400 || !strings.Contains(resp.Header.Get("Location"), "/admin/login") {
		t.Errorf("GET /admin/ without a session: %d → %q, want a redirect to /admin/login", resp.StatusCode, resp.Header.Get("Location"))
	}

	login := func(password string) *http.Response {
		t.Helper()
		resp, err := client.Get(d.BaseURL + "/admin/login")
		if err != nil {
			t.Fatal(err)
		}
		c := csrfRe.FindStringSubmatch(readAll(t, resp))
		if c == nil {
			t.Fatal("the login form has no csrf field")
		}
		resp, err = client.PostForm(d.BaseURL+"/admin/login", url.Values{"csrf": {c[1]}, "login": {"admin"}, "password": {password}})
		if err != nil {
			t.Fatal(err)
		}
		readAll(t, resp)
		return resp
	}
	if resp := login("wrong-" + m[1]); resp.StatusCode >= 300 && resp.StatusCode < 400 && resp.Header.Get("Location") == "/admin/" {
		t.Fatal("a wrong password logged in")
	}
	resp = login(m[1])
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("login with the one-time password: %d", resp.StatusCode)
	}
	for _, c := range resp.Cookies() {
		if c.Value != "" && (!c.HttpOnly || c.SameSite == http.SameSiteNoneMode || c.SameSite == http.SameSiteDefaultMode) {
			t.Errorf("session cookie %s: HttpOnly %v SameSite %v, want HttpOnly and Lax or Strict", c.Name, c.HttpOnly, c.SameSite)
		}
	}
	// The one-time password must be replaced before anything else.
	resp, err = client.Get(d.BaseURL + "/admin/issues")
	if err != nil {
		t.Fatal(err)
	}
	readAll(t, resp)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/admin/account" {
		t.Fatalf("GET /admin/issues with the one-time password: %d → %q, want a redirect to /admin/account", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, err = client.Get(d.BaseURL + "/admin/account")
	if err != nil {
		t.Fatal(err)
	}
	page := readAll(t, resp)
	c := csrfRe.FindStringSubmatch(page)
	if resp.StatusCode != 200 || c == nil || !strings.Contains(page, "一時的なパスワード") {
		t.Fatalf("account page with the one-time password: %d, csrf %v, asks for a new password: %v", resp.StatusCode, c != nil, strings.Contains(page, "一時的なパスワード"))
	}
	resp, err = client.PostForm(d.BaseURL+"/admin/account", url.Values{"csrf": {c[1]}, "email": {"admin@city.example.jp"},
		"current_password": {m[1]}, "new_password": {"a-new-password-of-mine"}})
	if err != nil {
		t.Fatal(err)
	}
	readAll(t, resp)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("changing the one-time password: %d", resp.StatusCode)
	}
	for _, path := range []string{"/admin/", "/admin/issues", "/admin/subscribers", "/admin/progress", "/admin/bounces", "/admin/users"} {
		resp, err := client.Get(d.BaseURL + path)
		if err != nil {
			t.Fatal(err)
		}
		page := readAll(t, resp)
		if resp.StatusCode != 200 {
			t.Errorf("GET %s: %d", path, resp.StatusCode)
			continue
		}
		if !strings.Contains(page, "captured") {
			t.Errorf("GET %s does not say that mail is captured, not delivered", path)
		}
	}
}

// One daemon per database: a second `serve` on the same data directory is
// refused, naming the database, and the first keeps serving; after a kill
// -9 the lock does not stop a restart.
func TestAcceptanceOneDaemonPerDatabase(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	d := startDaemon(t, dir)
	res := runCLI(t, "", "serve", "--data", dir, "--listen", "127.0.0.1:0")
	if res.Exit == 0 || !strings.Contains(res.Stdout+res.Stderr, "kawaraban.db") {
		t.Fatalf("second serve on the same data dir: exit %d\n%s%s", res.Exit, res.Stdout, res.Stderr)
	}
	if code, _ := get(t, d.BaseURL+"/healthz"); code != 200 {
		t.Fatalf("the first daemon stopped answering: %d", code)
	}
	d.cmd.Process.Kill()
	d.cmd.Wait()
	d = startDaemon(t, dir)
	if code, _ := get(t, d.BaseURL+"/healthz"); code != 200 {
		t.Fatalf("restart after kill -9: /healthz %d", code)
	}
}
