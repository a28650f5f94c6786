package web

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// axeScript returns axe-core's source from $KAWARABAN_AXE (e2e/run.sh
// installs it), or skips the accessibility checks (fails under
// KAWARABAN_REQUIRE_ALL=1) when it is not there.
func axeScript(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(os.Getenv("KAWARABAN_AXE"))
	if err != nil {
		if os.Getenv("KAWARABAN_REQUIRE_ALL") == "1" {
			t.Fatalf("KAWARABAN_AXE=%q: axe-core is required: %v", os.Getenv("KAWARABAN_AXE"), err)
		}
		t.Logf("no axe-core (KAWARABAN_AXE=%q): accessibility checks skipped", os.Getenv("KAWARABAN_AXE"))
		return ""
	}
	return string(b)
}

// checkAxe runs axe-core (WCAG 2.1 A and AA, best practice) on the page
// and fails on serious or critical violations.
func checkAxe(t *testing.T, ctx context.Context, axe, name string) {
	t.Helper()
	if axe == "" {
		return
	}
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](axe+"\n;typeof axe === 'object'")); err != nil {
		t.Fatalf("injecting axe-core into %s: %v", name, err)
	}
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[string](`axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']}})
		.then(r => JSON.stringify(r.violations.map(v => ({id: v.id, impact: v.impact || '', help: v.help,
			nodes: v.nodes.slice(0, 5).map(n => n.target.join(' '))}))))`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("running axe-core on %s: %v", name, err)
	}
	var vs []struct {
		ID, Impact, Help string
		Nodes            []string
	}
	if err := json.Unmarshal([]byte(raw), &vs); err != nil {
		t.Fatal(err)
	}
	serious := 0
	for _, v := range vs {
		msg := fmt.Sprintf("axe-core on %s: %s (%s): %s at %v", name, v.ID, v.Impact, v.Help, v.Nodes)
		if v.Impact == "serious" || v.Impact == "critical" {
			serious++
			t.Error(msg)
		} else {
			t.Log(msg)
		}
	}
	t.Logf("axe-core on %s: %d violations, %d serious or critical", name, len(vs), serious)
}

