package web

import (
	"context"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"kawaraban/issues"
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
	adminPost, upload := walkForms(t, e)
	lf := func(set map[string]string) []string {
		var kv []string
		for k, vs := range listForm("kodomo", set) {
			for _, v := range vs {
				kv = append(kv, k, v)
			}
		}
		return kv
	}
	states := map[string]func(c *http.Client) string{
		"admin schedule bad cron":      adminPost("/admin/schedules", "list", "shimin-katsudo", "spec", "0 10 *", "tz", "Asia/Tokyo"),
		"admin schedule bad zone":      adminPost("/admin/schedules", "list", "shimin-katsudo", "spec", "0 10 * * 1", "tz", "Mars/Olympus"),
		"admin issue send confirm":     adminPost("/admin/issues/2/send"),
		"admin issue cancel confirm":   adminPost("/admin/issues/3/cancel"),
		"admin issue send again":       adminPost("/admin/issues/1/send", "confirm", "yes"),
		"admin subscribers status":     get("/admin/subscribers?list=shimin-katsudo&status=unsubscribed"),
		"admin subscribers search":     get("/admin/subscribers?list=shimin-katsudo&q=s0"),
		"admin subscribers all lists":  get("/admin/subscribers?list=*"),
		"admin subscribers none found": get("/admin/subscribers?list=*&status=unsubscribed&q=zzz"),
		"admin bulk unsubscribe":       adminPost("/admin/subscribers/bulk", "list", "shimin-katsudo", "action", "unsubscribe", "scope", "filter"),
		"admin bulk suppress":          adminPost("/admin/subscribers/bulk", "list", "shimin-katsudo", "action", "suppress", "scope", "filter"),
		"admin bulk erase":             adminPost("/admin/subscribers/bulk", "list", "shimin-katsudo", "action", "erase", "scope", "filter"),
		"admin bulk export":            adminPost("/admin/subscribers/bulk", "list", "shimin-katsudo", "action", "export", "scope", "filter"),
		"admin bulk no reason":         adminPost("/admin/subscribers/bulk", "list", "shimin-katsudo", "action", "unsubscribe", "scope", "filter", "confirm", "yes"),
		"admin bulk none ticked":       adminPost("/admin/subscribers/bulk", "list", "shimin-katsudo", "action", "unsubscribe", "scope", "selected"),
		"admin unsubscribe confirm":    adminPost("/admin/subscribers/0/unsubscribe", "list", "shimin-katsudo"),
		"admin erased":                 adminPost("/admin/subscribers/4/erase", "reason", "削除依頼", "confirm", "s4@example.jp"),
		"admin erase wrong address":    adminPost("/admin/subscribers/2/erase", "reason", "削除依頼", "confirm", "someone@example.jp"),
		"admin erase no reason":        adminPost("/admin/subscribers/2/erase", "confirm", "s2@example.jp"),
		"admin unsuppress no reason":   adminPost("/admin/subscribers/0/unsuppress", "reason", ""),
		"admin unsuppress wrong list":  adminPost("/admin/subscribers/3/unsuppress", "reason", "x", "list", "shimin-katsudo"),
		"admin import rejected rows":   upload("shimin-katsudo", []byte("email,name\nyamada@example.jp,山田\nnot-an-address,鈴木\n,空欄\n")),
		"admin import shift_jis":       upload("shimin-katsudo", sjisMembers(t)),
		"admin import no email column": upload("shimin-katsudo", []byte("氏名,電話\n山田,075\n")),
		"admin list refused":           adminPost("/admin/lists", lf(map[string]string{"postal_address": "", "contact": ""})...),
		"admin add bad address":        adminPost("/admin/subscribers/add", "list", "chonai", "email", "not-an-address"),
		"admin local mail bad address": adminPost("/admin/local/mail", "from", "not-an-address", "to", "x@bounces.localhost", "body", "本文"),
		"admin user weak password":     adminPost("/admin/users", "login", "tanaka", "password", "short", "role", "editor", "lists", "shimin-katsudo"),
		"admin user duplicate login":   adminPost("/admin/users", "login", "editor", "password", "long enough pw", "role", "editor", "lists", "shimin-katsudo"),
		"admin user bad login":         adminPost("/admin/users", "login", "Tanaka San", "password", "long enough pw", "role", "editor"),
		"admin account weak password":  adminPost("/admin/account", "email", "a@city.example.jp", "current_password", testPassword, "new_password", "abc"),
		"admin account wrong current":  adminPost("/admin/account", "email", "a@city.example.jp", "current_password", "wrong wrong", "new_password", "a long new password"),
		"admin account bad email":      adminPost("/admin/account", "email", "not-an-address"),
		"admin bad action 404":         adminPost("/admin/issues/1/nonsense"),
		"admin no such issue":          get("/admin/issues/999"),
		"admin bad csrf 403":           post("/admin/issues/1/send", url.Values{"csrf": {"forged"}}),
		"admin editor forbidden 403": func(c *http.Client) string {
			// An editor opens another center's list, in the walk's language.
			ec, _ := e.login("editor")
			u, _ := url.Parse(e.http.URL)
			for _, k := range c.Jar.Cookies(u) {
				if k.Name == "kw_lang" {
					ec.Jar.SetCookies(u, []*http.Cookie{k})
				}
			}
			resp, body := e.get(ec, "/admin/subscribers?list=kankyo-hozen")
			if resp.StatusCode != http.StatusForbidden {
				t.Errorf("editor on another center's list: %d, want 403", resp.StatusCode)
			}
			return body
		},
		"archive empty": get("/archive/kankyo-hozen"),
		"login throttled": func(c *http.Client) string {
			_, page := e.get(c, "/admin/login")
			var body string
			for range 6 {
				_, body = e.post(c, "/admin/login", url.Values{"csrf": {hidden(t, page, "csrf")}, "login": {"viewer"}, "password": {"wrong password"}})
			}
			return body
		},
		"login wrong password": func(c *http.Client) string {
			_, page := e.get(c, "/admin/login")
			_, body := e.post(c, "/admin/login", url.Values{"csrf": {hidden(t, page, "csrf")}, "login": {"nobody"}, "password": {"wrong password"}})
			return body
		},
	}
	pages := map[string]func(c *http.Client) string{
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
		"admin compose fail": adminPost("/admin/issues", "list", "shimin-katsudo", "subject", "", "body", "{{ .Nope }}"),
	}
	maps.Copy(pages, states)
	return pages
}

