package web

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestIssue15MalformedBodiesAre400: a broken multipart body or bad
// percent-encoding on any public or admin POST is the client's fault: 400
// (or 413), never 500.
func TestIssue15MalformedBodiesAre400(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	c, _ := e.login("admin")
	fill := strings.NewReplacer("{id}", "1", "{login}", "viewer", "{action}", "send", "{token}", "AAAAforged")
	var paths []string
	for pattern := range e.srv.adminRoutes() {
		if method, path, _ := strings.Cut(pattern, " "); method == "POST" {
			paths = append(paths, fill.Replace(path))
		}
	}
	paths = append(paths, "/subscribe", "/confirm/AAAAforged", "/unsubscribe/AAAAforged", "/preferences/AAAAforged",
		"/progress/submitted/AAAAforged", "/admin/login")
	bodies := []struct{ name, ctype, body string }{
		{"broken multipart", "multipart/form-data; boundary=XYZ", "--XYZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nno end"},
		{"multipart without boundary", "multipart/form-data", "--\r\n"},
		{"bad percent-encoding", "application/x-www-form-urlencoded", "email=%zz&list=%"},
	}
	for _, p := range paths {
		for _, b := range bodies {
			req, _ := http.NewRequest("POST", e.http.URL+p, strings.NewReader(b.body))
			req.Header.Set("Content-Type", b.ctype)
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode >= 500 {
				t.Errorf("POST %s with a %s: %d, want 4xx", p, b.name, resp.StatusCode)
			}
		}
	}
}

// TestIssue15TestSendRecipients: the API's test send goes only to the
// user's own address or to a configured test recipient; a malformed "to"
// is 422, someone else's address 403, and each user is rate-limited.
func TestIssue15TestSendRecipients(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(o *Options) {
		o.TestRecipients, o.TestSendsPerHour = []string{"proof@city.example.jp"}, 3600
		o.LocalMode = false // local mode captures mail: any address is allowed there
	})
	ctx := t.Context()
	if err := e.users.SetEmail(ctx, "editor", "editor@city.example.jp"); err != nil {
		t.Fatal(err)
	}
	tok := e.bearer("editor")
	resp, body := e.api("POST", "/api/v1/issues", tok, `{"list":"shimin-katsudo","subject":"件名","body_markdown":"本文"}`)
	var created struct{ ID int64 }
	if resp.StatusCode != 201 || json.Unmarshal([]byte(body), &created) != nil {
		t.Fatalf("create: %d %s", resp.StatusCode, body)
	}
	send := func(to string) int {
		resp, _ := e.api("POST", "/api/v1/issues/"+itoa(created.ID)+"/test", tok, `{"to":"`+to+`"}`)
		return resp.StatusCode
	}
	for _, tc := range []struct {
		to   string
		want int
	}{
		{"", 202},
		{"Editor@City.example.jp", 202},
		{"proof@city.example.jp", 202},
		{"victim@example.com", 403},
		{"not an address", 422},
		{"a@b@c", 422},
	} {
		if got := send(tc.to); got != tc.want {
			t.Errorf("test send to %q: %d, want %d", tc.to, got, tc.want)
		}
	}
	// The burst is 5; at one per second, the next ones wait.
	codes := map[int]int{}
	for range 6 {
		codes[send("")]++
	}
	if codes[http.StatusTooManyRequests] == 0 {
		t.Errorf("no 429 after a burst of test sends: %v", codes)
	}
}

