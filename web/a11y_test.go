package web

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/chromedp/chromedp"

	"kawaraban/issues"
)

// axeOrE2E is axeScript (browser_reports_test.go), falling back to where
// e2e/run.sh installs axe-core; the test skips without either.
func axeOrE2E(t *testing.T) string {
	t.Helper()
	if os.Getenv("KAWARABAN_AXE") != "" {
		return axeScript(t)
	}
	b, err := os.ReadFile(filepath.Join("..", "e2e", "node_modules", "axe-core", "axe.min.js"))
	if err != nil {
		return axeScript(t)
	}
	return string(b)
}

// TestBrowserAccessibility runs axe-core (WCAG 2.1 A and AA) on the pages
// issue 21 added or changed, in Japanese, and fails on any serious or
// critical violation.
func TestBrowserAccessibility(t *testing.T) {
	axe := axeOrE2E(t)
	if axe == "" {
		t.Skip("no axe-core")
	}
	e := newEnv(t, nil)
	pageWalk(t, e) // seeds the data the pages show
	jis, err := e.issues.Create(t.Context(), issues.Draft{ListID: 2, Subject: "講座①のご案内", BodyMarkdown: "髙橋様\n\n㈱京都", Author: "admin"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := browser(t)
	u := e.http.URL
	if err := chromedp.Do(ctx, loginAs(u, "admin")); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{
		"/subscribe", "/archive", "/privacy", "/archive/shimin-katsudo", "/confirm/" + e.subs.mails[len(e.subs.mails)-1],
		"/admin/issues/" + strconv.FormatInt(jis.ID, 10), "/admin/issues/new?list=kankyo-hozen", "/admin/bounces", "/admin/subscribers/3?list=kankyo-hozen",
		"/admin/audit", "/admin/settings", "/admin/local/mail", "/admin/progress", "/admin/schedules", "/admin/users", "/admin/account",
		"/admin/lists", "/admin/lists/new", "/admin/lists/kankyo-hozen",
	} {
		if err := chromedp.Do(ctx, chromedp.Navigate(u+path), chromedp.WaitVisible(chromedp.ID("main"))); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		checkAxe(t, ctx, axe, path)
	}
}
