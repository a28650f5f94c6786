package web

import (
	"bytes"
	"context"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"kawaraban/issues"
)

// TestSettingsShowsMaskedSecrets: the settings come masked
// (config.Config.Settings, tested there); the page shows the mask as it
// is and the names of the variables that hold secrets.
func TestSettingsShowsMaskedSecrets(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	c, _ := e.login("admin")
	_, body := e.get(c, "/admin/settings")
	if strings.Contains(body, "<code>********</code>") || !strings.Contains(body, "********") || !strings.Contains(body, "relay.example.jp") ||
		!strings.Contains(body, "SMTP_PASSWORD") {
		t.Fatalf("settings page: %s", body)
	}
}

func TestDashboard(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	ctx := t.Context()
	e.subs.Subscribe(ctx, SubscribeRequest{Email: "a@example.jp", Lists: []string{"shimin-katsudo"}})
	e.subs.Confirm(ctx, e.subs.mails[0], Evidence{})
	is, _ := e.issues.Create(ctx, issues.Draft{ListID: 1, Subject: "創刊号", BodyMarkdown: "x"})
	e.issues.SendNow(ctx, is.ID, actor("admin"))
	c, _ := e.login("editor")
	_, body := e.get(c, "/admin/")
	for _, want := range []string{"<svg", "<polyline", "創刊号", `class="confirmed">1<`, "1.2%"} {
		if !strings.Contains(body, want) {
			t.Errorf("dashboard lacks %q", want)
		}
	}
	if strings.Contains(body, "環境保全センター") {
		t.Error("editor sees a list it does not edit")
	}
}

func TestIssueComposeAndActions(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	c, csrf := e.login("editor")
	resp, body := e.post(c, "/admin/issues", url.Values{"csrf": {csrf}, "list": {"shimin-katsudo"}, "subject": {""}, "body": {"x"}})
	if resp.StatusCode != 422 || !strings.Contains(body, "件名を入力") {
		t.Fatalf("empty subject: %d", resp.StatusCode)
	}
	resp, _ = e.post(c, "/admin/issues", url.Values{"csrf": {csrf}, "list": {"shimin-katsudo"}, "subject": {"号"}, "body": {"x"}, "send_at": {"2026-12-01T09:00"}})
	if resp.StatusCode != 303 || resp.Header.Get("Location") != "/admin/issues/1" {
		t.Fatalf("create: %d", resp.StatusCode)
	}
	_, body = e.get(c, "/admin/issues/1")
	if !strings.Contains(body, `srcdoc="&lt;p&gt;x&lt;/p&gt;"`) || !strings.Contains(body, `<pre id="preview-text">x`) {
		t.Fatalf("no server-rendered preview: %s", body)
	}
	resp, body = e.post(c, "/admin/preview", url.Values{"csrf": {csrf}, "list": {"shimin-katsudo"}, "subject": {"号"}, "body": {"{{ .Nope }}"}})
	if resp.StatusCode != 422 || !strings.Contains(body, "「{{ .Nope }}」という差し込み項目はありません") || !strings.Contains(body, "{{ .Name }}(お名前)") {
		t.Fatalf("preview of a bad template: %d %s", resp.StatusCode, body)
	}
	resp, body = e.post(c, "/admin/issues/1/test", url.Values{"csrf": {csrf}})
	if resp.StatusCode != 422 || !strings.Contains(body, "メールアドレス") {
		t.Fatalf("test send without address: %d", resp.StatusCode)
	}
	e.users.SetEmail(t.Context(), "editor", "editor@city.example.jp")
	if resp, _ = e.post(c, "/admin/issues/1/test", url.Values{"csrf": {csrf}}); resp.StatusCode != 303 || len(e.issues.tests) != 1 || e.issues.tests[0] != "editor@city.example.jp" {
		t.Fatalf("test send: %d %v", resp.StatusCode, e.issues.tests)
	}
	resp, _ = e.post(c, "/admin/issues/1/schedule", url.Values{"csrf": {csrf}, "subject": {"号"}, "send_at": {"2026-12-01T09:00"}})
	if resp.StatusCode != 303 {
		t.Fatalf("schedule: %d", resp.StatusCode)
	}
	resp, _ = e.post(c, "/admin/issues/1/pause", url.Values{"csrf": {csrf}})
	if resp.StatusCode != 409 {
		t.Fatalf("pause a scheduled issue: %d, want 409", resp.StatusCode)
	}
	resp, _ = e.post(c, "/admin/issues/1/nonsense", url.Values{"csrf": {csrf}})
	if resp.StatusCode != 404 {
		t.Fatalf("unknown action: %d", resp.StatusCode)
	}
	_, body = e.get(c, "/admin/issues/1/progress.json")
	if !strings.Contains(body, `"status":"scheduled"`) || !strings.Contains(body, `"status_label":"予約済み"`) {
		t.Fatalf("progress.json: %s", body)
	}
}

