package main

import (
	"bytes"
	"encoding/xml"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

var (
	httpUnsubRe   = regexp.MustCompile(`<(https?://[^>]+/unsubscribe/[^>]+)>`)
	mailtoUnsubRe = regexp.MustCompile(`<mailto:[^>@]+@[^>]+>`)
	verpRe        = regexp.MustCompile(`^<bounces\+[A-Za-z0-9_\-.=]+@[^>]+>$`)
)

// Issue 4: an issue written and sent through the API reaches every confirmed
// subscriber once, personalised, with the list headers; one-click works; the
// archive shows it.
func TestAcceptanceIssueSendAPI(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, t.TempDir())
	const list = "fukushi-volunteer"
	importCSV(t, d.Data, list, "email,name\nhanako@example.jp,山田花子\nnoname@example.jp,\n")
	// Someone who never confirmed must get nothing.
	const pending = "pending@example.jp"
	if code, body := postForm(t, d.BaseURL+"/subscribe", url.Values{"email": {pending}, "list": {list}}, ""); code != 200 {
		t.Fatalf("POST /subscribe: %d\n%s", code, body)
	}
	token := adminToken(t, d.Data)

	// Bad input first: unknown list, header injection in the subject.
	if code, body := api(t, d, token, "POST", "/api/v1/issues", map[string]any{
		"list": "no-such-list", "subject": "件名", "body_markdown": "本文",
	}); code != http.StatusNotFound || !strings.Contains(string(body), `"error"`) {
		t.Errorf("issue for an unknown list: %d %s, want 404 with {\"error\"}", code, body)
	}
	if code, body := api(t, d, token, "POST", "/api/v1/issues", map[string]any{
		"list": list, "subject": "件名\r\nBcc: victim@example.jp", "body_markdown": "本文",
	}); code < 400 || code >= 500 {
		t.Errorf("subject with CR/LF: %d %s, want 4xx", code, body)
	}
	if code, body := api(t, d, "not-a-token", "POST", "/api/v1/issues", map[string]any{
		"list": list, "subject": "件名", "body_markdown": "本文",
	}); code != http.StatusUnauthorized {
		t.Errorf("bad token: %d %s, want 401", code, body)
	}

	// Long enough to be folded over several encoded words; with a wave
	// dash, an emoji and half-width kana, which old encoders mangle.
	const subject = "ボランティア通信 第12号 〜 秋の集い「京の手しごと」🍁 ﾊﾝｶｸ も交えた、折り返して符号化されても元どおりに読める長い件名です"
	is := createIssue(t, d, token, map[string]any{
		"list":          list,
		"subject":       subject,
		"body_markdown": "{{ .Name }} 様\n\nこんにちは。**秋の集い**のお知らせです。\n",
	})
	if is.Status != "draft" {
		t.Errorf("new issue status %q, want draft", is.Status)
	}
	sendIssue(t, d, token, is.ID)
	// Pressing "send" again at once is refused (409) or harmless (202 while
	// still scheduled); either way nobody gets two copies (checked below).
	if code, body := api(t, d, token, "POST", "/api/v1/issues/"+strconv.FormatInt(is.ID, 10)+"/send", nil); code != http.StatusConflict && code != http.StatusAccepted {
		t.Errorf("a second POST /send: %d %s, want 409 or 202", code, body)
	}
	sent := waitIssueSent(t, d, token, is.ID)
	if code, body := api(t, d, token, "POST", "/api/v1/issues/"+strconv.FormatInt(is.ID, 10)+"/send", nil); code < 400 || code >= 500 {
		t.Errorf("POST /send on a sent issue: %d %s, want 4xx (409)", code, body)
	}
	if sent.Counts["sent"] != 2 {
		t.Errorf("counts %v, want sent=2", sent.Counts)
	}

	all := readCaptured(t, d.Data)
	if n := len(mailsTo(all, pending, subject)); n != 0 {
		t.Errorf("the unconfirmed %s got %d copies of the issue", pending, n)
	}
	var unsubURL, nonameUnsub string
	var ms0 capturedMail
	for addr, name := range map[string]string{"hanako@example.jp": "山田花子", "noname@example.jp": "読者"} {
		ms := mailsTo(all, addr, subject)
		if len(ms) != 1 {
			t.Errorf("%s got %d copies of the issue, want 1", addr, len(ms))
			continue
		}
		m := ms[0]
		checkRawHeaders(t, m.File)
		if m.ContentType != "multipart/alternative" {
			t.Errorf("%s: Content-Type %q, want multipart/alternative", m.File, m.ContentType)
		}
		for _, ct := range []string{"text/plain", "text/html"} {
			if !strings.Contains(m.Parts[ct], name+" 様") {
				t.Errorf("%s: %s part does not greet %q:\n%s", m.File, ct, name+" 様", m.Parts[ct])
			}
			if strings.Contains(m.Parts[ct], "{{") {
				t.Errorf("%s: %s part has an unfilled template action", m.File, ct)
			}
		}
		if !strings.Contains(m.Parts["text/html"], "<strong>秋の集い</strong>") {
			t.Errorf("%s: Markdown not rendered to HTML:\n%s", m.File, m.Parts["text/html"])
		}
		if m.Header.Get("List-Id") == "" {
			t.Errorf("%s: no List-Id", m.File)
		}
		lu := m.Header.Get("List-Unsubscribe")
		hm := httpUnsubRe.FindStringSubmatch(lu)
		if hm == nil || !mailtoUnsubRe.MatchString(lu) {
			t.Errorf("%s: List-Unsubscribe %q lacks the http(s) URL or the mailto", m.File, lu)
		}
		if got := m.Header.Get("List-Unsubscribe-Post"); got != "List-Unsubscribe=One-Click" {
			t.Errorf("%s: List-Unsubscribe-Post %q", m.File, got)
		}
		if !verpRe.MatchString(m.ReturnPath) {
			t.Errorf("%s: Return-Path %q is not a VERP bounces+TOKEN@ address", m.File, m.ReturnPath)
		}
		if addr == "noname@example.jp" && hm != nil {
			nonameUnsub = hm[1]
		}
		if addr == "hanako@example.jp" && hm != nil {
			unsubURL = hm[1]
			ms0 = m
		}
	}
	if t.Failed() {
		return
	}

	// A link scanner's GET changes nothing.
	if code, _ := get(t, unsubURL); code != 200 {
		t.Errorf("GET %s: %d, want 200 (a page with a button)", unsubURL, code)
	}
	if st := exportSubscribers(t, d.Data, list)["hanako@example.jp"]["status"]; st != "confirmed" {
		t.Fatalf("after a GET on the unsubscribe URL: status %q, want still confirmed", st)
	}
	// RFC 8058 one-click: no cookie, no CSRF token.
	code, body := postForm(t, unsubURL, url.Values{"List-Unsubscribe": {"One-Click"}}, "")
	if code < 200 || code >= 300 {
		t.Fatalf("one-click POST %s: %d\n%s", unsubURL, code, body)
	}
	rows := exportSubscribers(t, d.Data, list)
	if st := rows["hanako@example.jp"]["status"]; st != "unsubscribed" {
		t.Errorf("after one-click: status %q, want unsubscribed", st)
	}
	if st := rows["noname@example.jp"]["status"]; st != "confirmed" {
		t.Errorf("one-click for hanako changed noname: %q", st)
	}
	var oneClick bool
	for _, row := range csvList(t, mustCLI(t, "export", "consent", "--data", d.Data, "--list", list).Stdout) {
		oneClick = oneClick || (row["email"] == "hanako@example.jp" && row["event"] == "opt-out" && row["source"] == "one-click")
	}
	if !oneClick {
		t.Errorf("export consent has no one-click opt-out for hanako@example.jp")
	}
	// RFC 8058 allows the POST as multipart/form-data too.
	var mp bytes.Buffer
	mw := multipart.NewWriter(&mp)
	mw.WriteField("List-Unsubscribe", "One-Click")
	mw.Close()
	resp, err := http.Post(nonameUnsub, mw.FormDataContentType(), &mp)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode >= 300 {
		t.Errorf("multipart one-click POST: %d", resp.StatusCode)
	}
	if st := exportSubscribers(t, d.Data, list)["noname@example.jp"]["status"]; st != "unsubscribed" {
		t.Errorf("after a multipart/form-data one-click: %q, want unsubscribed", st)
	}

	// Everybody has left: a send to nobody is refused with the reason and
	// the count (issue 14: it used to end 配信済み 0/0 without a word).
	next := createIssue(t, d, token, map[string]any{"list": list, "subject": "誰もいない号", "body_markdown": "本文"})
	code, sendBody := api(t, d, token, "POST", "/api/v1/issues/"+strconv.FormatInt(next.ID, 10)+"/send", nil)
	if code != http.StatusUnprocessableEntity || !strings.Contains(string(sendBody), "0 recipients") {
		t.Errorf("send to a list nobody is on: %d %s, want 422 with the count", code, sendBody)
	}

	// The feed is well-formed Atom whose entry carries the subject as written.
	_, feedText := get(t, d.BaseURL+"/archive/"+list+"/feed.atom")
	var feed struct {
		XMLName xml.Name `xml:"http://www.w3.org/2005/Atom feed"`
		Entries []struct {
			Title   string `xml:"title"`
			Updated string `xml:"updated"`
			Link    struct {
				Href string `xml:"href,attr"`
			} `xml:"link"`
		} `xml:"entry"`
	}
	if err := xml.Unmarshal([]byte(feedText), &feed); err != nil {
		t.Errorf("feed.atom is not Atom XML: %v", err)
	} else {
		found := false
		for _, e := range feed.Entries {
			found = found || (e.Title == subject && e.Link.Href != "" && e.Updated != "")
		}
		if !found {
			t.Errorf("feed entries %+v, want one with the subject, a link and a date", feed.Entries)
		}
	}
	archived := regexp.MustCompile(`https?://\S+/archive/` + list + `/\S+`).FindString(ms0.Parts["text/plain"])
	if archived == "" {
		t.Errorf("the issue's text part has no link to its archive page")
	} else {
		archived = strings.TrimPrefix(archived, d.BaseURL)
	}
	for _, path := range []string{"/archive/" + list, "/archive/" + list + "/feed.atom", archived} {
		if path == "" {
			continue
		}
		code, page := get(t, d.BaseURL+path)
		if code != 200 {
			t.Errorf("GET %s: %d", path, code)
			continue
		}
		if !strings.Contains(page, "ボランティア通信 第12号") {
			t.Errorf("%s does not list the issue %q:\n%s", path, subject, page)
		}
		for _, private := range []string{"山田花子", "hanako@example.jp", "noname@example.jp"} {
			if strings.Contains(page, private) {
				t.Errorf("%s shows a subscriber's %q", path, private)
			}
		}
	}
}

