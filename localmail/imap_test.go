package localmail

import (
	"bytes"
	"context"
	"testing"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

func startIMAP(t *testing.T) (*IMAP, string) {
	t.Helper()
	m, err := NewIMAP(IMAPOptions{Username: "bounces@city.example.jp", Password: "secret"})
	if err != nil {
		t.Fatal(err)
	}
	addr, err := m.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	return m, addr.String()
}

// TestRelayDSNReadOverIMAP is the local-mode loop: a send to *.invalid is
// refused and its DSN is fetched from the IMAP INBOX.
func TestRelayDSNReadOverIMAP(t *testing.T) {
	t.Parallel()
	box, addr := startIMAP(t)
	_, port := startSMTP(t, SMTPOptions{Bounces: box, Hostname: "kawaraban.local"})
	if err := client(t, port).DialAndSend(testMessage(t, "bounces+tok@city.example.jp", "gone@nowhere.invalid")); err == nil {
		t.Fatal("send to .invalid succeeded")
	}
	c, err := imapclient.DialInsecure(addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Login("bounces@city.example.jp", "wrong").Wait(); err == nil {
		t.Error("wrong IMAP password accepted")
	}
	if err := c.Login("bounces@city.example.jp", "secret").Wait(); err != nil {
		t.Fatal(err)
	}
	sel, err := c.Select("INBOX", nil).Wait()
	if err != nil {
		t.Fatal(err)
	}
	if sel.NumMessages != 1 {
		t.Fatalf("INBOX has %d messages", sel.NumMessages)
	}
	body := &imap.FetchItemBodySection{}
	msgs, err := c.Fetch(imap.SeqSetNum(1), &imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{body}}).Collect()
	if err != nil || len(msgs) != 1 {
		t.Fatalf("fetch: %d %v", len(msgs), err)
	}
	raw := msgs[0].FindBodySection(body)
	if !bytes.HasPrefix(raw, []byte("Return-Path: <>\r\nDelivered-To: bounces+tok@city.example.jp\r\n")) {
		t.Errorf("DSN starts %q", raw[:min(80, len(raw))])
	}
	p := parseDSN(t, raw)
	if len(p.rcpts) != 1 || p.rcpts[0]["Status"] != "5.1.1" || p.rcpts[0]["Final-Recipient"] != "rfc822; gone@nowhere.invalid" {
		t.Errorf("DSN fields %v", p.rcpts)
	}
	if err := c.Logout().Wait(); err != nil {
		t.Fatal(err)
	}
}

func TestIMAPDeliverHonoursContext(t *testing.T) {
	t.Parallel()
	m, err := NewIMAP(IMAPOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := m.Deliver(ctx, []byte("Subject: x\r\n\r\n")); err == nil {
		t.Error("Deliver with an ended context succeeded")
	}
	if m.Addr() != nil {
		t.Error("Addr before Listen")
	}
	if err := m.Run(context.Background()); err == nil {
		t.Error("Run before Listen succeeded")
	}
}