func TestImportDryRun(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	c, csrf := e.login("editor")
	post := func(dry bool) string {
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		mw.WriteField("csrf", csrf)
		mw.WriteField("list", "shimin-katsudo")
		if dry {
			mw.WriteField("dry_run", "1")
		}
		fw, _ := mw.CreateFormFile("file", "members.csv")
		fw.Write([]byte("email,name\nok@example.jp,A\nnot-an-address,B\n"))
		mw.Close()
		req, _ := http.NewRequest("POST", e.http.URL+"/admin/subscribers/import", &buf)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body := readBody(t, resp)
		if resp.StatusCode != 200 {
			t.Fatalf("import: %d", resp.StatusCode)
		}
		return body
	}
	body := post(true)
	if !strings.Contains(body, "確認だけ") || !strings.Contains(body, `<td class="num">3</td>`) || len(e.subs.subs) != 0 {
		t.Fatalf("dry run: %s", body)
	}
	post(false)
	if len(e.subs.subs) != 1 {
		t.Fatalf("import added %d", len(e.subs.subs))
	}
	_, body = e.get(c, "/admin/subscribers/export?list=shimin-katsudo")
	if !strings.HasPrefix(body, "email,name,status\nok@example.jp") {
		t.Fatalf("export %q", body)
	}
}

func TestUsersPage(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	c, csrf := e.login("admin")
	resp, _ := e.post(c, "/admin/users", url.Values{"csrf": {csrf}, "login": {"kankyo"}, "password": {"long enough pw"}, "role": {"editor"}, "lists": {"kankyo-hozen"}})
	if resp.StatusCode != 303 {
		t.Fatalf("add: %d", resp.StatusCode)
	}
	resp, _ = e.post(c, "/admin/users", url.Values{"csrf": {csrf}, "login": {"kankyo"}, "password": {"long enough pw"}, "role": {"editor"}})
	if resp.StatusCode != 409 {
		t.Fatalf("add twice: %d", resp.StatusCode)
	}
	resp, _ = e.post(c, "/admin/users/kankyo", url.Values{"csrf": {csrf}, "role": {"editor"}, "lists": {"kankyo-hozen, shimin-katsudo"}, "approver": {"1"}})
	if resp.StatusCode != 303 {
		t.Fatalf("update: %d", resp.StatusCode)
	}
	u, _ := e.users.ByLogin(t.Context(), "kankyo")
	if !u.Approver || strings.Join(u.Lists, ",") != "kankyo-hozen,shimin-katsudo" {
		t.Fatalf("updated user %+v", u)
	}
	_, body := e.get(c, "/admin/users")
	if !strings.Contains(body, "kankyo") {
		t.Fatal("users page")
	}
}

func TestAccountPage(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	c, csrf := e.login("editor")
	resp, body := e.post(c, "/admin/account", url.Values{"csrf": {csrf}, "email": {"a\nb"}})
	if resp.StatusCode != 422 {
		t.Fatalf("bad e-mail: %d %s", resp.StatusCode, body)
	}
	resp, _ = e.post(c, "/admin/account", url.Values{"csrf": {csrf}, "email": {"ed@city.example.jp"},
		"current_password": {"wrong"}, "new_password": {"a brand new password"}})
	if resp.StatusCode != 422 {
		t.Fatalf("wrong current password: %d", resp.StatusCode)
	}
	other, _ := e.login("editor") // a second browser
	resp, _ = e.post(c, "/admin/account", url.Values{"csrf": {csrf}, "email": {"ed@city.example.jp"},
		"current_password": {testPassword}, "new_password": {"a brand new password"}})
	if resp.StatusCode != 303 {
		t.Fatalf("change: %d", resp.StatusCode)
	}
	if resp, _ := e.get(c, "/admin/account"); resp.StatusCode != 200 {
		t.Fatalf("this browser lost its session: %d", resp.StatusCode)
	}
	if resp, _ := e.get(other, "/admin/"); resp.StatusCode != 303 {
		t.Fatalf("other session survived a password change: %d", resp.StatusCode)
	}
	if u, _ := e.users.ByLogin(t.Context(), "editor"); u.Email != "ed@city.example.jp" {
		t.Fatalf("email %q", u.Email)
	}
	if _, err := e.users.Authenticate(t.Context(), "editor", "a brand new password"); err != nil {
		t.Fatal(err)
	}
}

