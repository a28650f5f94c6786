package web

import (
	"context"
	"encoding/json"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"kawaraban/issues"
	"kawaraban/mailer"
	"kawaraban/subscribers"
)

// confirmedReader subscribes email to lists and confirms it through the
// real store; it returns the subscriber's id.
func (e *realEnv) confirmedReader(t *testing.T, email string, lists ...string) int64 {
	t.Helper()
	ctx := context.Background()
	if err := e.subs.Subscribe(ctx, SubscribeRequest{Email: email, Lists: lists, Source: "web"}); err != nil {
		t.Fatal(err)
	}
	tok, _ := strings.CutPrefix(e.mail.last(t).ConfirmURL, e.srv.opt.BaseURL+"/confirm/")
	res, err := e.subs.Confirm(ctx, tok, Evidence{IP: "192.0.2.7"})
	if err != nil {
		t.Fatal(err)
	}
	return res.SubscriberID
}

func (e *realEnv) auditDetail(t *testing.T, action, target string) string {
	t.Helper()
	var detail string
	if err := e.db.QueryRow(`SELECT detail FROM audit_log WHERE action = ? AND target = ? ORDER BY id DESC LIMIT 1`, action, target).Scan(&detail); err != nil {
		t.Errorf("no audit entry %s %s: %v", action, target, err)
	}
	return detail
}

