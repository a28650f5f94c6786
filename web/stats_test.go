package web

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"kawaraban/issues"
	"kawaraban/mailer"
	"kawaraban/subscribers"
	"kawaraban/token"
)

// countClicks turns click counting on for the list slug and returns the
// list.
func countClicks(t *testing.T, e *realEnv, slug string) subscribers.List {
	t.Helper()
	l, err := e.subs.ListBySlug(t.Context(), slug)
	if err != nil {
		t.Fatal(err)
	}
	l.CountClicks = true
	if err := e.subs.SyncLists(t.Context(), []subscribers.List{l}); err != nil {
		t.Fatal(err)
	}
	return l
}

// TestIssue17ClickRedirectRoute: GET /r/{token} counts one click and
// redirects to the issue's own link; it sets no cookie and stores neither
// the reader nor the client's address (the whole database file is
// searched); a forged token and a link the issue does not have get 404
// and no redirect; a client that clicks in bulk gets 429.
func TestIssue17ClickRedirectRoute(t *testing.T) {
	t.Parallel()
	e := newRealEnv(t)
	ctx := t.Context()
	e.srv.opt.TrustForwardedFor = true
	l := countClicks(t, e, "shimin-katsudo")
	const dest = "https://www.city.kyoto.lg.jp/moushikomi"
	is, err := e.iss.Create(ctx, issues.Draft{ListID: l.ID, Subject: "講座のご案内", BodyMarkdown: "お申し込みは[こちら](" + dest + ")。", Author: "editor"})
	if err != nil {
		t.Fatal(err)
	}
	m, err := e.dom.Renderer.Render(ctx, mailer.Delivery{IssueID: is.ID, SubscriberID: 1, Email: "reader-secret@example.jp", Name: "読者"})
	if err != nil {
		t.Fatal(err)
	}
	path := regexp.MustCompile(`http://kawaraban\.test(/r/[^"\s]+)`).FindStringSubmatch(m.HTML)
	if path == nil || !strings.Contains(m.Text, path[0]) {
		t.Fatalf("no redirect link in both parts:\n%s\n%s", m.HTML, m.Text)
	}
	click := func(p, ip string) *http.Response {
		req, _ := http.NewRequest("GET", e.http.URL+p, nil)
		req.Header.Set("X-Forwarded-For", ip)
		resp, err := e.client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		readBody(t, resp)
		return resp
	}
	resp := click(path[1], "203.0.113.77")
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != dest {
		t.Fatalf("click: %d to %q, want 302 to %s", resp.StatusCode, resp.Header.Get("Location"), dest)
	}
	if len(resp.Cookies()) != 0 || resp.Header.Get("Set-Cookie") != "" {
		t.Errorf("the redirect set a cookie: %v", resp.Header["Set-Cookie"])
	}
	signer, _ := token.NewSigner([]byte(strings.Repeat("c", 32)))
	forged := path[1][:len(path[1])-2] + "xx"
	if strings.HasSuffix(path[1], "xx") {
		forged = path[1][:len(path[1])-2] + "yy"
	}
	for name, p := range map[string]string{
		"forged token":           forged,
		"another key":            "/r/" + mustSigner(t, "x").Sign("click", token.IDs(is.ID, 0), time.Time{}),
		"a link the issue lacks": "/r/" + signer.Sign("click", token.IDs(is.ID, 1), time.Time{}),
		"another purpose":        "/r/" + signer.Sign("unsubscribe", token.IDs(is.ID, 0), time.Time{}),
		"no such issue":          "/r/" + signer.Sign("click", token.IDs(is.ID+100, 0), time.Time{}),
	} {
		if resp := click(p, "203.0.113.78"); resp.StatusCode != http.StatusNotFound || resp.Header.Get("Location") != "" {
			t.Errorf("%s: %d to %q, want 404 and no redirect", name, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
	// A HEAD (a link checker) is redirected but not counted.
	req, _ := http.NewRequest("HEAD", e.http.URL+path[1], nil)
	if resp, err := e.client().Do(req); err != nil || resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != dest {
		t.Fatalf("HEAD: %v %v", resp, err)
	}
	var n int
	if err := e.db.QueryRow(`SELECT n FROM link_clicks WHERE issue_id = ? AND link_index = 0`, is.ID).Scan(&n); err != nil || n != 1 {
		t.Fatalf("clicks %d, %v; want 1", n, err)
	}
	var file string
	if err := e.db.QueryRow(`SELECT file FROM pragma_database_list WHERE name = 'main'`).Scan(&file); err != nil {
		t.Fatal(err)
	}
	if _, err := e.db.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{file, file + "-wal"} {
		b, err := os.ReadFile(f)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		for _, secret := range []string{"203.0.113.77", "reader-secret@example.jp"} {
			if bytes.Contains(b, []byte(secret)) {
				t.Errorf("%s holds %s after a click", f, secret)
			}
		}
	}
	limited := 0
	for range clickBurst + 10 {
		if resp := click(path[1], "198.51.100.9"); resp.StatusCode == http.StatusTooManyRequests {
			limited++
			if resp.Header.Get("Retry-After") == "" {
				t.Error("429 without Retry-After")
			}
		}
	}
	if limited == 0 {
		t.Errorf("%d clicks from one address in a burst were all let through", clickBurst+10)
	}
}

func mustSigner(t *testing.T, fill string) *token.Signer {
	t.Helper()
	s, err := token.NewSigner([]byte(strings.Repeat(fill, 32)))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestIssue17APIIssueStats: GET /api/v1/issues/{id} answers the issue's
// statistics under "stats" (openapi.json's IssueStats).
func TestIssue17APIIssueStats(t *testing.T) {
	t.Parallel()
	e := newRealEnv(t)
	ctx := t.Context()
	is, err := e.iss.Create(ctx, issues.Draft{ListID: e.listID(t, "shimin-katsudo"), Subject: "件名", BodyMarkdown: "[a](https://example.jp/a)", Author: "editor"})
	if err != nil {
		t.Fatal(err)
	}
	resp, body := e.api("GET", "/api/v1/issues/"+itoa(is.ID), e.bearer("editor"), "")
	var got struct {
		Stats *struct {
			Delivered, Bounced, Failed int
			Unsubscribed7d             *int `json:"unsubscribed_7d"`
			Final                      bool
			CountsClicks               *bool `json:"counts_clicks"`
			Links                      []struct {
				URL    string
				Clicks int
			}
		}
	}
	if err := json.Unmarshal([]byte(body), &got); err != nil || resp.StatusCode != 200 || got.Stats == nil ||
		got.Stats.Unsubscribed7d == nil || got.Stats.CountsClicks == nil || *got.Stats.CountsClicks || got.Stats.Links == nil {
		t.Fatalf("GET issue: %d %s", resp.StatusCode, body)
	}
	if resp, body := e.api("GET", "/api/v1/issues?list=shimin-katsudo", e.bearer("editor"), ""); resp.StatusCode != 200 || !strings.Contains(body, `"subject"`) || strings.Contains(body, `"stats"`) {
		t.Errorf("the issue list carries stats (a query per issue): %d", resp.StatusCode)
	}
}

// TestIssue17PagesSpeakOneLanguage: the statistics, the dashboard's
// figures and the import's check speak Japanese only, or English only
// under the switch.
func TestIssue17PagesSpeakOneLanguage(t *testing.T) {
	t.Parallel()
	e := newRealEnv(t)
	ctx := t.Context()
	l := countClicks(t, e, "shimin-katsudo")
	if _, err := e.subs.Import(ctx, strings.NewReader("email\na@example.jp\nb@example.jp\n"), subscribers.ImportOptions{ListSlug: l.Slug, ConsentSource: "窓口"}); err != nil {
		t.Fatal(err)
	}
	is, err := e.iss.Create(ctx, issues.Draft{ListID: l.ID, Subject: "講座のご案内", BodyMarkdown: "[申込](https://example.jp/m)", Author: "editor"})
	if err != nil {
		t.Fatal(err)
	}
	e.deliver(t, is.ID)
	m, err := e.dom.Renderer.Render(ctx, mailer.Delivery{IssueID: is.ID, SubscriberID: 1, Email: "a@example.jp"})
	if err != nil {
		t.Fatal(err)
	}
	click := regexp.MustCompile(`http://kawaraban\.test(/r/[^"\s]+)`).FindStringSubmatch(m.HTML)
	if click == nil {
		t.Fatal("no redirect link")
	}
	e.get(e.client(), click[1])
	for _, lang := range []string{"ja", "en"} {
		c, csrf := e.login("editor")
		e.get(c, "/admin/?lang="+lang)
		pages := map[string]string{}
		_, pages["dashboard"] = e.get(c, "/admin/")
		_, pages["issue"] = e.get(c, "/admin/issues/"+itoa(is.ID))
		_, pages["dry run"] = uploadCSV(t, e.env, c, csrf, "shimin-katsudo", sjisMembers(t), true)
		for name, page := range pages {
			text := visibleText(t, page, lang)
			for key, w := range statsCatalog {
				if strings.Contains(text, key) {
					t.Errorf("%s (%s): untranslated key %q", name, lang, key)
				}
				if lang == "en" && len([]rune(w[0])) >= 2 && strings.Contains(text, w[0]) {
					t.Errorf("%s (en): Japanese text of %q", name, key)
				}
			}
			if lang == "ja" {
				checkJapanese(t, name, text)
			} else {
				checkEnglish(t, name, text)
			}
		}
		if !strings.Contains(pages["issue"], `id="issue-stats"`) || !strings.Contains(pages["dry run"], `id="rejects"`) {
			t.Fatalf("(%s) the pages lack the statistics or the rejected rows", lang)
		}
	}
}
