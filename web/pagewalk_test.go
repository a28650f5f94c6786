package web

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"testing"

	"golang.org/x/net/html"
)

// visibleText is what a reader of page sees in its language: text nodes
// and the labels of controls (aria-label, title, placeholder, alt), but
// not code, preformatted text, scripts, form values or anything marked
// with another language (lang="en" on the language switch).
func visibleText(t *testing.T, page, lang string) string {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			switch n.Data {
			case "script", "style", "code", "pre", "textarea", "iframe", "noscript":
				return
			}
			for _, a := range n.Attr {
				switch a.Key {
				case "lang":
					if a.Val != lang && n.Data != "html" {
						return
					}
				case "aria-label", "title", "placeholder", "alt":
					b.WriteString(" " + a.Val + " ")
				}
			}
		}
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
		if n.Type == html.ElementNode {
			b.WriteString(" ") // cells and blocks do not run into each other
		}
	}
	walk(doc)
	return b.String()
}

var (
	emailRe       = regexp.MustCompile(`[^\s<>()「」:：、]+@[^\s<>()「」、。]+`)
	urlRe         = regexp.MustCompile(`https?://\S+`)
	placeholderRe = regexp.MustCompile(`\{\{[^}]*\}\}`)
	asciiWordRe   = regexp.MustCompile(`[A-Za-z][A-Za-z_\-]*[A-Za-z]`)
)

// allowedASCII are the words a Japanese page may show: names of standards,
// formats and things an operator types, and the test's data (logins).
var allowedASCII = map[string]bool{
	"ISO": true, "JP": true, "JIS": true, "UTF": true, "CSV": true, "Shift_JIS": true, "HTML": true,
	"Markdown": true, "cron": true, "IANA": true, "Asia": true, "Tokyo": true, "API": true, "Web": true,
	"ID": true, "VERP": true, "SPF": true, "DKIM": true, "DMARC": true, "TEL": true, "MiB": true, "KiB": true,
	"GiB": true, "List-Unsubscribe": true, "Return-Path": true, "Message-ID": true, "captured": true,
	"join": true, "unsubscribe": true, "bounces": true, "IP": true, "URL": true, "SMTP": true, "IMAP": true,
	"UTC": true, "JST": true, "NPO": true, "Atom": true,
	// Slugs, which admins type into the user form.
	"shimin-katsudo": true, "kankyo-hozen": true,
	// Test data: logins and the user agent.
	"admin": true, "editor": true, "coord": true, "viewer": true,
}

// pageWalk is every admin and public page, reached as a reader would.
func pageWalk(t *testing.T, e *env) map[string]func(c *http.Client) string {
	ctx := context.Background()
	e.seedSubscribers()
	e.seedIssues()
	e.issues.SendNow(ctx, 1, actor("admin"))
	e.subs.Subscribe(ctx, SubscribeRequest{Email: "new@example.jp", Lists: []string{"shimin-katsudo"}})
	confirmTok := e.subs.mails[len(e.subs.mails)-1]
	// What the audit log holds after a day's work, as the handlers write it.
	for _, a := range [][3]string{
		{"issue.create", "issue:1", "list shimin-katsudo"}, {"issue.send", "issue:1", "api; list shimin-katsudo"},
		{"issue.test", "issue:1", "api; list shimin-katsudo; to a@example.jp"}, {"user.add", "user:editor", "role editor; lists shimin-katsudo"},
		{"user.update", "user:editor", "role editor; lists shimin-katsudo; approver true"}, {"subscriber.invite", "list:chonai", "api"},
		{"schedule.add", "schedule:2", "list:shimin-katsudo 0 10 1-7 * 1 Asia/Tokyo"}, {"schedule.pause", "schedule:2", ""},
		{"progress.submitted", "deadline:fy2026-status", "bureau somu"}, {"local.mail", "to:shimin-katsudo-join@bounces.localhost", "from a@example.jp"},
		{"login.failed", "user:admin", ""}, {"subscribers.export", "list:shimin-katsudo", ""},
		{"subscribers.import", "list:shimin-katsudo", "added 3, existing 1, rejected 0"}, {"account.update", "user:admin", "e-mail, password"},
		{"issue.schedule", "issue:1", "list shimin-katsudo; at 2026-12-01T09:00:00+09:00"}, {"issue.retry", "issue:1", "list shimin-katsudo; 2 deliveries queued again"},
		{"issue.reject", "issue:1", "list shimin-katsudo; 日付を直してください"},
	} {
		if _, err := e.db.Exec(`INSERT INTO audit_log(at_ms, actor, action, target, detail, ip) VALUES (?, 'admin', ?, ?, ?, '127.0.0.1')`,
			e.clock.Now().UnixMilli(), a[0], a[1], a[2]); err != nil {
			t.Fatal(err)
		}
	}
	get := func(path string) func(c *http.Client) string {
		return func(c *http.Client) string {
			resp, body := e.get(c, path)
			if resp.StatusCode >= 500 {
				t.Errorf("%s: %d", path, resp.StatusCode)
			}
			return body
		}
	}
	formToken := regexp.MustCompile(`name="form_token" value="([^"]+)"`)
	post := func(path string, form url.Values) func(c *http.Client) string {
		return func(c *http.Client) string {
			_, page := e.get(c, "/subscribe")
			if m := formToken.FindStringSubmatch(page); m != nil {
				form.Set("form_token", m[1])
			}
			resp, body := e.post(c, path, form)
			if resp.StatusCode >= 500 {
				t.Errorf("POST %s: %d", path, resp.StatusCode)
			}
			return body
		}
	}
	return map[string]func(c *http.Client) string{
		"subscribe":          get("/subscribe"),
		"thanks":             post("/subscribe", url.Values{"email": {"walk@example.jp"}, "list": {"shimin-katsudo"}}),
		"subscribe error":    post("/subscribe", url.Values{"email": {"not-an-address"}, "list": {"shimin-katsudo"}}),
		"confirm":            get("/confirm/" + confirmTok),
		"confirmed":          post("/confirm/"+confirmTok, url.Values{}),
		"unsubscribe":        get("/unsubscribe/" + e.subs.unsubToken(0, 1)),
		"preferences":        get("/preferences/" + e.subs.prefsToken(0)),
		"archive":            get("/archive/shimin-katsudo"),
		"archive index":      get("/archive"),
		"privacy":            get("/privacy"),
		"public progress":    get("/progress"),
		"admin reports":      get("/admin/progress/reports"),
		"unsubscribed":       post("/unsubscribe/"+e.subs.unsubToken(1, 2), url.Values{}),
		"not found":          get("/no-such-page"),
		"bad token":          get("/unsubscribe/forged"),
		"login":              get("/admin/login"),
		"submitted":          get("/progress/submitted/good"),
		"admin dashboard":    get("/admin/"),
		"admin issues":       get("/admin/issues?list=shimin-katsudo"),
		"admin new issue":    get("/admin/issues/new?list=shimin-katsudo"),
		"admin issue":        get("/admin/issues/1"),
		"admin iso issue":    get("/admin/issues/2"),
		"admin subscribers":  get("/admin/subscribers?list=shimin-katsudo"),
		"admin history":      get("/admin/subscribers/3?list=shimin-katsudo"),
		"admin bounces":      get("/admin/bounces"),
		"admin schedules":    get("/admin/schedules"),
		"admin progress":     get("/admin/progress"),
		"admin users":        get("/admin/users"),
		"admin account":      get("/admin/account"),
		"admin audit":        get("/admin/audit"),
		"admin settings":     get("/admin/settings"),
		"admin local mail":   get("/admin/local/mail"),
		"admin lists":        get("/admin/lists"),
		"admin list new":     get("/admin/lists/new"),
		"admin list edit":    get("/admin/lists/kankyo-hozen"),
		"admin compose fail": post("/admin/issues", url.Values{"list": {"shimin-katsudo"}, "subject": {""}, "body": {"{{ .Nope }}"}}),
	}
}