func TestSendAtInConfiguredZone(t *testing.T) {
	t.Parallel()
	jst := time.FixedZone("JST", 9*3600)
	e := newEnv(t, func(o *Options) { o.Location = jst })
	c, csrf := e.login("editor")
	e.post(c, "/admin/issues", url.Values{"csrf": {csrf}, "list": {"shimin-katsudo"}, "subject": {"号"}, "body": {"x"}, "send_at": {"2026-12-01T09:00"}})
	is, err := e.issues.ByID(t.Context(), 1)
	if err != nil || is.SendAt == nil || !is.SendAt.Equal(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("send_at %v %v, want 09:00 JST", is.SendAt, err)
	}
	_, body := e.get(c, "/admin/issues?list=shimin-katsudo")
	if !strings.Contains(body, "2026-12-01 09:00") {
		t.Fatal("issues page does not show the time in the configured zone")
	}
}

func TestRecurringScheduleForm(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, role, spec, tz string
		code                 int
		want, notWant        string
	}{
		{"ok", "editor", "0 10 1-7 * 1", "Asia/Tokyo", 303, "", ""},
		{"bad spec", "editor", "0 10 *", "Asia/Tokyo", 422, "0 10 *", ""},
		{"bad tz", "editor", "0 10 1-7 * 1", "Mars/Olympus", 422, "Mars/Olympus", ""},
		{"empty spec", "admin", "", "Asia/Tokyo", 422, "実行時期", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, nil)
			c, csrf := e.login(tc.role)
			resp, body := e.post(c, "/admin/schedules", url.Values{"csrf": {csrf}, "list": {"shimin-katsudo"}, "spec": {tc.spec}, "tz": {tc.tz}})
			if resp.StatusCode != tc.code {
				t.Fatalf("status %d, want %d: %.300s", resp.StatusCode, tc.code, body)
			}
			if tc.want != "" && !strings.Contains(body, tc.want) {
				t.Errorf("page lacks %q", tc.want)
			}
			if tc.code == 422 && (!strings.Contains(body, `role="alert"`) || !strings.Contains(body, `name="spec"`)) {
				t.Errorf("no error shown on the form")
			}
		})
	}
}

func TestSchedulesPageEditorSeesOnlyHisLists(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	c, _ := e.login("editor")
	resp, body := e.get(c, "/admin/schedules")
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	for _, want := range []string{"定期配信: 市民活動総合センター", `name="spec"`, "0 10 1-7 * 1", "Asia/Tokyo", `for="s-spec"`} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	for _, not := range []string{"kankyo-hozen", "環境保全センター", "週間まとめ"} {
		if strings.Contains(body, not) {
			t.Errorf("editor sees %q", not)
		}
	}
}

