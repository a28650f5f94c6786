package web

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"kawaraban/subscribers"
)

// seedSubscriberList imports n confirmed subscribers (p000@…) into
// shimin-katsudo and two into kankyo-hozen, over the real store.
func seedSubscriberList(t testing.TB, e *realEnv, n int) {
	t.Helper()
	ctx := context.Background()
	var b strings.Builder
	b.WriteString("email,name\n")
	for i := range n {
		fmt.Fprintf(&b, "p%03d@example.jp,市民 %d\n", i, i)
	}
	for _, imp := range []struct{ list, csv string }{
		{"shimin-katsudo", b.String()},
		{"kankyo-hozen", "email\nother1@example.jp\nother2@example.jp\n"},
	} {
		if _, err := e.subs.Import(ctx, strings.NewReader(imp.csv), subscribers.ImportOptions{ListSlug: imp.list,
			ConsentSource: "窓口申込書", Actor: "admin"}); err != nil {
			t.Fatal(err)
		}
	}
}

func TestIssue17SubscriberListFilters(t *testing.T) {
	t.Parallel()
	e := newRealEnv(t)
	seedSubscriberList(t, e, 5)
	ctx := t.Context()
	if err := e.subs.UnsubscribeAddress(ctx, "p001@example.jp", "shimin-katsudo", subscribers.SourceWeb, subscribers.Evidence{}); err != nil {
		t.Fatal(err)
	}
	ui, _ := e.login("editor")
	tests := []struct {
		name, path string
		want       []string
		not        []string
	}{
		{"counts per status", "/admin/subscribers?list=shimin-katsudo",
			[]string{`id="count-all">5<`, `id="count-confirmed">4<`, `id="count-unsubscribed">1<`, "p004@example.jp", `name="id"`}, nil},
		{"status filter", "/admin/subscribers?list=shimin-katsudo&status=unsubscribed",
			[]string{"p001@example.jp"}, []string{"p002@example.jp"}},
		{"search", "/admin/subscribers?list=shimin-katsudo&q=P003", []string{"p003@example.jp"}, []string{"p002@example.jp"}},
		{"all my lists: only the editor's", "/admin/subscribers?list=*",
			[]string{"p000@example.jp", `id="count-all">5<`}, []string{"other1@example.jp", `name="id"`}},
	}
	for _, tt := range tests {
		resp, body := e.get(ui, tt.path)
		if resp.StatusCode != 200 {
			t.Errorf("%s: %d", tt.name, resp.StatusCode)
			continue
		}
		for _, w := range tt.want {
			if !strings.Contains(body, w) {
				t.Errorf("%s: page lacks %q", tt.name, w)
			}
		}
		for _, w := range tt.not {
			if strings.Contains(body, w) {
				t.Errorf("%s: page shows %q", tt.name, w)
			}
		}
	}
	api := e.bearer("editor")
	for path, want := range map[string]int{
		"/api/v1/lists/shimin-katsudo/subscribers?status=confirmed": 200,
		"/api/v1/lists/shimin-katsudo/subscribers?offset=100050":    422,
		"/api/v1/lists/kankyo-hozen/subscribers":                    403,
	} {
		if resp, body := e.api("GET", path, api, ""); resp.StatusCode != want {
			t.Errorf("GET %s: %d %s, want %d", path, resp.StatusCode, body, want)
		}
	}
	if _, body := e.api("GET", "/api/v1/lists/shimin-katsudo/subscribers?status=confirmed", api, ""); !strings.Contains(body, `"total":4`) {
		t.Errorf("API total: %s", body)
	}
}

