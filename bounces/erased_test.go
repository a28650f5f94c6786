package bounces

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
)

// erasedSet is an Erasures over a fixed set of erased addresses (package
// subscribers answers in production, through newsletter.Attribution); it
// fails while down is set.
type erasedSet struct {
	mu    sync.Mutex
	addrs map[string]bool // lower case
	down  bool
	asked []string
}

func (e *erasedSet) StillErased(_ context.Context, email string) (string, bool, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.asked = append(e.asked, email)
	if e.down {
		return "", false, errors.New("subscribers down")
	}
	if !e.addrs[strings.ToLower(email)] {
		return "", false, nil
	}
	return erasedPrefix + "KEY-" + strings.ToLower(strings.Split(email, "@")[1]), true, nil
}

// twoRecipientDSN reports first as failed and second as delayed, without
// our VERP token.
func twoRecipientDSN(msgID, first, second string) string {
	return strings.Replace(forgedDSN(msgID, first), "Diagnostic-Code: smtp; 550 5.1.1 user unknown\r\n",
		"Diagnostic-Code: smtp; 550 5.1.1 user unknown\r\n\r\nFinal-Recipient: rfc822; "+second+
			"\r\nAction: delayed\r\nStatus: 4.2.2\r\nDiagnostic-Code: smtp; 452 4.2.2 <"+second+"> over quota\r\n", 1)
}

// A report naming an erased address is recorded under its key, without the
// copy or the diagnostic, and changes nothing, whichever way it came
// (unverified, or tied to a delivery the mailer still names it in); an
// address not erased is recorded as before; another erased recipient in
// the report takes the copy with it. The check asks once per address.
func TestErasedAddressRecordedUnderItsKey(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, raw               string
		wantEmail, wantOutcome  string
		wantRaw, wantDiagnostic bool
		wantSuppressed          int
		wantAsked               int
	}{
		{name: "unverified DSN naming an erased address", raw: forgedDSN("f1@forger.test", "Gone@Dest.test"),
			wantEmail: "erased:KEY-dest.test", wantOutcome: OutcomeNone, wantAsked: 1},
		{name: "ARF complaint naming an erased address", raw: forgedARF("f2@forger.test", "gone@dest.test"),
			wantEmail: "erased:KEY-dest.test", wantOutcome: OutcomeNone, wantAsked: 1},
		{name: "VERP DSN of a delivery whose recipient was erased meanwhile", raw: dsnMail("v4@mx.example.test", 4, "5.1.1", "failed", "550 5.1.1 <user4@dest.test> unknown"),
			wantEmail: "erased:KEY-dest.test", wantOutcome: OutcomeNone, wantAsked: 1},
		{name: "auto-reply from an erased address, its Message-ID built from it", raw: plainMail("1733.Gone@dest.test", "Gone <gone@dest.test>",
			"bounces@"+testDomain, "Out of office", "Auto-Submitted: auto-replied\r\n"),
			wantEmail: "erased:KEY-dest.test", wantOutcome: OutcomeNone, wantAsked: 1},
		{name: "address not erased: as before", raw: forgedDSN("f3@forger.test", "kept@dest.test"),
			wantEmail: "kept@dest.test", wantOutcome: OutcomeUnverified, wantRaw: true, wantDiagnostic: true, wantAsked: 1},
		{name: "VERP DSN, not erased: as before", raw: dsnMail("v5@mx.example.test", 5, "5.1.1", "failed", "550 5.1.1 unknown"),
			wantEmail: "user5@dest.test", wantOutcome: OutcomeSuppressed, wantRaw: true, wantDiagnostic: true, wantSuppressed: 1, wantAsked: 1},
		{name: "another recipient erased: the copy goes", raw: twoRecipientDSN("f4@forger.test", "kept@dest.test", "gone@dest.test"),
			wantEmail: "kept@dest.test", wantOutcome: OutcomeUnverified, wantDiagnostic: true, wantAsked: 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			ms := startIMAP(t, TLSNone)
			rec := newRecorder()
			s := newService(t, ms, rec, Options{})
			er := &erasedSet{addrs: map[string]bool{"gone@dest.test": true, "user4@dest.test": true}}
			s.deps.Erasures = er
			ms.put(t, "INBOX", c.raw)
			if _, err := s.PollOnce(context.Background()); err != nil {
				t.Fatal(err)
			}
			var email, outcome, diagnostic, rule, msgID, dedupe string
			var raw bool
			if err := s.db.QueryRow(`SELECT email, outcome, diagnostic, rule, message_id, dedupe_key, raw IS NOT NULL FROM bounces`).
				Scan(&email, &outcome, &diagnostic, &rule, &msgID, &dedupe, &raw); err != nil {
				t.Fatal(err)
			}
			rule += " " + msgID + " " + dedupe
			if email != c.wantEmail || outcome != c.wantOutcome || raw != c.wantRaw || (diagnostic != "") != c.wantDiagnostic {
				t.Errorf("recorded %s, %s, raw %v, diagnostic %q; want %s, %s, raw %v, diagnostic %v",
					email, outcome, raw, diagnostic, c.wantEmail, c.wantOutcome, c.wantRaw, c.wantDiagnostic)
			}
			if strings.Contains(strings.ToLower(rule+diagnostic), "gone@") || strings.Contains(rule+diagnostic, "user4@") {
				t.Errorf("rule, Message-ID and dedupe key %q or diagnostic %q name the erased address", rule, diagnostic)
			}
			if n := rec.nSuppressed(); n != c.wantSuppressed || len(rec.unsubscribed) != 0 {
				t.Errorf("suppressed %d, unsubscribed %v; want %d and none", n, rec.unsubscribed, c.wantSuppressed)
			}
			if len(er.asked) != c.wantAsked {
				t.Errorf("asked %v, want %d questions", er.asked, c.wantAsked)
			}
		})
	}
}

// When the question cannot be answered the report is not recorded (the
// address could be an erased one): the poll fails and the message is read
// again at the next poll.
func TestErasuresDownRecordsNothing(t *testing.T) {
	t.Parallel()
	ms := startIMAP(t, TLSNone)
	s := newService(t, ms, newRecorder(), Options{})
	er := &erasedSet{addrs: map[string]bool{"gone@dest.test": true}, down: true}
	s.deps.Erasures = er
	ms.put(t, "INBOX", forgedDSN("f1@forger.test", "gone@dest.test"))
	ctx := context.Background()
	if _, err := s.PollOnce(ctx); err == nil {
		t.Fatal("poll with erasures down: no error")
	}
	var n int
	s.db.QueryRow(`SELECT count(*) FROM bounces`).Scan(&n)
	if n != 0 {
		t.Fatalf("%d bounces recorded while erasures were down", n)
	}
	er.mu.Lock()
	er.down = false
	er.mu.Unlock()
	if st, err := s.PollOnce(ctx); err != nil || st.Bounces != 1 {
		t.Fatalf("next poll: %+v %v", st, err)
	}
	var email string
	s.db.QueryRow(`SELECT email FROM bounces`).Scan(&email)
	if email != "erased:KEY-dest.test" {
		t.Errorf("recorded %q, want the key", email)
	}
}
