package web

import (
	"bytes"
	"encoding/xml"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"kawaraban/issues"
)

func subscribeForm(t *testing.T, e *env, c *http.Client, email string, lists ...string) (*http.Response, string) {
	t.Helper()
	_, page := e.get(c, "/subscribe")
	return e.post(c, "/subscribe", url.Values{"form_token": {hidden(t, page, "form_token")}, "email": {email}, "list": lists})
}

func TestSubscribeConfirm(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	c := e.client()
	resp, page := e.get(c, "/subscribe?list=kankyo-hozen")
	if resp.StatusCode != 200 || !strings.Contains(page, `value="kankyo-hozen" id="list-kankyo-hozen" checked`) {
		t.Fatalf("form: %d", resp.StatusCode)
	}
	if strings.Contains(page, "chonai") {
		t.Fatal("internal list offered on the public form")
	}
	for _, want := range []string{`<label for="email">`, `name="website"`, `class="skip"`, `lang="ja"`, `name="form_token"`} {
		if !strings.Contains(page, want) {
			t.Errorf("form lacks %q", want)
		}
	}
	resp, thanks := subscribeForm(t, e, c, "new@example.jp", "kankyo-hozen", "shimin-katsudo")
	if resp.StatusCode != 200 || !strings.Contains(thanks, `id="thanks"`) {
		t.Fatalf("subscribe: %d", resp.StatusCode)
	}
	// The same answer for an address already known.
	_, again := subscribeForm(t, e, e.client(), "new@example.jp", "kankyo-hozen", "shimin-katsudo")
	if again != thanks {
		t.Fatal("a known address gets a different page (enumeration)")
	}
	if got := e.subs.status("new@example.jp", "kankyo-hozen"); got != "unconfirmed" {
		t.Fatalf("status %q", got)
	}
	// Issue 15: a GET (a mail scanner prefetching the link) only shows a
	// button; the POST from that page confirms.
	for range 2 {
		resp, body := e.get(c, "/confirm/"+e.subs.mails[0])
		if resp.StatusCode != 200 || !strings.Contains(body, `id="confirm"`) {
			t.Fatalf("GET confirm: %d", resp.StatusCode)
		}
	}
	if got := e.subs.status("new@example.jp", "kankyo-hozen"); got != "unconfirmed" {
		t.Fatalf("after GET of the confirm link %q, want unconfirmed", got)
	}
	resp, body := e.post(c, "/confirm/"+e.subs.mails[0], url.Values{})
	if resp.StatusCode != 200 || !strings.Contains(body, "環境保全センター") || !strings.Contains(body, `id="confirmed"`) {
		t.Fatalf("POST confirm: %d", resp.StatusCode)
	}
	if got := e.subs.status("new@example.jp", "kankyo-hozen"); got != "confirmed" {
		t.Fatalf("after confirm %q", got)
	}
}

