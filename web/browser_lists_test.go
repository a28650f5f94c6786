package web

import (
	"bytes"
	"encoding/json"
	"io"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/emersion/go-message/mail"
)

// TestBrowserListAdmin is issue 17's acceptance for lists, in Chromium
// over the real stores: an admin creates a list (the law's footer fields
// refused empty, field by field), the list appears on the public form, a
// citizen subscribes, the admin edits the sender, the first issue goes
// out with the edited sender and the footer, the admin closes the list
// and it leaves the form; an editor gets 403 on the form and the API.
func TestBrowserListAdmin(t *testing.T) {
	e := newRealEnv(t)
	ctx := browser(t)
	dir := artifacts(t)
	axe := axeOrE2E(t)
	u := e.http.URL
	must := steps(t, ctx)
	fill := func(id, value string) chromedp.Action[chromedp.Void] {
		return chromedp.SetValue(chromedp.ID(id), value)
	}

	must("login",
		chromedp.Navigate(u+"/admin/login"),
		chromedp.WaitVisible(chromedp.ID("login")),
		chromedp.SendKeys(chromedp.ID("login"), "admin"),
		chromedp.SendKeys(chromedp.ID("password"), testPassword),
		chromedp.Click(chromedp.ID("login-button")),
		chromedp.WaitVisible(chromedp.CSS("form.logout")),
	)
	must("lists", chromedp.Navigate(u+"/admin/lists"), chromedp.WaitVisible(chromedp.ID("lists")))
	shot(t, ctx, dir, "lists-index.png")
	must("new list form", chromedp.Click(chromedp.ID("new-list")), chromedp.WaitVisible(chromedp.ID("f-slug")))
	must("fill without the footer fields",
		fill("f-slug", "kodomo"),
		fill("f-name_ja", "子ども・若者センター通信"),
		fill("f-name_en", "Children and Youth Center News"),
		fill("f-description_ja", "子育てと若者支援の講座・イベントのお知らせをお届けします。"),
		fill("f-from_name", "京都市子ども・若者センター"),
		fill("f-from_address", "kodomo@city.example.jp"),
		chromedp.Click(chromedp.ID("save-list")),
		chromedp.WaitVisible(chromedp.ID("err-postal_address")),
	)
	shot(t, ctx, dir, "list-form-footer-refused.png")
	checkAxe(t, ctx, axe, "list form with errors")
	for field, want := range map[string]string{"postal_address": "「差出人の住所」は必須です", "contact": "「問い合わせ先」は必須です"} {
		text, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("err-"+field)))
		if err != nil || !strings.Contains(text, want) || !strings.Contains(text, "特定電子メール法") {
			t.Errorf("%s: %q %v", field, text, err)
		}
	}
	if _, err := e.subs.ListBySlug(t.Context(), "kodomo"); err == nil {
		t.Fatal("a list without its footer fields was created")
	}
	must("fill the footer and create",
		fill("f-postal_address", "〒604-8571 京都市中京区寺町通御池上る上本能寺前町488"),
		fill("f-contact", "電話 075-222-3039 / kodomo@city.example.jp"),
		chromedp.Click(chromedp.ID("save-list")),
		chromedp.WaitVisible(chromedp.ID("list-kodomo")),
	)
	shot(t, ctx, dir, "list-created.png")

	// The new list is on the public form; a citizen subscribes.
	must("public form", chromedp.Navigate(u+"/subscribe"), chromedp.WaitVisible(chromedp.ID("list-kodomo")))
	shot(t, ctx, dir, "subscribe-with-new-list.png")
	must("subscribe",
		chromedp.SendKeys(chromedp.ID("email"), "reader@example.jp"),
		chromedp.Click(chromedp.ID("list-kodomo")),
		chromedp.Click(chromedp.ID("subscribe")),
		chromedp.WaitVisible(chromedp.ID("thanks")),
	)
	confirmURL, _ := url.Parse(e.mail.last(t).ConfirmURL)
	must("confirm",
		chromedp.Navigate(u+confirmURL.Path),
		chromedp.WaitVisible(chromedp.ID("confirm")),
		chromedp.Click(chromedp.ID("confirm")),
		chromedp.WaitVisible(chromedp.ID("confirmed")),
	)

	// Edit the sender identity.
	must("edit",
		chromedp.Navigate(u+"/admin/lists/kodomo"),
		chromedp.WaitVisible(chromedp.ID("f-from_name")),
		fill("f-from_name", "京都市子ども・若者総合支援センター"),
		fill("f-contact", "電話 075-222-3040 / kodomo-info@city.example.jp"),
		chromedp.Click(chromedp.ID("save-list")),
		chromedp.WaitVisible(chromedp.ID("list-kodomo")),
	)
	shot(t, ctx, dir, "list-edited.png")
	l, err := e.subs.ListBySlug(t.Context(), "kodomo")
	if err != nil || l.FromName != "京都市子ども・若者総合支援センター" || !slices.Contains(l.UIFields, "from_name") {
		t.Fatalf("after the edit: %+v %v", l, err)
	}

	// The first issue goes out with the edited sender and the footer.
	from, body := sendFirstIssue(t, e)
	if from.Name != "京都市子ども・若者総合支援センター" || from.Address != "kodomo@city.example.jp" {
		t.Errorf("From: %+v", from)
	}
	for _, want := range []string{"京都市中京区寺町通御池上る上本能寺前町488", "075-222-3040", "kodomo-info@city.example.jp", "京都市子ども・若者総合支援センター"} {
		if !strings.Contains(body, want) {
			t.Errorf("the first issue's text lacks %q:\n%s", want, body)
		}
	}

	// Close it: it leaves the public form, its reader stays.
	must("close",
		chromedp.Navigate(u+"/admin/lists/kodomo"),
		chromedp.WaitVisible(chromedp.ID("close-list")),
		chromedp.Click(chromedp.ID("close-list")),
		chromedp.WaitVisible(chromedp.ID("list-kodomo")),
	)
	shot(t, ctx, dir, "list-closed.png")
	state, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#list-kodomo .state")))
	if state != "受付終了" {
		t.Errorf("state column %q", state)
	}
	must("public form after closing", chromedp.Navigate(u+"/subscribe"), chromedp.WaitVisible(chromedp.ID("email")))
	if n, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#list-kodomo").length`)); n != 0 {
		t.Error("the closed list is still on the public form")
	}
	shot(t, ctx, dir, "subscribe-after-close.png")
	must("the form on a phone, in English",
		chromedp.EmulateViewport(390, 844),
		chromedp.Navigate(u+"/admin/lists/kodomo?lang=en"),
		chromedp.WaitVisible(chromedp.ID("reopen-list")),
	)
	shot(t, ctx, dir, "list-form-phone-en.png")
	if w, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`)); w > 390 {
		t.Errorf("the form is %d px wide on a 390 px phone", w)
	}
	must("back to Japanese", chromedp.EmulateViewport(1024, 900), chromedp.Navigate(u+"/admin/lists?lang=ja"), chromedp.WaitVisible(chromedp.ID("lists")))

	// An editor: 403 on the form and the API, the lists read-only.
	must("editor login",
		chromedp.Navigate(u+"/admin/lists"),
		chromedp.Click(chromedp.CSS("form.logout button")),
		chromedp.WaitVisible(chromedp.ID("login")),
		chromedp.WaitVisible(chromedp.ID("login")),
		chromedp.SendKeys(chromedp.ID("login"), "editor"),
		chromedp.SendKeys(chromedp.ID("password"), testPassword),
		chromedp.Click(chromedp.ID("login-button")),
		chromedp.WaitVisible(chromedp.CSS("form.logout")),
		chromedp.Navigate(u+"/admin/lists/shimin-katsudo"),
		chromedp.WaitVisible(chromedp.ID("main")),
	)
	shot(t, ctx, dir, "list-form-editor-403.png")
	c, csrf := e.login("editor")
	for _, p := range []string{"/admin/lists/shimin-katsudo", "/admin/lists/new"} {
		if resp, _ := e.get(c, p); resp.StatusCode != 403 {
			t.Errorf("editor GET %s: %d", p, resp.StatusCode)
		}
	}
	if resp, _ := e.post(c, "/admin/lists/shimin-katsudo", listForm("", map[string]string{"csrf": csrf})); resp.StatusCode != 403 {
		t.Errorf("editor POST the form: %d", resp.StatusCode)
	}
	if resp, _ := e.api("PATCH", "/api/v1/lists/shimin-katsudo", e.bearer("editor"), `{"from_name":"x"}`); resp.StatusCode != 403 {
		t.Errorf("editor PATCH: %d", resp.StatusCode)
	}
	if resp, _ := e.api("POST", "/api/v1/lists", e.bearer("editor"), listJSONBody("mine", "")); resp.StatusCode != 403 {
		t.Errorf("editor POST: %d", resp.StatusCode)
	}
	must("editor's lists", chromedp.Navigate(u+"/admin/lists"), chromedp.WaitVisible(chromedp.ID("lists")))
	if n, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#lists tbody tr").length`)); n != 1 {
		t.Errorf("the editor sees %d lists, want only their own", n)
	}
	shot(t, ctx, dir, "lists-editor-readonly.png")
}

