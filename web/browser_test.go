package web

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

const chromiumPath = "/usr/bin/chromium"

// browser starts headless Chromium, or skips (fails under
// KAWARABAN_REQUIRE_ALL=1) when it is not installed.
func browser(t *testing.T) context.Context {
	t.Helper()
	if _, err := exec.LookPath(chromiumPath); err != nil {
		if os.Getenv("KAWARABAN_REQUIRE_ALL") == "1" {
			t.Fatalf("%s is required: apt-get install -y chromium fonts-ipafont-gothic", chromiumPath)
		}
		t.Skipf("no %s: apt-get install -y chromium fonts-ipafont-gothic", chromiumPath)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-quic", true),
		chromedp.WindowSize(1024, 900),
	)
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	ctx, cancelT := context.WithTimeout(ctx, 120*time.Second)
	t.Cleanup(func() { cancelT(); cancel(); cancelA() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting chromium: %v", err)
	}
	return ctx
}

// artifacts is where screenshots go: $KAWARABAN_ARTIFACTS or a temp dir.
func artifacts(t *testing.T) string {
	dir := os.Getenv("KAWARABAN_ARTIFACTS")
	if dir == "" {
		return t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

func shot(t *testing.T, ctx context.Context, dir, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// steps returns a function that runs a named step's actions in the
// browser and stops the test when one fails.
func steps(t *testing.T, ctx context.Context) func(step string, actions ...chromedp.Action[chromedp.Void]) {
	return func(step string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			t.Fatalf("%s: %v", step, err)
		}
	}
}

// loginAs signs in as login on the admin login page of the server at u
// and waits for the dashboard's list cards.
func loginAs(u, login string) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(
		chromedp.Navigate(u+"/admin/login"),
		chromedp.WaitVisible(chromedp.ID("login")),
		chromedp.SendKeys(chromedp.ID("login"), login),
		chromedp.SendKeys(chromedp.ID("password"), testPassword),
		chromedp.Click(chromedp.ID("login-button")),
		chromedp.WaitVisible(chromedp.CSS(".list-card")),
	)
}

func TestBrowserComposePreviewSend(t *testing.T) {
	fd := &fakeDeliveries{}
	e := newEnv(t, func(o *Options) { o.Deliveries = fd })
	fd.issues, e.issues.async = e.issues, true
	for _, a := range []string{"a@example.jp", "b@example.jp", "c@example.jp"} {
		e.subs.Subscribe(t.Context(), SubscribeRequest{Email: a, Lists: []string{"shimin-katsudo"}})
	}
	for _, m := range e.subs.mails {
		e.subs.Confirm(t.Context(), m, Evidence{})
	}
	ctx := browser(t)
	dir := artifacts(t)
	u := e.http.URL

	must := steps(t, ctx)
	must("login",
		chromedp.Navigate(u+"/admin/login"),
		chromedp.WaitVisible(chromedp.ID("login")),
		chromedp.SendKeys(chromedp.ID("login"), "editor"),
		chromedp.SendKeys(chromedp.ID("password"), testPassword),
	)
	shot(t, ctx, dir, "admin-login.png")
	must("submit login", chromedp.Click(chromedp.ID("login-button")), chromedp.WaitVisible(chromedp.CSS(".list-card")))

	must("compose",
		chromedp.Navigate(u+"/admin/issues/new?list=shimin-katsudo"),
		chromedp.WaitVisible(chromedp.ID("subject")),
		chromedp.SendKeys(chromedp.ID("subject"), "12月号 市民活動のお知らせ"),
		chromedp.SendKeys(chromedp.ID("body"), "{{ .Name }}さん、こんにちは。\n\n今月の講座のご案内です。"),
	)
	text, err := chromedp.Run(ctx, chromedp.Poll[string](
		`(document.getElementById("preview-text").textContent.includes("見本 太郎") && document.getElementById("preview-text").textContent)`,
		chromedp.WithPollingTimeout(20*time.Second)))
	if err != nil {
		t.Fatalf("live preview never showed the personalised text: %v", err)
	}
	if !strings.Contains(text, "今月の講座") {
		t.Fatalf("preview text %q", text)
	}
	srcdoc, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById("preview-html").srcdoc`))
	if err != nil || !strings.Contains(srcdoc, "見本 太郎") {
		t.Fatalf("HTML preview %q %v", srcdoc, err)
	}
	shot(t, ctx, dir, "admin-compose-preview.png")

	must("save", chromedp.Click(chromedp.ID("save")), chromedp.WaitVisible(chromedp.ID("send-now")))
	// Issue 14: 今すぐ配信 asks first, with the recipient count.
	must("send", chromedp.Click(chromedp.ID("send-now")), chromedp.WaitVisible(chromedp.ID("confirm-send")))
	count, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("confirm-count")))
	if err != nil || !strings.Contains(count, "3件") {
		t.Errorf("confirmation says %q, want the recipient count", count)
	}
	must("confirm", chromedp.Click(chromedp.ID("confirm-send")), chromedp.WaitVisible(chromedp.CSS(`#progress[data-status="sending"]`)))
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.getElementById("progress-bar").value === 100`,
		chromedp.WithPollingTimeout(30*time.Second))); err != nil {
		t.Fatalf("progress bar never reached 100%%: %v", err)
	}
	shot(t, ctx, dir, "admin-progress.png")

	must("dashboard", chromedp.Navigate(u+"/admin/"), chromedp.WaitVisible(chromedp.CSS(".list-card")))
	dash, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(".list-card")))
	if err != nil || !strings.Contains(dash, "12月号") || !strings.Contains(dash, "3") {
		t.Fatalf("dashboard %q %v", dash, err)
	}
	shot(t, ctx, dir, "admin-dashboard.png")
}

func TestBrowserSubscribeJourney(t *testing.T) {
	e := newEnv(t, nil)
	ctx := browser(t)
	dir := artifacts(t)
	u := e.http.URL
	must := steps(t, ctx)
	must("form",
		chromedp.Navigate(u+"/subscribe"),
		chromedp.WaitVisible(chromedp.ID("email")),
		chromedp.Click(chromedp.ID("list-kankyo-hozen")),
		chromedp.SendKeys(chromedp.ID("email"), "citizen@example.jp"),
		chromedp.SendKeys(chromedp.ID("name"), "京都 花子"),
	)
	shot(t, ctx, dir, "public-subscribe.png")
	// Keyboard first: the first Tab reaches the skip link, which is then
	// visible (focus styles), and it leads to the main content.
	must("tab", chromedp.Navigate(u+"/subscribe"), chromedp.WaitVisible(chromedp.ID("email")), chromedp.KeyEvent("\t"))
	first, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.activeElement.className + " " + document.activeElement.getAttribute("href")`))
	if err != nil || first != "skip #main" {
		t.Fatalf("first Tab focuses %q (%v), want the skip link", first, err)
	}
	shot(t, ctx, dir, "public-skip-link.png")
	must("refill",
		chromedp.Click(chromedp.ID("list-kankyo-hozen")),
		chromedp.SendKeys(chromedp.ID("email"), "citizen@example.jp"),
	)
	must("subscribe", chromedp.Click(chromedp.ID("subscribe")), chromedp.WaitVisible(chromedp.ID("thanks")))
	shot(t, ctx, dir, "public-thanks.png")
	if len(e.subs.mails) != 1 {
		t.Fatalf("%d confirmation mails", len(e.subs.mails))
	}
	must("confirm page", chromedp.Navigate(u+"/confirm/"+e.subs.mails[0]), chromedp.WaitVisible(chromedp.ID("confirm")))
	if got := e.subs.status("citizen@example.jp", "kankyo-hozen"); got != "unconfirmed" {
		t.Fatalf("opening the confirm page changed the status to %q", got)
	}
	must("confirm", chromedp.Click(chromedp.ID("confirm")), chromedp.WaitVisible(chromedp.ID("confirmed")))
	shot(t, ctx, dir, "public-confirmed.png")
	must("preferences", chromedp.Navigate(u+"/preferences/"+e.subs.prefsToken(0)), chromedp.WaitVisible(chromedp.ID("save")))
	shot(t, ctx, dir, "public-preferences.png")
	must("unsubscribe page", chromedp.Navigate(u+"/unsubscribe/"+e.subs.unsubToken(0, 2)), chromedp.WaitVisible(chromedp.ID("unsubscribe")))
	if got := e.subs.status("citizen@example.jp", "kankyo-hozen"); got != "confirmed" {
		t.Fatalf("opening the unsubscribe page changed the status to %q", got)
	}
	shot(t, ctx, dir, "public-unsubscribe.png")
	must("unsubscribe", chromedp.Click(chromedp.ID("unsubscribe")), chromedp.WaitVisible(chromedp.ID("unsubscribed")))
	shot(t, ctx, dir, "public-unsubscribed.png")
	if got := e.subs.status("citizen@example.jp", "kankyo-hozen"); got != "unsubscribed" {
		t.Fatalf("after the button: %q", got)
	}
	// English, on a phone-sized window.
	must("english", chromedp.EmulateViewport(390, 844), chromedp.Navigate(u+"/subscribe?lang=en"), chromedp.WaitVisible(chromedp.ID("email")))
	shot(t, ctx, dir, "public-subscribe-en-mobile.png")
}