func TestSubscribeBadInput(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	c := e.client()
	for _, tc := range []struct {
		name  string
		email string
		lists []string
		want  string
	}{
		{"bad address", "a@b@c.jp", []string{"kankyo-hozen"}, "メールアドレスの形式"},
		{"no address", "", []string{"kankyo-hozen"}, "メールアドレスを入力"},
		{"no list", "x@example.jp", nil, "1つ以上"},
		{"internal list only", "x@example.jp", []string{"chonai"}, "1つ以上"},
	} {
		resp, body := subscribeForm(t, e, c, tc.email, tc.lists...)
		// The form again, with the problem beside it (not the error page).
		if resp.StatusCode != 422 || !strings.Contains(body, tc.want) || !strings.Contains(body, `role="alert"`) ||
			!strings.Contains(body, `name="form_token"`) {
			t.Errorf("%s: %d", tc.name, resp.StatusCode)
		}
	}
	if len(e.subs.mails) != 0 {
		t.Fatal("a mail was sent for bad input")
	}
	// Without the form token from another site's page: refused.
	req, _ := http.NewRequest("POST", e.http.URL+"/subscribe", strings.NewReader("email=x%40example.jp&list=kankyo-hozen"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://evil.example")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 403 {
		t.Fatalf("cross-site post without form token: %d", resp.StatusCode)
	}
	// An expired form token: refused.
	_, page := e.get(c, "/subscribe")
	tok := hidden(t, page, "form_token")
	e.clock.Add(3 * time.Hour)
	resp, _ = e.post(c, "/subscribe", url.Values{"form_token": {tok}, "email": {"x@example.jp"}, "list": {"kankyo-hozen"}})
	if resp.StatusCode != 403 {
		t.Fatalf("expired form token: %d", resp.StatusCode)
	}
}

func TestSubscribeHoneypot(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	c := e.client()
	_, page := e.get(c, "/subscribe")
	resp, body := e.post(c, "/subscribe", url.Values{"form_token": {hidden(t, page, "form_token")}, "email": {"bot@example.jp"},
		"list": {"kankyo-hozen"}, "website": {"http://spam.example"}})
	if resp.StatusCode != 200 || !strings.Contains(body, `id="thanks"`) || len(e.subs.mails) != 0 {
		t.Fatalf("honeypot: %d, %d mails", resp.StatusCode, len(e.subs.mails))
	}
}

func TestSubscribeRateLimit(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	c := e.client()
	codes := map[int]int{}
	for range 8 {
		resp, _ := subscribeForm(t, e, c, "r@example.jp", "kankyo-hozen")
		codes[resp.StatusCode]++
	}
	if codes[200] != 5 || codes[429] != 3 {
		t.Fatalf("codes %v, want 5×200 then 429", codes)
	}
	resp, body := subscribeForm(t, e, c, "r@example.jp", "kankyo-hozen")
	if resp.StatusCode != 429 || !strings.Contains(body, "しばらく待って") || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("429 page: %d", resp.StatusCode)
	}
	e.clock.Add(time.Minute) // the injected clock refills the bucket
	if resp, _ := subscribeForm(t, e, c, "r@example.jp", "kankyo-hozen"); resp.StatusCode != 200 {
		t.Fatalf("after a minute: %d", resp.StatusCode)
	}
}

func TestForgedTokensAre4xx(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	e.subs.Subscribe(t.Context(), SubscribeRequest{Email: "a@example.jp", Lists: []string{"kankyo-hozen"}})
	good := e.subs.mails[0]
	forged := []string{"x", "AAAA", good[:len(good)-2] + "AA", strings.Repeat("A", 300), "%00", "..%2f..%2fetc", "e30"}
	c := e.client()
	for _, tok := range forged {
		for _, p := range []string{"/confirm/", "/unsubscribe/", "/preferences/"} {
			resp, _ := e.get(c, p+tok)
			if resp.StatusCode < 400 || resp.StatusCode >= 500 {
				t.Errorf("GET %s%s: %d", p, tok, resp.StatusCode)
			}
		}
		for _, p := range []string{"/unsubscribe/", "/preferences/"} {
			resp, _ := e.post(c, p+tok, url.Values{"List-Unsubscribe": {"One-Click"}})
			if resp.StatusCode < 400 || resp.StatusCode >= 500 {
				t.Errorf("POST %s%s: %d", p, tok, resp.StatusCode)
			}
		}
	}
	// A confirmation token used for another purpose is refused too.
	if resp, _ := e.get(c, "/unsubscribe/"+good); resp.StatusCode != 404 {
		t.Errorf("confirm token as unsubscribe: %d", resp.StatusCode)
	}
	// An expired confirmation link: 410 with a page saying so.
	e.clock.Add(8 * 24 * time.Hour)
	resp, body := e.get(c, "/confirm/"+good)
	if resp.StatusCode != 410 || !strings.Contains(body, "有効期限") {
		t.Errorf("expired confirm: %d", resp.StatusCode)
	}
}

