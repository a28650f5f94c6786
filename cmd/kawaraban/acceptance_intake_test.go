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
	addrs := []string{"kill-a@example.jp", "kill-b@example.jp", "kill-c@example.jp"}
	// The daemon does a request 200 ms after answering it; on a machine
	// slow enough to do all three before the kill, the run proves nothing,
	// so it is tried again in a new data directory, at most three times.
	var dir string
	var d *daemonProc
	done := len(addrs)
	for try := 1; done == len(addrs); try++ {
		if try > 3 {
			t.Fatalf("in three tries the daemon did every request before the kill: the test cannot show what a kill loses")
		}
		dir = t.TempDir()
		d = startDaemon(t, dir)
		for _, a := range addrs {
			if code, body := postForm(t, d.BaseURL+"/subscribe", url.Values{"email": {a}, "list": {"kodomo-mirai"}}, ""); code != 200 {
				t.Fatalf("subscribe %s: %d %s", a, code, body)
			}
		}
		d.cmd.Process.Kill()
		d.cmd.Wait()
		rows := exportSubscribers(t, dir, "kodomo-mirai")
		done = 0
		for _, a := range addrs {
			if _, ok := rows[a]; ok {
				done++
			}
		}
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
	rows := exportSubscribers(t, dir, "kodomo-mirai")
	for _, a := range addrs {
		if rows[a]["status"] != "unconfirmed" {
			t.Errorf("%s after the restart: %v, want unconfirmed", a, rows[a])
		}
	}
	if !strings.Contains(d.out.String(), "resuming subscription requests") {
		t.Errorf("the restarted daemon did not say it resumed requests:\n%s", d.out.String())
	}
	d.stop(t)
}
