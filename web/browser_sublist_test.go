package web

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowserSubscriberList walks the subscriber list as an editor over
// the real store (issue 17): the counts per status, a status filter, the
// all-my-lists view, ticking two subscribers and unsubscribing them
// through the confirmation step; then the page on a phone and in English.
// Screenshots: subscribers-*.png in $KAWARABAN_ARTIFACTS.
func TestBrowserSubscriberList(t *testing.T) {
	e := newRealEnv(t)
	seedSubscriberList(t, e, 8)
	axe := axeOrE2E(t)
	ctx := browser(t)
	dir := artifacts(t)
	u := e.http.URL
	must := steps(t, ctx)
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("reading %s: %v", sel, err)
		}
		return strings.TrimSpace(s)
	}
	must("login", loginAs(u, "editor"))
	must("list page", chromedp.Navigate(u+"/admin/subscribers?list=shimin-katsudo"), chromedp.WaitVisible(chromedp.ID("bulk")))
	if got := text("#count-confirmed"); got != "8" {
		t.Errorf("confirmed count %q, want 8", got)
	}
	shot(t, ctx, dir, "subscribers-list.png")
	if axe != "" {
		checkAxe(t, ctx, axe, "/admin/subscribers?list=shimin-katsudo")
	}

	must("search", chromedp.SetValue(chromedp.ID("q"), "p00"), chromedp.Click(chromedp.CSS(`#filter button[type="submit"]`)),
		chromedp.WaitReady(chromedp.CSS(`#bulk input[name="q"][value="p00"]`)))
	must("tick two", chromedp.Click(chromedp.CSS(`tbody tr:nth-child(1) input[name="id"]`)),
		chromedp.Click(chromedp.CSS(`tbody tr:nth-child(2) input[name="id"]`)),
		chromedp.SetValue(chromedp.ID("action"), "unsubscribe"),
	)
	shot(t, ctx, dir, "subscribers-ticked.png")
	must("ask", chromedp.Click(chromedp.CSS(`button[name="scope"][value="selected"]`)), chromedp.WaitVisible(chromedp.ID("bulk-confirm")))
	if got := text("#bulk-count"); got != "2" {
		t.Errorf("confirmation count %q, want 2", got)
	}
	shot(t, ctx, dir, "subscribers-bulk-confirm.png")
	if axe != "" {
		checkAxe(t, ctx, axe, "bulk confirmation")
	}
	must("confirm", chromedp.SendKeys(chromedp.ID("reason"), "本人から電話で依頼"),
		chromedp.Click(chromedp.CSS(`#bulk-confirm button[type="submit"]`)), chromedp.WaitVisible(chromedp.ID("bulk-changed")))
	if got := text("#bulk-changed"); got != "2" {
		t.Errorf("changed %q, want 2", got)
	}
	shot(t, ctx, dir, "subscribers-bulk-done.png")

	must("select the page", chromedp.Navigate(u+"/admin/subscribers?list=shimin-katsudo&status=confirmed"),
		chromedp.WaitVisible(chromedp.ID("select-page")), chromedp.Click(chromedp.ID("select-page")))
	if n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('#bulk input[name="id"]:checked').length`)); err != nil || n != 6 {
		t.Errorf("select the page ticked %d (%v), want the 6 confirmed", n, err)
	}
	must("filter unsubscribed", chromedp.Navigate(u+"/admin/subscribers?list=shimin-katsudo"), chromedp.WaitVisible(chromedp.ID("bulk")),
		chromedp.Click(chromedp.CSS(`a[href*="status=unsubscribed"]`)),
		chromedp.WaitVisible(chromedp.CSS(`a[aria-current="page"][href*="status=unsubscribed"]`)))
	if got := text("#count-unsubscribed"); got != "2" {
		t.Errorf("unsubscribed count %q, want 2", got)
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.querySelectorAll("#bulk tbody tr").length === 2`,
		chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		t.Errorf("status filter shows %q, want the two unsubscribed (%v)", text("#bulk tbody"), err)
	}
	shot(t, ctx, dir, "subscribers-unsubscribed.png")

	must("all my lists", chromedp.Navigate(u+"/admin/subscribers?list=*"), chromedp.WaitVisible(chromedp.CSS("ul.tabs")))
	if body := text("main"); strings.Contains(body, "other1@example.jp") {
		t.Error("all my lists shows another center's subscriber")
	}
	shot(t, ctx, dir, "subscribers-all-lists.png")
	if axe != "" {
		checkAxe(t, ctx, axe, "/admin/subscribers?list=*")
	}

	must("phone", chromedp.EmulateViewport(390, 844), chromedp.Navigate(u+"/admin/subscribers?list=shimin-katsudo"),
		chromedp.WaitVisible(chromedp.ID("bulk")))
	shot(t, ctx, dir, "subscribers-phone.png")
	must("english", chromedp.EmulateViewport(1024, 900), chromedp.Navigate(u+"/admin/subscribers?list=shimin-katsudo&lang=en"),
		chromedp.WaitVisible(chromedp.ID("bulk")))
	if got := text(`button[name="scope"][value="filter"]`); !strings.Contains(got, "everyone this filter shows") {
		t.Errorf("English button %q", got)
	}
	shot(t, ctx, dir, "subscribers-en.png")
}
