package web

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestPasswordHash(t *testing.T) {
	t.Parallel()
	p := HashParams{MemoryKiB: 1024, Time: 1}
	h, err := hashPassword("秘密のパスワード", p)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=1024,t=1,p=1$") {
		t.Fatalf("not a PHC argon2id string: %s", h)
	}
	h2, _ := hashPassword("秘密のパスワード", p)
	if h == h2 {
		t.Fatal("same salt twice")
	}
	for _, tc := range []struct {
		pw   string
		want bool
	}{{"秘密のパスワード", true}, {"秘密のパスワード ", false}, {"", false}} {
		ok, err := checkPassword(tc.pw, h)
		if err != nil || ok != tc.want {
			t.Errorf("check %q: %v %v", tc.pw, ok, err)
		}
	}
	for _, bad := range []string{"", "$argon2i$v=19$m=1,t=1,p=1$AA$AA", "$argon2id$v=18$m=1,t=1,p=1$AA$AA", "$argon2id$v=19$x$AA$AA", "$argon2id$v=19$m=8,t=1,p=1$!!$AA"} {
		if _, err := checkPassword("x", bad); !errors.Is(err, errBadHash) {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

func FuzzCheckPassword(f *testing.F) {
	h, _ := hashPassword("pw", HashParams{MemoryKiB: 8, Time: 1})
	f.Add(h)
	f.Add("$argon2id$v=19$m=8,t=1,p=1$AAAA$AAAA")
	f.Fuzz(func(t *testing.T, phc string) {
		// Refuse absurd costs before hashing so the fuzzer stays fast;
		// what matters is that parsing never panics.
		if strings.Contains(phc, "m=") && len(phc) > 0 {
			parts := strings.Split(phc, "$")
			if len(parts) == 6 && !strings.HasPrefix(parts[3], "m=8,") {
				return
			}
		}
		checkPassword("pw", phc)
	})
}

func TestUsers(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := openDB(t)
	u := NewUsers(db, UsersOptions{Hash: HashParams{MemoryKiB: 1024, Time: 1}})
	pw, created, err := u.EnsureAdmin(ctx)
	if err != nil || !created || len(pw) < 16 {
		t.Fatalf("EnsureAdmin: %q %v %v", pw, created, err)
	}
	if _, created, _ := u.EnsureAdmin(ctx); created {
		t.Fatal("EnsureAdmin created a second admin")
	}
	if _, err := u.Authenticate(ctx, "admin", pw); err != nil {
		t.Fatalf("one-time password does not log in: %v", err)
	}
	for _, tc := range []struct {
		login, pw, role string
		want            error
	}{
		{"ed", "long enough pw", "boss", ErrBadRole},
		{"Ed!", "long enough pw", "editor", ErrBadLogin},
		{"ed", "short", "editor", ErrWeakPassword},
		{"admin", "long enough pw", "editor", ErrUserExists},
	} {
		if err := u.Add(ctx, tc.login, tc.pw, tc.role, nil); !errors.Is(err, tc.want) {
			t.Errorf("Add(%q,%q,%q) = %v, want %v", tc.login, tc.pw, tc.role, err, tc.want)
		}
	}
	if err := u.Add(ctx, "ed", "long enough pw", "editor", []string{"kankyo-hozen", "shimin-katsudo"}); err != nil {
		t.Fatal(err)
	}
	ed, err := u.ByLogin(ctx, "ed")
	if err != nil || ed.Role != RoleEditor || strings.Join(ed.Lists, ",") != "kankyo-hozen,shimin-katsudo" {
		t.Fatalf("ByLogin: %+v %v", ed, err)
	}
	if _, err := u.Authenticate(ctx, "ed", "wrong password"); !errors.Is(err, ErrBadCredential) {
		t.Fatalf("wrong password: %v", err)
	}
	if _, err := u.Authenticate(ctx, "nobody", "wrong password"); !errors.Is(err, ErrBadCredential) {
		t.Fatalf("unknown user: %v", err)
	}
	tok, err := u.CreateToken(ctx, "ed")
	if err != nil {
		t.Fatal(err)
	}
	var stored int
	db.QueryRow(`SELECT count(*) FROM api_tokens WHERE token_hash = ?`, tok).Scan(&stored)
	if stored != 0 {
		t.Fatal("token stored in clear")
	}
	if got, err := u.ByToken(ctx, tok); err != nil || got.Login != "ed" {
		t.Fatalf("ByToken: %+v %v", got, err)
	}
	for _, forged := range []string{"", "kwb_", tok + "x", "Bearer " + tok, strings.Repeat("a", 1000)} {
		if _, err := u.ByToken(ctx, forged); !errors.Is(err, ErrBadCredential) {
			t.Errorf("forged token %q: %v", forged, err)
		}
	}
	if _, err := u.CreateToken(ctx, "nobody"); !errors.Is(err, ErrUnknownUser) {
		t.Errorf("token for unknown user: %v", err)
	}
	if err := u.SetPassword(ctx, "ed", "a new long password"); err != nil {
		t.Fatal(err)
	}
	if _, err := u.Authenticate(ctx, "ed", "long enough pw"); !errors.Is(err, ErrBadCredential) {
		t.Errorf("old password still works: %v", err)
	}
	if err := u.Disable(ctx, "ed"); err != nil {
		t.Fatal(err)
	}
	if _, err := u.Authenticate(ctx, "ed", "a new long password"); !errors.Is(err, ErrBadCredential) {
		t.Errorf("disabled user logs in: %v", err)
	}
	if _, err := u.ByToken(ctx, tok); !errors.Is(err, ErrBadCredential) {
		t.Errorf("disabled user's token works: %v", err)
	}
	if err := u.Add(ctx, "ed", "long enough pw", "editor", nil); !errors.Is(err, ErrUserExists) {
		t.Errorf("login of a disabled user reused: %v", err)
	}
}

func TestLoginCSRF(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	c := e.client()
	_, page := e.get(c, "/admin/login")
	tok := hidden(t, page, "csrf")
	creds := url.Values{"login": {"admin"}, "password": {testPassword}}
	resp, _ := e.post(c, "/admin/login", creds)
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("login without CSRF token: %d, want 403", resp.StatusCode)
	}
	// A token taken from another browser does not work either.
	other := e.client()
	creds.Set("csrf", tok)
	resp, _ = e.post(other, "/admin/login", creds)
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("login with another browser's token: %d", resp.StatusCode)
	}
	resp, _ = e.post(c, "/admin/login", creds)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/admin/" {
		t.Fatalf("login: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	var sc *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == sessionCookie {
			sc = ck
		}
	}
	if sc == nil || !sc.HttpOnly || sc.SameSite != http.SameSiteLaxMode {
		t.Fatalf("session cookie %+v", sc)
	}
	var n int
	e.db.QueryRow(`SELECT count(*) FROM sessions WHERE id_hash = ?`, sc.Value).Scan(&n)
	if n != 0 {
		t.Fatal("session id stored in clear")
	}
}

