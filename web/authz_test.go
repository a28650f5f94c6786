package web

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"kawaraban/issues"
)

// roles in matrix order: admin, editor of shimin-katsudo, coordinator,
// viewer.
var matrixRoles = []string{"admin", "editor", "coord", "viewer"}

type routeCase struct {
	method, path string
	form         url.Values // UI POST form (csrf added)
	json         string     // API body
	allow        string     // which roles may: letters A E C V
	code         int        // exact status expected when allowed (0: any non-403 below 500)
}

func uiCases() []routeCase {
	f := func(kv ...string) url.Values {
		v := url.Values{}
		for i := 0; i < len(kv); i += 2 {
			v.Add(kv[i], kv[i+1])
		}
		return v
	}
	issue := func(list string) url.Values { return f("list", list, "subject", "件名", "body", "本文") }
	joint := func(lead, also string) url.Values {
		return f("list", lead, "lists", also, "subject", "件名", "body", "本文")
	}
	return []routeCase{
		{"GET", "/admin/", nil, "", "AECV", 200},
		{"POST", "/admin/logout", f(), "", "AECV", 303},
		{"GET", "/admin/issues?list=shimin-katsudo", nil, "", "AEV", 200},
		{"GET", "/admin/issues?list=kankyo-hozen", nil, "", "AV", 200},
		{"GET", "/admin/issues?list=chonai", nil, "", "ACV", 200},
		{"GET", "/admin/issues/new?list=shimin-katsudo", nil, "", "AE", 200},
		{"GET", "/admin/issues/new?list=kankyo-hozen", nil, "", "A", 200},
		{"GET", "/admin/issues/new?list=chonai", nil, "", "AC", 200},
		{"POST", "/admin/issues", issue("shimin-katsudo"), "", "AE", 303},
		{"POST", "/admin/issues", issue("kankyo-hozen"), "", "A", 303},
		{"POST", "/admin/issues", issue("chonai"), "", "AC", 303},
		// Issue 17: a joint issue only with lists one may edit; viewed
		// through any of its lists, changed only with every one of them.
		{"POST", "/admin/issues", joint("shimin-katsudo", "kankyo-hozen"), "", "A", 303},
		{"POST", "/admin/issues", joint("kankyo-hozen", "shimin-katsudo"), "", "A", 303},
		{"POST", "/admin/issues", joint("shimin-katsudo", "shimin-katsudo"), "", "AE", 303},
		{"GET", "/admin/issues/4", nil, "", "AEV", 200},
		{"POST", "/admin/issues/4", issue("kankyo-hozen"), "", "A", 303},
		{"POST", "/admin/issues/4/send", f("confirm", "yes"), "", "A", 303},
		{"POST", "/admin/issues/1/duplicate", f(), "", "AE", 303},
		{"POST", "/admin/issues/2/duplicate", f(), "", "A", 303},
		{"POST", "/admin/issues/4/duplicate", f(), "", "A", 303},
		{"GET", "/admin/issues/1", nil, "", "AEV", 200},
		{"GET", "/admin/issues/2", nil, "", "AV", 200},
		{"GET", "/admin/issues/3", nil, "", "ACV", 200},
		{"POST", "/admin/issues/1", issue("shimin-katsudo"), "", "AE", 303},
		{"POST", "/admin/issues/2", issue("kankyo-hozen"), "", "A", 303},
		{"POST", "/admin/issues/1/send", f("confirm", "yes"), "", "AE", 303},
		{"POST", "/admin/issues/2/send", f("confirm", "yes"), "", "A", 303},
		{"POST", "/admin/issues/3/cancel", f("confirm", "yes"), "", "AC", 303},
		{"POST", "/admin/issues/1/approve", f(), "", "A", 303},
		{"GET", "/admin/issues/1/progress.json", nil, "", "AEV", 200},
		{"GET", "/admin/issues/2/progress.json", nil, "", "AV", 200},
		{"POST", "/admin/preview", issue("shimin-katsudo"), "", "AE", 200},
		{"POST", "/admin/preview", issue("kankyo-hozen"), "", "A", 200},
		{"GET", "/admin/subscribers?list=shimin-katsudo", nil, "", "AEV", 200},
		{"GET", "/admin/subscribers?list=kankyo-hozen", nil, "", "AV", 200},
		{"GET", "/admin/subscribers/0?list=shimin-katsudo", nil, "", "AEV", 0},
		{"GET", "/admin/subscribers/0?list=kankyo-hozen", nil, "", "AV", 0},
		// A subscriber only to those who may view one of its lists, even
		// with a list of one's own in the query.
		{"GET", "/admin/subscribers/0", nil, "", "AEV", 200},
		{"GET", "/admin/subscribers/1", nil, "", "AV", 200},
		{"GET", "/admin/subscribers/1?list=shimin-katsudo", nil, "", "AV", 200},
		{"GET", "/admin/subscribers/2?list=chonai", nil, "", "ACV", 200},
		{"GET", "/admin/subscribers/3?list=shimin-katsudo", nil, "", "AEV", 200},
		{"GET", "/admin/subscribers/4", nil, "", "AV", 200},
		// Issue 17: one subscriber's actions. The editor of shimin-katsudo
		// acts on its own subscribers (0) and gets 403 on those only on
		// kankyo-hozen (1); erasing or lifting a suppression for every list
		// needs every list of the subscriber (3 is also on kankyo-hozen).
		// A missing subscriber is 404 only for those who see every list
		// (admin, viewer), 403 for the rest: no enumeration.
		{"POST", "/admin/subscribers/0/profile", f("name", "新しい名前", "attributes", "区=中京区"), "", "AE", 303},
		{"POST", "/admin/subscribers/1/profile", f("name", "x"), "", "A", 303},
		{"POST", "/admin/subscribers/2/profile", f("name", "x"), "", "AC", 303},
		{"POST", "/admin/subscribers/3/profile", f("name", "x"), "", "AE", 303},
		{"POST", "/admin/subscribers/4/profile", f("name", "x"), "", "A", 303},
		{"POST", "/admin/subscribers/0/profile", f("attributes", "no key here"), "", "AE", 422},
		{"POST", "/admin/subscribers/99/profile", f("name", "x"), "", "AV", 404},
		{"POST", "/admin/subscribers/0/unsubscribe", f("list", "shimin-katsudo"), "", "AE", 200},
		{"POST", "/admin/subscribers/0/unsubscribe", f("list", "shimin-katsudo", "confirm", "yes"), "", "AE", 303},
		{"POST", "/admin/subscribers/1/unsubscribe", f("list", "kankyo-hozen", "confirm", "yes"), "", "A", 303},
		{"POST", "/admin/subscribers/3/unsubscribe", f("list", "kankyo-hozen", "confirm", "yes"), "", "A", 303},
		{"POST", "/admin/subscribers/0/unsuppress", f("reason", "本人から連絡"), "", "AE", 303},
		{"POST", "/admin/subscribers/0/unsuppress", f("reason", ""), "", "AE", 422},
		{"POST", "/admin/subscribers/1/unsuppress", f("reason", "本人から連絡"), "", "A", 303},
		{"POST", "/admin/subscribers/3/unsuppress", f("reason", "本人から連絡"), "", "A", 303},
		{"POST", "/admin/subscribers/3/unsuppress", f("reason", "x", "list", "shimin-katsudo"), "", "AE", 409},
		{"POST", "/admin/subscribers/0/erase", f("reason", "削除依頼", "confirm", "S0@example.jp"), "", "AE", 200},
		{"POST", "/admin/subscribers/0/erase", f("reason", "削除依頼", "confirm", "someone@example.jp"), "", "AE", 422},
		{"POST", "/admin/subscribers/1/erase", f("reason", "削除依頼", "confirm", "s1@example.jp"), "", "A", 200},
		{"POST", "/admin/subscribers/2/erase", f("reason", "削除依頼", "confirm", "s2@example.jp"), "", "AC", 200},
		{"POST", "/admin/subscribers/3/erase", f("reason", "削除依頼", "confirm", "s3@example.jp"), "", "A", 200},
		{"POST", "/admin/subscribers/4/erase", f("reason", "削除依頼", "confirm", "s4@example.jp"), "", "A", 200},
		{"POST", "/admin/subscribers/import", f("list", "shimin-katsudo"), "", "AE", 0},
		{"POST", "/admin/subscribers/import", f("list", "kankyo-hozen"), "", "A", 0},
		// Issue 17: "import these" of a dry run; no such staged file here.
		{"POST", "/admin/subscribers/import/0123456789abcdef0123456789abcdef/run", f("list", "shimin-katsudo"), "", "AE", 422},
		{"POST", "/admin/subscribers/import/0123456789abcdef0123456789abcdef/run", f("list", "kankyo-hozen"), "", "A", 422},
		{"GET", "/admin/subscribers/imports.json?list=shimin-katsudo", nil, "", "AEV", 200},
		{"GET", "/admin/subscribers/imports.json?list=kankyo-hozen", nil, "", "AV", 200},
		{"POST", "/admin/subscribers/add", f("list", "chonai", "email", "staff@city.example.jp"), "", "AC", 303},
		{"POST", "/admin/subscribers/add", f("list", "shimin-katsudo", "email", "x@example.jp"), "", "AE", 422},
		{"GET", "/admin/subscribers/export?list=shimin-katsudo", nil, "", "AE", 200},
		{"GET", "/admin/subscribers/export?list=kankyo-hozen", nil, "", "A", 200},
		// Issue 17: the list's filters, the all-my-lists view and bulk actions.
		{"GET", "/admin/subscribers?list=*", nil, "", "AECV", 200},
		{"GET", "/admin/subscribers?list=*&status=unsubscribed&q=s", nil, "", "AECV", 200},
		{"GET", "/admin/subscribers?list=kankyo-hozen&status=confirmed", nil, "", "AV", 200},
		{"POST", "/admin/subscribers/bulk", f("list", "shimin-katsudo", "action", "unsubscribe", "scope", "filter"), "", "AE", 200},
		{"POST", "/admin/subscribers/bulk", f("list", "kankyo-hozen", "action", "suppress", "scope", "filter"), "", "A", 200},
		{"POST", "/admin/subscribers/bulk", f("list", "kankyo-hozen", "action", "export", "scope", "filter", "confirm", "yes", "reason", "r"), "", "A", 200},
		{"POST", "/admin/subscribers/bulk", f("list", "chonai", "action", "unsubscribe", "scope", "filter", "confirm", "yes", "reason", "r"), "", "AC", 200},
		{"POST", "/admin/subscribers/bulk", f("list", "kankyo-hozen", "action", "erase", "scope", "filter"), "", "A", 200},
		{"POST", "/admin/subscribers/bulk", f("list", "shimin-katsudo", "action", "erase", "scope", "filter"), "", "AE", 200},
		{"GET", "/admin/bounces", nil, "", "AV", 200},
		{"GET", "/admin/bounces?list=shimin-katsudo", nil, "", "AEV", 200},
		{"GET", "/admin/bounces?list=kankyo-hozen", nil, "", "AV", 200},
		{"POST", "/admin/bounces/1/not-a-bounce", f(), "", "AE", 303},
		{"POST", "/admin/bounces/2/not-a-bounce", f(), "", "A", 303},
		{"POST", "/admin/bounces/1/verify", f(), "", "A", 303},
		{"GET", "/admin/schedules", nil, "", "AECV", 200},
		{"POST", "/admin/schedules/1/pause", f(), "", "A", 303},
		{"POST", "/admin/schedules/2/pause", f(), "", "AE", 303},
		{"POST", "/admin/schedules/3/resume", f(), "", "A", 303},
		{"POST", "/admin/schedules/2/delete", f(), "", "AE", 303},
		{"POST", "/admin/schedules/3/delete", f(), "", "A", 303},
		{"POST", "/admin/schedules/99/delete", f(), "", "ACV", 404},
		{"POST", "/admin/schedules", f("list", "shimin-katsudo", "spec", "0 10 1-7 * 1", "tz", "Asia/Tokyo"), "", "AE", 303},
		{"POST", "/admin/schedules", f("list", "kankyo-hozen", "spec", "0 10 1-7 * 1", "tz", "Asia/Tokyo"), "", "A", 303},
		{"POST", "/admin/schedules", f("list", "chonai", "spec", "@monthly", "tz", ""), "", "AC", 303},
		{"POST", "/admin/schedules", f("list", "shimin-katsudo", "spec", "0 10 *", "tz", "Asia/Tokyo"), "", "AE", 422},
		{"GET", "/admin/progress", nil, "", "ACV", 200},
		{"POST", "/admin/progress/submitted", f("deadline", "fy2026-status", "bureau", "somu"), "", "AC", 303},
		{"GET", "/admin/progress.csv", nil, "", "ACV", 200},
		{"GET", "/admin/users", nil, "", "A", 200},
		{"POST", "/admin/users", f("login", "newbie", "password", "long enough pw", "role", "viewer"), "", "A", 303},
		{"POST", "/admin/users/viewer", f("role", "viewer"), "", "A", 303},
		{"POST", "/admin/users/viewer/password", f("password", "another long one"), "", "A", 303},
		{"POST", "/admin/users/coord/disable", f(), "", "A", 303},
		{"GET", "/admin/account", nil, "", "AECV", 200},
		{"POST", "/admin/account", f("email", "me@city.example.jp"), "", "AECV", 303},
		{"GET", "/admin/audit", nil, "", "A", 200},
		{"GET", "/admin/settings", nil, "", "A", 200},
		{"GET", "/admin/local/mail", nil, "", "A", 200},
		{"POST", "/admin/local/mail", url.Values{"from": {"a@example.jp"}, "to": {"shimin-katsudo-join@bounces.localhost"}}, "", "A", 303},
		// Issue 17: lists are admins' only; the others see theirs read-only.
		{"GET", "/admin/lists", nil, "", "AECV", 200},
		{"GET", "/admin/lists/new", nil, "", "A", 200},
		{"POST", "/admin/lists", listForm("kodomo", nil), "", "A", 303},
		{"POST", "/admin/lists", listForm("kodomo", map[string]string{"postal_address": ""}), "", "A", 422},
		{"GET", "/admin/lists/shimin-katsudo", nil, "", "A", 200},
		{"POST", "/admin/lists/shimin-katsudo", listForm("", map[string]string{"from_name": "新しい差出人"}), "", "A", 303},
		{"POST", "/admin/lists/kankyo-hozen", listForm("", map[string]string{"contact": ""}), "", "A", 422},
		{"POST", "/admin/lists/shimin-katsudo/close", f(), "", "A", 303},
		{"POST", "/admin/lists/shimin-katsudo/reopen", f(), "", "A", 303},
	}
}

