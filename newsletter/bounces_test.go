package newsletter

import (
	"context"
	"strings"
	"testing"
	"time"

	"kawaraban/bounces"
	"kawaraban/mailer"
)

// Issue 14: bounces were attributed to lists after paging, so a list's
// page came back short or empty while matches sat on later pages. Each
// bounce now records its list; a filtered page is SQL.
func TestIssue14BouncePagesFilteredByList(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	ctx := context.Background()
	s.readers(t, "kankyo-hozen", 4)
	s.readers(t, "shimin-katsudo", 12)
	a := s.sendNow(t, s.draft(t, "kankyo-hozen", "A", "本文").ID) // deliveries 1–4
	s.sendNow(t, s.draft(t, "shimin-katsudo", "B", "本文").ID)    // deliveries 5–16
	// One bounce of A among every four, so A's rows are spread over the
	// unfiltered pages.
	order := []int64{5, 6, 7, 1, 8, 9, 10, 2, 11, 12, 13, 3, 14, 15, 16, 4}
	want := 4
	for _, id := range order {
		d, ok, err := s.mail.DeliveryByID(ctx, id)
		if err != nil || !ok {
			t.Fatalf("delivery %d: %v %v", id, ok, err)
		}
		if err := s.attr.RecordSendFailure(ctx, d, &mailer.Error{Code: 550, Enhanced: "5.1.1", Text: "no such user"}); err != nil {
			t.Fatal(err)
		}
	}
	got := 0
	for off := 0; ; off += 2 {
		page, err := s.b.List(ctx, bounces.Filter{ListID: s.lists["kankyo-hozen"].ID, PerPage: 2, Offset: off})
		if err != nil {
			t.Fatal(err)
		}
		for _, bn := range page {
			if bn.ListID != s.lists["kankyo-hozen"].ID || bn.IssueID != a.ID {
				t.Errorf("bounce %d of list %d issue %d on kankyo-hozen's page", bn.ID, bn.ListID, bn.IssueID)
			}
		}
		got += len(page)
		if len(page) < 2 {
			break
		}
	}
	if got != want {
		t.Errorf("kankyo-hozen's pages hold %d bounces, want %d", got, want)
	}
	// An offset that is not a multiple of the limit is kept as asked.
	all, _ := s.b.List(ctx, bounces.Filter{PerPage: 100})
	page, _ := s.b.List(ctx, bounces.Filter{PerPage: 4, Offset: 3})
	if len(page) != 4 || page[0].ID != all[3].ID {
		t.Errorf("offset 3 limit 4 starts at bounce %v, want %d", page, all[3].ID)
	}
}

// The whole path of one issue: snapshot, render per recipient, send over
// SMTP to the in-process server, mark sent. The mail carries List-Id, the
// one-click unsubscribe with its mailto, Feedback-ID and the configured
// zone in Date.
func TestSendIssueOverSMTP(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	s.readers(t, "kankyo-hozen", 3)
	// One hard bounce of two that suppress; the delivery below starts the
	// count again (bounces.NoteDelivered through mailer.OnDelivered).
	hard := func(text string) {
		d := mailer.Delivery{Email: "kankyo-hozen-reader0@example.jp"}
		if err := s.attr.RecordSendFailure(context.Background(), d, &mailer.Error{Code: 550, Enhanced: "5.1.1", Text: text}); err != nil {
			t.Fatal(err)
		}
	}
	hard("first")
	is := s.sendNow(t, s.draft(t, "kankyo-hozen", "12月号", "{{ .Name }}様\n\n本文です。").ID)
	s.deliver(t, is.ID)
	msgs := s.relay.Messages()
	if len(msgs) != 3 {
		t.Fatalf("%d messages at the relay, want 3", len(msgs))
	}
	h := headerOf(msgs[0].Data)
	for _, want := range []string{
		"List-Id: Environment Center News <kankyo-hozen.city.example.jp>",
		"List-Unsubscribe-Post: List-Unsubscribe=One-Click",
		"mailto:unsubscribe+",
		"@in.city.example.jp",
		":kankyo-hozen:kawaraban",
		"+0900",
	} {
		if !strings.Contains(strings.ReplaceAll(h, "\r\n ", " "), want) {
			t.Errorf("header lacks %q:\n%s", want, h)
		}
	}
	if !strings.HasPrefix(msgs[0].From, "bounces+") {
		t.Errorf("envelope sender %q is not a VERP address", msgs[0].From)
	}
	hard("second")
	if sup, _ := s.subs.IsSuppressed(context.Background(), "kankyo-hozen-reader0@example.jp"); sup {
		t.Error("a delivery between two hard bounces did not reset the count")
	}
}

// A confirmation goes from the in-memory queue into the mailer's queue
// (kept across a crash), and from there to the relay.
func TestConfirmationMailPath(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	ctx, cancel := context.WithCancel(context.Background())
	runDone := make(chan error, 1)
	go func() { runDone <- s.system.RunConfirmations(ctx) }()
	if err := s.subs.Subscribe(context.Background(), subscribersRequest("new@example.jp", "kankyo-hozen")); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		n, err := s.mail.QueueLength(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("confirmation not queued (queue length %d)", n)
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	<-runDone
	qctx, qcancel := context.WithCancel(context.Background())
	qdone := make(chan error, 1)
	go func() { qdone <- s.mail.RunQueue(qctx) }()
	for len(s.relay.Messages()) == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	qcancel()
	<-qdone
	msgs := s.relay.Messages()
	if len(msgs) != 1 || msgs[0].From != "bounces@bounce.city.example.jp" || !strings.Contains(string(msgs[0].Data), "To: <new@example.jp>") {
		t.Fatalf("confirmation at the relay: %d messages, from %q:\n%s", len(msgs), msgs[0].From, msgs[0].Data)
	}
}

var _ bounces.DeliveryLookup = (*Attribution)(nil)