// A password an admin sets for someone else is temporary: its owner must
// choose a new one before the admin pages do anything else.
func TestResetPasswordMustBeChanged(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	admin, csrf := e.login("admin")
	if resp, _ := e.post(admin, "/admin/users/editor/password", url.Values{"csrf": {csrf}, "password": {"temporary-pass-123"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("reset: %d", resp.StatusCode)
	}
	c := e.client()
	_, page := e.get(c, "/admin/login")
	if resp, _ := e.post(c, "/admin/login", url.Values{"csrf": {hidden(t, page, "csrf")}, "login": {"editor"}, "password": {"temporary-pass-123"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("login with the temporary password: %d", resp.StatusCode)
	}
	noFollow := *c
	noFollow.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	for _, path := range []string{"/admin/", "/admin/issues", "/admin/subscribers/export?list=shimin-katsudo"} {
		resp, _ := e.get(&noFollow, path)
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/admin/account" {
			t.Errorf("GET %s with a temporary password: %d → %q, want /admin/account", path, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
	_, page = e.get(c, "/admin/account")
	if !strings.Contains(page, "一時的なパスワード") {
		t.Fatal("the account page does not ask for a new password")
	}
	if resp, _ := e.post(c, "/admin/account", url.Values{"csrf": {hidden(t, page, "csrf")}, "email": {"editor@city.example.jp"},
		"current_password": {"temporary-pass-123"}, "new_password": {"my-own-password-456"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("choosing a new password: %d", resp.StatusCode)
	}
	if resp, _ := e.get(&noFollow, "/admin/issues"); resp.StatusCode != http.StatusOK {
		t.Errorf("GET /admin/issues after choosing a password: %d", resp.StatusCode)
	}
	// The admin's own password change is not temporary.
	if resp, _ := e.post(admin, "/admin/users/admin/password", url.Values{"csrf": {csrf}, "password": {"admins-new-password"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("admin's own reset: %d", resp.StatusCode)
	}
	if u, _ := e.users.ByLogin(context.Background(), "admin"); u.MustChangePassword {
		t.Error("an admin setting their own password must change it again")
	}
}

// TestSettingsReadable: the settings page as an operator reads it (issue
// 21): durations in hours or days, sizes in MiB, lists as a table, secrets
// masked, no Go map dump.
func TestSettingsReadable(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(o *Options) {
		o.Settings = func() map[string]any {
			return map[string]any{
				"base_url": "https://mail.city.example.jp", "local_mode": false,
				"http":    map[string]any{"max_body_bytes": int64(1 << 20), "secure_cookies": nil},
				"sending": map[string]any{"max_retry_age": 48 * time.Hour, "retry_min": 30 * time.Second},
				"bounce":  map[string]any{"soft_window": 720 * time.Hour, "soft_threshold": 5.0},
				"smtp":    map[string]any{"host": "relay.example.jp", "password": "********", "password_env": "SMTP_PASSWORD"},
				"lists": []any{
					map[string]any{"slug": "shimin-katsudo", "name_ja": "市民活動総合センター", "encoding": "utf-8", "double_opt_in": true},
					map[string]any{"slug": "chonai", "name_ja": "庁内情報誌", "encoding": "iso-2022-jp", "double_opt_in": false},
				},
			}
		}
	})
	c, _ := e.login("admin")
	_, body := e.get(c, "/admin/settings")
	for _, want := range []string{"48時間", "30秒", "30日", "1 MiB", "(既定値)", "<code>relay.example.jp</code>", "SMTP_PASSWORD",
		`<th scope="col"><code>slug</code></th>`, "<td><code>shimin-katsudo</code></td>", "<td>いいえ</td>", "送信サーバー"} {
		if !strings.Contains(body, want) {
			t.Errorf("settings page lacks %q", want)
		}
	}
	for _, not := range []string{"hunter2", "map[", "e+", "1048576", "172800000000000"} {
		if strings.Contains(body, not) {
			t.Errorf("settings page shows %q", not)
		}
	}
}

// TestFormsKeepInputAndSayWhy: a rejected form keeps what was typed and
// names the problem (issue 21: password "abc" gave 入力内容を確認してください
// and cleared the e-mail field).
func TestFormsKeepInputAndSayWhy(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	c, csrf := e.login("admin")
	resp, body := e.post(c, "/admin/account", url.Values{"csrf": {csrf}, "email": {"hanako@city.example.jp"},
		"current_password": {testPassword}, "new_password": {"abc"}})
	if resp.StatusCode != 422 || !strings.Contains(body, "パスワードは10文字以上にしてください") ||
		!strings.Contains(body, `value="hanako@city.example.jp"`) {
		t.Errorf("account with a short password: %d\n%s", resp.StatusCode, body)
	}
	resp, body = e.post(c, "/admin/account", url.Values{"csrf": {csrf}, "email": {"not-an-address"}})
	if resp.StatusCode != 422 || !strings.Contains(body, "メールアドレスの形式が正しくありません") || !strings.Contains(body, `value="not-an-address"`) {
		t.Errorf("account with a bad address: %d", resp.StatusCode)
	}
	resp, body = e.post(c, "/admin/users", url.Values{"csrf": {csrf}, "login": {"tanaka"}, "password": {"short"},
		"role": {"coordinator"}, "lists": {"chonai"}})
	if resp.StatusCode != 422 || !strings.Contains(body, "パスワードは10文字以上にしてください") || !strings.Contains(body, `value="tanaka"`) ||
		!strings.Contains(body, `value="coordinator" selected`) || !strings.Contains(body, `value="chonai"`) {
		t.Errorf("add user with a short password: %d", resp.StatusCode)
	}
	resp, body = e.post(c, "/admin/users", url.Values{"csrf": {csrf}, "login": {"Tanaka San"}, "password": {testPassword}, "role": {"editor"}})
	if resp.StatusCode != 422 || !strings.Contains(body, "ログイン名は半角の英小文字") {
		t.Errorf("add user with a bad login: %d", resp.StatusCode)
	}
	e.get(c, "/admin/?lang=en")
	_, body = e.post(c, "/admin/account", url.Values{"csrf": {csrf}, "email": {"a@city.example.jp"}, "current_password": {testPassword}, "new_password": {"abc"}})
	if !strings.Contains(body, "at least 10 characters") {
		t.Error("the English page does not say why")
	}
}

// TestProgressShowsNextReminder: the progress page names the next reminder
// per deadline in words (issue 21).
func TestProgressShowsNextReminder(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	c, _ := e.login("coord")
	_, body := e.get(c, "/admin/progress")
	if !strings.Contains(body, "次のリマインダー: 2027-04-23 (期限の7日前) → 総合企画局、総務局") || !strings.Contains(body, "総合企画局への通知 2027-05-07 (期限後7日)") {
		t.Errorf("progress page:\n%s", body)
	}
}
