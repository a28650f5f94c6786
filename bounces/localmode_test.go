package bounces

import (
	"context"
	"testing"

	"github.com/emersion/go-smtp"

	"kawaraban/bounces/classify"
	"kawaraban/localmail"
)

// oneDelivery is a DeliveryLookup holding a single delivery.
type oneDelivery struct{ d Delivery }

func (o oneDelivery) ByID(_ context.Context, id int64) (Delivery, bool, error) {
	return o.d, id == o.d.ID, nil
}

func (o oneDelivery) ByMessageID(context.Context, string) (Delivery, bool, error) {
	return Delivery{}, false, nil
}

// TestLocalModeInvalidRecipient is issue 6's local-mode acceptance: a send
// to someone@nowhere.invalid through the local relay ends with that address
// suppressed and the bounce visible.
func TestLocalModeInvalidRecipient(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	box, err := localmail.NewIMAP(localmail.IMAPOptions{Username: "bounces", Password: "secret"})
	if err != nil {
		t.Fatal(err)
	}
	imapAddr, err := box.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go box.Run(ctx)
	relay, err := localmail.NewSMTP(localmail.SMTPOptions{Bounces: box})
	if err != nil {
		t.Fatal(err)
	}
	smtpAddr, err := relay.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go relay.Run(ctx)

	c, err := smtp.Dial(smtpAddr.String())
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Mail("bounces+42@"+testDomain, nil); err != nil {
		t.Fatal(err)
	}
	if err := c.Rcpt("someone@nowhere.invalid", nil); err == nil {
		t.Fatal("the relay accepted a .invalid recipient")
	}
	c.Quit()

	rec := newRecorder()
	deps := rec.deps()
	deps.Deliveries = oneDelivery{Delivery{ID: 42, IssueID: 3, SubscriberID: 9, Email: "someone@nowhere.invalid"}}
	db := newService(t, nil, rec, Options{}).db
	s, err := New(db, deps, Options{Domain: testDomain, IMAP: IMAPOptions{
		Addr: imapAddr.String(), TLS: TLSNone, Username: "bounces", Password: "secret"}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.PollOnce(ctx); err != nil {
		t.Fatal(err)
	}
	if rec.suppressed["someone@nowhere.invalid"] != ReasonHardBounce {
		t.Errorf("suppressed %v", rec.suppressed)
	}
	list, err := s.List(ctx, Filter{IssueID: 3})
	if err != nil || len(list) != 1 {
		t.Fatalf("List = %v, %v", list, err)
	}
	if b := list[0]; b.Class != classify.Hard || b.AttributedBy != "verp" || b.Status != "5.1.1" || b.SubscriberID != 9 {
		t.Errorf("bounce %+v", b)
	}
}