// TestIssue15MetricsNeedAToken: with a configured token /metrics answers
// only requests bearing it; without one, only loopback clients that did
// not come through a proxy (local mode).
func TestIssue15MetricsNeedAToken(t *testing.T) {
	t.Parallel()
	get := func(e *env, header ...string) int {
		req, _ := http.NewRequest("GET", e.http.URL+"/metrics", nil)
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	withToken := newEnv(t, func(o *Options) { o.MetricsToken = "s3cret-metrics-token" })
	for _, tc := range []struct {
		header []string
		want   int
	}{
		{nil, 401},
		{[]string{"Authorization", "Bearer wrong"}, 401},
		{[]string{"Authorization", "Bearer s3cret-metrics-token"}, 200},
	} {
		if got := get(withToken, tc.header...); got != tc.want {
			t.Errorf("with a token configured, headers %v: %d, want %d", tc.header, got, tc.want)
		}
	}
	open := newEnv(t, nil)
	if got := get(open); got != 200 {
		t.Errorf("no token, loopback client: %d, want 200", got)
	}
	if got := get(open, "X-Forwarded-For", "203.0.113.9"); got != 401 {
		t.Errorf("no token, through a proxy: %d, want 401", got)
	}
}

// TestIssue15BouncesPageMarksUnverified: an unverified report is marked on
// the bounces page with its evidence (in English under the en switch); only
// admins get the button that applies it.
func TestIssue15BouncesPageMarksUnverified(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	ac, csrf := e.login("admin")
	_, page := e.get(ac, "/admin/bounces")
	if !strings.Contains(page, "未確認の報告") || !strings.Contains(page, `action="/admin/bounces/3/verify"`) {
		t.Fatalf("admin's bounces page lacks the unverified mark or its button:\n%s", page)
	}
	if strings.Contains(page, "not tied to a delivery") {
		t.Error("the Japanese page shows the English explanation")
	}
	_, page = e.get(ac, "/admin/bounces?lang=en")
	if !strings.Contains(page, "not tied to a delivery we made") {
		t.Error("the English page lacks the explanation")
	}
	vc, _ := e.login("viewer")
	if _, page := e.get(vc, "/admin/bounces"); !strings.Contains(page, "未確認の報告") || strings.Contains(page, "/verify") {
		t.Error("viewer: want the mark without the button")
	}
	if resp, _ := e.post(ac, "/admin/bounces/3/verify", url.Values{"csrf": {csrf}}); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("admin verify: %d", resp.StatusCode)
	}
	var n int
	e.db.QueryRow(`SELECT count(*) FROM audit_log WHERE action = 'bounce.verify' AND target = 'bounce:3'`).Scan(&n)
	if n != 1 {
		t.Errorf("audit log has %d bounce.verify entries, want 1", n)
	}
}

// TestIssue15InvalidFieldsNeverServerError: well-formed admin and public
// POSTs with nonsense in every field an admin form has are refused with a
// 4xx, never a 500.
func TestIssue15InvalidFieldsNeverServerError(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	e.seedIssues()
	c, csrf := e.login("admin")
	junk := url.Values{"csrf": {csrf}, "list": {"no-such-list"}, "email": {"a@b@c"}, "name": {strings.Repeat("名", 500)},
		"password": {"x"}, "role": {"emperor"}, "lists": {"nope"}, "spec": {"61 25 * * *"}, "tz": {"Mars/Olympus"},
		"deadline": {"nope"}, "bureau": {"nope"}, "subject": {""}, "body_markdown": {"{{ .Broken"}, "send_at": {"yesterday"},
		"current_password": {"wrong"}, "new_password": {"short"}, "consent_source": {""}, "comment": {strings.Repeat("x", 5000)}}
	var paths []string
	for pattern := range e.srv.adminRoutes() {
		method, path, _ := strings.Cut(pattern, " ")
		if method != "POST" || path == "/admin/logout" {
			continue
		}
		for _, fill := range []*strings.Replacer{
			strings.NewReplacer("{id}", "1", "{login}", "viewer", "{action}", "send"),
			strings.NewReplacer("{id}", "999999", "{login}", "nobody", "{action}", "frobnicate"),
			strings.NewReplacer("{id}", "abc", "{login}", "%00", "{action}", "approve"),
		} {
			paths = append(paths, fill.Replace(path))
		}
	}
	for _, p := range paths {
		resp, body := e.post(c, p, junk)
		if resp.StatusCode >= 500 {
			t.Errorf("POST %s with nonsense fields: %d\n%.300s", p, resp.StatusCode, body)
		}
	}
	pub := e.client()
	for _, p := range []string{"/subscribe", "/confirm/x", "/unsubscribe/x", "/preferences/x", "/progress/submitted/x"} {
		if resp, _ := e.post(pub, p, junk); resp.StatusCode >= 500 {
			t.Errorf("POST %s with nonsense fields: %d", p, resp.StatusCode)
		}
	}
}
