package web

import (
	"encoding/json"
	"net/url"
	"slices"
	"strings"
	"testing"

	"kawaraban/issues"
)

// Issue 17 over the real domain: a joint issue through the API (lists in
// and out), its duplicate, the archive of each of its lists, and the
// compose page's one send-time control refusing a past time with the
// reason.
func TestRealJointIssueAPIAndArchive(t *testing.T) {
	t.Parallel()
	e := newRealEnv(t)
	ctx := t.Context()
	tok := e.bearer("admin")
	resp, body := e.api("POST", "/api/v1/issues", tok, `{"lists":["kankyo-hozen","shimin-katsudo"],"subject":"合同","body_markdown":"本文"}`)
	if resp.StatusCode != 201 {
		t.Fatalf("create joint: %d %s", resp.StatusCode, body)
	}
	var created issueJSON
	if err := json.Unmarshal([]byte(body), &created); err != nil {
		t.Fatal(err)
	}
	if created.List != "kankyo-hozen" || !slices.Equal(created.Lists, []string{"kankyo-hozen", "shimin-katsudo"}) {
		t.Fatalf("created %+v", created)
	}
	resp, body = e.api("GET", "/api/v1/issues/"+itoa(created.ID), e.bearer("editor"), "")
	if resp.StatusCode != 200 || !strings.Contains(body, `"lists":["kankyo-hozen","shimin-katsudo"]`) {
		t.Fatalf("GET by an editor of one of its lists: %d %s", resp.StatusCode, body)
	}
	resp, body = e.api("GET", "/api/v1/issues?list=shimin-katsudo", tok, "")
	if resp.StatusCode != 200 || !strings.Contains(body, `"list":"shimin-katsudo"`) || !strings.Contains(body, `"lists":["kankyo-hozen","shimin-katsudo"]`) {
		t.Fatalf("the second list's issues: %d %s", resp.StatusCode, body)
	}
	resp, body = e.api("POST", "/api/v1/issues", e.bearer("editor"), `{"list":"shimin-katsudo","lists":["kankyo-hozen"],"subject":"s","body_markdown":"b"}`)
	if resp.StatusCode != 403 {
		t.Fatalf("editor of shimin-katsudo with kankyo-hozen: %d %s, want 403", resp.StatusCode, body)
	}
	// Sent (the outbox is not run here), then duplicated.
	for _, f := range []func(int64, issues.Actor) (issues.Issue, error){
		func(id int64, a issues.Actor) (issues.Issue, error) { return e.iss.SendNow(ctx, id, a) },
		func(id int64, a issues.Actor) (issues.Issue, error) { return e.iss.MarkSending(ctx, id, a) },
		func(id int64, a issues.Actor) (issues.Issue, error) { return e.iss.MarkSent(ctx, id, a) },
	} {
		if _, err := f(created.ID, issues.Actor{Login: "admin"}); err != nil {
			t.Fatal(err)
		}
	}
	resp, body = e.api("POST", "/api/v1/issues/"+itoa(created.ID)+"/duplicate", tok, "")
	var cp issueJSON
	json.Unmarshal([]byte(body), &cp)
	if resp.StatusCode != 201 || cp.ID == created.ID || cp.Status != "draft" || cp.Number != 0 || cp.SendAt != nil ||
		!slices.Equal(cp.Lists, created.Lists) || cp.Subject != "合同" {
		t.Fatalf("duplicate: %d %s", resp.StatusCode, body)
	}
	for _, slug := range []string{"kankyo-hozen", "shimin-katsudo"} {
		resp, body = e.get(e.client(), "/archive/"+slug)
		if resp.StatusCode != 200 || !strings.Contains(body, "/archive/"+slug+"/"+itoa(created.ID)) {
			t.Errorf("archive of %s lacks the joint issue: %d", slug, resp.StatusCode)
		}
		resp, _ = e.get(e.client(), "/archive/"+slug+"/"+itoa(created.ID))
		if resp.StatusCode != 200 {
			t.Errorf("archive page of the joint issue in %s: %d", slug, resp.StatusCode)
		}
	}
	if resp, _ = e.get(e.client(), "/archive/chonai/"+itoa(created.ID)); resp.StatusCode != 404 {
		t.Errorf("archive page under a list not of the issue: %d, want 404", resp.StatusCode)
	}
}