func TestAdminPostNeedsCSRF(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	c, csrf := e.login("admin")
	form := url.Values{"list": {"shimin-katsudo"}, "subject": {"件名"}, "body": {"本文"}}
	resp, _ := e.post(c, "/admin/issues", form)
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("POST without CSRF: %d, want 403", resp.StatusCode)
	}
	form.Set("csrf", "forged")
	if resp, _ = e.post(c, "/admin/issues", form); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("POST with forged CSRF: %d", resp.StatusCode)
	}
	form.Set("csrf", csrf)
	if resp, _ = e.post(c, "/admin/issues", form); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("POST with CSRF: %d", resp.StatusCode)
	}
	// Without a session a POST is refused, not redirected.
	if resp, _ = e.post(e.client(), "/admin/issues", form); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("POST without session: %d", resp.StatusCode)
	}
}

func TestSessionRotationAndExpiry(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	// A session id planted before login (fixation) is never kept.
	c := e.client()
	u, _ := url.Parse(e.http.URL)
	c.Jar.SetCookies(u, []*http.Cookie{{Name: sessionCookie, Value: "planted-by-an-attacker"}})
	_, page := e.get(c, "/admin/login")
	e.post(c, "/admin/login", url.Values{"csrf": {hidden(t, page, "csrf")}, "login": {"editor"}, "password": {testPassword}})
	var got string
	for _, ck := range c.Jar.Cookies(u) {
		if ck.Name == sessionCookie {
			got = ck.Value
		}
	}
	if got == "" || got == "planted-by-an-attacker" {
		t.Fatalf("session id not rotated at login: %q", got)
	}
	if resp, _ := e.get(c, "/admin/"); resp.StatusCode != http.StatusOK {
		t.Fatalf("logged in: %d", resp.StatusCode)
	}
	// Idle expiry.
	e.clock.Add(3 * time.Hour)
	resp, _ := e.get(c, "/admin/")
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/admin/login" {
		t.Fatalf("idle session still valid: %d", resp.StatusCode)
	}
	// Logout ends the session.
	c3, csrf3 := e.login("viewer")
	e.post(c3, "/admin/logout", url.Values{"csrf": {csrf3}})
	if resp, _ := e.get(c3, "/admin/"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("after logout: %d", resp.StatusCode)
	}
}

