package web

import (
	"context"
	"database/sql"
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"kawaraban/subscribers"
)

// newTestListAdmin is the real lists store on the test's database, with
// testLists in it (and the law's footer fields they lack filled in), for
// the environments whose other parts are fakes.
func newTestListAdmin(t testing.TB, db *sql.DB, now func() time.Time) ListAdmin {
	t.Helper()
	s := subscribers.New(db, subscribers.Options{Now: now})
	var defs []subscribers.List
	for _, l := range testLists {
		l.ID = 0
		l.FromName, l.PostalAddress, l.Contact = "京都市", "京都市中京区寺町通御池上る上本能寺前町488", "075-000-0000"
		if l.FromAddress == "" {
			l.FromAddress = "news@city.example.jp"
		}
		defs = append(defs, l)
	}
	if err := s.SyncLists(context.Background(), defs); err != nil {
		t.Fatal(err)
	}
	return s
}

// listForm is a valid list form (slug "" for an edit), with set applied.
func listForm(slug string, set map[string]string) url.Values {
	v := url.Values{
		"name_ja": {"子ども・若者センター通信"}, "name_en": {"Children and Youth Center News"},
		"description_ja": {"子育てと若者支援の講座のお知らせ"}, "kind": {"public"},
		"from_address": {"kodomo@city.example.jp"}, "from_name": {"京都市子ども・若者センター"},
		"postal_address": {"〒604-8571 京都市中京区寺町通御池上る上本能寺前町488"},
		"contact":        {"075-222-3039 kodomo@city.example.jp"}, "encoding": {"utf-8"},
		"name_fallback": {"読者"}, "double_opt_in": {"1"}, "archive": {"1"},
	}
	if slug != "" {
		v.Set("slug", slug)
	}
	for k, x := range set {
		v.Set(k, x)
	}
	return v
}

// listJSONBody is a valid POST /api/v1/lists body; extra replaces or adds
// members (later members win in encoding/json).
func listJSONBody(slug, extra string) string {
	b := `{"slug":"` + slug + `","name_ja":"子ども・若者センター通信","name_en":"Children and Youth Center News",` +
		`"from_address":"kodomo@city.example.jp","from_name":"京都市子ども・若者センター",` +
		`"postal_address":"〒604-8571 京都市中京区寺町通御池上る上本能寺前町488","contact":"075-222-3039"`
	if extra != "" {
		b += "," + extra
	}
	return b + "}"
}

// TestListFooterFieldsCannotBeEmptied: the law's footer fields are
// refused empty in the UI and the API (422, the field named, in Japanese
// on the page), and the refused edit changes nothing.
func TestListFooterFieldsCannotBeEmptied(t *testing.T) {
	t.Parallel()
	e := newRealEnv(t)
	ctx := t.Context()
	c, csrf := e.login("admin")
	for _, tc := range []struct{ field, label string }{
		{"postal_address", "「差出人の住所」は必須です"},
		{"contact", "「問い合わせ先」は必須です"},
		{"from_name", "「差出人の名前」は必須です"},
	} {
		form := listForm("", map[string]string{tc.field: "  ", "csrf": csrf, "name_ja": "変えた名前"})
		resp, body := e.post(c, "/admin/lists/shimin-katsudo", form)
		if resp.StatusCode != 422 || !strings.Contains(body, tc.label) || !strings.Contains(body, `id="err-`+tc.field+`"`) ||
			!strings.Contains(body, "特定電子メール法") {
			t.Errorf("UI %s emptied: %d\n%s", tc.field, resp.StatusCode, body)
		}
		resp, body = e.api("PATCH", "/api/v1/lists/shimin-katsudo", e.bearer("admin"), `{"`+tc.field+`":"","name_ja":"変えた名前"}`)
		var got struct {
			Error  string
			Fields map[string]string
		}
		json.Unmarshal([]byte(body), &got)
		if resp.StatusCode != 422 || got.Fields[tc.field] == "" || !strings.Contains(got.Error, tc.field) {
			t.Errorf("API %s emptied: %d %s", tc.field, resp.StatusCode, body)
		}
	}
	l, _ := e.subs.ListBySlug(ctx, "shimin-katsudo")
	if l.NameJA == "変えた名前" || l.PostalAddress == "" || len(l.UIFields) != 0 {
		t.Errorf("a refused edit changed the list: %+v", l)
	}
	resp, body := e.api("POST", "/api/v1/lists", e.bearer("admin"), listJSONBody("kodomo", `"postal_address":""`))
	if resp.StatusCode != 422 || !strings.Contains(body, `"postal_address"`) {
		t.Errorf("API create without a postal address: %d %s", resp.StatusCode, body)
	}
	if _, err := e.subs.ListBySlug(ctx, "kodomo"); err == nil {
		t.Error("a refused list was created")
	}
}