// walkForms gives the walks a form poster and a CSV uploader that post as
// the admin's pages do, with the session's token: the page states a
// center editor or admin meets (form errors, confirmation steps). A POST
// answered with 5xx fails unless wantCode says so.
func walkForms(t *testing.T, e *env) (adminPost func(path string, kv ...string) func(c *http.Client) string, upload func(list string, data []byte) func(c *http.Client) string) {
	adminPost = func(path string, kv ...string) func(c *http.Client) string {
		return func(c *http.Client) string {
			_, page := e.get(c, "/admin/account")
			form := url.Values{"csrf": {hidden(t, page, "csrf")}}
			for i := 0; i+1 < len(kv); i += 2 {
				form.Add(kv[i], kv[i+1])
			}
			resp, body := e.post(c, path, form)
			if resp.StatusCode >= 500 && resp.StatusCode != http.StatusServiceUnavailable {
				t.Errorf("POST %s: %d", path, resp.StatusCode)
			}
			return body
		}
	}
	upload = func(list string, data []byte) func(c *http.Client) string {
		return func(c *http.Client) string {
			_, page := e.get(c, "/admin/account")
			_, body := uploadCSV(t, e, c, hidden(t, page, "csrf"), list, data, true)
			return body
		}
	}
	return adminPost, upload
}

