//go:build e2e

package e2e

import (
	"testing"
	"time"
)

// crash is scenario 5: kill -9 in the middle of a 20,000-recipient send,
// restart, count each recipient's copies at the sink.
func crash(t *testing.T) {
	clearBounceBox(t)
	k := startSink(t, "127.0.0.1:0")
	d := newDaemon(t, daemonOptions{SMTPPort: k.port()})
	d.start()
	d.login()
	addrs := recipients(20000, nonce())
	d.importSubscribers(listSlug, addrs)

	id := d.createIssue(listSlug, "かわら版 e2e crash", "二万人への配信です。\n")
	start := time.Now()
	d.sendIssue(id)
	if !waitFor(120*time.Second, 20*time.Millisecond, func() bool { return k.Total() >= 5000 }) {
		d.fatalf("sink received %d messages within 120s, want 5000 before the kill", k.Total())
	}
	d.kill9()
	atKill := k.Total()
	t.Logf("killed after %s with %d messages at the sink", time.Since(start).Round(time.Millisecond), atKill)
	if atKill >= len(addrs) {
		d.fatalf("the whole send (%d) finished before the kill: nothing was interrupted", atKill)
	}

	d.start()
	is := d.waitSent(id, 240*time.Second)
	t.Logf("sent after restart in %s total: counts %v, sink total %d", time.Since(start).Round(time.Millisecond), is.Counts, k.Total())
	missing, dups := tally(addrs, k)
	if len(missing) > 0 {
		d.errorf("%d recipient(s) never received the issue: %s", len(missing), firstFew(missing))
	}
	if dups > d.window() {
		d.errorf("%d duplicate copies after kill -9, want at most the in-flight window sending.workers × sending.batch_size = %d", dups, d.window())
	}
	t.Logf("duplicates %d (window %d)", dups, d.window())
	if is.Counts["sent"] != len(addrs) {
		d.errorf("counts %v: sent %d, want %d", is.Counts, is.Counts["sent"], len(addrs))
	}
}