func apiCases() []routeCase {
	j := func(list string) string {
		return `{"list":"` + list + `","subject":"件名","body_markdown":"本文"}`
	}
	return []routeCase{
		{"POST", "/api/v1/issues", nil, j("shimin-katsudo"), "AE", 201},
		{"POST", "/api/v1/issues", nil, j("kankyo-hozen"), "A", 201},
		{"POST", "/api/v1/issues", nil, j("chonai"), "AC", 201},
		{"POST", "/api/v1/issues", nil, `{"lists":["shimin-katsudo","kankyo-hozen"],"subject":"件名","body_markdown":"本文"}`, "A", 201},
		{"POST", "/api/v1/issues", nil, `{"list":"kankyo-hozen","lists":["shimin-katsudo"],"subject":"件名","body_markdown":"本文"}`, "A", 201},
		{"POST", "/api/v1/issues", nil, `{"lists":["shimin-katsudo"],"subject":"件名","body_markdown":"本文"}`, "AE", 201},
		{"GET", "/api/v1/issues/4", nil, "", "AEV", 200},
		{"POST", "/api/v1/issues/4/send", nil, "", "A", 202},
		{"POST", "/api/v1/issues/1/duplicate", nil, "", "AE", 201},
		{"POST", "/api/v1/issues/2/duplicate", nil, "", "A", 201},
		{"POST", "/api/v1/issues/4/duplicate", nil, "", "A", 201},
		{"GET", "/api/v1/issues?list=shimin-katsudo", nil, "", "AEV", 200},
		{"GET", "/api/v1/issues?list=kankyo-hozen", nil, "", "AV", 200},
		{"GET", "/api/v1/issues/1", nil, "", "AEV", 200},
		{"GET", "/api/v1/issues/2", nil, "", "AV", 200},
		{"POST", "/api/v1/issues/1/send", nil, "", "AE", 202},
		{"POST", "/api/v1/issues/2/send", nil, "", "A", 202},
		{"POST", "/api/v1/issues/3/send", nil, "", "AC", 202},
		{"POST", "/api/v1/issues/1/preview", nil, "", "AEV", 200},
		{"POST", "/api/v1/issues/2/preview", nil, "", "AV", 200},
		{"POST", "/api/v1/issues/1/test", nil, `{"to":"me@city.example.jp"}`, "AE", 202},
		{"POST", "/api/v1/issues/2/test", nil, `{"to":"me@city.example.jp"}`, "A", 202},
		{"GET", "/api/v1/schedules", nil, "", "AECV", 200},
		{"POST", "/api/v1/schedules", nil, `{"list":"shimin-katsudo","spec":"0 10 1-7 * 1"}`, "AE", 201},
		{"POST", "/api/v1/schedules", nil, `{"list":"kankyo-hozen","spec":"0 10 1-7 * 1","tz":"Asia/Tokyo"}`, "A", 201},
		{"POST", "/api/v1/schedules", nil, `{"list":"shimin-katsudo","spec":"0 10 1-7 * 1","tz":"Mars/Olympus"}`, "AE", 422},
		{"POST", "/api/v1/schedules/1/pause", nil, "", "A", 200},
		{"POST", "/api/v1/schedules/2/pause", nil, "", "AE", 200},
		{"POST", "/api/v1/schedules/3/resume", nil, "", "A", 200},
		{"POST", "/api/v1/schedules/2/resume", nil, "", "AE", 200},
		{"DELETE", "/api/v1/schedules/2", nil, "", "AE", 204},
		{"DELETE", "/api/v1/schedules/3", nil, "", "A", 204},
		{"GET", "/api/v1/lists", nil, "", "AECV", 200},
		{"POST", "/api/v1/progress/publish", nil, `{"deadline":"fy2026-status"}`, "AC", 404},
		{"POST", "/api/v1/progress/draft-issue", nil, `{"list":"chonai"}`, "AC", 201},
		{"GET", "/api/v1/lists/shimin-katsudo/subscribers", nil, "", "AEV", 200},
		{"GET", "/api/v1/lists/kankyo-hozen/subscribers", nil, "", "AV", 200},
		{"POST", "/api/v1/lists/shimin-katsudo/subscribers", nil, `{"email":"new@example.jp"}`, "AE", 202},
		{"POST", "/api/v1/lists/kankyo-hozen/subscribers", nil, `{"email":"new@example.jp"}`, "A", 202},
		{"POST", "/api/v1/lists/chonai/subscribers", nil, `{"email":"staff@city.example.jp"}`, "AC", 201},
		{"GET", "/api/v1/lists/kankyo-hozen/subscribers?status=suppressed", nil, "", "AV", 200},
		{"POST", "/api/v1/lists/shimin-katsudo/subscribers/bulk", nil, `{"action":"unsubscribe","reason":"r","status":"confirmed"}`, "AE", 200},
		{"POST", "/api/v1/lists/kankyo-hozen/subscribers/bulk", nil, `{"action":"suppress","reason":"r","dry_run":true}`, "A", 200},
		{"POST", "/api/v1/lists/chonai/subscribers/bulk", nil, `{"action":"suppress","reason":"r","ids":[2]}`, "AC", 200},
		{"POST", "/api/v1/lists/kankyo-hozen/subscribers/bulk", nil, `{"action":"erase","reason":"r","dry_run":true}`, "A", 200},
		{"GET", "/api/v1/bounces", nil, "", "AV", 200},
		{"GET", "/api/v1/bounces?list=shimin-katsudo", nil, "", "AEV", 200},
		{"POST", "/api/v1/bounces/1/not-a-bounce", nil, "", "AE", 200},
		{"POST", "/api/v1/bounces/2/not-a-bounce", nil, "", "A", 200},
		{"GET", "/api/v1/openapi.json", nil, "", "AECV", 200},
		// Issue 17: the subscriber API, under the page's rules (above).
		{"GET", "/api/v1/subscribers/0", nil, "", "AEV", 200},
		{"GET", "/api/v1/subscribers/1", nil, "", "AV", 200},
		{"GET", "/api/v1/subscribers/2", nil, "", "ACV", 200},
		{"GET", "/api/v1/subscribers/99", nil, "", "AV", 404},
		{"PATCH", "/api/v1/subscribers/0", nil, `{"name":"新しい名前","attributes":{"区":"中京区"}}`, "AE", 200},
		{"PATCH", "/api/v1/subscribers/1", nil, `{"name":"x"}`, "A", 200},
		{"PATCH", "/api/v1/subscribers/3", nil, `{"unsubscribe":["kankyo-hozen"]}`, "A", 200},
		{"PATCH", "/api/v1/subscribers/3", nil, `{"unsubscribe":["shimin-katsudo"]}`, "AE", 200},
		{"DELETE", "/api/v1/subscribers/0", nil, `{"reason":"削除依頼"}`, "AE", 200},
		{"DELETE", "/api/v1/subscribers/0", nil, ``, "AE", 422},
		{"DELETE", "/api/v1/subscribers/1", nil, `{"reason":"削除依頼"}`, "A", 200},
		{"DELETE", "/api/v1/subscribers/3", nil, `{"reason":"削除依頼"}`, "A", 200},
		{"DELETE", "/api/v1/subscribers/99", nil, `{"reason":"削除依頼"}`, "AV", 404},
		{"POST", "/api/v1/subscribers/0/unsuppress", nil, `{"reason":"本人から連絡"}`, "AE", 200},
		{"POST", "/api/v1/subscribers/0/unsuppress", nil, `{}`, "AE", 422},
		{"POST", "/api/v1/subscribers/1/unsuppress", nil, `{"reason":"本人から連絡"}`, "A", 200},
		{"POST", "/api/v1/subscribers/3/unsuppress", nil, `{"reason":"本人から連絡"}`, "A", 200},
		// Issue 17: lists, admins only.
		{"POST", "/api/v1/lists", nil, listJSONBody("kodomo", ""), "A", 201},
		{"POST", "/api/v1/lists", nil, listJSONBody("kodomo", `"contact":""`), "A", 422},
		{"PATCH", "/api/v1/lists/shimin-katsudo", nil, `{"from_name":"新しい差出人","closed":true}`, "A", 200},
		{"PATCH", "/api/v1/lists/shimin-katsudo", nil, `{"postal_address":" "}`, "A", 422},
	}
}

