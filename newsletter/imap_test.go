package newsletter

import (
	"context"
	"testing"

	"kawaraban/bounces"
	"kawaraban/localmail"
)

// A DSN read from the bounce mailbox (IMAP) is attributed through the VERP
// return path to its delivery, and recorded with the delivery's issue and
// list (bounce → list/issue attribution).
func TestBounceFromIMAPRecordsIssueAndList(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	ctx := context.Background()
	s.readers(t, "kankyo-hozen", 2)
	is := s.sendNow(t, s.draft(t, "kankyo-hozen", "12月号", "本文").ID)
	d, ok, err := s.mail.DeliveryByID(ctx, 2)
	if err != nil || !ok {
		t.Fatalf("delivery 2: %v %v", ok, err)
	}
	dsn := localmail.BuildDSN(localmail.DSN{ReportingMTA: "mx.example.jp", To: s.mail.VERP(d.ID),
		Recipients: []localmail.DSNRecipient{{Final: d.Email, Action: "failed", Status: "5.1.1", Diagnostic: "550 5.1.1 no such user"}}})
	readBounces(t, s, dsn)
	bs, err := s.b.List(ctx, bounces.Filter{ListID: s.lists["kankyo-hozen"].ID, PerPage: 10})
	if err != nil || len(bs) != 1 {
		t.Fatalf("kankyo-hozen's bounces: %v %v", bs, err)
	}
	b := bs[0]
	if b.AttributedBy != "verp" || b.DeliveryID != d.ID || b.IssueID != is.ID || b.ListID != s.lists["kankyo-hozen"].ID || b.Email != d.Email {
		t.Errorf("bounce %+v, want delivery %d of issue %d on kankyo-hozen by verp", b, d.ID, is.ID)
	}
}
