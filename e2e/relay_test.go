//go:build e2e

package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// relayRate is a coarse guard against a client that stalls against a real
// relay (issue 22: 40 ms per message per connection through Postfix, from
// Nagle's algorithm on Postfix's side and our delayed ACK): the daemon with
// its shipped sending defaults sends an issue through Postfix, and must
// reach at least half of the rate of Postfix's own smtp-source -d with the
// same number of sessions, measured right before and after on the same
// Postfix. The benchmark (sendbench -relay, docs/BENCHMARKS.md) holds the
// real target; this only catches the class of stall coming back. The same
// through the submission port with STARTTLS and AUTH (smtp-source speaks
// neither, so it measures the plain port).
func relayRate(t *testing.T) {
	if _, err := exec.LookPath("smtp-source"); err != nil {
		if os.Getenv("KAWARABAN_REQUIRE_ALL") == "1" {
			t.Fatal("smtp-source (Debian's postfix package) is missing")
		}
		t.Skip("smtp-source (Debian's postfix package) is missing")
	}
	for _, tc := range []struct {
		name string
		opt  daemonOptions
	}{
		{"plain", daemonOptions{}},
		{"submission", daemonOptions{SMTPSubmission: true}},
	} {
		t.Run(tc.name, func(t *testing.T) { relayRateOnce(t, tc.opt) })
	}
}

// relaySessions is smtp.max_conns's default, the connections the daemon
// opens to the relay.
const relaySessions = 4

func relayRateOnce(t *testing.T, opt daemonOptions) {
	const n = 2000
	box := filepath.Join(mailRoot, "bench")
	t.Cleanup(func() { emptyMaildir(box) })
	d := newDaemon(t, opt)
	d.start()
	d.login()
	tag := nonce()
	addrs := make([]string, n)
	for i := range addrs {
		addrs[i] = fmt.Sprintf("bench+r%05d-%s@example.test", i+1, tag)
	}
	d.importSubscribers(listSlug, addrs)
	id := d.createIssue(listSlug, "かわら版 e2e relay rate", "Postfix を通した配信の速さを測ります。\n")

	before := smtpSourceRate(t, n, box)
	settleRelay(t, box)
	start := time.Now()
	d.sendIssue(id)
	var is issue
	// Each poll counts the issue's deliveries: every 100 ms, so that the
	// poll takes little CPU from Postfix.
	if !waitFor(5*time.Minute, 100*time.Millisecond, func() bool {
		var ok bool
		is, ok = d.tryIssue(id)
		return ok && is.Status == "sent"
	}) {
		d.fatalf("issue %d: status %q counts %v, want sent within 5 minutes", id, is.Status, is.Counts)
	}
	took := time.Since(start)
	after := smtpSourceRate(t, n, box)
	if is.Counts["sent"] != n {
		d.fatalf("counts %v: sent %d, want %d", is.Counts, is.Counts["sent"], n)
	}
	ours := float64(n) / took.Seconds()
	ratio := 2 * ours / (before + after)
	t.Logf("kawaraban %.0f msgs/s (send → sent in %s); smtp-source -d -s %d %.0f and %.0f msgs/s; ratio %.2f",
		ours, took.Round(time.Millisecond), relaySessions, before, after, ratio)
	if ratio < 0.5 {
		d.errorf("sending through Postfix at %.0f msgs/s is %.2f of smtp-source's %.0f msgs/s with the same %d sessions, want at least 0.5",
			ours, ratio, (before+after)/2, relaySessions)
	}
}

// smtpSourceRate sends n small messages with smtp-source -d over
// relaySessions sessions to Postfix's plain port and returns messages/s.
func smtpSourceRate(t *testing.T, n int, box string) float64 {
	t.Helper()
	settleRelay(t, box)
	start := time.Now()
	out, err := exec.Command("smtp-source", "-d", "-s", strconv.Itoa(relaySessions), "-m", strconv.Itoa(n),
		"-M", "source.example.test", "-f", "bench@example.test", "-t", "bench@example.test", smtpAddr).CombinedOutput()
	took := time.Since(start)
	if err != nil || len(out) > 0 {
		t.Fatalf("smtp-source: %v: %s", err, out)
	}
	return float64(n) / took.Seconds()
}

// settleRelay waits until Postfix has delivered what it holds, so that no
// measurement pays for another's deliveries, and empties the bench Maildir.
func settleRelay(t *testing.T, box string) {
	t.Helper()
	if !waitFor(3*time.Minute, 100*time.Millisecond, postfixQueueEmpty) {
		t.Fatal("Postfix's queue did not drain within 3 minutes")
	}
	syscall.Sync() // write back what the last run left dirty, so that its fsyncs do not slow the next
	emptyMaildir(box)
}

func emptyMaildir(box string) {
	for _, sub := range []string{"new", "cur", "tmp"} {
		files, _ := filepath.Glob(filepath.Join(box, sub, "*"))
		for _, f := range files {
			os.Remove(f)
		}
	}
}