// seedSubscribers makes subscriber 0 on shimin-katsudo, 1 on
// kankyo-hozen, 2 on chonai, 3 once on shimin-katsudo (unsubscribed) and
// now on kankyo-hozen, and 4 on no list.
func (e *env) seedSubscribers() {
	ctx := context.Background()
	for i, lists := range [][]string{{"shimin-katsudo"}, {"kankyo-hozen"}, {"chonai"}, {"shimin-katsudo", "kankyo-hozen"}, nil} {
		if err := e.subs.Subscribe(ctx, SubscribeRequest{Email: fmt.Sprintf("s%d@example.jp", i), Lists: lists}); err != nil {
			e.t.Fatal(err)
		}
	}
	e.subs.mu.Lock()
	e.subs.subs[3].Lists["shimin-katsudo"] = "unsubscribed"
	e.subs.mu.Unlock()
}

// seedIssues makes issue 1 in shimin-katsudo, 2 in kankyo-hozen, 3 in
// chonai and 4 a joint issue of kankyo-hozen (lead) and shimin-katsudo.
func (e *env) seedIssues() {
	for _, id := range []int64{1, 2, 3} {
		if _, err := e.issues.Create(context.Background(), issues.Draft{ListID: id, Subject: "既存の号", BodyMarkdown: "本文", Author: "admin"}); err != nil {
			e.t.Fatal(err)
		}
	}
	if _, err := e.issues.Create(context.Background(), issues.Draft{ListID: 2, ListIDs: []int64{2, 1}, Subject: "合同の号", BodyMarkdown: "本文", Author: "admin"}); err != nil {
		e.t.Fatal(err)
	}
}

