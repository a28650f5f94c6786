package main

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
)

// Issue 23: a bureau reports through the reminder's link, the coordinator
// publishes (CLI), the public page and feed show status and note without
// contact data; the newsletter draft holds the published report and is an
// ordinary draft (preview, test send, send); the council CSV has it.
func TestAcceptanceProgressReports(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, t.TempDir())
	mustCLI(t, "progress", "import", "--data", d.Data, writePlan(t, planYAML))
	runReminders(t, d.Data, -7)
	ms := mailsTo(readCaptured(t, d.Data), bureauKikaku, "")
	if len(ms) != 1 {
		t.Fatalf("%d reminders to %s, want 1", len(ms), bureauKikaku)
	}
	link := submittedLinkRe.FindString(ms[0].Parts["text/plain"])
	code, page := get(t, link)
	if code != 200 || !strings.Contains(page, `name="status_35-1"`) || !strings.Contains(page, `name="note_35-1"`) {
		t.Fatalf("GET %s: %d, want the report form:\n%s", link, code, page)
	}
	const note = "令和8年度版を12月に発行し、区役所で配布しています。"
	form := url.Values{"status_35-1": {"ongoing"}, "note_35-1": {note}, "link_35-1": {"https://www.city.kyoto.lg.jp/sogo/report.html"}}
	if m := formTokenRe.FindStringSubmatch(page); m != nil {
		form.Set("form_token", m[1])
	}
	if code, page := postForm(t, link, form, "acceptance-bureau"); code != 200 || !strings.Contains(page, "報告を受け付けました") {
		t.Fatalf("POST %s: %d\n%s", link, code, page)
	}
	if _, pub := get(t, d.BaseURL+"/progress"); strings.Contains(pub, note) {
		t.Fatal("the report is public before the coordinator published it")
	}
	res := mustCLI(t, "progress", "publish", "--data", d.Data, "--deadline", "fy2026-status")
	if !strings.Contains(res.Stdout, "1 reports published") {
		t.Fatalf("progress publish: %q", res.Stdout)
	}
	for _, p := range []string{"/progress", "/progress/35", "/progress/feed.atom"} {
		code, pub := get(t, d.BaseURL+p)
		if code != 200 || !strings.Contains(pub, note) || !strings.Contains(pub, "実施中") {
			t.Errorf("GET %s: %d, want the published status and note", p, code)
		}
		for _, private := range []string{bureauKikaku, bureauSomu, "acceptance-bureau", "@city.example.jp"} {
			if strings.Contains(pub, private) {
				t.Errorf("GET %s shows %q", p, private)
			}
		}
	}
	// Reporting stopped kikaku's reminders.
	if c := runReminders(t, d.Data, 3); c[bureauKikaku] != 1 {
		t.Errorf("after kikaku reported: %d mails to it in all, want still 1", c[bureauKikaku])
	}

	res = mustCLI(t, "progress", "draft-issue", "--data", d.Data, "--list", "chonai", "--deadline", "fy2026-status")
	id, err := strconv.ParseInt(strings.TrimSpace(res.Stdout), 10, 64)
	if err != nil {
		t.Fatalf("draft-issue printed %q, want the issue id", res.Stdout)
	}
	tok := adminToken(t, d.Data)
	if is := getIssue(t, d, tok, id); is.Status != "draft" {
		t.Fatalf("issue %d is %q, want draft", id, is.Status)
	}
	code, body := api(t, d, tok, "POST", "/api/v1/issues/"+strconv.FormatInt(id, 10)+"/preview", nil)
	var prev struct{ Subject, Text, HTML string }
	if code != 200 || json.Unmarshal(body, &prev) != nil || !strings.Contains(prev.Text, note) || !strings.Contains(prev.HTML, "<table>") {
		t.Fatalf("preview: %d %s", code, body)
	}
	before := countEML(t, d.Data)
	if code, body := api(t, d, tok, "POST", "/api/v1/issues/"+strconv.FormatInt(id, 10)+"/test", map[string]string{"to": "editor@city.example.jp"}); code != http.StatusAccepted {
		t.Fatalf("test send: %d %s", code, body)
	}
	waitUntil(t, "the test mail", func() bool { return countEML(t, d.Data) > before })
	// A send needs a recipient (issue 14): the coordinator is on chonai.
	if code, body := api(t, d, tok, "POST", "/api/v1/lists/chonai/subscribers", map[string]string{"email": "coordinator@city.example.jp"}); code != http.StatusCreated {
		t.Fatalf("adding a member to chonai: %d %s", code, body)
	}
	sendIssue(t, d, tok, id)
	waitIssueSent(t, d, tok, id)

	res = mustCLI(t, "export", "progress", "--data", d.Data, "--bom")
	if !strings.HasPrefix(res.Stdout, "\ufeffdeadline_id,") || !strings.Contains(res.Stdout, note) || !strings.Contains(res.Stdout, ",yes,") {
		t.Errorf("export progress:\n%s", res.Stdout)
	}
	for _, args := range [][]string{
		{"progress", "publish", "--data", d.Data, "--deadline", "no-such"},
		{"progress", "publish", "--data", d.Data},
		{"progress", "draft-issue", "--data", d.Data, "--list", "no-such"},
		{"export", "progress", "--data", d.Data, "--deadline", "no-such"},
	} {
		if res := runCLI(t, "", args...); res.Exit != 2 {
			t.Errorf("%v: exit %d, want 2\n%s%s", args, res.Exit, res.Stdout, res.Stderr)
		}
	}
}