// sendFirstIssue writes and sends an issue to the list kodomo through
// the API and returns the From and the text of the mail the relay got.
func sendFirstIssue(t *testing.T, e *realEnv) (*mail.Address, string) {
	t.Helper()
	tok := e.bearer("admin")
	resp, body := e.api("POST", "/api/v1/issues", tok, `{"list":"kodomo","subject":"創刊号","body_markdown":"{{ .Name }}様\n\n子ども・若者センター通信をお届けします。"}`)
	var is issueJSON
	if err := json.Unmarshal([]byte(body), &is); resp.StatusCode != 201 || err != nil {
		t.Fatalf("create: %d %s", resp.StatusCode, body)
	}
	if resp, body := e.api("POST", "/api/v1/issues/"+itoa(is.ID)+"/send", tok, ""); resp.StatusCode != 202 {
		t.Fatalf("send: %d %s", resp.StatusCode, body)
	}
	if err := e.dom.Sending.StartDue(t.Context()); err != nil {
		t.Fatal(err)
	}
	go e.dom.Mailer.Run(t.Context())
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		for _, m := range e.relay.Messages() {
			if slices.Contains(m.To, "reader@example.jp") {
				return readMail(t, m.Data)
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("the first issue never reached the relay")
	return nil, ""
}

// readMail returns the From and the decoded text/plain part of a mail.
func readMail(t *testing.T, data []byte) (*mail.Address, string) {
	t.Helper()
	r, err := mail.CreateReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	from, err := r.Header.AddressList("From")
	if err != nil || len(from) != 1 {
		t.Fatalf("From: %v %v", from, err)
	}
	for {
		p, err := r.NextPart()
		if err != nil {
			t.Fatalf("no text part: %v", err)
		}
		if ct := p.Header.Get("Content-Type"); strings.HasPrefix(ct, "text/plain") {
			text, _ := io.ReadAll(p.Body)
			return from[0], string(text)
		}
	}
}
