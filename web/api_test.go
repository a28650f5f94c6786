package web

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"
)

func TestAPIIssueLifecycle(t *testing.T) {
	t.Parallel()
	fd := &fakeDeliveries{} // the counts come from the mailer's progress
	e := newEnv(t, func(o *Options) { o.Deliveries = fd })
	fd.issues = e.issues
	tok := e.bearer("editor")
	e.subs.Subscribe(t.Context(), SubscribeRequest{Email: "a@example.jp", Lists: []string{"shimin-katsudo"}})
	e.subs.Confirm(t.Context(), e.subs.mails[0], Evidence{})

	resp, body := e.api("POST", "/api/v1/issues", tok, `{"list":"shimin-katsudo","subject":"11月号","body_markdown":"こんにちは {{ .Name }} さん"}`)
	if resp.StatusCode != 201 {
		t.Fatalf("create: %d %s", resp.StatusCode, body)
	}
	var created map[string]any
	json.Unmarshal([]byte(body), &created)
	if created["id"] != 1.0 || created["status"] != "draft" || resp.Header.Get("Location") != "/api/v1/issues/1" {
		t.Fatalf("create body %s", body)
	}
	resp, body = e.api("POST", "/api/v1/issues/1/send", tok, "")
	if resp.StatusCode != 202 {
		t.Fatalf("send: %d %s", resp.StatusCode, body)
	}
	resp, body = e.api("GET", "/api/v1/issues/1", tok, "")
	var got struct {
		ID     int64
		Status string
		Counts map[string]int
	}
	if err := json.Unmarshal([]byte(body), &got); err != nil || resp.StatusCode != 200 {
		t.Fatalf("get: %d %s", resp.StatusCode, body)
	}
	if got.ID != 1 || got.Status != "sent" || got.Counts["sent"] != 1 {
		t.Fatalf("get: %+v", got)
	}
	for _, k := range []string{"queued", "sent", "failed", "bounced"} {
		if _, ok := got.Counts[k]; !ok {
			t.Errorf("counts lack %q", k)
		}
	}
	// Sending twice is a conflict, not a server error.
	if resp, body = e.api("POST", "/api/v1/issues/1/send", tok, ""); resp.StatusCode != 409 || !strings.Contains(body, `"error"`) {
		t.Fatalf("send twice: %d %s", resp.StatusCode, body)
	}
}

// While an issue is being sent, GET shows the rate, the ETA and the last
// failure; the admin page shows the failure too.
func TestAPIIssueRateAndETA(t *testing.T) {
	t.Parallel()
	fd := &fakeDeliveries{lastError: "smtp mail: 421 4.7.0 too many connections"}
	e := newEnv(t, func(o *Options) { o.Deliveries = fd })
	fd.issues, e.issues.async = e.issues, true
	tok := e.bearer("editor")
	for _, a := range []string{"a@example.jp", "b@example.jp", "c@example.jp", "d@example.jp"} {
		e.subs.Subscribe(t.Context(), SubscribeRequest{Email: a, Lists: []string{"shimin-katsudo"}})
	}
	for _, m := range e.subs.mails {
		e.subs.Confirm(t.Context(), m, Evidence{})
	}
	if resp, body := e.api("POST", "/api/v1/issues", tok, `{"list":"shimin-katsudo","subject":"s","body_markdown":"b"}`); resp.StatusCode != 201 {
		t.Fatalf("create: %d %s", resp.StatusCode, body)
	}
	resp, body := e.api("POST", "/api/v1/issues/1/send", tok, "")
	if resp.StatusCode != 202 {
		t.Fatalf("send: %d %s", resp.StatusCode, body)
	}
	var got struct {
		Status string
		Counts map[string]int
		Rate   float64 `json:"rate_per_second"`
		ETA    float64 `json:"eta_seconds"`
		Error  string  `json:"last_error"`
	}
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatal(err)
	}
	// fakeDeliveries sends half on each look, at 12.5/s, one second per message left.
	if got.Status != "sending" || got.Counts["queued"] != 2 || got.Rate != 12.5 || got.ETA != 2 || got.Error != fd.lastError {
		t.Fatalf("send's answer: %s", body)
	}
	_, body = e.api("GET", "/api/v1/issues/1", tok, "")
	if !strings.Contains(body, `"queued":0`) || strings.Contains(body, "eta_seconds") {
		t.Fatalf("get when nothing is left: %s", body)
	}
	// The page shows nothing once nothing waits; it offers to resend what
	// Deliveries counts as failed.
	c, _ := e.login("editor")
	if _, page := e.get(c, "/admin/issues/1"); strings.Contains(page, "421 4.7.0") || strings.Contains(page, "retry-failed") {
		t.Errorf("issue page shows a last error when nothing waits, or a resend button with nothing failed")
	}
	fd.mu.Lock()
	fd.failed = 2
	fd.mu.Unlock()
	if _, page := e.get(c, "/admin/issues/1"); !strings.Contains(page, `id="retry-failed"`) {
		t.Errorf("issue page offers no resend with 2 failed deliveries")
	}
}

