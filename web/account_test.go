package web

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"testing"
	"time"
)

// TestIssue15AccountPasswordCheckThrottled: the current-password check on
// /admin/account counts toward the same throttle as login, so a stolen
// session cannot guess the password (30 guesses in 0.93 s before).
func TestIssue15AccountPasswordCheckThrottled(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	c, csrf := e.login("editor")
	try := func(current string) int {
		resp, _ := e.post(c, "/admin/account", url.Values{"csrf": {csrf}, "email": {""},
			"current_password": {current}, "new_password": {"a brand new password"}})
		return resp.StatusCode
	}
	for i := range 5 {
		if code := try("wrong guess"); code != http.StatusUnprocessableEntity {
			t.Fatalf("guess %d: %d, want 422", i, code)
		}
	}
	if code := try(testPassword); code != http.StatusTooManyRequests {
		t.Fatalf("after 5 wrong guesses the right password got %d, want 429", code)
	}
	// Login is throttled by the same count.
	lc := e.client()
	_, page := e.get(lc, "/admin/login")
	if resp, _ := e.post(lc, "/admin/login", url.Values{"csrf": {hidden(t, page, "csrf")}, "login": {"editor"}, "password": {testPassword}}); resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("login after 5 wrong account guesses: %d, want 429", resp.StatusCode)
	}
	e.clock.Add(16 * time.Minute)
	if code := try(testPassword); code != http.StatusSeeOther {
		t.Fatalf("after the window: %d", code)
	}
}

// TestIssue15ForcedChangeRefusesSamePassword: a reset password must be
// replaced by another one; the admin's reset also revokes the user's API
// tokens.
func TestIssue15ForcedChangeRefusesSamePassword(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	ctx := context.Background()
	tok := e.bearer("editor")
	ac, acsrf := e.login("admin")
	const temp = "temporary password 1"
	if resp, _ := e.post(ac, "/admin/users/editor/password", url.Values{"csrf": {acsrf}, "password": {temp}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("admin reset: %d", resp.StatusCode)
	}
	if resp, _ := e.api("GET", "/api/v1/lists", tok, ""); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("API token after the admin's reset: %d, want 401", resp.StatusCode)
	}
	c := e.client()
	_, page := e.get(c, "/admin/login")
	e.post(c, "/admin/login", url.Values{"csrf": {hidden(t, page, "csrf")}, "login": {"editor"}, "password": {temp}})
	_, page = e.get(c, "/admin/account")
	csrf := hidden(t, page, "csrf")
	resp, _ := e.post(c, "/admin/account", url.Values{"csrf": {csrf}, "current_password": {temp}, "new_password": {temp}})
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("same password at the forced change: %d, want 422", resp.StatusCode)
	}
	if u, _ := e.users.ByLogin(ctx, "editor"); !u.MustChangePassword {
		t.Fatal("the forced change was satisfied by the same password")
	}
	resp, _ = e.post(c, "/admin/account", url.Values{"csrf": {csrf}, "current_password": {temp}, "new_password": {"my own new password"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("a new password: %d", resp.StatusCode)
	}
}

// TestIssue15TokensExpireListRevoke: API tokens may expire, are listed and
// revoked one by one, and all go with a password reset.
func TestIssue15TokensExpireListRevoke(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	ctx := context.Background()
	forever, err := e.users.CreateToken(ctx, "editor")
	if err != nil {
		t.Fatal(err)
	}
	brief, err := e.users.CreateTokenUntil(ctx, "editor", e.clock.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.users.CreateTokenUntil(ctx, "editor", e.clock.Now().Add(-time.Hour)); err == nil {
		t.Error("a token that expired before it was made")
	}
	for _, tok := range []string{forever, brief} {
		if _, err := e.users.ByToken(ctx, tok); err != nil {
			t.Fatalf("fresh token: %v", err)
		}
	}
	e.clock.Add(2 * time.Hour)
	if _, err := e.users.ByToken(ctx, brief); !errors.Is(err, ErrBadCredential) {
		t.Errorf("expired token: %v, want ErrBadCredential", err)
	}
	ts, err := e.users.Tokens(ctx, "editor")
	if err != nil || len(ts) != 2 || !ts[0].Expires.IsZero() || ts[1].Expires.IsZero() {
		t.Fatalf("Tokens = %+v, %v", ts, err)
	}
	if err := e.users.RevokeToken(ctx, "viewer", ts[0].ID); !errors.Is(err, ErrUnknownToken) {
		t.Errorf("revoking another user's token: %v", err)
	}
	if err := e.users.RevokeToken(ctx, "editor", ts[0].ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.users.ByToken(ctx, forever); !errors.Is(err, ErrBadCredential) {
		t.Errorf("revoked token: %v", err)
	}
	again, _ := e.users.CreateToken(ctx, "editor")
	pw, err := e.users.ResetPassword(ctx, "editor", "")
	if err != nil || len(pw) < 15 {
		t.Fatalf("ResetPassword = %q, %v", pw, err)
	}
	if _, err := e.users.ByToken(ctx, again); !errors.Is(err, ErrBadCredential) {
		t.Errorf("token after ResetPassword: %v", err)
	}
	if u, err := e.users.Authenticate(ctx, "editor", pw); err != nil || !u.MustChangePassword {
		t.Errorf("one-time password: %+v, %v", u, err)
	}
}