// Issue 17: the subscriber page's actions over the real stores, with who
// may do what and the audit log.
func TestRealSubscriberPageActions(t *testing.T) {
	t.Parallel()
	e := newRealEnv(t)
	ctx := t.Context()
	both := e.confirmedReader(t, "hanako@example.jp", "shimin-katsudo", "kankyo-hozen")
	other := e.confirmedReader(t, "jiro@example.jp", "kankyo-hozen")
	if err := e.subs.Suppress(ctx, "hanako@example.jp", subscribers.ReasonManual, "電話で停止希望"); err != nil {
		t.Fatal(err)
	}
	page := func(id int64) string { return "/admin/subscribers/" + strconv.FormatInt(id, 10) }
	admin, acsrf := e.login("admin")
	editor, ecsrf := e.login("editor") // shimin-katsudo only

	resp, body := e.get(admin, page(both))
	for _, want := range []string{"hanako@example.jp", "市民活動総合センター", "環境保全センター", "担当者が手動で停止", `id="erase-form"`} {
		if resp.StatusCode != 200 || !strings.Contains(body, want) {
			t.Fatalf("admin's page lacks %q (%d)", want, resp.StatusCode)
		}
	}
	// The editor sees its own list, not the other center's, and may not
	// erase a reader who is on the other center's list too.
	resp, body = e.get(editor, page(both))
	if resp.StatusCode != 200 || strings.Contains(body, "環境保全センター") || strings.Contains(body, `id="erase-form"`) || !strings.Contains(body, `id="erase-askadmin"`) {
		t.Fatalf("editor's page: %d", resp.StatusCode)
	}
	for _, p := range []string{page(other), page(9999)} {
		if resp, _ := e.get(editor, p); resp.StatusCode != 403 {
			t.Errorf("editor GET %s: %d, want 403 (no enumeration)", p, resp.StatusCode)
		}
	}
	if resp, _ := e.get(admin, page(9999)); resp.StatusCode != 404 {
		t.Errorf("admin GET of a missing subscriber: %d", resp.StatusCode)
	}
	form := func(csrf string, kv ...string) url.Values {
		v := url.Values{"csrf": {csrf}}
		for i := 0; i < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return v
	}
	for _, tc := range []struct {
		path string
		form url.Values
	}{
		{page(both) + "/erase", form(ecsrf, "reason", "x", "confirm", "hanako@example.jp")},
		{page(both) + "/unsubscribe", form(ecsrf, "list", "kankyo-hozen", "confirm", "yes")},
		{page(both) + "/unsuppress", form(ecsrf, "reason", "x")},
		{page(other) + "/profile", form(ecsrf, "name", "x")},
	} {
		if resp, _ := e.post(editor, tc.path, tc.form); resp.StatusCode != 403 {
			t.Errorf("editor POST %s: %d, want 403", tc.path, resp.StatusCode)
		}
	}

	// Edit, unsubscribe from one list (after a confirmation step).
	if resp, _ := e.post(editor, page(both)+"/profile", form(ecsrf, "name", "京都 花子", "attributes", "区=中京区\n年代=40代")); resp.StatusCode != 303 {
		t.Fatalf("edit: %d", resp.StatusCode)
	}
	if resp, body := e.post(editor, page(both)+"/profile", form(ecsrf, "attributes", "no equals sign")); resp.StatusCode != 422 || !strings.Contains(body, "項目=値") {
		t.Errorf("bad attributes: %d", resp.StatusCode)
	}
	if resp, body := e.post(editor, page(both)+"/unsubscribe", form(ecsrf, "list", "shimin-katsudo")); resp.StatusCode != 200 || !strings.Contains(body, `id="confirm-unsubscribe"`) {
		t.Fatalf("unsubscribe without confirming: %d", resp.StatusCode)
	}
	if resp, _ := e.post(editor, page(both)+"/unsubscribe", form(ecsrf, "list", "shimin-katsudo", "confirm", "yes")); resp.StatusCode != 303 {
		t.Fatalf("unsubscribe: %d", resp.StatusCode)
	}
	p, err := e.subs.Profile(ctx, both)
	if err != nil || p.Name != "京都 花子" || p.Attributes["年代"] != "40代" || p.Subscriptions[1].Status != "unsubscribed" {
		t.Fatalf("after edit and unsubscribe: %+v %v", p, err)
	}
	target := "subscriber:" + strconv.FormatInt(both, 10)
	if d := e.auditDetail(t, "subscriber.unsubscribe", target); d != "list shimin-katsudo" {
		t.Errorf("audit of the unsubscribe: %q", d)
	}

	// Unsuppress needs a reason, which the consent log and audit log keep.
	if resp, body := e.post(admin, page(both)+"/unsuppress", form(acsrf, "reason", " ")); resp.StatusCode != 422 || !strings.Contains(body, `value="京都 花子"`) {
		t.Errorf("unsuppress without a reason: %d (the page must keep the stored name in the edit form)", resp.StatusCode)
	}
	if resp, _ := e.post(admin, page(both)+"/unsuppress", form(acsrf, "reason", "本人から再開の申し出")); resp.StatusCode != 303 {
		t.Fatalf("unsuppress: %d", resp.StatusCode)
	}
	if _, body := e.get(admin, page(both)); !strings.Contains(body, "送信停止の解除") || !strings.Contains(body, "本人から再開の申し出") {
		t.Error("the consent log on the page does not show the lifted suppression and its reason")
	}
	if d := e.auditDetail(t, "subscriber.unsuppress", target); !strings.Contains(d, "本人から再開の申し出") {
		t.Errorf("audit of the unsuppress: %q", d)
	}

	// Erase: the address must be typed.
	if resp, _ := e.post(admin, page(both)+"/erase", form(acsrf, "reason", "削除依頼", "confirm", "someone@example.jp")); resp.StatusCode != 422 {
		t.Errorf("erase with the wrong address typed: %d", resp.StatusCode)
	}
	if resp, body := e.post(admin, page(both)+"/erase", form(acsrf, "reason", "本人から電話で削除依頼", "confirm", "Hanako@Example.jp")); resp.StatusCode != 200 || !strings.Contains(body, `id="erased"`) {
		t.Fatalf("erase: %d", resp.StatusCode)
	}
	if resp, _ := e.get(admin, page(both)); resp.StatusCode != 404 {
		t.Errorf("the erased subscriber's page: %d", resp.StatusCode)
	}
	if d := e.auditDetail(t, "subscriber.erase", target); !strings.Contains(d, "本人から電話で削除依頼") || strings.Contains(d, "hanako") {
		t.Errorf("audit of the erasure: %q", d)
	}
	// The audit log page says it in Japanese.
	_, body = e.get(admin, "/admin/audit")
	for _, want := range []string{"読者の個人情報の消去", "送信停止の解除", "読者の配信停止(担当者)", "読者のお名前・属性の編集",
		"読者 #" + strconv.FormatInt(both, 10), "理由: 本人から電話で削除依頼"} {
		if !strings.Contains(body, want) {
			t.Errorf("the audit log page lacks %q", want)
		}
	}
	if strings.Contains(body, "subscriber.") || strings.Contains(body, "reason") {
		t.Error("the Japanese audit log page shows an English code")
	}
}