func TestRoleMatrix(t *testing.T) {
	t.Parallel()
	for i, role := range matrixRoles {
		letter := string("AECV"[i])
		t.Run(role, func(t *testing.T) {
			t.Parallel()
			shared := newEnv(t, nil) // for GETs, which change nothing
			shared.seedIssues()
			shared.seedSubscribers()
			sc, _ := shared.login(role)
			for _, rc := range uiCases() {
				e, c, csrf := shared, sc, ""
				if rc.method != "GET" {
					e = newEnv(t, nil) // fresh state: actions change issues
					e.seedIssues()
					e.seedSubscribers()
					c, csrf = e.login(role)
				}
				var resp *http.Response
				var body string
				if rc.method == "GET" {
					resp, body = e.get(c, rc.path)
				} else {
					rc.form.Set("csrf", csrf)
					resp, body = e.post(c, rc.path, rc.form)
				}
				check(t, "UI", rc, letter, resp.StatusCode, body)
			}
			sharedTok := shared.bearer(role)
			for _, rc := range apiCases() {
				e, tok := shared, sharedTok
				if rc.method != "GET" {
					e = newEnv(t, nil)
					e.seedIssues()
					e.seedSubscribers()
					tok = e.bearer(role)
				}
				resp, body := e.api(rc.method, rc.path, tok, rc.json)
				check(t, "API", rc, letter, resp.StatusCode, body)
				if resp.StatusCode == 403 && !strings.Contains(body, `"error"`) {
					t.Errorf("API 403 without an error object: %s", body)
				}
			}
		})
	}
}