func TestIssue17SubscriberBulkUI(t *testing.T) {
	t.Parallel()
	e := newRealEnv(t)
	seedSubscriberList(t, e, 6)
	ctx := t.Context()
	ui, csrf := e.login("editor")
	form := func(kv ...string) url.Values {
		v := url.Values{"csrf": {csrf}, "list": {"shimin-katsudo"}}
		for i := 0; i < len(kv); i += 2 {
			v.Add(kv[i], kv[i+1])
		}
		return v
	}
	resp, body := e.post(ui, "/admin/subscribers/bulk", form("action", "unsubscribe", "scope", "filter", "q", "p00"))
	if resp.StatusCode != 200 || !strings.Contains(body, `id="bulk-count">6<`) || !strings.Contains(body, `id="bulk-confirm"`) {
		t.Fatalf("confirmation step: %d, want the count 6 and a form", resp.StatusCode)
	}
	resp, _ = e.post(ui, "/admin/subscribers/bulk", form("action", "unsubscribe", "scope", "selected"))
	if resp.StatusCode != 422 {
		t.Errorf("nothing ticked: %d, want 422", resp.StatusCode)
	}
	resp, body = e.post(ui, "/admin/subscribers/bulk", form("action", "unsubscribe", "scope", "filter", "confirm", "yes"))
	if resp.StatusCode != 422 || !strings.Contains(body, "理由を入力してください") {
		t.Errorf("no reason: %d, want 422 asking for one", resp.StatusCode)
	}
	if st, _ := e.subs.Counts(ctx, []string{"shimin-katsudo"}); st.Confirmed != 6 {
		t.Fatalf("unconfirmed steps changed something: %+v", st)
	}
	rows, _, _ := e.subs.Search(ctx, subscribers.SearchQuery{ListSlug: "shimin-katsudo", Text: "p00"})
	ticked := form("action", "unsubscribe", "scope", "selected", "confirm", "yes", "reason", "本人から電話で依頼",
		"id", fmt.Sprint(rows[0].SubscriberID), "id", fmt.Sprint(rows[1].SubscriberID))
	for i, want := range []string{`id="bulk-changed">2<`, `id="bulk-changed">0<`} {
		resp, body = e.post(ui, "/admin/subscribers/bulk", ticked)
		if resp.StatusCode != 200 || !strings.Contains(body, want) || !strings.Contains(body, `id="bulk-matched">2<`) {
			t.Errorf("run %d: %d, want %s", i+1, resp.StatusCode, want)
		}
	}
	if st, _ := e.subs.Counts(ctx, []string{"shimin-katsudo"}); st.Confirmed != 4 || st.Unsubscribed != 2 {
		t.Errorf("after the bulk unsubscribe: %+v", st)
	}
	var n int
	e.db.QueryRowContext(ctx, `SELECT count(*) FROM audit_log WHERE actor = 'editor' AND action = 'subscribers.bulk.unsubscribe'
  AND target = 'list:shimin-katsudo' AND detail LIKE '%本人から電話で依頼%'`).Scan(&n)
	if n != 2 {
		t.Errorf("%d audit rows with who and why, want 2", n)
	}
	resp, body = e.post(ui, "/admin/subscribers/bulk", form("action", "export", "scope", "filter", "status", "unsubscribed",
		"confirm", "yes", "reason", "記録のため"))
	if resp.StatusCode != 200 || !strings.HasPrefix(body, "\ufeffemail,") || strings.Count(body, "\n") != 3 ||
		!strings.Contains(resp.Header.Get("Content-Disposition"), "attachment") {
		t.Errorf("export of the unsubscribed: %d %q", resp.StatusCode, body)
	}
	resp, _ = e.post(ui, "/admin/subscribers/bulk", url.Values{"csrf": {csrf}, "list": {"kankyo-hozen"}, "action": {"suppress"},
		"scope": {"filter"}, "confirm": {"yes"}, "reason": {"x"}})
	if resp.StatusCode != 403 {
		t.Errorf("editor on another list: %d, want 403", resp.StatusCode)
	}
	if st, _ := e.subs.Counts(ctx, []string{"kankyo-hozen"}); st.Confirmed != 2 {
		t.Errorf("another list changed: %+v", st)
	}
}

func TestIssue17SubscriberBulkAPI(t *testing.T) {
	t.Parallel()
	e := newRealEnv(t)
	seedSubscriberList(t, e, 3)
	tok := e.bearer("editor")
	path := "/api/v1/lists/shimin-katsudo/subscribers/bulk"
	tests := []struct {
		name, body string
		code       int
		want       string
	}{
		{"dry run counts", `{"action":"suppress","q":"p00","dry_run":true}`, 200, `"matched":3`},
		{"no reason", `{"action":"suppress"}`, 422, "reason"},
		{"unknown action", `{"action":"delete","reason":"x"}`, 422, "action"},
		{"unknown action, dry run", `{"action":"export","dry_run":true}`, 422, "action"},
		{"bad status", `{"action":"suppress","reason":"x","status":"gone"}`, 422, "status"},
		{"unknown field", `{"action":"suppress","reason":"x","everyone":true}`, 400, "body"},
		{"suppress", `{"action":"suppress","reason":"returned mail by post","q":"p001"}`, 200, `"changed":1`},
		{"again changes nothing", `{"action":"suppress","reason":"returned mail by post","q":"p001"}`, 200, `"changed":0`},
	}
	for _, tt := range tests {
		resp, body := e.api("POST", path, tok, tt.body)
		if resp.StatusCode != tt.code || !strings.Contains(body, tt.want) {
			t.Errorf("%s: %d %s; want %d with %q", tt.name, resp.StatusCode, body, tt.code, tt.want)
		}
	}
	if st, _ := e.subs.Counts(t.Context(), []string{"shimin-katsudo"}); st.Suppressed != 1 || st.Confirmed != 2 {
		t.Errorf("after the API's suppress: %+v", st)
	}
	if resp, _ := e.api("POST", "/api/v1/lists/kankyo-hozen/subscribers/bulk", tok, `{"action":"suppress","reason":"x"}`); resp.StatusCode != 403 {
		t.Errorf("editor on another list: %d, want 403", resp.StatusCode)
	}
}