// Issue 6: in local mode a send to an *.invalid address bounces, the DSN is
// read back from the IMAP mailbox and the address ends suppressed.
func TestAcceptanceBounceSuppresses(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, t.TempDir())
	const (
		list = "kokusai-koryu"
		bad  = "someone@nowhere.invalid"
		good = "friend@example.jp"
	)
	importCSV(t, d.Data, list, "email,name\n"+bad+",届かない人\n"+good+",届く人\n")
	token := adminToken(t, d.Data)
	is := createIssue(t, d, token, map[string]any{"list": list, "subject": "国際交流ニュース", "body_markdown": "本文"})
	sendIssue(t, d, token, is.ID)
	waitIssueSent(t, d, token, is.ID)

	var rows map[string]subscriberRow
	waitUntil(t, bad+" to be suppressed", func() bool {
		rows = exportSubscribers(t, d.Data, list)
		return rows[bad]["status"] == "suppressed"
	})
	if rows[good]["status"] != "confirmed" {
		t.Errorf("%s: status %q, want confirmed", good, rows[good]["status"])
	}
	var last apiIssue
	waitUntil(t, "the bounce to be counted on the issue", func() bool {
		last = getIssue(t, d, token, is.ID)
		return last.Counts["bounced"] >= 1
	})
	if last.Counts["sent"] < 1 {
		t.Errorf("counts %v: the good address should count as sent", last.Counts)
	}
	if n := len(mailsTo(readCaptured(t, d.Data), good, "国際交流ニュース")); n != 1 {
		t.Errorf("%s got %d copies, want 1", good, n)
	}

	// The next issue is not even tried on the suppressed address.
	next := createIssue(t, d, token, map[string]any{"list": list, "subject": "国際交流ニュース 次号", "body_markdown": "本文"})
	sendIssue(t, d, token, next.ID)
	done := waitIssueSent(t, d, token, next.ID)
	total := 0
	for _, n := range done.Counts {
		total += n
	}
	if done.Counts["sent"] != 1 || total != 1 {
		t.Errorf("next issue counts %v, want only the one delivery to %s", done.Counts, good)
	}
}