// realWalk reaches the states only the real stores answer: the domain's
// own refusals (a past send time, a list with no recipients, rejected CSV
// rows with the store's reasons).
func realWalk(t *testing.T) (*env, map[string]func(c *http.Client) string) {
	re := newRealEnv(t)
	ctx := t.Context()
	for _, slug := range []string{"shimin-katsudo", "kankyo-hozen"} {
		if _, err := re.iss.Create(ctx, issues.Draft{ListID: re.listID(t, slug), Subject: "件名", BodyMarkdown: "本文", Author: "admin"}); err != nil {
			t.Fatal(err)
		}
	}
	adminPost, upload := walkForms(t, re.env)
	return re.env, map[string]func(c *http.Client) string{
		"admin real past send time":     adminPost("/admin/issues/1/schedule", "subject", "件名", "body", "本文", "send_at", "2020-01-01T09:00"),
		"admin real send confirm":       adminPost("/admin/issues/1/send"),
		"admin real no recipients":      adminPost("/admin/issues/1/send", "confirm", "yes"),
		"admin real cancel confirm":     adminPost("/admin/issues/2/cancel"),
		"admin real import rejected":    upload("shimin-katsudo", sjisMembers(t)),
		"admin real import utf8":        upload("shimin-katsudo", []byte("email,name\nyamada@example.jp,山田\nnot-an-address,鈴木\n,空欄\na@b@c,x\n")),
		"admin real import no email":    upload("shimin-katsudo", []byte("氏名,電話\n山田,075\n")),
		"admin real add bad address":    adminPost("/admin/subscribers/add", "list", "chonai", "email", "not-an-address"),
		"admin real subscribers search": func(c *http.Client) string { _, b := re.get(c, "/admin/subscribers?list=*&q=zzz"); return b },
		"admin real bulk no reason":     adminPost("/admin/subscribers/bulk", "list", "shimin-katsudo", "action", "erase", "scope", "filter", "confirm", "yes"),
		"admin real schedule bad cron":  adminPost("/admin/schedules", "list", "shimin-katsudo", "spec", "0 10 *", "tz", "Asia/Tokyo"),
	}
}

// unavailableWalk is a daemon whose issue actions are not wired: every
// action answers 503.
func unavailableWalk(t *testing.T) (*env, map[string]func(c *http.Client) string) {
	e := newEnv(t, func(o *Options) {
		o.Issues, o.Drafts, o.Sending, o.Checks, o.Approvals = readerOnly{o.Issues}, nil, nil, nil, nil
	})
	if _, err := e.issues.Create(t.Context(), issues.Draft{ListID: 1, Subject: "読むだけ", BodyMarkdown: "x", Author: "admin"}); err != nil {
		t.Fatal(err)
	}
	adminPost, _ := walkForms(t, e)
	return e, map[string]func(c *http.Client) string{
		"admin unavailable 503": adminPost("/admin/issues/1/send", "confirm", "yes"),
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
			walks := []struct {
				e     *env
				pages map[string]func(c *http.Client) string
			}{{e, pageWalk(t, e)}}
			for _, w := range []func(*testing.T) (*env, map[string]func(c *http.Client) string){realWalk, unavailableWalk} {
				we, pages := w(t)
				walks = append(walks, struct {
					e     *env
					pages map[string]func(c *http.Client) string
				}{we, pages})
			}
			for _, w := range walks {
				walkPages(t, w.e, w.pages, lang)
			}
		})
	}
}

// walkPages reads each page in lang as its reader would: admin pages
// with an admin's session, the rest without one.
func walkPages(t *testing.T, e *env, pages map[string]func(c *http.Client) string, lang string) {
	t.Helper()
	c, _ := e.login("admin")
	e.get(c, "/admin/?lang="+lang)
	anon := e.client()
	e.get(anon, "/subscribe?lang="+lang)
	names := slices.Sorted(maps.Keys(pages))
	for _, name := range names {
		client := c
		if !strings.HasPrefix(name, "admin") {
			client = anon
		}
		page := pages[name](client)
		text := visibleText(t, page, lang)
		for _, cat := range catalogs {
			for key := range cat {
				if strings.Contains(key, ".") && strings.Contains(text, key) && !strings.Contains(key, "{{") {
					t.Errorf("%s (%s): untranslated key %q", name, lang, key)
				}
			}
		}
		if lang == "ja" {
			checkJapanese(t, name, text)
		} else {
			checkEnglish(t, name, text)
		}
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

// japaneseData is Japanese an English page may show because the operator
// types it: the importer names the CSV header it accepts.
var japaneseData = []string{"(email or メールアドレス)"}

// checkEnglish fails on a Japanese catalogue text shown under the English
// switch: a word that was written into a page instead of the catalogue.
func checkEnglish(t *testing.T, name, text string) {
	t.Helper()
	for _, d := range japaneseData {
		text = strings.ReplaceAll(text, d, " ")
	}
	for _, cat := range catalogs {
		for key, m := range cat {
			if len([]rune(m[0])) >= 4 && m[0] != m[1] && strings.Contains(text, m[0]) {
				t.Errorf("%s (en): Japanese text of %q: %q", name, key, m[0])
			}
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
