package web

import (
	"context"
	"database/sql"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"kawaraban/progress"
	"kawaraban/token"
)

// newTestReports is the real progress store the test server runs on.
func newTestReports(db *sql.DB, now func() time.Time) *progress.Store {
	signer, err := token.NewSigner([]byte(strings.Repeat("p", 32)))
	if err != nil {
		panic(err)
	}
	return progress.New(db, progress.Options{Now: now, Signer: signer, BaseURL: "http://kawaraban.test"})
}

// reportPlan has a contact with a person's name and addresses that must
// never reach a public page.
const reportPlan = `
contacts:
  - {bureau: sogo-kikaku, name_ja: 総合企画局, name: 企画課 鈴木, email: kikaku@city.example.jp}
  - {bureau: somu, name_ja: 総務局, name_en: General Affairs Bureau, name: 人事課 山田, email: somu@city.example.jp}
measures:
  - number: 32
    title_ja: 市民参加を進めるための庁内の仕組みづくり
    title_en: Internal mechanisms to advance citizen participation
    projects:
      - {title_ja: 市民参加を促進する職員研修の充実, bureau: somu}
      - {title_ja: 「市政セミナー」の実施, bureau: somu}
  - number: 35
    title_ja: 計画の進捗管理
    projects: [{title_ja: 「市民参加推進レポート」の発行, bureau: sogo-kikaku}]
deadlines:
  - {id: fy2026-status, title_ja: 令和8年度 実施状況の報告, due: 2027-04-30, bureaus: [sogo-kikaku, somu]}
`

var privateData = []string{"kikaku@city.example.jp", "somu@city.example.jp", "人事課 山田", "企画課 鈴木", "Go-http-client"}

func (e *env) reports() *progress.Store { return e.srv.opt.Reports.(*progress.Store) }

// reportLink imports the plan and returns somu's "submitted" path.
func (e *env) reportLink(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	if _, err := e.reports().Import(ctx, strings.NewReader(reportPlan), "plan.yaml"); err != nil {
		t.Fatal(err)
	}
	u, err := e.reports().SubmittedURL(ctx, "fy2026-status", "somu")
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimPrefix(u, "http://kawaraban.test")
}

func (e *env) countRows(t *testing.T, q string) int {
	t.Helper()
	var n int
	if err := e.db.QueryRow(q).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func somuForm(form, note string) url.Values {
	return url.Values{"form_token": {form}, "status_32-1": {"ongoing"}, "note_32-1": {note},
		"link_32-1": {"https://www.city.kyoto.lg.jp/somu/kenshu.html"}, "status_32-2": {"preparing"}, "note_32-2": {"会場を調整中です。"}}
}

func mustContain(t *testing.T, what, page string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(page, w) {
			t.Errorf("%s lacks %q", what, w)
		}
	}
}

func mustNotContain(t *testing.T, what, page string, bans ...string) {
	t.Helper()
	for _, b := range bans {
		if strings.Contains(page, b) {
			t.Errorf("%s shows %q", what, b)
		}
	}
}