func check(t *testing.T, kind string, rc routeCase, letter string, code int, body string) {
	t.Helper()
	allowed := strings.Contains(rc.allow, letter)
	switch {
	case !allowed && code != http.StatusForbidden:
		t.Errorf("%s %s %s: got %d, want 403", kind, rc.method, rc.path, code)
	case allowed && rc.code != 0 && code != rc.code:
		t.Errorf("%s %s %s: got %d, want %d (%.200s)", kind, rc.method, rc.path, code, rc.code, body)
	case allowed && (code == http.StatusForbidden || code >= 500):
		t.Errorf("%s %s %s: got %d, want allowed", kind, rc.method, rc.path, code)
	}
}

// TestRoleMatrixCoversEveryRoute makes sure the matrix above tries every
// admin and API route the mux knows.
func TestRoleMatrixCoversEveryRoute(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	seen := map[string]bool{}
	for _, rc := range append(uiCases(), apiCases()...) {
		req := httptest.NewRequest(rc.method, rc.path, nil)
		_, pattern := e.srv.mux.Handler(req)
		seen[pattern] = true
	}
	reports := e.srv.adminReportRoutes() // TestReportRoutesRoles tries these
	for p := range e.srv.adminRoutes() {
		if _, ok := reports[p]; !ok && !seen[p] {
			t.Errorf("admin route %q is not in the role matrix", p)
		}
	}
	for p := range e.srv.apiRoutes() {
		if !seen[p] {
			t.Errorf("API route %q is not in the role matrix", p)
		}
	}
}