func TestRealComposeOneSendTimeControl(t *testing.T) {
	t.Parallel()
	e := newRealEnv(t)
	ui, csrf := e.login("admin")
	form := func(at string) url.Values {
		return url.Values{"csrf": {csrf}, "list": {"kankyo-hozen"}, "lists": {"shimin-katsudo"}, "subject": {"合同"},
			"body": {"本文"}, "send_at": {at}, "op": {"schedule"}}
	}
	resp, body := e.get(ui, "/admin/issues/new?list=kankyo-hozen")
	if resp.StatusCode != 200 || strings.Count(body, `type="datetime-local"`) != 1 || !strings.Contains(body, `name="lists" value="shimin-katsudo"`) {
		t.Fatalf("compose page: %d, want one send-time control and the list choice", resp.StatusCode)
	}
	resp, body = e.post(ui, "/admin/issues", form("2020-01-01T09:00"))
	if resp.StatusCode != 422 || !strings.Contains(body, "配信日時が過去です") || !strings.Contains(body, `name="lists" value="shimin-katsudo" checked`) {
		t.Fatalf("past time: %d, want 422 with the reason and the choice kept", resp.StatusCode)
	}
	resp, _ = e.post(ui, "/admin/issues", form("2030-01-01T09:00"))
	if resp.StatusCode != 303 {
		t.Fatalf("schedule from the compose form: %d, want 303", resp.StatusCode)
	}
	iss, err := e.iss.ListByList(t.Context(), e.listID(t, "shimin-katsudo"), issues.Page{})
	if err != nil || len(iss) != 1 || iss[0].Status != issues.StatusScheduled || !iss[0].Joint() {
		t.Fatalf("issues of the second list: %+v %v", iss, err)
	}
	resp, body = e.get(ui, "/admin/issues/"+itoa(iss[0].ID))
	if resp.StatusCode != 200 || strings.Count(body, `type="datetime-local"`) != 1 || !strings.Contains(body, "共同発行") ||
		!strings.Contains(body, `id="duplicate"`) {
		t.Fatalf("issue page: %d, want one send-time control, the joint badge and 複製", resp.StatusCode)
	}
}

// TestRealIssuesAllListsView: ?list=* shows the issues of every list the
// user may view, newest first, a joint issue once with its lists named;
// an editor sees only their own lists' issues there.
func TestRealIssuesAllListsView(t *testing.T) {
	t.Parallel()
	e := newRealEnv(t)
	tok := e.bearer("admin")
	for _, b := range []string{
		`{"list":"kankyo-hozen","subject":"環境だけの号","body_markdown":"本文"}`,
		`{"list":"shimin-katsudo","subject":"市民活動だけの号","body_markdown":"本文"}`,
		`{"lists":["kankyo-hozen","shimin-katsudo"],"subject":"二つの合同号","body_markdown":"本文"}`,
	} {
		if resp, body := e.api("POST", "/api/v1/issues", tok, b); resp.StatusCode != 201 {
			t.Fatalf("create: %d %s", resp.StatusCode, body)
		}
	}
	c, _ := e.login("admin")
	resp, body := e.get(c, "/admin/issues?list=*")
	if resp.StatusCode != 200 {
		t.Fatalf("all lists: %d", resp.StatusCode)
	}
	joint, kankyo, shimin := strings.Index(body, "二つの合同号"), strings.Index(body, "環境だけの号"), strings.Index(body, "市民活動だけの号")
	if joint < 0 || kankyo < 0 || shimin < 0 || !(joint < shimin && shimin < kankyo) {
		t.Fatalf("admin's all-lists view: joint %d, shimin %d, kankyo %d (want all, newest first)", joint, shimin, kankyo)
	}
	if strings.Count(body, "二つの合同号") != 1 {
		t.Error("the joint issue shows more than once")
	}
	c, _ = e.login("editor") // shimin-katsudo only
	_, body = e.get(c, "/admin/issues?list=*")
	if !strings.Contains(body, "二つの合同号") || !strings.Contains(body, "市民活動だけの号") || strings.Contains(body, "環境だけの号") {
		t.Errorf("editor's all-lists view shows another list's issue or lacks its own:\n%s", body)
	}
	if !strings.Contains(body, `value="*" selected`) {
		t.Error("the list choice does not say all lists")
	}
}
