package main

import (
	"net/url"
	"strings"
	"testing"
)

// Subscriptions answered just before a kill -9 are done after the
// restart: /subscribe writes each request (subscribe_intake) before it
// answers, and the daemon does the per-address work up to 200 ms later.
// Before migration 0027 the request waited in memory and was lost.
func TestAcceptanceSubscribeSurvivesKill9(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	d := startDaemon(t, dir)
	addrs := []string{"kill-a@example.jp", "kill-b@example.jp", "kill-c@example.jp"}
	for _, a := range addrs {
		if code, body := postForm(t, d.BaseURL+"/subscribe", url.Values{"email": {a}, "list": {"kodomo-mirai"}}, ""); code != 200 {
			t.Fatalf("subscribe %s: %d %s", a, code, body)
		}
	}
	d.cmd.Process.Kill()
	d.cmd.Wait()
	done := 0
	rows := exportSubscribers(t, dir, "kodomo-mirai")
	for _, a := range addrs {
		if _, ok := rows[a]; ok {
			done++
		}
	}
	if done == len(addrs) {
		t.Logf("the daemon did the requests before the kill (a slow machine): this run proves nothing")
	}

	d = startDaemon(t, dir)
	waitUntil(t, "a confirmation mail to each address answered before the kill", func() bool {
		all := readCaptured(t, dir)
		for _, a := range addrs {
			if len(mailsTo(all, a, "")) == 0 {
				return false
			}
		}
		return true
	})
	rows = exportSubscribers(t, dir, "kodomo-mirai")
	for _, a := range addrs {
		if rows[a]["status"] != "unconfirmed" {
			t.Errorf("%s after the restart: %v, want unconfirmed", a, rows[a])
		}
	}
	if !strings.Contains(d.out.String(), "resuming subscription requests") && done < len(addrs) {
		t.Errorf("the restarted daemon did not say it resumed requests:\n%s", d.out.String())
	}
	d.stop(t)
}