// Issue 17: the subscriber API over the real stores.
func TestRealSubscriberAPI(t *testing.T) {
	t.Parallel()
	e := newRealEnv(t)
	id := e.confirmedReader(t, "api-reader@example.jp", "shimin-katsudo")
	path := "/api/v1/subscribers/" + strconv.FormatInt(id, 10)
	tok := e.bearer("editor")
	resp, body := e.api("PATCH", path, tok, `{"name":"読者","attributes":{"区":"左京区"}}`)
	var got struct {
		Email         string
		Name          string
		Attributes    map[string]string
		Subscriptions []struct{ List, Status string }
		Consent       []struct{ Event string }
	}
	if resp.StatusCode != 200 || json.Unmarshal([]byte(body), &got) != nil || got.Name != "読者" || got.Attributes["区"] != "左京区" {
		t.Fatalf("PATCH: %d %s", resp.StatusCode, body)
	}
	if len(got.Subscriptions) != 1 || got.Subscriptions[0].Status != "confirmed" || len(got.Consent) != 2 {
		t.Errorf("GET view: %s", body)
	}
	if resp, body := e.api("PATCH", path, tok, `{"attributes":{"":"x"}}`); resp.StatusCode != 422 {
		t.Errorf("bad attributes: %d %s", resp.StatusCode, body)
	}
	if resp, _ := e.api("PATCH", path, tok, `{"nickname":"x"}`); resp.StatusCode != 400 {
		t.Errorf("unknown field: %d", resp.StatusCode)
	}
	if resp, _ := e.api("POST", path+"/unsuppress", tok, `{"reason":"x"}`); resp.StatusCode != 409 {
		t.Errorf("unsuppress of an address not suppressed: %d", resp.StatusCode)
	}
	if resp, _ := e.api("DELETE", path, tok, `{}`); resp.StatusCode != 422 {
		t.Errorf("erase without a reason: %d", resp.StatusCode)
	}
	if resp, body := e.api("DELETE", path, tok, `{"reason":"削除依頼"}`); resp.StatusCode != 200 || !strings.Contains(body, `"shimin-katsudo"`) {
		t.Fatalf("DELETE: %d %s", resp.StatusCode, body)
	}
	if resp, _ := e.api("GET", path, e.bearer("admin"), ""); resp.StatusCode != 404 {
		t.Errorf("GET after erasing: %d", resp.StatusCode)
	}
	if resp, _ := e.api("GET", path, tok, ""); resp.StatusCode != 403 {
		t.Errorf("editor's GET after erasing: %d, want 403 (no enumeration)", resp.StatusCode)
	}
}

