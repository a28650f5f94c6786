//go:build e2e

package e2e

import (
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

var angleRE = regexp.MustCompile(`<([^>]+)>`)

// oneClickUnsubscribe is scenario 2: RFC 8058 one-click from the
// List-Unsubscribe URL of a message delivered to a Maildir.
func oneClickUnsubscribe(t *testing.T) {
	clearBounceBox(t)
	d := newDaemon(t, daemonOptions{})
	d.start()
	d.login()
	n := nonce()
	users := []string{"alice", "bob", "carol", "dave"}
	var addrs []string
	for _, u := range users {
		addrs = append(addrs, u+"@example.test")
	}
	d.importSubscribers(listSlug, addrs)

	first := "かわら版 e2e one-click 1 " + n
	id := d.createIssue(listSlug, first, "第1号です。\n")
	d.sendIssue(id)
	d.waitSent(id, 60*time.Second)
	m := waitMail(t, d, "bob", 1, 30*time.Second, "with subject "+first, func(ms []delivered) []delivered { return withSubject(ms, first) })[0]

	lu := m.Header.Get("List-Unsubscribe")
	if post := m.Header.Get("List-Unsubscribe-Post"); post != "List-Unsubscribe=One-Click" {
		d.errorf("List-Unsubscribe-Post %q, want List-Unsubscribe=One-Click (RFC 8058 §3.1)", post)
	}
	var url string
	hasMailto := false
	for _, g := range angleRE.FindAllStringSubmatch(lu, -1) {
		switch {
		case strings.HasPrefix(g[1], "mailto:"):
			hasMailto = true
		case strings.HasPrefix(g[1], "http"):
			url = g[1]
		}
	}
	if url == "" || !strings.HasPrefix(url, d.base+"/unsubscribe/") {
		d.fatalf("List-Unsubscribe %q: want <%s/unsubscribe/TOKEN>", lu, d.base)
	}
	if !hasMailto {
		d.errorf("List-Unsubscribe %q has no mailto: URI (DESIGN.md flow 2)", lu)
	}

	// A GET (a link scanner) must not unsubscribe.
	resp, err := http.Get(url)
	if err != nil {
		d.fatalf("GET %s: %v", url, err)
	}
	resp.Body.Close()
	if st := d.export(listSlug)["bob@example.test"]; st != "confirmed" {
		d.fatalf("after a GET of the unsubscribe URL bob is %q, want still confirmed", st)
	}

	// The one-click POST: no cookie, no CSRF token.
	resp, err = http.Post(url, "application/x-www-form-urlencoded", strings.NewReader("List-Unsubscribe=One-Click"))
	if err != nil {
		d.fatalf("POST %s: %v", url, err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode >= 300 {
		d.fatalf("one-click POST %s: status %d, want 2xx: %s", url, resp.StatusCode, body)
	}
	if st := d.export(listSlug)["bob@example.test"]; st != "unsubscribed" {
		d.fatalf("after one-click bob is %q, want unsubscribed", st)
	}
	if rows := d.consentFrom(listSlug, "bob@example.test", "one-click"); len(rows) != 1 {
		d.errorf("export consent: %d rows for bob with source one-click, want 1: %v", len(rows), rows)
	}

	second := "かわら版 e2e one-click 2 " + n
	id2 := d.createIssue(listSlug, second, "第2号です。\n")
	d.sendIssue(id2)
	is := d.waitSent(id2, 60*time.Second)
	for _, u := range []string{"alice", "carol", "dave"} {
		waitMail(t, d, u, 1, 30*time.Second, "with subject "+second, func(ms []delivered) []delivered { return withSubject(ms, second) })
	}
	waitFor(10*time.Second, 250*time.Millisecond, postfixQueueEmpty)
	if got := len(withSubject(maildir(t, "bob"), second)); got != 0 {
		d.errorf("bob unsubscribed in one click but got %d copies of the next issue", got)
	}
	if total := is.Counts["sent"] + is.Counts["failed"] + is.Counts["bounced"] + is.Counts["queued"]; total != 3 {
		d.errorf("next issue counts %v: %d recipients, want 3 (bob left)", is.Counts, total)
	}
}