// TestBrowserAdminPages opens every admin page as an admin, in Japanese and
// English, on a tablet-sized window, and keeps a screenshot of each.
func TestBrowserAdminPages(t *testing.T) {
	e := newEnv(t, nil)
	e.seedIssues()
	ctx := browser(t)
	dir := artifacts(t)
	u := e.http.URL
	if err := chromedp.Do(ctx,
		chromedp.EmulateViewport(820, 1180), // a tablet held upright
		loginAs(u, "admin"),
	); err != nil {
		t.Fatal(err)
	}
	for _, p := range []struct{ name, path string }{
		{"issues", "/admin/issues?list=shimin-katsudo"}, {"issue", "/admin/issues/1"},
		{"subscribers", "/admin/subscribers?list=chonai"}, {"bounces", "/admin/bounces"},
		{"schedules", "/admin/schedules"}, {"progress", "/admin/progress"}, {"users", "/admin/users"},
		{"audit", "/admin/audit"}, {"settings", "/admin/settings"}, {"account", "/admin/account"},
		{"dashboard-en", "/admin/?lang=en"},
	} {
		if err := chromedp.Do(ctx, chromedp.Navigate(u+p.path), chromedp.WaitVisible(chromedp.ID("main"))); err != nil {
			t.Fatalf("%s: %v", p.path, err)
		}
		// The error page is the one with a status number under its heading.
		isError, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.querySelector("main p.status") !== null`))
		if err != nil || isError {
			t.Fatalf("%s: an error page (%v)", p.path, err)
		}
		shot(t, ctx, dir, "admin-"+p.name+".png")
	}
}