// TestPagesSpeakOneLanguage walks every admin and public page in Japanese
// and in English (issue 21): a Japanese page shows no English word beyond
// the names of standards and the data, and no page shows a catalogue key
// untranslated or a Japanese catalogue text under the English switch.
func TestPagesSpeakOneLanguage(t *testing.T) {
	t.Parallel()
	for _, lang := range []string{"ja", "en"} {
		t.Run(lang, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, nil)
			pages := pageWalk(t, e)
			c, csrf := e.login("admin")
			e.get(c, "/admin/?lang="+lang)
			anon := e.client()
			e.get(anon, "/subscribe?lang="+lang)
			names := make([]string, 0, len(pages))
			for n := range pages {
				names = append(names, n)
			}
			sort.Strings(names)
			for _, name := range names {
				if strings.HasPrefix(name, "admin compose") {
					// Forms need the session's token.
					pages[name] = func(c *http.Client) string {
						_, body := e.post(c, "/admin/issues", url.Values{"csrf": {csrf}, "list": {"shimin-katsudo"}, "subject": {"件名"}, "body": {"{{ .Nope }}"}})
						return body
					}
				}
				client := c
				if !strings.HasPrefix(name, "admin") {
					client = anon
				}
				page := pages[name](client)
				text := visibleText(t, page, lang)
				for key := range catalog {
					if strings.Contains(key, ".") && strings.Contains(text, key) && !strings.Contains(key, "{{") {
						t.Errorf("%s (%s): untranslated key %q", name, lang, key)
					}
				}
				if lang == "ja" {
					checkJapanese(t, name, text)
				} else {
					checkEnglish(t, name, text)
				}
			}
		})
	}
}

func checkJapanese(t *testing.T, name, text string) {
	t.Helper()
	text = placeholderRe.ReplaceAllString(urlRe.ReplaceAllString(emailRe.ReplaceAllString(text, " "), " "), " ")
	seen := map[string]bool{}
	for _, w := range asciiWordRe.FindAllString(text, -1) {
		if !allowedASCII[w] && !seen[w] {
			seen[w] = true
			i := strings.Index(text, w)
			t.Errorf("%s (ja): English word %q: …%s…", name, w, strings.TrimSpace(around(text, i)))
		}
	}
}

// checkEnglish fails on a Japanese catalogue text shown under the English
// switch: a word that was written into a page instead of the catalogue.
func checkEnglish(t *testing.T, name, text string) {
	t.Helper()
	for key, m := range catalog {
		if len([]rune(m[0])) >= 4 && m[0] != m[1] && strings.Contains(text, m[0]) {
			t.Errorf("%s (en): Japanese text of %q: %q", name, key, m[0])
		}
	}
}

func around(s string, at int) string {
	lo, hi := max(0, at-40), min(len(s), at+40)
	for lo > 0 && (s[lo]&0xC0) == 0x80 {
		lo--
	}
	for hi < len(s) && (s[hi]&0xC0) == 0x80 {
		hi++
	}
	return strings.Join(strings.Fields(s[lo:hi]), " ")
}