// Issue 17: the subscriber page and each action in Chromium on a phone,
// with screenshots.
func TestBrowserSubscriberPage(t *testing.T) {
	e := newRealEnv(t)
	id := e.confirmedReader(t, "yamada.hanako@example.jp", "shimin-katsudo", "kankyo-hozen")
	ctx := t.Context()
	if err := e.subs.UpdateProfile(ctx, id, "山田 花子", map[string]string{"区": "中京区"}); err != nil {
		t.Fatal(err)
	}
	// An issue in the outbox and a refusal of it: a delivery and a bounce
	// (which suppresses the address) to show.
	is, err := e.iss.Create(ctx, issues.Draft{ListID: e.listID(t, "shimin-katsudo"), Subject: "12月号 市民活動のお知らせ", BodyMarkdown: "本文", Author: "editor"})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.dom.Sending.SendNow(ctx, is.ID, issues.Actor{Login: "editor"}); err != nil {
		t.Fatal(err)
	}
	if err := e.dom.Sending.StartDue(ctx); err != nil {
		t.Fatal(err)
	}
	d, ok, err := e.dom.Mailer.DeliveryByID(ctx, 1)
	if err != nil || !ok {
		t.Fatalf("delivery 1: %v", err)
	}
	if err := e.dom.Attribution.RecordSendFailure(ctx, d, &mailer.Error{Code: 550, Enhanced: "5.1.1",
		Text: "<yamada.hanako@example.jp>: Recipient address rejected: User unknown"}); err != nil {
		t.Fatal(err)
	}
	if sup, _ := e.subs.IsSuppressed(ctx, "yamada.hanako@example.jp"); !sup {
		t.Fatal("the hard bounce did not suppress the address")
	}
	bctx := browser(t)
	dir := artifacts(t)
	axe := axeOrE2E(t) // "" skips the accessibility checks below
	u := e.http.URL
	page := u + "/admin/subscribers/" + strconv.FormatInt(id, 10)
	do := steps(t, bctx)
	do("log in on a phone",
		chromedp.EmulateViewport(390, 844),
		loginAs(u, "admin"))
	do("the page", chromedp.Navigate(page), chromedp.WaitVisible(chromedp.ID("sub-email")), chromedp.WaitVisible(chromedp.ID("deliveries")))
	wide, err := chromedp.Run(bctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth + 1`))
	if err != nil || wide {
		t.Errorf("the page is wider than the phone's screen (%v)", err)
	}
	shot(t, bctx, dir, "subscriber-phone.png")
	checkAxe(t, bctx, axe, "subscriber page")

	do("edit the name",
		chromedp.Click(chromedp.CSS(`details summary`)),
		chromedp.WaitVisible(chromedp.ID("name")),
		chromedp.SetValue(chromedp.ID("name"), "山田 はなこ"),
		chromedp.Click(chromedp.ID("profile-save")),
		chromedp.WaitVisible(chromedp.CSS(".flash")))
	shot(t, bctx, dir, "subscriber-edited.png")

	do("unsubscribe from one list: the confirmation step",
		chromedp.Click(chromedp.ID("unsub-kankyo-hozen")),
		chromedp.WaitVisible(chromedp.ID("confirm-unsubscribe")))
	shot(t, bctx, dir, "subscriber-unsubscribe-confirm.png")
	checkAxe(t, bctx, axe, "unsubscribe confirmation")
	do("unsubscribe", chromedp.Click(chromedp.ID("confirm-unsubscribe")), chromedp.WaitVisible(chromedp.CSS(".flash")))

	do("unsuppress with a reason",
		chromedp.SendKeys(chromedp.ID("reason-0"), "本人から受信できると連絡あり"),
		chromedp.Click(chromedp.ID("unsuppress-0")),
		chromedp.WaitVisible(chromedp.ID("supp-none")))
	shot(t, bctx, dir, "subscriber-unsuppressed.png")

	do("erase: open the form, type the address",
		chromedp.Click(chromedp.CSS(`#erase-details summary`)),
		chromedp.WaitVisible(chromedp.ID("erase-reason")),
		chromedp.SendKeys(chromedp.ID("erase-reason"), "12月4日 本人から電話で削除依頼"),
		chromedp.SendKeys(chromedp.ID("erase-confirm"), "yamada.hanako@example.jp"),
		chromedp.ScrollIntoView(chromedp.ID("erase-button")))
	shot(t, bctx, dir, "subscriber-erase-form.png")
	checkAxe(t, bctx, axe, "erase form")
	do("erase", chromedp.Click(chromedp.ID("erase-button")), chromedp.WaitVisible(chromedp.ID("erased")))
	shot(t, bctx, dir, "subscriber-erased.png")
	checkAxe(t, bctx, axe, "erased")

	if _, err := e.subs.Profile(ctx, id); err == nil {
		t.Error("the subscriber is still there after erasing in the browser")
	}
	var left int
	e.db.QueryRow(`SELECT (SELECT count(*) FROM deliveries WHERE email <> '') + (SELECT count(*) FROM bounces WHERE email <> '' OR raw IS NOT NULL)`).Scan(&left)
	if left != 0 {
		t.Errorf("%d deliveries or bounces still name the erased address", left)
	}
	var events int
	e.db.QueryRow(`SELECT count(*) FROM consent_events WHERE email LIKE 'erased:%' AND event IN ('opt-out', 'unsuppress')`).Scan(&events)
	if events != 2 {
		t.Errorf("%d erased opt-out and unsuppress events in the consent log, want 2", events)
	}
	other := e.confirmedReader(t, "other@example.jp", "shimin-katsudo")
	do("the page in English", chromedp.Navigate(u+"/admin/subscribers/"+strconv.FormatInt(other, 10)+"?lang=en"), chromedp.WaitVisible(chromedp.ID("sub-email")))
	shot(t, bctx, dir, "subscriber-en.png")
	do("on a desktop", chromedp.EmulateViewport(1280, 900), chromedp.Navigate(u+"/admin/subscribers/"+strconv.FormatInt(other, 10)+"?lang=ja"),
		chromedp.WaitVisible(chromedp.ID("sub-email")))
	shot(t, bctx, dir, "subscriber-desktop.png")
}

// FuzzAttributeLines: the page's "key=value" lines never panic, and what
// formatAttributes writes reads back the same.
func FuzzAttributeLines(f *testing.F) {
	for _, seed := range []string{"区=中京区\n年代=40代", "", "a=b=c", "=x", " k = v ", "no equals", "k=\r\nl=m"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, text string) {
		attrs, err := parseAttributes(text)
		if err != nil {
			return
		}
		again, err := parseAttributes(formatAttributes(attrs))
		if err != nil || len(again) != len(attrs) {
			t.Fatalf("round trip of %q: %v %v", text, again, err)
		}
		for k, v := range attrs {
			if again[k] != v {
				t.Fatalf("round trip of %q: %q=%q became %q", text, k, v, again[k])
			}
		}
	})
}
