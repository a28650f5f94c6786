package localmail

import (
	"errors"
	"net/smtp"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// Start gives local mode both servers on loopback: mail sent to the relay
// is captured in the directory.
func TestStartCapturesMail(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "captured")
	s, err := Start(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.SMTPPort == 0 || s.IMAPPort == 0 {
		t.Fatalf("ports %d, %d", s.SMTPPort, s.IMAPPort)
	}
	msg := "From: a@city.example.jp\r\nTo: b@example.jp\r\nSubject: x\r\n\r\nbody\r\n"
	if err := smtp.SendMail("127.0.0.1:"+strconv.Itoa(s.SMTPPort), nil, "a@city.example.jp", []string{"b@example.jp"}, []byte(msg)); err != nil {
		t.Fatal(err)
	}
	ents, err := os.ReadDir(dir)
	if err != nil || len(ents) == 0 {
		t.Fatalf("captured: %v, %v", ents, err)
	}
}

// Inbox delivers what can be built and refuses the rest as ErrBadInbound.
func TestInboxDeliver(t *testing.T) {
	t.Parallel()
	s, err := Start(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	box := Inbox{IMAP: s.IMAP, Domain: "bounces.localhost"}
	if err := box.Deliver(t.Context(), Inbound{From: "a@example.jp", To: "shimin-katsudo-join@bounces.localhost"}); err != nil {
		t.Fatal(err)
	}
	if err := box.Deliver(t.Context(), Inbound{From: "no-at", To: "x@bounces.localhost"}); !errors.Is(err, ErrBadInbound) {
		t.Errorf("a sender without @: %v, want ErrBadInbound", err)
	}
	if box.InboundDomain() != "bounces.localhost" {
		t.Error(box.InboundDomain())
	}
}

// Announce lets `kawaraban local mail` reach the daemon's mailbox through
// the data directory; Close forgets the address, so the command then says
// that no daemon runs. Servers that were not announced (a command's own)
// leave the directory alone.
func TestAnnounce(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	raw, _ := Inbound{From: "a@example.jp", To: "shimin-katsudo-join@bounces.localhost"}.Message()
	s, err := Start(filepath.Join(dir, "captured"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Announce(dir); err != nil {
		t.Fatal(err)
	}
	if err := AppendInbound(t.Context(), dir, Mailbox, MailboxPassword, raw); err != nil {
		t.Fatalf("announced: %v", err)
	}
	other, err := Start(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	other.Close()
	if _, err := os.Stat(filepath.Join(dir, IMAPAddrFile)); err != nil {
		t.Fatalf("servers never announced removed the address: %v", err)
	}
	s.Close()
	if _, err := os.Stat(filepath.Join(dir, IMAPAddrFile)); !os.IsNotExist(err) {
		t.Errorf("address file after Close: %v", err)
	}
	if err := AppendInbound(t.Context(), dir, Mailbox, MailboxPassword, raw); !errors.Is(err, ErrNoDaemon) {
		t.Errorf("after Close: %v, want ErrNoDaemon", err)
	}
}