func TestAuthorizeTable(t *testing.T) {
	t.Parallel()
	ed := User{Role: RoleEditor, Lists: []string{"shimin-katsudo"}}
	edAppr := User{Role: RoleEditor, Lists: []string{"shimin-katsudo"}, Approver: true}
	co := User{Role: RoleCoordinator}
	vi := User{Role: RoleViewer}
	ad := User{Role: RoleAdmin}
	for _, tc := range []struct {
		u    User
		act  Action
		list string
		want bool
	}{
		{ad, ActAdmin, "", true},
		{ed, ActEdit, "shimin-katsudo", true},
		{ed, ActEdit, "kankyo-hozen", false},
		{ed, ActView, "kankyo-hozen", false},
		{ed, ActApprove, "shimin-katsudo", false},
		{edAppr, ActApprove, "shimin-katsudo", true},
		{edAppr, ActApprove, "kankyo-hozen", false},
		{ed, ActProgressView, "", false},
		{co, ActEdit, "chonai", true},
		{co, ActEdit, "shimin-katsudo", false},
		{co, ActProgressEdit, "", true},
		{co, ActAdmin, "", false},
		{vi, ActView, "kankyo-hozen", true},
		{vi, ActEdit, "kankyo-hozen", false},
		{vi, ActProgressEdit, "", false},
		{vi, ActAdmin, "", false},
		{User{Role: "boss"}, ActView, "chonai", false},
	} {
		if got := authorize(tc.u, tc.act, tc.list); got != tc.want {
			t.Errorf("authorize(%s%v, %d, %q) = %v", tc.u.Role, tc.u.Lists, tc.act, tc.list, got)
		}
	}
}