// TestReportToPublicPage is issue 23's acceptance: a bureau reports
// through its link, the coordinator publishes, the public page and the
// feed show status and note without contact data; unpublished is not
// public; a revision replaces the public text only after publishing.
func TestReportToPublicPage(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	link := e.reportLink(t)
	bureau := e.client()

	resp, page := e.get(bureau, link)
	if resp.StatusCode != 200 {
		t.Fatalf("form: %d", resp.StatusCode)
	}
	mustContain(t, "form", page, `name="status_32-1"`, `name="note_32-2"`, `name="link_32-1"`, "実施済み", "遅れ・見直し", "総務局", "2027年4月30日(金)")
	mustNotContain(t, "form", page, "35-1")
	if n := e.countRows(t, `SELECT count(*) FROM report_revisions`) + e.countRows(t, `SELECT count(*) FROM submissions`); n != 0 {
		t.Fatal("a GET saved something")
	}
	// No form token: refused, the text kept, nothing saved.
	resp, page = e.post(bureau, link, somuForm("", "研修を年3回開きました。"))
	if resp.StatusCode != 403 || !strings.Contains(page, "研修を年3回開きました。") {
		t.Fatalf("without form token: %d", resp.StatusCode)
	}
	form := hidden(t, page, "form_token")
	bad := somuForm(form, "研修を年3回開きました。")
	bad.Del("status_32-2")
	bad.Set("link_32-1", "javascript:alert(1)")
	resp, page = e.post(bureau, link, bad)
	if resp.StatusCode != 422 {
		t.Fatalf("bad report: %d", resp.StatusCode)
	}
	mustContain(t, "refused form", page, "状況を選んでください。", "URLは http:// または https://", `aria-invalid="true"`, "研修を年3回開きました。")
	if n := e.countRows(t, `SELECT count(*) FROM report_revisions`); n != 0 {
		t.Fatal("a refused report saved revisions")
	}
	resp, _ = e.post(bureau, link, somuForm(form, "研修を年3回開きました。\n次年度も続けます。"))
	if resp.StatusCode != 303 || resp.Header.Get("Location") != link+"?saved=1" {
		t.Fatalf("report: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	_, page = e.get(bureau, link+"?saved=1")
	mustContain(t, "saved form", page, "報告を受け付けました", "研修を年3回開きました。\n次年度も続けます。", `id="submitted-at"`)

	// Not public before the coordinator publishes.
	_, pub := e.get(e.client(), "/progress")
	mustContain(t, "/progress", pub, "施策32", "市民参加を促進する職員研修の充実", "未報告")
	mustNotContain(t, "/progress before publishing", pub, "研修を年3回")

	coord, csrf := e.login("coord")
	_, admin := e.get(coord, "/admin/progress/reports")
	mustContain(t, "review page", admin, "未公開の変更あり", "研修を年3回開きました。")
	resp, _ = e.post(coord, "/admin/progress/publish", url.Values{"csrf": {csrf}, "deadline": {"fy2026-status"}})
	if resp.StatusCode != 303 {
		t.Fatalf("publish: %d", resp.StatusCode)
	}
	if n := e.countRows(t, `SELECT count(*) FROM audit_log WHERE action = 'progress.publish' AND actor = 'coord'`); n != 1 {
		t.Fatalf("%d audit rows for publishing", n)
	}
	for _, p := range []string{"/progress", "/progress/32", "/progress?lang=en", "/progress/feed.atom"} {
		resp, pub = e.get(e.client(), p)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d", p, resp.StatusCode)
		}
		mustContain(t, p, pub, "研修を年3回開きました。", "https://www.city.kyoto.lg.jp/somu/kenshu.html")
		mustNotContain(t, p, pub, privateData...)
	}
	_, pub = e.get(e.client(), "/progress/32")
	mustContain(t, "/progress/32", pub, `<link rel="alternate" type="application/atom+xml" href="/progress/feed.atom"`, `class="st st-ongoing">実施中`, `class="st st-preparing">準備中`, "総務局", "<time")
	mustNotContain(t, "/progress/32", pub, "計画の進捗管理")
	_, pub = e.get(e.client(), "/progress/32?lang=en")
	mustContain(t, "/progress/32 in English", pub, "In progress", "Internal mechanisms to advance citizen participation", "General Affairs Bureau")
	var feed atomFeed
	_, body := e.get(e.client(), "/progress/feed.atom")
	if err := xml.Unmarshal([]byte(body), &feed); err != nil {
		t.Fatal(err)
	}
	if len(feed.Entries) != 2 || !strings.Contains(feed.Entries[0].Title+feed.Entries[1].Title, "実施中") || strings.Contains(body, "@") {
		t.Fatalf("feed %+v", feed)
	}

	// A correction stays private until published again.
	_, page = e.get(bureau, link)
	e.post(bureau, link, somuForm(hidden(t, page, "form_token"), "研修を年4回に増やしました。"))
	_, pub = e.get(e.client(), "/progress")
	mustContain(t, "/progress after a correction", pub, "研修を年3回")
	mustNotContain(t, "/progress after a correction", pub, "年4回")
	e.post(coord, "/admin/progress/publish", url.Values{"csrf": {csrf}, "deadline": {"fy2026-status"}, "bureau": {"somu"}})
	_, pub = e.get(e.client(), "/progress")
	mustContain(t, "/progress after publishing the correction", pub, "研修を年4回に増やしました。")
	mustNotContain(t, "/progress after publishing the correction", pub, "年3回")
	if n := e.countRows(t, `SELECT count(*) FROM report_revisions`); n != 3 {
		t.Fatalf("%d revisions kept", n)
	}

	for _, p := range []string{"/progress/99", "/progress/abc", "/progress/032", "/progress/submitted/forged"} {
		if resp, _ := e.get(e.client(), p); resp.StatusCode != 404 {
			t.Errorf("%s: %d", p, resp.StatusCode)
		}
	}
}

// After the due date a submitted report is closed to the link; the
// coordinator corrects it by hand, audited.
func TestReportClosedAndCorrectedByHand(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	link := e.reportLink(t)
	bureau := e.client()
	_, page := e.get(bureau, link)
	e.post(bureau, link, somuForm(hidden(t, page, "form_token"), "研修を年3回開きました。"))
	e.clock.Add(200 * 24 * time.Hour) // past 2027-04-30
	_, page = e.get(bureau, link)
	mustContain(t, "closed form", page, `id="closed"`)
	mustNotContain(t, "closed form", page, `name="status_32-1"`)
	if resp, _ := e.post(bureau, link, somuForm(e.srv.formToken("submitted", strings.TrimPrefix(link, "/progress/submitted/")), "x")); resp.StatusCode != 409 {
		t.Fatalf("changing a closed report: %d", resp.StatusCode)
	}
	coord, csrf := e.login("coord")
	resp, page := e.get(coord, "/admin/progress/reports/fy2026-status/somu")
	if resp.StatusCode != 200 {
		t.Fatalf("admin form: %d", resp.StatusCode)
	}
	mustContain(t, "admin form", page, "研修を年3回開きました。", `name="csrf"`, "報告の履歴", "局の報告用リンク", "127.0.0.1", "Go-http-client")
	resp, _ = e.post(coord, "/admin/progress/reports/fy2026-status/somu", url.Values{"csrf": {csrf}, "status_32-1": {"done"}, "note_32-1": {"研修を終えました。"}})
	if resp.StatusCode != 303 {
		t.Fatalf("correction by hand: %d", resp.StatusCode)
	}
	if n := e.countRows(t, `SELECT count(*) FROM report_revisions WHERE source = 'admin' AND actor = 'coord' AND note = '研修を終えました。'`); n != 1 {
		t.Fatal("correction not saved as the coordinator's revision")
	}
	if n := e.countRows(t, `SELECT count(*) FROM audit_log WHERE action = 'progress.report' AND actor = 'coord'`); n != 1 {
		t.Fatal("correction not audited")
	}
	resp, page = e.post(coord, "/admin/progress/reports/fy2026-status/somu", url.Values{"csrf": {csrf}, "status_32-1": {"finished"}})
	if resp.StatusCode != 422 || !strings.Contains(page, "状況の選択肢から選んでください。") {
		t.Fatalf("bad correction: %d", resp.StatusCode)
	}
	viewer, vcsrf := e.login("viewer")
	if resp, _ := e.post(viewer, "/admin/progress/reports/fy2026-status/somu", url.Values{"csrf": {vcsrf}, "status_32-1": {"done"}}); resp.StatusCode != 403 {
		t.Fatalf("viewer correcting: %d", resp.StatusCode)
	}
}

func TestDraftIssueAndCSV(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	link := e.reportLink(t)
	bureau := e.client()
	_, page := e.get(bureau, link)
	e.post(bureau, link, somuForm(hidden(t, page, "form_token"), "研修を年3回開きました。"))
	if _, err := e.reports().Publish(context.Background(), "fy2026-status", "", "coord"); err != nil {
		t.Fatal(err)
	}
	coord, csrf := e.login("coord")
	resp, _ := e.post(coord, "/admin/progress/draft-issue", url.Values{"csrf": {csrf}, "list": {"chonai"}, "deadline": {"fy2026-status"}})
	if resp.StatusCode != 303 || !strings.HasPrefix(resp.Header.Get("Location"), "/admin/issues/") {
		t.Fatalf("draft: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	is, err := e.issues.ByID(context.Background(), 1)
	if err != nil || is.Status != "draft" || is.Author != "coord" {
		t.Fatalf("issue %+v %v", is, err)
	}
	mustContain(t, "draft", is.BodyMarkdown, "| 施策 | 実施済み |", "### 総務局", "研修を年3回開きました。", "会場を調整中です。")
	mustNotContain(t, "draft", is.BodyMarkdown, privateData...)
	if resp, _ := e.post(coord, "/admin/progress/draft-issue", url.Values{"csrf": {csrf}, "list": {"shimin-katsudo"}}); resp.StatusCode != 403 {
		t.Fatalf("coordinator drafting for a center's list: %d", resp.StatusCode)
	}

	resp, body := e.get(coord, "/admin/progress.csv")
	if resp.StatusCode != 200 || !strings.HasPrefix(body, "\ufeffdeadline_id,") || !strings.Contains(body, "研修を年3回開きました。") {
		t.Fatalf("csv: %d %q", resp.StatusCode, body)
	}
	if _, body := e.get(coord, "/admin/progress.csv?bom=0&deadline=fy2026-status"); !strings.HasPrefix(body, "deadline_id,") {
		t.Fatalf("csv without BOM: %q", body)
	}
	if resp, _ := e.get(coord, "/admin/progress.csv?deadline=nope"); resp.StatusCode != 404 {
		t.Fatalf("csv of an unknown deadline: %d", resp.StatusCode)
	}
	if _, body := e.get(coord, "/admin/progress.csv?by=bureau"); !strings.Contains(body, "deadline,bureau,submitted") {
		t.Fatalf("per-bureau csv: %q", body)
	}

	tok := e.bearer("coord")
	resp, body = e.api("POST", "/api/v1/progress/publish", tok, `{"deadline":"fy2026-status"}`)
	if resp.StatusCode != 200 || !strings.Contains(body, `"published":0`) {
		t.Fatalf("api publish: %d %s", resp.StatusCode, body)
	}
	resp, body = e.api("POST", "/api/v1/progress/draft-issue", tok, `{"list":"chonai"}`)
	if resp.StatusCode != 201 || !strings.Contains(body, `"status":"draft"`) || resp.Header.Get("Location") == "" {
		t.Fatalf("api draft: %d %s", resp.StatusCode, body)
	}
	for _, tc := range []struct {
		login, path, body string
		want              int
	}{
		{"editor", "/api/v1/progress/publish", `{"deadline":"fy2026-status"}`, 403},
		{"viewer", "/api/v1/progress/publish", `{"deadline":"fy2026-status"}`, 403},
		{"coord", "/api/v1/progress/publish", `{"deadline":"nope"}`, 404},
		{"coord", "/api/v1/progress/publish", `{}`, 422},
		{"coord", "/api/v1/progress/publish", `{"deadline":"fy2026-status","x":1}`, 400},
		{"editor", "/api/v1/progress/draft-issue", `{"list":"shimin-katsudo"}`, 403},
		{"coord", "/api/v1/progress/draft-issue", `{"list":"nope"}`, 404},
		{"coord", "/api/v1/progress/draft-issue", `{"list":"chonai","deadline":"nope"}`, 404},
	} {
		if resp, body := e.api("POST", tc.path, e.bearer(tc.login), tc.body); resp.StatusCode != tc.want {
			t.Errorf("%s %s %s: %d %s", tc.login, tc.path, tc.body, resp.StatusCode, body)
		}
	}
}

// TestReportRoutesRoles tries each admin report route with each role.
func TestReportRoutesRoles(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	e.reportLink(t)
	cases := []struct {
		method, path string
		form         url.Values
		allowed      string // A admin, E editor, C coordinator, V viewer
	}{
		{"GET", "/admin/progress/reports", nil, "ACV"},
		{"GET", "/admin/progress/reports/fy2026-status/somu", nil, "ACV"},
		{"POST", "/admin/progress/reports/fy2026-status/somu", url.Values{"status_32-1": {"done"}}, "AC"},
		{"POST", "/admin/progress/publish", url.Values{"deadline": {"fy2026-status"}}, "AC"},
		{"POST", "/admin/progress/draft-issue", url.Values{"list": {"chonai"}}, "AC"},
		{"GET", "/admin/progress.csv", nil, "ACV"},
	}
	for _, tc := range cases {
		for role, login := range map[byte]string{'A': "admin", 'E': "editor", 'C': "coord", 'V': "viewer"} {
			c, csrf := e.login(login)
			var resp *http.Response
			if tc.method == "GET" {
				resp, _ = e.get(c, tc.path)
			} else {
				f := url.Values{"csrf": {csrf}}
				for k, v := range tc.form {
					f[k] = v
				}
				resp, _ = e.post(c, tc.path, f)
			}
			ok := resp.StatusCode < 400
			if ok != strings.ContainsRune(tc.allowed, rune(role)) {
				t.Errorf("%s %s as %s: %d", tc.method, tc.path, login, resp.StatusCode)
			}
		}
	}
	seen := map[string]bool{}
	for _, tc := range cases {
		_, pattern := e.srv.mux.Handler(httptest.NewRequest(tc.method, tc.path, nil))
		seen[pattern] = true
	}
	for p := range e.srv.adminReportRoutes() {
		if !seen[p] {
			t.Errorf("report route %q is not in the role table", p)
		}
	}
}

func TestReportCatalogComplete(t *testing.T) {
	t.Parallel()
	for key, m := range reportCatalog {
		if m[0] == "" || m[1] == "" {
			t.Errorf("catalog %q lacks a translation", key)
		}
		if _, dup := catalog[key]; dup {
			t.Errorf("catalog %q is in both catalogues", key)
		}
	}
	for _, st := range progress.ReportStatuses {
		if _, ok := reportCatalog["rep.st."+string(st)]; !ok {
			t.Errorf("status %s has no label", st)
		}
	}
	e := newEnv(t, nil)
	link := e.reportLink(t)
	coord, _ := e.login("coord")
	for _, p := range []string{"/progress", "/progress/32", link, "/admin/progress/reports", "/admin/progress/reports/fy2026-status/somu"} {
		for _, lang := range []string{"ja", "en"} {
			resp, body := e.get(coord, p+sep(p)+"lang="+lang)
			if resp.StatusCode != 200 {
				t.Errorf("%s (%s): %d", p, lang, resp.StatusCode)
			}
			if strings.Contains(body, ">rep.") || strings.Contains(body, "\"rep.") || keyRE.MatchString(body) {
				t.Errorf("%s (%s) shows an untranslated key", p, lang)
			}
		}
	}
}

// The draft composed from the reports is an ordinary issue of the real
// issues store: it previews, test-sends, and needs another person's
// approval when its list asks for it (issue 23 acceptance).
func TestDraftIssueIsOrdinaryDraft(t *testing.T) {
	t.Parallel()
	e := newRealEnv(t)
	ctx := context.Background()
	lists, err := e.subs.Lists(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for i := range lists {
		lists[i].RequireApproval = lists[i].Slug == "chonai"
	}
	if err := e.subs.SyncLists(ctx, lists); err != nil {
		t.Fatal(err)
	}
	link := e.reportLink(t)
	bureau := e.client()
	_, page := e.get(bureau, link)
	e.post(bureau, link, somuForm(hidden(t, page, "form_token"), "研修を年3回開きました。"))
	if _, err := e.reports().Publish(ctx, "fy2026-status", "", "coord"); err != nil {
		t.Fatal(err)
	}
	coord, csrf := e.login("coord")
	resp, _ := e.post(coord, "/admin/progress/draft-issue", url.Values{"csrf": {csrf}, "list": {"chonai"}, "deadline": {"fy2026-status"}})
	loc := resp.Header.Get("Location")
	if resp.StatusCode != 303 || !strings.HasPrefix(loc, "/admin/issues/") {
		t.Fatalf("draft: %d %s", resp.StatusCode, loc)
	}
	id := strings.TrimPrefix(loc, "/admin/issues/")
	resp, page = e.get(coord, loc)
	if resp.StatusCode != 200 {
		t.Fatalf("issue page: %d", resp.StatusCode)
	}
	mustContain(t, "issue page", page, "市民参加推進計画の進捗", "研修を年3回開きました。")
	tok := e.bearer("coord")
	resp, body := e.api("POST", "/api/v1/issues/"+id+"/preview", tok, "")
	if resp.StatusCode != 200 || !strings.Contains(body, "研修を年3回開きました。") || !strings.Contains(body, "\\u003ctable\\u003e") {
		t.Fatalf("preview: %d %s", resp.StatusCode, body)
	}
	resp, body = e.api("GET", "/api/v1/issues/"+id, tok, "")
	if resp.StatusCode != 200 || !strings.Contains(body, `"status":"draft"`) {
		t.Fatalf("issue: %d %s", resp.StatusCode, body)
	}
	if resp, body := e.api("POST", "/api/v1/issues/"+id+"/send", tok, ""); resp.StatusCode != 409 {
		t.Fatalf("sending an unapproved draft of a list that asks for approval: %d %s", resp.StatusCode, body)
	}
	is, err := e.iss.ByID(ctx, mustInt(t, id))
	if err != nil || !is.RequireApproval || is.Status != "draft" || is.Author != "coord" {
		t.Fatalf("stored issue %+v %v", is, err)
	}
}

func mustInt(t *testing.T, s string) int64 {
	t.Helper()
	var n int64
	if _, err := fmt.Sscan(s, &n); err != nil {
		t.Fatal(err)
	}
	return n
}
