package main

import (
	"strings"
	"testing"
	"time"
)

// Issue 7: a scheduled send survives the daemon being down at its time and
// being restarted again afterwards: each recipient gets exactly one copy.
// A send_at in the past is refused (issue 14: a typo in a date must not
// become an immediate mass send).
func TestAcceptanceScheduleAcrossRestarts(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	d := startDaemon(t, dir)
	const list = "seishonen-katsudo"
	recipients := []string{"aoi@example.jp", "ren@example.jp", "mei@example.jp"}
	importCSV(t, dir, list, "email,name\naoi@example.jp,葵\nren@example.jp,蓮\nmei@example.jp,芽衣\n")
	token := adminToken(t, dir)

	const subject = "青少年活動センターだより 予約配信"
	sendAt := time.Now().Add(4 * time.Second).Truncate(time.Second).Add(time.Second)
	is := createIssue(t, d, token, map[string]any{
		"list": list, "subject": subject, "body_markdown": "{{ .Name }} さん、こんにちは。",
		"send_at": sendAt.Format(time.RFC3339),
	})
	if s := sendIssue(t, d, token, is.ID); s.Status != "scheduled" {
		t.Errorf("after POST /send with a future send_at: status %q, want scheduled", s.Status)
	}
	if code, _ := d.stop(t); code != 0 {
		t.Errorf("daemon exit %d after SIGTERM", code)
	}
	if time.Now().After(sendAt) {
		t.Skipf("the machine is too slow: the daemon stopped only after send_at %s", sendAt.Format(time.RFC3339))
	}
	if n := len(mailsTo(readCaptured(t, dir), recipients[0], subject)); n != 0 {
		t.Fatalf("the issue went out before its time (%d copies)", n)
	}
	// The daemon is down at send_at: wait for that instant to pass.
	time.Sleep(time.Until(sendAt) + time.Second)

	d = startDaemon(t, dir)
	waitIssueSent(t, d, token, is.ID)
	countCopies := func(when string) {
		t.Helper()
		all := readCaptured(t, dir)
		for _, r := range recipients {
			if n := len(mailsTo(all, r, subject)); n != 1 {
				t.Errorf("%s: %s got %d copies, want exactly 1", when, r, n)
			}
		}
	}
	countCopies("after the first restart")
	if code, _ := d.stop(t); code != 0 {
		t.Errorf("daemon exit %d after SIGTERM", code)
	}

	// Restart once more; a second issue sent now, with send_at in the past,
	// is the barrier: once it is delivered the daemon has run its catch-up.
	d = startDaemon(t, dir)
	const subject2 = "青少年活動センターだより 即時配信"
	code, body := api(t, d, token, "POST", "/api/v1/issues", map[string]any{
		"list": list, "subject": subject2, "body_markdown": "本文",
		"send_at": time.Now().Add(-time.Hour).Format(time.RFC3339),
	})
	if code != 422 || !strings.Contains(string(body), "past") {
		t.Errorf("send_at in the past: %d %s, want 422 with the reason", code, body)
	}
	past := createIssue(t, d, token, map[string]any{"list": list, "subject": subject2, "body_markdown": "本文"})
	sendIssue(t, d, token, past.ID)
	waitIssueSent(t, d, token, past.ID)
	all := readCaptured(t, dir)
	for _, r := range recipients {
		if n := len(mailsTo(all, r, subject2)); n != 1 {
			t.Errorf("%s got %d copies of the issue sent now, want 1", r, n)
		}
	}
	countCopies("after the second restart")
	if is := getIssue(t, d, token, is.ID); is.Status != "sent" || is.Counts["sent"] != len(recipients) {
		t.Errorf("scheduled issue after restarts: %+v, want sent with sent=%d", is, len(recipients))
	}
	// The archive lists both, newest first.
	_, page := get(t, d.BaseURL+"/archive/"+list)
	newer, older := strings.Index(page, subject2), strings.Index(page, subject)
	if newer < 0 || older < 0 || newer > older {
		t.Errorf("archive: %q at %d, %q at %d; want both, newest first", subject2, newer, subject, older)
	}
}
