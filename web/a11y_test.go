package web

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/chromedp/chromedp"
)

// axeScript finds axe-core: $KAWARABAN_AXE, or where e2e/run.sh installs
// it; the test skips without it (fails under KAWARABAN_REQUIRE_ALL=1).
func axeScript(t *testing.T) string {
	t.Helper()
	path := os.Getenv("KAWARABAN_AXE")
	if path == "" {
		path = filepath.Join("..", "e2e", "node_modules", "axe-core", "axe.min.js")
	}
	b, err := os.ReadFile(path)
	if err != nil {
		if os.Getenv("KAWARABAN_REQUIRE_ALL") == "1" {
			t.Fatalf("axe-core is required (e2e/run.sh installs it, or set KAWARABAN_AXE): %v", err)
		}
		t.Skipf("no axe-core (%v): e2e/run.sh installs it, or set KAWARABAN_AXE", err)
	}
	return string(b)
}

// TestBrowserAccessibility runs axe-core (WCAG 2.1 A and AA) on the pages
// issue 21 added or changed, in Japanese, and fails on any serious or
// critical violation.
func TestBrowserAccessibility(t *testing.T) {
	axe := axeScript(t)
	e := newEnv(t, nil)
	pageWalk(t, e) // seeds the data the pages show
	jis, err := e.issues.Create(t.Context(), Draft{ListID: 2, Subject: "講座①のご案内", BodyMarkdown: "髙橋様\n\n㈱京都", Author: "admin"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := browser(t)
	u := e.http.URL
	if err := chromedp.Do(ctx,
		chromedp.Navigate(u+"/admin/login"),
		chromedp.WaitVisible(chromedp.ID("login")),
		chromedp.SendKeys(chromedp.ID("login"), "admin"),
		chromedp.SendKeys(chromedp.ID("password"), testPassword),
		chromedp.Click(chromedp.ID("login-button")),
		chromedp.WaitVisible(chromedp.CSS(".list-card")),
	); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{
		"/subscribe", "/archive", "/privacy", "/archive/shimin-katsudo", "/confirm/" + e.subs.mails[len(e.subs.mails)-1],
		"/admin/issues/" + strconv.FormatInt(jis.ID, 10), "/admin/issues/new?list=kankyo-hozen", "/admin/bounces", "/admin/subscribers/3?list=kankyo-hozen",
		"/admin/audit", "/admin/settings", "/admin/local/mail", "/admin/progress", "/admin/schedules", "/admin/users", "/admin/account",
	} {
		if err := chromedp.Do(ctx, chromedp.Navigate(u+path), chromedp.WaitVisible(chromedp.ID("main"))); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](axe+"\n;typeof axe === 'object'")); err != nil {
			t.Fatalf("injecting axe-core into %s: %v", path, err)
		}
		raw, err := chromedp.Run(ctx, chromedp.Evaluate[string](`axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']}})
			.then(r => JSON.stringify(r.violations.map(v => ({id: v.id, impact: v.impact || '', help: v.help,
				nodes: v.nodes.slice(0, 5).map(n => n.target.join(' '))}))))`, chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatalf("running axe-core on %s: %v", path, err)
		}
		var vs []struct {
			ID, Impact, Help string
			Nodes            []string
		}
		if err := json.Unmarshal([]byte(raw), &vs); err != nil {
			t.Fatal(err)
		}
		for _, v := range vs {
			if v.Impact == "serious" || v.Impact == "critical" {
				t.Errorf("axe-core on %s: %s (%s): %s at %v", path, v.ID, v.Impact, v.Help, v.Nodes)
			} else {
				t.Logf("axe-core on %s: %s (%s): %s at %v", path, v.ID, v.Impact, v.Help, v.Nodes)
			}
		}
	}
}
