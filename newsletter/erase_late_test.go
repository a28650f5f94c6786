package newsletter

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"kawaraban/bounces"
	"kawaraban/localmail"
	"kawaraban/token"
)

// The return path's domain of the stack's mail.
const returnDomain = "bounce.city.example.jp"

// lateReports are reports that name addr and arrive after its owner had
// it erased, none of them through the VERP address of a delivery: an
// unattributable DSN, an ARF complaint, an auto-reply, a DSN whose
// returned message names the erased delivery (deliveryID) by its header,
// and a DSN to the system-mail return path for addr (tied to mail we
// sent, so verified). Each quotes addr in its text as real reports do.
func lateReports(t *testing.T, addr string, deliveryID int64) [][]byte {
	t.Helper()
	signer, err := token.NewSigner([]byte(strings.Repeat("k", 32))) // the stack's key
	if err != nil {
		t.Fatal(err)
	}
	dsn := func(id, to, headers string) []byte {
		return localmail.BuildDSN(localmail.DSN{ReportingMTA: "mx.example.jp", To: to, MessageID: id,
			Date: time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC), Headers: []byte(headers),
			Recipients: []localmail.DSNRecipient{{Final: addr, Action: "failed", Status: "5.1.1", RemoteMTA: "mx.example.jp",
				Diagnostic: "550 5.1.1 <" + addr + ">: Recipient address rejected"}}})
	}
	arf := "From: abuse@isp.example.jp\r\nTo: bounces@" + returnDomain + "\r\nMessage-ID: <late-arf@isp.example.jp>\r\n" +
		"MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=feedback-report; boundary=\"A\"\r\n\r\n" +
		"--A\r\nContent-Type: text/plain\r\n\r\nAn abuse report about mail to " + addr + ".\r\n" +
		"--A\r\nContent-Type: message/feedback-report\r\n\r\nFeedback-Type: abuse\r\nUser-Agent: isp/1\r\nVersion: 1\r\n" +
		"Original-Rcpt-To: <" + strings.ToUpper(addr) + ">\r\n" +
		"--A\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: <elsewhere@isp.example.jp>\r\nTo: " + addr + "\r\n--A--\r\n"
	auto := "From: " + addr + "\r\nTo: bounces@" + returnDomain + "\r\nMessage-ID: <late-auto@example.jp>\r\n" +
		"Subject: =?UTF-8?B?5LiN5Zyo6YCa55+l?=\r\nAuto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: text/plain; charset=utf-8\r\n\r\n" + addr + " は12月中不在です。\r\n"
	return [][]byte{
		dsn("late-dsn@mx.example.jp", "bounces@"+returnDomain, "To: "+addr+"\r\nSubject: news\r\n"),
		[]byte(arf),
		[]byte(auto),
		dsn("late-claim@mx.example.jp", "bounces@"+returnDomain,
			bounces.DeliveryHeader+": "+strconv.FormatInt(deliveryID, 10)+"\r\nTo: "+addr+"\r\n"),
		dsn("late-system@mx.example.jp", bounces.SystemReturnPath(signer, returnDomain, addr), "To: "+addr+"\r\n"),
	}
}

// readBounces delivers raws to an in-memory IMAP mailbox and reads it once
// with a bounce reader wired as the daemon wires it (cmd/kawaraban), the
// erasures included.
func readBounces(t *testing.T, s *stack, raws ...[]byte) bounces.Stats {
	t.Helper()
	ctx := context.Background()
	box, err := localmail.NewIMAP(localmail.IMAPOptions{Username: "bounces", Password: "secret"})
	if err != nil {
		t.Fatal(err)
	}
	addr, err := box.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	bctx, stop := context.WithCancel(ctx)
	t.Cleanup(stop)
	go box.Run(bctx)
	for _, raw := range raws {
		if err := box.Deliver(ctx, raw); err != nil {
			t.Fatal(err)
		}
	}
	signer, err := token.NewSigner([]byte(strings.Repeat("k", 32)))
	if err != nil {
		t.Fatal(err)
	}
	reader, err := bounces.New(s.db, bounces.Deps{VERP: s.mail, Deliveries: s.attr, Marker: s.mail, Suppressor: s.attr,
		Joiner: s.attr, Unsubscriber: s.attr, Erasures: s.attr},
		bounces.Options{Domain: returnDomain, Now: s.clock.Now, Signer: signer, IMAP: bounces.IMAPOptions{
			Addr: addr.String(), TLS: bounces.TLSNone, Username: "bounces", Password: "secret"}})
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()
	st, err := reader.PollOnce(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// lateBounce is what a test reads back of a recorded report.
type lateBounce struct {
	email, by, outcome, diagnostic, rule string
	raw                                  bool
}

// lateBounces returns the reports read from a mailbox (not the mailer's
// send-time refusals), oldest first.
func lateBounces(t *testing.T, s *stack) []lateBounce {
	t.Helper()
	rows, err := s.db.Query(`SELECT email, attributed_by, outcome, diagnostic, rule, raw IS NOT NULL FROM bounces
WHERE mailbox <> '' ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []lateBounce
	for rows.Next() {
		var b lateBounce
		if err := rows.Scan(&b.email, &b.by, &b.outcome, &b.diagnostic, &b.rule, &b.raw); err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// A report naming an address that was never erased is recorded as before,
// with the address, the copy of the message and its diagnostic, also when
// other addresses have been erased: the erasure check changes nothing for
// it (one lookup of subscriber_erasures' hash index).
func TestLateReportOfUnerasedAddressKeepsAddress(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	ctx := context.Background()
	s.readers(t, "kankyo-hozen", 2)
	gone := subscriberID(t, s, "kankyo-hozen-reader0@example.jp")
	if _, err := NewErasure(s.subs, s.mail, s.b).Erase(ctx, gone, "admin", "本人からの削除依頼"); err != nil {
		t.Fatal(err)
	}
	const kept = "kankyo-hozen-reader1@example.jp"
	st := readBounces(t, s, lateReports(t, kept, 0)[:3]...)
	if st.Bounces != 3 {
		t.Fatalf("read %+v, want 3 bounces", st)
	}
	got := lateBounces(t, s)
	want := []struct{ by, outcome string }{{"recipient", bounces.OutcomeUnverified}, {"recipient", bounces.OutcomeUnverified},
		{"recipient", bounces.OutcomeNone}}
	if len(got) != len(want) {
		t.Fatalf("bounces %+v, want %d", got, len(want))
	}
	for i, b := range got {
		if !strings.EqualFold(b.email, kept) || b.by != want[i].by || b.outcome != want[i].outcome || !b.raw {
			t.Errorf("report %d: %+v, want %s by %s, %s, with its copy", i, b, kept, want[i].by, want[i].outcome)
		}
	}
	if !strings.Contains(got[0].diagnostic, kept) {
		t.Errorf("the DSN's diagnostic %q lost the address", got[0].diagnostic)
	}
}
