//go:build e2e

package e2e

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// bounceJSON is one item of GET /api/v1/bounces.
type bounceJSON struct {
	Email  string `json:"email"`
	Class  string `json:"class"`
	Status string `json:"status"`
}

// bounces returns the recorded bounces by address (GET /api/v1/bounces).
func (d *daemon) bounces() map[string][]bounceJSON {
	d.t.Helper()
	var page struct {
		Items []bounceJSON `json:"items"`
	}
	if code := d.api("GET", "/api/v1/bounces?limit=200", nil, &page); code != http.StatusOK {
		d.fatalf("GET /api/v1/bounces: status %d, want 200", code)
	}
	m := map[string][]bounceJSON{}
	for _, b := range page.Items {
		m[strings.ToLower(b.Email)] = append(m[strings.ToLower(b.Email)], b)
	}
	return m
}

// bounceLoop is scenario 1: a real issue through Postfix, real DSNs read
// from Dovecot, attributed by VERP, and the policy applied.
func bounceLoop(t *testing.T) {
	clearBounceBox(t)
	d := newDaemon(t, daemonOptions{})
	d.start()
	d.login()
	n := nonce()
	good := []string{"alice", "bob", "carol", "dave"}
	var unknown []string
	for i := 1; i <= 3; i++ {
		unknown = append(unknown, fmt.Sprintf("nosuch-%s-%d@example.test", n, i))
	}
	soft := "anyone-" + n + "@softfail.test"
	reject := "anyone-" + n + "@reject.test"
	all := append(append([]string{}, unknown...), soft, reject)
	for _, u := range good {
		all = append(all, u+"@example.test")
	}
	d.importSubscribers(listSlug, all)
	ex := d.export(listSlug)
	for _, a := range all {
		if ex[a] != "confirmed" {
			d.fatalf("%s after import: export status %q, want confirmed", a, ex[a])
		}
	}

	// A citizen's ordinary reply, already in the bounce mailbox before the
	// issue's bounces arrive: the reader must leave it alone.
	replyID := "reply-" + n + "@example.test"
	appendBounceBox(t, strings.ReplaceAll(fmt.Sprintf(`From: Alice <alice@example.test>
To: shimin-katsudo@example.test
Subject: Re: かわら版 (e2e %s)
Date: %s
Message-ID: <%s>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8

講座の日程を教えてください。
`, n, time.Now().Format(time.RFC1123Z), replyID), "\n", "\r\n"))

	subject := "かわら版 e2e bounce " + n
	id := d.createIssue(listSlug, subject, "# お知らせ\n\n市民活動の講座があります。\n")
	d.sendIssue(id)
	is := d.waitSent(id, 60*time.Second)
	t.Logf("issue %d sent: counts %v", id, is.Counts)

	// Deliverable users: one copy each, with a VERP return path.
	for _, u := range good {
		m := waitMail(t, d, u, 1, 30*time.Second, "with subject "+subject, func(ms []delivered) []delivered { return withSubject(ms, subject) })[0]
		if rp := m.Header.Get("Return-Path"); !strings.HasPrefix(rp, "<bounces+") || !strings.HasSuffix(rp, "@example.test>") {
			d.errorf("%s@example.test: Return-Path %q, want the VERP address <bounces+TOKEN@example.test>", u, rp)
		}
	}

	// The RCPT refusal is recorded at send time.
	var bs map[string][]bounceJSON
	if !waitFor(5*time.Second, 250*time.Millisecond, func() bool { bs = d.bounces(); return len(bs[reject]) > 0 }) {
		d.fatalf("%s refused at RCPT (550 5.1.1) but not in GET /api/v1/bounces once the issue is sent: %v", reject, bs)
	}
	if b := bs[reject]; len(b) != 1 || b[0].Class != "hard" {
		d.errorf("%s: bounces %+v, want one hard bounce", reject, b)
	}

	// Unknown users: Postfix's DSNs are read over IMAP, attributed, suppressed.
	for _, a := range unknown {
		d.waitStatus(listSlug, a, "suppressed", 60*time.Second)
	}
	bs = d.bounces()
	for _, a := range unknown {
		if b := bs[a]; len(b) != 1 || b[0].Class != "hard" {
			d.errorf("%s: bounces %+v, want exactly one hard bounce from its DSN", a, b)
		}
	}

	// Nothing is deleted unread: the DSNs stay in INBOX, marked processed.
	if got := countWithFlag(t, "$KawarabanProcessed"); got < len(unknown) {
		d.errorf("bounce INBOX: %d messages flagged $KawarabanProcessed, want at least the %d DSNs, kept", got, len(unknown))
	}

	// The deferral: Postfix gives up after ~15 s and sends a DSN with 4.2.2.
	if !waitFor(60*time.Second, 500*time.Millisecond, func() bool {
		bs = d.bounces()
		for _, b := range bs[soft] {
			if b.Class == "soft" {
				return true
			}
		}
		return false
	}) {
		d.fatalf("%s (deferred 4.2.2): bounces %+v, want a soft bounce recorded within 60s", soft, bs[soft])
	}
	for _, b := range bs[soft] {
		if b.Class != "soft" {
			d.errorf("%s: bounce %+v, want class soft only", soft, b)
		}
	}
	if st := d.export(listSlug)[soft]; st != "confirmed" {
		d.errorf("%s after one soft bounce: export status %q, want confirmed (not suppressed)", soft, st)
	}

	// The citizen's reply is still in INBOX, unread and unmarked.
	flags := flagsByMessageID(t, replyID)
	if len(flags) != 1 {
		d.fatalf("citizen's reply <%s>: %d copies in the bounce INBOX, want 1 left where it was", replyID, len(flags))
	}
	for _, f := range []string{`\Seen`, `\Deleted`, `\Flagged`, `\Answered`, `$KawarabanProcessed`} {
		if hasFlag(flags[0], f) {
			d.errorf("citizen's reply <%s> has flag %s (flags %v): it must be left alone", replyID, f, flags[0])
		}
	}
	if st := d.export(listSlug)["alice@example.test"]; st != "confirmed" {
		d.errorf("alice@example.test after her reply: export status %q, want confirmed", st)
	}

	// Still exactly one copy each, now that Postfix's queue has drained.
	waitFor(20*time.Second, 500*time.Millisecond, postfixQueueEmpty)
	for _, u := range good {
		if got := len(withSubject(maildir(t, u), subject)); got != 1 {
			d.errorf("%s@example.test: %d copies of %q, want exactly 1", u, got, subject)
		}
	}
}