// TestBrowserProgressReports: a bureau fills in its report on a phone, the
// coordinator publishes, and the public pages are looked at on a phone, a
// desktop and in print — screenshots of each, axe-core on each.
func TestBrowserProgressReports(t *testing.T) {
	e := newEnv(t, nil)
	link := e.reportLink(t)
	ctx := browser(t)
	axe := axeScript(t)
	dir := artifacts(t)
	u := e.http.URL
	must := steps(t, ctx)
	must("report form on a phone",
		chromedp.EmulateViewport(390, 844),
		chromedp.Navigate(u+link),
		chromedp.WaitVisible(chromedp.ID("send-report")),
	)
	checkAxe(t, ctx, axe, "report form")
	must("fill in",
		chromedp.Click(chromedp.ID("status-32-1-ongoing")),
		chromedp.SendKeys(chromedp.ID("note-32-1"), "職員研修を年3回開きました。\n次年度はオンラインでも開きます。"),
		chromedp.SendKeys(chromedp.ID("link-32-1"), "https://www.city.kyoto.lg.jp/somu/kenshu.html"),
		chromedp.Click(chromedp.ID("status-32-2-preparing")),
		chromedp.SendKeys(chromedp.ID("note-32-2"), "講師と会場を調整しています。"),
	)
	shot(t, ctx, dir, "progress-report-form-phone.png")
	must("send", chromedp.Click(chromedp.ID("send-report")), chromedp.WaitVisible(chromedp.ID("submitted-at")))
	shot(t, ctx, dir, "progress-report-saved-phone.png")
	checkAxe(t, ctx, axe, "report form after saving")

	// A second bureau reports a delay, then the coordinator publishes all.
	kikaku, err := e.reports().SubmittedURL(context.Background(), "fy2026-status", "sogo-kikaku")
	if err != nil {
		t.Fatal(err)
	}
	kikakuPath := strings.TrimPrefix(kikaku, "http://kawaraban.test")
	must("second bureau",
		chromedp.Navigate(u+kikakuPath),
		chromedp.WaitVisible(chromedp.ID("send-report")),
		chromedp.Click(chromedp.ID("status-35-1-delayed")),
		chromedp.SendKeys(chromedp.ID("note-35-1"), "印刷の入札が不調となり、発行を2か月遅らせます。"),
		chromedp.Click(chromedp.ID("send-report")),
		chromedp.WaitVisible(chromedp.ID("submitted-at")),
	)
	if _, err := e.reports().Publish(context.Background(), "fy2026-status", "", "coord"); err != nil {
		t.Fatal(err)
	}

	for _, v := range []struct {
		name string
		w, h int64
	}{{"phone", 390, 844}, {"desktop", 1280, 900}} {
		must("/progress on a "+v.name,
			chromedp.EmulateViewport(v.w, v.h),
			chromedp.Navigate(u+"/progress"),
			chromedp.WaitVisible(chromedp.ID("project-32-1")),
		)
		text, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("main")))
		if err != nil || !strings.Contains(text, "職員研修を年3回開きました。") || !strings.Contains(text, "遅れ・見直し") {
			t.Fatalf("/progress on a %s: %q %v", v.name, text, err)
		}
		wide, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth`))
		if err != nil || wide {
			t.Errorf("/progress on a %s scrolls sideways (%v)", v.name, err)
		}
		shot(t, ctx, dir, "progress-public-"+v.name+".png")
		checkAxe(t, ctx, axe, "/progress on a "+v.name)
	}
	must("measure page in English", chromedp.Navigate(u+"/progress/32?lang=en"), chromedp.WaitVisible(chromedp.ID("project-32-1")))
	shot(t, ctx, dir, "progress-measure-32-en-desktop.png")
	checkAxe(t, ctx, axe, "/progress/32 in English")

	// Print: no language switch, no links bar; the reports stay.
	if _, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: "print"}); err != nil {
		t.Fatal(err)
	}
	must("print", chromedp.Navigate(u+"/progress?lang=ja"), chromedp.WaitVisible(chromedp.ID("project-32-1")))
	hidden, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`getComputedStyle(document.querySelector(".langs")).display === "none" &&
		getComputedStyle(document.querySelector(".noprint")).display === "none"`))
	if err != nil || !hidden {
		t.Errorf("print styles do not hide the page furniture (%v)", err)
	}
	shot(t, ctx, dir, "progress-public-print.png")
	if _, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{}); err != nil {
		t.Fatal(err)
	}

	// The coordinator's review page, on a desktop.
	must("admin login page",
		chromedp.EmulateViewport(1280, 900),
		chromedp.Navigate(u+"/admin/login"),
		chromedp.WaitVisible(chromedp.ID("login")),
	)
	must("admin login",
		chromedp.SendKeys(chromedp.ID("login"), "coord"),
		chromedp.SendKeys(chromedp.ID("password"), testPassword),
		chromedp.Click(chromedp.ID("login-button")),
		chromedp.WaitVisible(chromedp.CSS("nav.side")),
	)
	must("review page",
		chromedp.Navigate(u+"/admin/progress/reports"),
		chromedp.WaitVisible(chromedp.ID("publish-fy2026-status")),
	)
	shot(t, ctx, dir, "admin-progress-reports.png")
	checkAxe(t, ctx, axe, "/admin/progress/reports")
	must("a bureau's report by hand", chromedp.Navigate(u+"/admin/progress/reports/fy2026-status/somu"), chromedp.WaitVisible(chromedp.ID("history")))
	shot(t, ctx, dir, "admin-progress-report-somu.png")
	checkAxe(t, ctx, axe, "/admin/progress/reports/{deadline}/{bureau}")
}