func TestViewLastError(t *testing.T) {
	at := time.Date(2026, 11, 24, 0, 30, 0, 0, time.UTC)
	jst := time.FixedZone("JST", 9*3600)
	for _, tc := range []struct {
		lang string
		p    Progress
		want string
	}{
		{"ja", Progress{Queued: 3, LastError: "smtp mail: 421 busy", LastErrorAt: at}, "送信待ちの理由（中継サーバーの最後の応答） (2026-11-24 09:30 JST): smtp mail: 421 busy"},
		{"en", Progress{Sending: 1, LastError: "smtp rcpt: 451 later", LastErrorAt: at}, "Why mail waits (the relay's last answer) (2026-11-24 09:30 JST): smtp rcpt: 451 later"},
		{"ja", Progress{Sent: 3, LastError: "smtp mail: 421 busy", LastErrorAt: at}, ""},
		{"ja", Progress{Queued: 3}, ""},
	} {
		v := &view{Lang: tc.lang, loc: jst}
		if got := v.LastError(tc.p); got != tc.want {
			t.Errorf("%s %+v: %q, want %q", tc.lang, tc.p, got, tc.want)
		}
	}
}

func TestAPIErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	tok := e.bearer("editor")
	for _, tc := range []struct {
		name, method, path, tok, body string
		code                          int
	}{
		{"no token", "GET", "/api/v1/lists", "", "", 401},
		{"forged token", "GET", "/api/v1/lists", "kwb_forged", "", 401},
		{"garbage token", "GET", "/api/v1/issues/1", "kwb_\u00e9\u00ff!", "", 401},
		{"long token", "GET", "/api/v1/lists", strings.Repeat("x", 5000), "", 401},
		{"unknown list", "POST", "/api/v1/issues", tok, `{"list":"nope","subject":"s","body_markdown":"b"}`, 404},
		{"foreign list", "POST", "/api/v1/issues", tok, `{"list":"kankyo-hozen","subject":"s","body_markdown":"b"}`, 403},
		{"bad json", "POST", "/api/v1/issues", tok, `{"list":`, 400},
		{"unknown field", "POST", "/api/v1/issues", tok, `{"list":"shimin-katsudo","subject":"s","body_markdown":"b","x":1}`, 400},
		{"missing subject", "POST", "/api/v1/issues", tok, `{"list":"shimin-katsudo","body_markdown":"b"}`, 422},
		{"bad send_at", "POST", "/api/v1/issues", tok, `{"list":"shimin-katsudo","subject":"s","body_markdown":"b","send_at":"tomorrow"}`, 422},
		{"subject with newline", "POST", "/api/v1/issues", tok, `{"list":"shimin-katsudo","subject":"a\r\nBcc: x@y","body_markdown":"b"}`, 422},
		{"unknown issue", "GET", "/api/v1/issues/99", tok, "", 404},
		{"bad id", "GET", "/api/v1/issues/abc", tok, "", 404},
		{"huge id", "GET", "/api/v1/issues/99999999999999999999999", tok, "", 404},
		{"unknown endpoint", "GET", "/api/v1/nothing", tok, "", 404},
		{"issues without list", "GET", "/api/v1/issues", tok, "", 404},
	} {
		resp, body := e.api(tc.method, tc.path, tc.tok, tc.body)
		var m map[string]string
		if resp.StatusCode != tc.code || json.Unmarshal([]byte(body), &m) != nil || m["error"] == "" {
			t.Errorf("%s: %d %s, want %d with {\"error\"}", tc.name, resp.StatusCode, body, tc.code)
		}
	}
}

