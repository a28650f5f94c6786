package web

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowserJointIssueAndDuplicate: issue 17 in Chromium over the real
// domain. An admin composes a joint issue of two centers (the live
// preview's footer names both), saves it, sees both lists on the issue
// page, and duplicates it into a new draft; then, on a phone, the compose
// page's one send-time control.
func TestBrowserJointIssueAndDuplicate(t *testing.T) {
	e := newRealEnv(t)
	ctx := browser(t)
	dir := artifacts(t)
	u := e.http.URL
	must := steps(t, ctx)
	must("login", loginAs(u, "admin"))
	must("compose",
		chromedp.Navigate(u+"/admin/issues/new?list=kankyo-hozen"),
		chromedp.WaitVisible(chromedp.ID("joint-lists")),
		chromedp.Click(chromedp.CSS(`input[name="lists"][value="shimin-katsudo"]`)),
		chromedp.SendKeys(chromedp.ID("subject"), "二つのセンターの合同講座"),
		chromedp.SendKeys(chromedp.ID("body"), "{{ .Name }}様\n\n環境と市民活動の合同講座を開きます。"),
	)
	text, err := chromedp.Run(ctx, chromedp.Poll[string](
		`(document.getElementById("preview-text").textContent.includes("共同発行") && document.getElementById("preview-text").textContent)`,
		chromedp.WithPollingTimeout(20*time.Second)))
	if err != nil {
		t.Fatalf("the live preview never showed the joint footer: %v", err)
	}
	if !strings.Contains(text, "環境保全センター") || !strings.Contains(text, "市民活動") {
		t.Errorf("joint footer %q does not name both lists", text)
	}
	shot(t, ctx, dir, "admin-joint-compose.png")

	must("save", chromedp.Click(chromedp.ID("save")), chromedp.WaitVisible(chromedp.ID("duplicate")))
	lists, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("issue-lists")))
	if err != nil || !strings.Contains(lists, "・") {
		t.Errorf("issue page names lists %q (%v), want both", lists, err)
	}
	first, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`location.pathname`))
	shot(t, ctx, dir, "admin-joint-issue.png")

	must("duplicate", chromedp.Click(chromedp.ID("duplicate")), chromedp.WaitVisible(chromedp.CSS(`.flash, [role="status"]`)))
	second, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`location.pathname`))
	if second == first || !strings.HasPrefix(second, "/admin/issues/") {
		t.Fatalf("duplicate stayed on %q (was %q)", second, first)
	}
	subject, err := chromedp.Run(ctx, chromedp.Value(chromedp.ID("subject")))
	if err != nil || subject != "二つのセンターの合同講座" {
		t.Errorf("the copy's subject %q (%v)", subject, err)
	}
	lists2, _ := chromedp.Run(ctx, chromedp.Text(chromedp.ID("issue-lists")))
	if lists2 != lists {
		t.Errorf("the copy goes to %q, the original to %q", lists2, lists)
	}
	shot(t, ctx, dir, "admin-duplicate.png")

	// The second list's issues show both, marked joint.
	must("second list's issues", chromedp.Navigate(u+"/admin/issues?list=shimin-katsudo"), chromedp.WaitVisible(chromedp.ID("main")))
	badges, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("table .badge").length`))
	if err != nil || badges != 2 {
		t.Errorf("%d joint badges on the second list's issues (%v), want 2", badges, err)
	}
	shot(t, ctx, dir, "admin-joint-issues-list.png")

	must("phone", chromedp.EmulateViewport(390, 844),
		chromedp.Navigate(u+"/admin/issues/new?list=shimin-katsudo"), chromedp.WaitVisible(chromedp.ID("schedule")))
	n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('input[type="datetime-local"]').length`))
	if err != nil || n != 1 {
		t.Errorf("%d send-time controls on the compose page (%v), want 1", n, err)
	}
	shot(t, ctx, dir, "admin-compose-phone.png")
}