// TestClosedListRefusesNewSubscribers: closed through the API, a list
// leaves the public form, and the form and the API refuse it with the
// reason; its subscribers stay; every change is in the audit log.
func TestClosedListRefusesNewSubscribers(t *testing.T) {
	t.Parallel()
	e := newRealEnv(t)
	ctx := t.Context()
	admin := e.bearer("admin")
	if _, err := e.subs.Import(ctx, strings.NewReader("email\nstays@example.jp\n"),
		subscribers.ImportOptions{ListSlug: "kankyo-hozen", ConsentSource: "窓口申込書"}); err != nil {
		t.Fatal(err)
	}
	c := e.client()
	if resp, _ := subscribeForm(t, e.env, c, "pending@example.jp", "kankyo-hozen"); resp.StatusCode != 200 {
		t.Fatalf("subscribe before closing: %d", resp.StatusCode)
	}
	pending, _ := url.Parse(e.mail.last(t).ConfirmURL)
	resp, body := e.api("PATCH", "/api/v1/lists/kankyo-hozen", admin, `{"closed":true,"archive":false}`)
	var lj listJSON
	json.Unmarshal([]byte(body), &lj)
	if resp.StatusCode != 200 || !lj.Closed || lj.Archive || lj.ClosedAt == nil {
		t.Fatalf("close: %d %s", resp.StatusCode, body)
	}
	if resp, body := e.post(c, pending.Path, url.Values{}); resp.StatusCode != 422 || !strings.Contains(body, "新規登録の受付を終了しました") {
		t.Errorf("confirming, after closing, a link sent before: %d", resp.StatusCode)
	}
	if _, body := e.get(c, "/subscribe"); strings.Contains(body, `value="kankyo-hozen"`) || !strings.Contains(body, `value="shimin-katsudo"`) {
		t.Error("the public form still offers the closed list")
	}
	resp, body = subscribeForm(t, e.env, c, "new@example.jp", "kankyo-hozen")
	if resp.StatusCode != 422 || !strings.Contains(body, "新規登録の受付を終了しました") {
		t.Errorf("form subscribe to a closed list: %d", resp.StatusCode)
	}
	resp, body = e.api("POST", "/api/v1/lists/kankyo-hozen/subscribers", admin, `{"email":"new@example.jp"}`)
	if resp.StatusCode != 422 || !strings.Contains(body, "no longer takes new subscribers") {
		t.Errorf("API subscribe to a closed list: %d %s", resp.StatusCode, body)
	}
	if resp, _ := e.get(c, "/archive/kankyo-hozen"); resp.StatusCode != 404 {
		t.Errorf("archive turned off still shows: %d", resp.StatusCode)
	}
	l, _ := e.subs.ListBySlug(ctx, "kankyo-hozen")
	if n, _ := e.dom.Sending.Recipients(ctx, l.ID); n != 1 {
		t.Errorf("the closed list's reader is no longer a recipient: %d", n)
	}
	resp, body = e.api("GET", "/api/v1/lists", e.bearer("viewer"), "")
	if resp.StatusCode != 200 || !strings.Contains(body, `"closed":true`) || !strings.Contains(body, `"postal_address"`) {
		t.Errorf("GET lists: %d %s", resp.StatusCode, body)
	}
	var n int
	e.db.QueryRow(`SELECT count(*) FROM audit_log WHERE action IN ('list.update','list.close') AND actor = 'admin' AND target = 'kankyo-hozen'`).Scan(&n)
	if n != 2 {
		t.Errorf("%d audit entries for the update and the close, want 2", n)
	}
}

// TestListFieldBackToConfig: a field edited in the UI is marked on the
// form, and can be handed back to the config file, in the UI and the API.
func TestListFieldBackToConfig(t *testing.T) {
	t.Parallel()
	e := newRealEnv(t)
	ctx := t.Context()
	c, csrf := e.login("admin")
	resp, _ := e.post(c, "/admin/lists/shimin-katsudo", listForm("", map[string]string{"csrf": csrf}))
	if resp.StatusCode != 303 {
		t.Fatalf("edit: %d", resp.StatusCode)
	}
	l, _ := e.subs.ListBySlug(ctx, "shimin-katsudo")
	if !l.EditedInUI("from_name") || !l.EditedInUI("postal_address") {
		t.Fatalf("UI fields after the edit: %v", l.UIFields)
	}
	_, body := e.get(c, "/admin/lists/shimin-katsudo")
	if !strings.Contains(body, `id="rel-from_name"`) || strings.Contains(body, `id="rel-kind"`) {
		t.Errorf("the form does not offer exactly the edited fields back to the config")
	}
	form := listForm("", map[string]string{"csrf": csrf})
	form.Add("use_config", "from_name")
	if resp, _ := e.post(c, "/admin/lists/shimin-katsudo", form); resp.StatusCode != 303 {
		t.Fatalf("release in the UI: %d", resp.StatusCode)
	}
	resp, body = e.api("PATCH", "/api/v1/lists/shimin-katsudo", e.bearer("admin"), `{"use_config":["postal_address"]}`)
	if resp.StatusCode != 200 || strings.Contains(body, `"postal_address","`) {
		t.Errorf("release in the API: %d %s", resp.StatusCode, body)
	}
	l, _ = e.subs.ListBySlug(ctx, "shimin-katsudo")
	if l.EditedInUI("from_name") || l.EditedInUI("postal_address") || !l.EditedInUI("contact") {
		t.Errorf("UI fields after the release: %v", l.UIFields)
	}
	if resp, body := e.api("PATCH", "/api/v1/lists/shimin-katsudo", e.bearer("admin"), `{"use_config":["archive"]}`); resp.StatusCode != 422 {
		t.Errorf("releasing a UI-only field: %d %s", resp.StatusCode, body)
	}
	var n int
	e.db.QueryRow(`SELECT count(*) FROM audit_log WHERE action = 'list.release'`).Scan(&n)
	if n != 2 {
		t.Errorf("%d release audit entries, want 2", n)
	}
}
