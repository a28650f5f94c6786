package main

import (
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

var sentMetricRe = regexp.MustCompile(`(?m)^kawaraban_mailer_sent_total\{[^}]*result="([a-z]+)"[^}]*\} ([0-9.e+]+)$`)

// mailerResults sums kawaraban_mailer_sent_total by result.
func mailerResults(t *testing.T, d *daemonProc) map[string]float64 {
	t.Helper()
	_, body := get(t, d.BaseURL+"/metrics")
	out := map[string]float64{}
	for _, m := range sentMetricRe.FindAllStringSubmatch(body, -1) {
		v, _ := strconv.ParseFloat(m[2], 64)
		out[m[1]] += v
	}
	return out
}

// Relays close idle connections (Postfix after smtpd_timeout, 300 s; the
// local relay after 5 minutes), saying "421 … idle timeout". The first mail
// after a quiet spell must still go out at once, on a fresh connection, and
// must not throttle the recipient's domain.
//
// This takes over five minutes, so it runs only with
// KAWARABAN_ACCEPTANCE_SLOW=1.
func TestAcceptanceSendAfterIdleRelay(t *testing.T) {
	if os.Getenv("KAWARABAN_ACCEPTANCE_SLOW") != "1" {
		t.Skip("slow (5+ minutes idle): set KAWARABAN_ACCEPTANCE_SLOW=1 (passes since mailer replaces connections idle over 30 s)")
	}
	t.Parallel()
	d := startDaemon(t, t.TempDir())
	subscribe := func(addr string) {
		t.Helper()
		if code, body := postForm(t, d.BaseURL+"/subscribe", url.Values{"email": {addr}, "list": {"shimin-katsudo"}}, ""); code != 200 {
			t.Fatalf("POST /subscribe: %d\n%s", code, body)
		}
	}
	importCSV(t, d.Data, "shimin-katsudo", "email,name\nreader@example.jp,読者\n")
	token := adminToken(t, d.Data)
	// Open a pooled connection, then leave it idle past the relay's timeout.
	subscribe("first@example.jp")
	waitUntil(t, "the first confirmation", func() bool { return countEML(t, d.Data) == 1 })
	time.Sleep(5*time.Minute + 15*time.Second)

	before := mailerResults(t, d)
	start := time.Now()
	is := createIssue(t, d, token, map[string]any{"list": "shimin-katsudo", "subject": "静かな後の号", "body_markdown": "本文"})
	sendIssue(t, d, token, is.ID)
	subscribe("after-idle@example.jp")
	deadline := time.Now().Add(8 * time.Second)
	for {
		all := readCaptured(t, d.Data)
		if len(mailsTo(all, "after-idle@example.jp", "")) > 0 && len(mailsTo(all, "reader@example.jp", "静かな後の号")) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the confirmation and the issue after an idle spell are not both out after 8 s; metrics %v; log:\n%s",
				mailerResults(t, d), lastLines(d.out.String(), 5))
		}
		time.Sleep(100 * time.Millisecond)
	}
	after := mailerResults(t, d)
	t.Logf("delivered after %s; results before %v after %v", time.Since(start), before, after)
	for res, n := range after {
		if res != "sent" && n > before[res] {
			t.Errorf("a %q result after the idle spell: the stale connection was used", res)
		}
	}
	if strings.Contains(d.out.String(), "relay throttling") {
		t.Errorf("the relay's idle-timeout 421 was taken for throttling:\n%s", lastLines(d.out.String(), 5))
	}
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