func TestUnsubscribeOneClick(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	ctx := t.Context()
	e.subs.Subscribe(ctx, SubscribeRequest{Email: "a@example.jp", Lists: []string{"kankyo-hozen", "shimin-katsudo"}})
	e.subs.Confirm(ctx, e.subs.mails[0], Evidence{})
	tok := e.subs.unsubToken(0, 2) // kankyo-hozen
	// GET (a link scanner) changes nothing.
	for range 3 {
		resp, body := e.get(http.DefaultClient, "/unsubscribe/"+tok)
		if resp.StatusCode != 200 || !strings.Contains(body, `id="unsubscribe"`) {
			t.Fatalf("GET: %d", resp.StatusCode)
		}
	}
	if got := e.subs.status("a@example.jp", "kankyo-hozen"); got != "confirmed" {
		t.Fatalf("GET changed the status to %q", got)
	}
	// RFC 8058: POST with List-Unsubscribe=One-Click, no cookie, no CSRF.
	req, _ := http.NewRequest("POST", e.http.URL+"/unsubscribe/"+tok, strings.NewReader("List-Unsubscribe=One-Click"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	readBody(t, resp)
	if resp.StatusCode != 200 {
		t.Fatalf("one-click: %d", resp.StatusCode)
	}
	if got := e.subs.status("a@example.jp", "kankyo-hozen"); got != "unsubscribed" {
		t.Fatalf("after one-click: %q", got)
	}
	if got := e.subs.status("a@example.jp", "shimin-katsudo"); got != "confirmed" {
		t.Fatalf("other list touched: %q", got)
	}
	if ev := e.subs.subs[0].Events; !strings.Contains(strings.Join(ev, "|"), "opt-out kankyo-hozen one-click") {
		t.Fatalf("events %v", ev)
	}
	// RFC 8058 section 3.1 prefers multipart/form-data.
	tokS := e.subs.unsubToken(0, 1) // shimin-katsudo
	var mp bytes.Buffer
	mw := multipart.NewWriter(&mp)
	mw.WriteField("List-Unsubscribe", "One-Click")
	mw.Close()
	req, _ = http.NewRequest("POST", e.http.URL+"/unsubscribe/"+tokS, &mp)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	if resp, err = http.DefaultClient.Do(req); err != nil {
		t.Fatal(err)
	}
	readBody(t, resp)
	if resp.StatusCode != 200 || e.subs.status("a@example.jp", "shimin-katsudo") != "unsubscribed" ||
		!strings.Contains(strings.Join(e.subs.subs[0].Events, "|"), "opt-out shimin-katsudo one-click") {
		t.Fatalf("multipart one-click: %d %v", resp.StatusCode, e.subs.subs[0].Events)
	}
	// The button on the page unsubscribes too (source web), and says so.
	tok2 := e.subs.unsubToken(0, 1)
	resp2, body := e.post(e.client(), "/unsubscribe/"+tok2, url.Values{})
	if resp2.StatusCode != 200 || !strings.Contains(body, `id="unsubscribed"`) {
		t.Fatalf("button: %d", resp2.StatusCode)
	}
	// A second one-click is harmless.
	resp3, _ := e.post(http.DefaultClient, "/unsubscribe/"+tok, url.Values{"List-Unsubscribe": {"One-Click"}})
	if resp3.StatusCode != 200 {
		t.Fatalf("second one-click: %d", resp3.StatusCode)
	}
}

func TestPreferences(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	ctx := t.Context()
	e.subs.Subscribe(ctx, SubscribeRequest{Email: "p@example.jp", Lists: []string{"kankyo-hozen"}})
	e.subs.Confirm(ctx, e.subs.mails[0], Evidence{})
	tok := e.subs.prefsToken(0)
	c := e.client()
	resp, page := e.get(c, "/preferences/"+tok)
	if resp.StatusCode != 200 || !strings.Contains(page, `id="pl-kankyo-hozen" checked`) {
		t.Fatalf("prefs page: %d", resp.StatusCode)
	}
	// Without the form token bound to this link: refused.
	if resp, _ := e.post(c, "/preferences/"+tok, url.Values{"list": {"shimin-katsudo"}}); resp.StatusCode != 403 {
		t.Fatalf("no form token: %d", resp.StatusCode)
	}
	ft := hidden(t, page, "form_token")
	resp, page = e.post(c, "/preferences/"+tok, url.Values{"form_token": {ft}, "list": {"shimin-katsudo"}})
	if resp.StatusCode != 200 || !strings.Contains(page, "保存しました") {
		t.Fatalf("save: %d", resp.StatusCode)
	}
	if e.subs.status("p@example.jp", "kankyo-hozen") != "unsubscribed" || e.subs.status("p@example.jp", "shimin-katsudo") != "confirmed" {
		t.Fatal("preferences not saved")
	}
	resp, _ = e.post(c, "/preferences/"+tok, url.Values{"form_token": {ft}, "list": {"shimin-katsudo"}, "leave_all": {"1"}})
	if resp.StatusCode != 200 || e.subs.status("p@example.jp", "shimin-katsudo") != "unsubscribed" {
		t.Fatal("leave all")
	}
}

func TestArchiveAndFeed(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	ctx := t.Context()
	for i, subj := range []string{"10月号", "11月号", "下書き"} {
		is, _ := e.issues.Create(ctx, issues.Draft{ListID: 2, Subject: subj, BodyMarkdown: "{{ .Name }}様 <script>x</script> 本文", Author: "editor"})
		if i < 2 {
			e.clock.Add(time.Hour)
			e.issues.SendNow(ctx, is.ID, actor("editor"))
		}
	}
	e.issues.Create(ctx, issues.Draft{ListID: 3, Subject: "庁内", BodyMarkdown: "x"})
	c := e.client()
	resp, body := e.get(c, "/archive/kankyo-hozen")
	if resp.StatusCode != 200 || strings.Index(body, "11月号") > strings.Index(body, "10月号") || strings.Contains(body, "下書き") {
		t.Fatalf("archive: %d, newest first, sent only", resp.StatusCode)
	}
	resp, body = e.get(c, "/archive/kankyo-hozen/1")
	if resp.StatusCode != 200 || strings.Contains(body, "<script>") || strings.Contains(body, ".Name") {
		t.Fatalf("archive issue: %d %s", resp.StatusCode, body)
	}
	for _, p := range []string{"/archive/kankyo-hozen/3", "/archive/shimin-katsudo/1", "/archive/chonai", "/archive/nope", "/archive/kankyo-hozen/x"} {
		if resp, _ := e.get(c, p); resp.StatusCode != 404 {
			t.Errorf("%s: %d", p, resp.StatusCode)
		}
	}
	resp, body = e.get(c, "/archive/kankyo-hozen/feed.atom")
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/atom+xml") {
		t.Fatalf("feed: %d", resp.StatusCode)
	}
	var f struct {
		XMLName xml.Name `xml:"http://www.w3.org/2005/Atom feed"`
		ID      string   `xml:"id"`
		Updated string   `xml:"updated"`
		Entries []struct {
			ID      string `xml:"id"`
			Title   string `xml:"title"`
			Updated string `xml:"updated"`
		} `xml:"entry"`
	}
	if err := xml.Unmarshal([]byte(body), &f); err != nil {
		t.Fatal(err)
	}
	if len(f.Entries) != 2 || f.Entries[0].Title != "11月号" || f.ID == "" || f.Updated == "" || f.Entries[0].ID == "" {
		t.Fatalf("feed %+v", f)
	}
	if strings.Contains(body, "{{") || strings.Contains(body, "@") {
		t.Fatal("feed carries personal placeholders or addresses")
	}
}

// The "submitted" form is tested over the real store in
// progress_reports_test.go.
func TestProgressLinks(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	c := e.client()
	for _, p := range []string{"/progress/submitted/forged", "/progress/ics/forged.ics"} {
		if resp, _ := e.get(c, p); resp.StatusCode != 404 {
			t.Errorf("%s: %d", p, resp.StatusCode)
		}
	}
	resp, body := e.get(c, "/progress/ics/good.ics")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/calendar; charset=utf-8" || !strings.HasPrefix(body, "BEGIN:VCALENDAR") {
		t.Fatalf("ics: %d %q", resp.StatusCode, body)
	}
}
