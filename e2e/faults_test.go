//go:build e2e

package e2e

import (
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"
)

// faults is scenario 6: the relay goes away mid-send and comes back on the
// same port; Dovecot restarts while the bounces are being fetched.
func faults(t *testing.T) {
	t.Run("relay_restart", relayRestart)
	t.Run("imap_restart", imapRestart)
}

func relayRestart(t *testing.T) {
	clearBounceBox(t)
	k1 := startSink(t, "127.0.0.1:0")
	d := newDaemon(t, daemonOptions{SMTPPort: k1.port()})
	d.start()
	d.login()
	addrs := recipients(3000, nonce())
	d.importSubscribers(listSlug, addrs)

	id := d.createIssue(listSlug, "かわら版 e2e relay fault", "中継サーバーが止まります。\n")
	d.sendIssue(id)
	if !waitFor(60*time.Second, 10*time.Millisecond, func() bool { return k1.Total() >= 500 }) {
		d.fatalf("sink received %d messages within 60s, want 500 before stopping it", k1.Total())
	}
	k1.stop()
	down := time.Now()
	t.Logf("relay stopped with %d messages delivered", k1.Total())
	// A citizen subscribes while the relay is down: the confirmation mail
	// waits in the daemon's queue (mail_queue) instead of being lost.
	citizen := "citizen-" + nonce() + "@sink.test"
	resp, err := http.PostForm(d.base+"/subscribe", url.Values{"email": {citizen}, "list": {listSlug}})
	if err != nil {
		d.fatalf("POST /subscribe during the outage: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		d.fatalf("POST /subscribe during the outage: %d, want 200", resp.StatusCode)
	}
	// The outage itself: two seconds in which every connection is refused.
	// Meanwhile the issue tells why its mail waits.
	var waiting issue
	if !waitFor(2*time.Second, 50*time.Millisecond, func() bool {
		waiting, _ = d.tryIssue(id)
		return waiting.LastError != ""
	}) {
		d.errorf("GET /api/v1/issues/%d during the outage: no last_error (%+v)", id, waiting)
	}
	time.Sleep(time.Until(down.Add(2 * time.Second)))
	t.Logf("during the outage the issue said: %s", waiting.LastError)
	k2 := startSink(t, k1.addr)
	t.Logf("relay back on %s after %s", k2.addr, time.Since(down).Round(time.Millisecond))

	// Temporary failures are retried with backoff (a minute, ±20%, for the first retry).
	is := d.waitSent(id, 240*time.Second)
	missing, dups := tally(addrs, k1, k2)
	if len(missing) > 0 {
		d.errorf("%d recipient(s) never received the issue after the relay came back: %s", len(missing), firstFew(missing))
	}
	if dups > d.window() {
		d.errorf("%d duplicate copies, want at most the in-flight window %d", dups, d.window())
	}
	if is.Counts["sent"] != len(addrs) || is.Counts["failed"] != 0 {
		d.errorf("counts %v: want sent %d, failed 0", is.Counts, len(addrs))
	}
	// The first retry of the queued confirmation comes about a minute after
	// the failed try, like the issue's.
	if !waitFor(120*time.Second, 100*time.Millisecond, func() bool { return k2.Count(citizen) > 0 }) {
		d.errorf("the confirmation mail asked for during the outage never reached the relay after it came back")
	} else if n := k1.Count(citizen) + k2.Count(citizen); n != 1 {
		d.errorf("the confirmation mail arrived %d times, want once", n)
	}
	t.Logf("relay fault: counts %v, before stop %d, after %d, duplicates %d", is.Counts, k1.Total(), k2.Total(), dups)
}

func imapRestart(t *testing.T) {
	clearBounceBox(t)
	d := newDaemon(t, daemonOptions{})
	d.start()
	d.login()
	n := nonce()
	const unknownUsers = 300
	var unknown []string
	for i := 1; i <= unknownUsers; i++ {
		unknown = append(unknown, fmt.Sprintf("gone-%s-%03d@example.test", n, i))
	}
	d.importSubscribers(listSlug, append(append([]string{}, unknown...), "alice@example.test"))

	id := d.createIssue(listSlug, "かわら版 e2e imap fault "+n, "宛先不明が多い号です。\n")
	d.sendIssue(id)
	d.waitSent(id, 120*time.Second)

	// Restart Dovecot each time the reader has counted more bounces, up to
	// three times, so that at least one restart lands inside a fetch.
	var is issue
	last := 0
	for restarts := 0; restarts < 3 && last < unknownUsers; restarts++ {
		if !waitFor(90*time.Second, 20*time.Millisecond, func() bool {
			is, _ = d.tryIssue(id)
			return is.Counts["bounced"] > last
		}) {
			d.fatalf("bounces counted stuck at %d of %d for 90s (restarts so far: %d): counts %v", last, unknownUsers, restarts, is.Counts)
		}
		last = is.Counts["bounced"]
		restartDovecot(t)
		t.Logf("dovecot restarted with %d of %d bounces counted", last, unknownUsers)
	}

	if !waitFor(120*time.Second, 250*time.Millisecond, func() bool {
		is, _ = d.tryIssue(id)
		return is.Counts["bounced"] >= unknownUsers
	}) {
		d.fatalf("counts %v after the IMAP restart: bounced %d, want %d within 120s", is.Counts, is.Counts["bounced"], unknownUsers)
	}
	// A few more polls of the mailbox must not count anything twice.
	waitFor(4*time.Second, 250*time.Millisecond, func() bool { return false })
	is = d.getIssue(id)
	if is.Counts["bounced"] != unknownUsers {
		d.errorf("counts %v: bounced %d, want exactly %d (one per unknown user, none twice)", is.Counts, is.Counts["bounced"], unknownUsers)
	}
	ex := d.export(listSlug)
	for _, a := range unknown {
		if ex[a] != "suppressed" {
			d.errorf("%s: export status %q, want suppressed", a, ex[a])
			break
		}
	}
	if ex["alice@example.test"] != "confirmed" {
		d.errorf("alice@example.test: export status %q, want confirmed", ex["alice@example.test"])
	}
}