func TestAPIPagination(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	tok := e.bearer("admin")
	for range 5 {
		e.api("POST", "/api/v1/issues", tok, `{"list":"shimin-katsudo","subject":"s","body_markdown":"b"}`)
	}
	_, body := e.api("GET", "/api/v1/issues?list=shimin-katsudo&limit=2&offset=1", tok, "")
	var p struct {
		Items         []issueJSON
		Limit, Offset int
	}
	json.Unmarshal([]byte(body), &p)
	if len(p.Items) != 2 || p.Limit != 2 || p.Offset != 1 || p.Items[0].ID != 4 {
		t.Fatalf("page: %s", body)
	}
}

// TestOpenAPIMatchesRoutes checks that every path+method in openapi.json is
// a route of the mux and every API route is in the document.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	resp, body := e.get(http.DefaultClient, "/api/v1/openapi.json")
	if resp.StatusCode != 200 {
		t.Fatalf("openapi.json: %d", resp.StatusCode)
	}
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Servers []struct{ URL string }                `json:"servers"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal([]byte(body), &doc); err != nil || !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Fatalf("not OpenAPI 3: %v", err)
	}
	param := regexp.MustCompile(`\{[^}]+\}`)
	var documented []string
	for path, ops := range doc.Paths {
		for method := range ops {
			full := doc.Servers[0].URL + path
			pattern := strings.ToUpper(method) + " " + full
			documented = append(documented, pattern)
			// The documented path must reach exactly that mux pattern.
			req := httptest.NewRequest(strings.ToUpper(method), param.ReplaceAllString(full, "1"), nil)
			if _, got := e.srv.mux.Handler(req); got != pattern {
				t.Errorf("documented %s is served by %q", pattern, got)
			}
		}
	}
	var served []string
	for p := range e.srv.apiRoutes() {
		served = append(served, p)
	}
	sort.Strings(documented)
	sort.Strings(served)
	if strings.Join(documented, "\n") != strings.Join(served, "\n") {
		t.Errorf("openapi.json documents\n%s\nbut the mux serves\n%s", strings.Join(documented, "\n"), strings.Join(served, "\n"))
	}
}

func TestAPIPreviewTestSendSchedules(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	e.seedIssues()
	tok := e.bearer("editor")
	resp, body := e.api("POST", "/api/v1/issues/1/preview", tok, "")
	var p map[string]any
	if resp.StatusCode != 200 || json.Unmarshal([]byte(body), &p) != nil || p["subject"] == "" || p["html"] == "" || p["text"] == "" {
		t.Errorf("preview: %d %s", resp.StatusCode, body)
	}
	resp, body = e.api("POST", "/api/v1/issues/1/preview", tok, `{"subscriber":1}`)
	if resp.StatusCode != 200 || !strings.Contains(body, "京都 一郎") {
		t.Errorf("preview for a subscriber: %d %s", resp.StatusCode, body)
	}
	resp, body = e.api("POST", "/api/v1/issues/1/preview", tok, `{"subscriber":9}`)
	if resp.StatusCode != 404 || !strings.Contains(body, `"error"`) {
		t.Errorf("preview for a stranger: %d %s", resp.StatusCode, body)
	}
	// No "to" and no address on the account: a clear 422.
	resp, body = e.api("POST", "/api/v1/issues/1/test", tok, "")
	if resp.StatusCode != 422 || !strings.Contains(body, `"error"`) {
		t.Errorf("test send without an address: %d %s", resp.StatusCode, body)
	}
	if err := e.srv.users.SetEmail(t.Context(), "editor", "editor@city.example.jp"); err != nil {
		t.Fatal(err)
	}
	resp, body = e.api("POST", "/api/v1/issues/1/test", tok, "")
	if resp.StatusCode != 202 || !strings.Contains(body, "editor@city.example.jp") {
		t.Errorf("test send to own address: %d %s", resp.StatusCode, body)
	}
	// An editor lists only its lists' schedules.
	resp, body = e.api("GET", "/api/v1/schedules", tok, "")
	if resp.StatusCode != 200 || !strings.Contains(body, `"list":"shimin-katsudo"`) || strings.Contains(body, "kankyo-hozen") || strings.Contains(body, "send-due-issues") {
		t.Errorf("schedules for editor: %d %s", resp.StatusCode, body)
	}
	resp, body = e.api("POST", "/api/v1/schedules", tok, `{"list":"shimin-katsudo","spec":"0 10 *"}`)
	if resp.StatusCode != 422 || !strings.Contains(body, "0 10 *") {
		t.Errorf("bad spec: %d %s", resp.StatusCode, body)
	}
}
