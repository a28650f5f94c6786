package web

import (
	"bytes"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestSettingsMasksSecrets(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	c, _ := e.login("admin")
	_, body := e.get(c, "/admin/settings")
	if strings.Contains(body, "hunter2") || !strings.Contains(body, "********") || !strings.Contains(body, "relay.example.jp") ||
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
	is, _ := e.issues.Create(ctx, Draft{ListID: 1, Subject: "創刊号", BodyMarkdown: "x"})
	e.issues.SendNow(ctx, is.ID, "admin")
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
	resp, body = e.post(c, "/admin/preview", url.Values{"csrf": {csrf}, "list": {"shimin-katsudo"}, "subject": {"号"}, "body": {"{{ .Nope }}"}})
	if resp.StatusCode != 422 || !strings.Contains(body, "unknown field") {
		t.Fatalf("preview of a bad template: %d %s", resp.StatusCode, body)
	}
	resp, body = e.post(c, "/admin/issues/1/test", url.Values{"csrf": {csrf}})
	if resp.StatusCode != 422 || !strings.Contains(body, "メールアドレス") {
		t.Fatalf("test send without address: %d", resp.StatusCode)
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