func TestSessionAbsoluteExpiry(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	c, _ := e.login("viewer")
	for range 13 { // active every hour, but 12 h is the limit
		e.clock.Add(time.Hour)
		e.get(c, "/admin/")
	}
	if resp, _ := e.get(c, "/admin/"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("session older than 12 h still valid: %d", resp.StatusCode)
	}
}

func TestLoginThrottle(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	c := e.client()
	_, page := e.get(c, "/admin/login")
	tok := hidden(t, page, "csrf")
	try := func(pw string) int {
		resp, _ := e.post(c, "/admin/login", url.Values{"csrf": {tok}, "login": {"editor"}, "password": {pw}})
		return resp.StatusCode
	}
	for i := range 5 {
		if code := try("wrong"); code != http.StatusUnauthorized {
			t.Fatalf("failure %d: %d", i, code)
		}
	}
	if code := try(testPassword); code != http.StatusTooManyRequests {
		t.Fatalf("after 5 failures the right password got %d, want 429", code)
	}
	e.clock.Add(16 * time.Minute)
	if code := try(testPassword); code != http.StatusSeeOther {
		t.Fatalf("after the window: %d", code)
	}
	var n int
	e.db.QueryRow(`SELECT count(*) FROM audit_log WHERE action = 'login.failed'`).Scan(&n)
	if n != 5 {
		t.Fatalf("audit has %d failed logins", n)
	}
}

func TestLoginThrottlePerIP(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	c := e.client()
	_, page := e.get(c, "/admin/login")
	tok := hidden(t, page, "csrf")
	for i := range 20 {
		resp, _ := e.post(c, "/admin/login", url.Values{"csrf": {tok}, "login": {"nobody" + string(rune('a'+i))}, "password": {"x"}})
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("try %d: %d", i, resp.StatusCode)
		}
	}
	resp, _ := e.post(c, "/admin/login", url.Values{"csrf": {tok}, "login": {"admin"}, "password": {testPassword}})
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("21st try from one IP: %d", resp.StatusCode)
	}
}

func TestAuditLogRecordsChanges(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	c, csrf := e.login("editor")
	e.post(c, "/admin/issues", url.Values{"csrf": {csrf}, "list": {"shimin-katsudo"}, "subject": {"号外"}, "body": {"本文"}})
	a, _ := e.login("admin")
	_, body := e.get(a, "/admin/audit")
	for _, want := range []string{"配信号の作成", "editor", "配信号 #1", "メールマガジン: 市民活動総合センター", "127.0.0.1"} {
		if !strings.Contains(body, want) {
			t.Errorf("audit page lacks %q", want)
		}
	}
}
