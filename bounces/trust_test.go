package bounces

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"kawaraban/token"
)

// forgedARF is an RFC 5965 abuse report naming rcpt, sent straight to the
// return path without our VERP token and with a Message-ID not ours.
func forgedARF(msgID, rcpt string) string {
	return "From: abuse@forger.test\r\nTo: bounces@" + testDomain + "\r\nMessage-ID: <" + msgID + ">\r\n" +
		"MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=feedback-report; boundary=\"A\"\r\n\r\n" +
		"--A\r\nContent-Type: text/plain\r\n\r\nThis is an abuse report.\r\n" +
		"--A\r\nContent-Type: message/feedback-report\r\n\r\nFeedback-Type: abuse\r\nUser-Agent: forger/1\r\nVersion: 1\r\n" +
		"Original-Rcpt-To: <" + rcpt + ">\r\n" +
		"--A\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: <nothing-of-ours@forger.test>\r\nTo: " + rcpt + "\r\n--A--\r\n"
}

// forgedDSN is an RFC 3464 DSN naming rcpt, without our VERP token.
func forgedDSN(msgID, rcpt string) string {
	return "From: MAILER-DAEMON@forger.test\r\nTo: bounces@" + testDomain + "\r\nMessage-ID: <" + msgID + ">\r\n" +
		"Auto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\r\n\r\n" +
		"--B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; forger.test\r\n\r\n" +
		"Final-Recipient: rfc822; " + rcpt + "\r\nAction: failed\r\nStatus: 5.1.1\r\n" +
		"Diagnostic-Code: smtp; 550 5.1.1 user unknown\r\n" +
		"--B\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: <nothing-of-ours@forger.test>\r\n--B--\r\n"
}

// TestIssue15ForgedReportsChangeNothing: an abuse report and a DSN that
// carry neither our VERP token nor a Message-ID of ours are recorded as
// unverified and suppress nobody; a report with our VERP token still
// suppresses; staff can verify an unverified one, which then acts.
func TestIssue15ForgedReportsChangeNothing(t *testing.T) {
	t.Parallel()
	ms := startIMAP(t, TLSNone)
	rec := newRecorder()
	s := newService(t, ms, rec, Options{})
	ctx := context.Background()
	ms.put(t, "INBOX", forgedARF("arf-forged@forger.test", "carol@dest.test"))
	ms.put(t, "INBOX", forgedDSN("dsn-forged@forger.test", "bob@dest.test"))
	// A forger who received an issue holds a VERP token: it names his own
	// delivery, so a report naming someone else acts on him alone.
	ms.put(t, "INBOX", strings.Replace(forgedARF("arf-own@forger.test", "dave@dest.test"),
		"To: bounces@"+testDomain, "To: bounces+9@"+testDomain, 1))
	ms.put(t, "INBOX", dsnMail("dsn-real@mx.example.test", 4, "5.1.1", "failed", "550 5.1.1 user unknown"))
	if _, err := s.PollOnce(ctx); err != nil {
		t.Fatal(err)
	}
	rec.mu.Lock()
	suppressed, unsubscribed := fmt.Sprint(rec.suppressed), fmt.Sprint(rec.unsubscribed)
	rec.mu.Unlock()
	if want := "map[user4@dest.test:hard-bounce user9@dest.test:complaint]"; suppressed != want {
		t.Errorf("suppressed %s, want %s", suppressed, want)
	}
	if unsubscribed != "[user9@dest.test]" {
		t.Errorf("unsubscribed %s, want only the VERP token's own recipient", unsubscribed)
	}
	list, err := s.List(ctx, Filter{Outcome: OutcomeUnverified})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]Bounce{}
	for _, b := range list {
		got[b.Email] = b
	}
	if len(list) != 2 || !got["carol@dest.test"].Unverified() || !got["bob@dest.test"].Unverified() {
		t.Fatalf("unverified bounces %+v, want carol's complaint and bob's DSN", list)
	}
	if ex := got["carol@dest.test"].Explanation(); !strings.Contains(ex, "not tied to a delivery we made") ||
		!strings.Contains(ex, "would say: complaint") {
		t.Errorf("explanation %q does not show the evidence", ex)
	}

	carol := got["carol@dest.test"]
	if err := s.Verify(ctx, carol.ID, "staff1"); err != nil {
		t.Fatal(err)
	}
	if rec.suppressed["carol@dest.test"] != ReasonComplaint {
		t.Errorf("verified complaint did not suppress: %v", rec.suppressed)
	}
	b, err := s.ByID(ctx, carol.ID)
	if err != nil || b.Outcome != OutcomeUnsubscribed || !strings.Contains(b.Rule, "verified by staff1") {
		t.Errorf("after Verify: %+v, %v", b, err)
	}
	if err := s.Verify(ctx, carol.ID, "staff1"); !errors.Is(err, ErrNotUnverified) {
		t.Errorf("second Verify = %v, want ErrNotUnverified", err)
	}
}

// TestIssue15SystemReturnPath: system mail (a confirmation) has no
// delivery, so its return path signs its recipient. A DSN to it naming
// that recipient acts; one naming someone else stays unverified.
func TestIssue15SystemReturnPath(t *testing.T) {
	t.Parallel()
	signer, err := token.NewSigner([]byte(strings.Repeat("k", 32)))
	if err != nil {
		t.Fatal(err)
	}
	rec := newRecorder()
	s := newService(t, nil, rec, Options{Signer: signer})
	ctx := context.Background()
	rp := SystemReturnPath(signer, testDomain, "Typo@Dest.test")
	if !strings.HasPrefix(rp, "bounces+s-") || len(rp) > 64+1+len(testDomain) {
		t.Fatalf("return path %q", rp)
	}
	for i, rcpt := range []string{"typo@dest.test", "carol@dest.test"} {
		raw := strings.Replace(forgedDSN(fmt.Sprintf("sys-%d@mx.test", i), rcpt), "To: bounces@"+testDomain, "To: "+rp, 1)
		if _, err := s.ingest(ctx, source{mailbox: "INBOX", uidvalidity: 1, uid: uint32(i + 1)}, []byte(raw), &Stats{}); err != nil {
			t.Fatal(err)
		}
	}
	if got := fmt.Sprint(rec.suppressed); got != "map[typo@dest.test:hard-bounce]" {
		t.Errorf("suppressed %s, want only the system mail's own recipient", got)
	}
	if list, _ := s.List(ctx, Filter{Outcome: OutcomeUnverified}); len(list) != 1 || list[0].Email != "carol@dest.test" {
		t.Errorf("unverified %+v, want carol's", list)
	}
}
