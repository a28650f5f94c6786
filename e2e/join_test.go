//go:build e2e

package e2e

import (
	"fmt"
	"io"
	"net/http"
	"net/smtp"
	"strings"
	"testing"
	"time"
)

// sendEmpty sends an empty mail (空メール) through Postfix.
func sendEmpty(t *testing.T, from, to, msgID string) {
	t.Helper()
	msg := fmt.Sprintf("From: %s\r\nTo: %s\r\nSubject: \r\nDate: %s\r\nMessage-ID: <%s>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n",
		from, to, time.Now().Format(time.RFC1123Z), msgID)
	if err := smtp.SendMail(smtpAddr, nil, from, []string{to}, []byte(msg)); err != nil {
		t.Fatalf("sending the empty mail %s → %s through Postfix: %v", from, to, err)
	}
}

// emptyMailJoin is scenario 3: 空メール to the join addresses, a
// confirmation mail in the sender's Maildir, its link subscribes.
func emptyMailJoin(t *testing.T) {
	clearBounceBox(t)
	d := newDaemon(t, daemonOptions{})
	d.start()
	n := nonce()
	cases := []struct{ user, to string }{
		{"alice", listSlug + "-join@example.test"},
		{"bob", "join+" + listSlug + "@example.test"},
	}
	for _, c := range cases {
		addr := c.user + "@example.test"
		before := len(matching(maildir(t, c.user), d.base+"/confirm/"))
		sendEmpty(t, addr, c.to, fmt.Sprintf("join-%s-%s@example.test", n, c.user))
		msgs := waitMail(t, d, c.user, before+1, 60*time.Second, "with a "+d.base+"/confirm/ link after 空メール to "+c.to,
			func(ms []delivered) []delivered { return matching(ms, d.base+"/confirm/") })
		m := msgs[len(msgs)-1]
		if st := d.export(listSlug)[addr]; st != "unconfirmed" {
			d.errorf("%s after 空メール, before confirming: export status %q, want unconfirmed", addr, st)
		}
		u := link(m, d.base+"/confirm/")
		// The link shows a button; the button's POST confirms (issue 15).
		resp, err := http.PostForm(u, nil)
		if err != nil {
			d.fatalf("POST %s: %v", u, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			d.fatalf("POST %s (confirmation link for %s): status %d, want 200: %.300s", u, addr, resp.StatusCode, body)
		}
		d.waitStatus(listSlug, addr, "confirmed", 5*time.Second)
		// The consent record keeps the inbound message as evidence.
		msgID := fmt.Sprintf("join-%s-%s@example.test", n, c.user)
		rows := d.consentFrom(listSlug, addr, "empty-mail")
		found := false
		for _, r := range rows {
			found = found || strings.Contains(r["message_id"], msgID)
		}
		if !found {
			d.errorf("export consent: no row for %s with source empty-mail and message_id <%s>; rows %v", addr, msgID, rows)
		}
		if strings.Contains(m.Subject, "\n") {
			d.errorf("confirmation subject %q has a line break", m.Subject)
		}
	}
}