// TestIssue17BulkPagesSpeakOneLanguage checks the pages this issue added
// as TestPagesSpeakOneLanguage checks the others.
func TestIssue17BulkPagesSpeakOneLanguage(t *testing.T) {
	t.Parallel()
	for _, lang := range []string{"ja", "en"} {
		t.Run(lang, func(t *testing.T) {
			t.Parallel()
			e := newRealEnv(t)
			seedSubscriberList(t, e, 3)
			c, csrf := e.login("editor")
			e.get(c, "/admin/?lang="+lang)
			bulk := func(kv ...string) func() string {
				return func() string {
					v := url.Values{"csrf": {csrf}, "list": {"shimin-katsudo"}, "action": {"unsubscribe"}, "scope": {"filter"},
						"status": {"confirmed"}, "q": {"p00"}}
					for i := 0; i < len(kv); i += 2 {
						v.Set(kv[i], kv[i+1])
					}
					_, body := e.post(c, "/admin/subscribers/bulk", v)
					return body
				}
			}
			get := func(path string) func() string {
				return func() string { _, body := e.get(c, path); return body }
			}
			for name, page := range map[string]func() string{
				"list":          get("/admin/subscribers?list=shimin-katsudo&status=confirmed&q=p"),
				"all lists":     get("/admin/subscribers?list=*"),
				"confirm":       bulk(),
				"confirm empty": bulk("q", "該当なし"),
				"no reason":     bulk("confirm", "yes"),
				"done":          bulk("confirm", "yes", "reason", "依頼"),
			} {
				text := visibleText(t, page(), lang)
				for key := range sublistCatalog {
					if strings.Contains(text, key) {
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

// TestIssue17SubscriberBulkErase erases in bulk through the page and the
// API: an editor's run leaves the subscriber who is also on another
// center's list, an admin's run erases it.
func TestIssue17SubscriberBulkErase(t *testing.T) {
	t.Parallel()
	e := newRealEnv(t)
	seedSubscriberList(t, e, 3)
	ctx := t.Context()
	if _, err := e.subs.Import(ctx, strings.NewReader("email\np002@example.jp\n"), subscribers.ImportOptions{ListSlug: "kankyo-hozen",
		ConsentSource: "窓口申込書", Actor: "admin"}); err != nil {
		t.Fatal(err)
	}
	ui, csrf := e.login("editor")
	form := url.Values{"csrf": {csrf}, "list": {"shimin-katsudo"}, "action": {"erase"}, "scope": {"filter"}}
	resp, body := e.post(ui, "/admin/subscribers/bulk", form)
	if resp.StatusCode != 200 || !strings.Contains(body, `id="bulk-count">3<`) || !strings.Contains(body, "元に戻せません") {
		t.Fatalf("erase asks first: %d", resp.StatusCode)
	}
	form.Set("confirm", "yes")
	form.Set("reason", "本人からの削除依頼(窓口)")
	resp, body = e.post(ui, "/admin/subscribers/bulk", form)
	if resp.StatusCode != 200 || !strings.Contains(body, `id="bulk-changed">2<`) || !strings.Contains(body, `id="bulk-skipped">1<`) {
		t.Fatalf("editor's erase: %d, want 2 erased and 1 left", resp.StatusCode)
	}
	rows, _, _ := e.subs.Search(ctx, subscribers.SearchQuery{ListSlug: "shimin-katsudo"})
	if len(rows) != 1 || rows[0].Email != "p002@example.jp" {
		t.Fatalf("left on the list: %+v", rows)
	}
	var n int
	e.db.QueryRowContext(ctx, `SELECT count(*) FROM audit_log WHERE actor = 'editor' AND action = 'subscribers.bulk.erase'
  AND detail LIKE '%matched 3, changed 2, skipped 1%本人からの削除依頼%'`).Scan(&n)
	if n != 1 {
		t.Errorf("%d audit rows for the erasure, want 1", n)
	}
	resp, body = e.api("POST", "/api/v1/lists/shimin-katsudo/subscribers/bulk", e.bearer("admin"),
		`{"action":"erase","reason":"本人からの削除依頼","ids":[`+fmt.Sprint(rows[0].SubscriberID)+`]}`)
	if resp.StatusCode != 200 || !strings.Contains(body, `"changed":1`) {
		t.Errorf("admin's API erase: %d %s", resp.StatusCode, body)
	}
	if st, _ := e.subs.Counts(ctx, []string{"shimin-katsudo", "kankyo-hozen"}); st.Total() != 2 {
		t.Errorf("after the erasures: %+v, want kankyo-hozen's two", st)
	}
}
