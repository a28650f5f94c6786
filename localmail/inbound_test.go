package localmail

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

func TestInboundMessage(t *testing.T) {
	t.Parallel()
	date := time.Date(2026, 12, 4, 10, 0, 0, 0, time.FixedZone("JST", 9*3600))
	cases := []struct {
		name string
		in   Inbound
		want []string // lines the message must have
		err  bool
	}{
		{"empty join mail", Inbound{From: "a@example.jp", To: "shimin-katsudo-join@bounces.localhost", Date: date},
			[]string{"Return-Path: <a@example.jp>", "Delivered-To: shimin-katsudo-join@bounces.localhost", "From: a@example.jp",
				"To: shimin-katsudo-join@bounces.localhost", "Subject: ", "Date: Fri, 04 Dec 2026 10:00:00 +0900", "Content-Type: text/plain; charset=UTF-8"}, false},
		{"japanese subject", Inbound{From: "a@example.jp", To: "x@bounces.localhost", Subject: "配信停止", Body: []byte("停止します"), Date: date},
			[]string{"Subject: =?UTF-8?b?6YWN5L+h5YGc5q2i?=", "停止します"}, false},
		{"own header kept", Inbound{From: "MAILER-DAEMON@mx.example", To: "bounces+tok@bounces.localhost",
			Body: []byte("From: Mail Delivery System <MAILER-DAEMON@mx.example>\nSubject: Undelivered\n\nbody\n")},
			[]string{"Return-Path: <MAILER-DAEMON@mx.example>", "From: Mail Delivery System <MAILER-DAEMON@mx.example>", "Subject: Undelivered"}, false},
		{"bad from", Inbound{From: "not an address", To: "x@y.jp"}, nil, true},
		{"subject injection", Inbound{From: "a@example.jp", To: "x@y.jp", Subject: "a\r\nBcc: z@z.jp"}, nil, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			raw, err := c.in.Message()
			if c.err {
				if !errors.Is(err, ErrBadInbound) {
					t.Fatalf("err = %v, want ErrBadInbound", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(string(raw), "\r\n")
			for _, w := range c.want {
				found := false
				for _, l := range lines {
					found = found || l == w
				}
				if !found {
					t.Errorf("no line %q in\n%s", w, raw)
				}
			}
			if strings.Contains(strings.ReplaceAll(string(raw), "\r\n", ""), "\n") {
				t.Error("bare LF in the message")
			}
		})
	}
}

// TestAppendInbound reaches a running mailbox through the address file, as
// `kawaraban local mail` does, and fails clearly when none runs.
func TestAppendInbound(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	raw, _ := Inbound{From: "a@example.jp", To: "shimin-katsudo-join@bounces.localhost"}.Message()
	if err := AppendInbound(t.Context(), dir, "bounces@city.example.jp", "secret", raw); !errors.Is(err, ErrNoDaemon) {
		t.Fatalf("without a daemon: %v, want ErrNoDaemon", err)
	}
	_, addr := startIMAP(t)
	ta, _ := net.ResolveTCPAddr("tcp", addr)
	if err := writeIMAPAddr(dir, ta); err != nil {
		t.Fatal(err)
	}
	if err := AppendInbound(t.Context(), dir, "bounces@city.example.jp", "secret", raw); err != nil {
		t.Fatal(err)
	}
	c, err := imapclient.DialInsecure(addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Login("bounces@city.example.jp", "secret").Wait(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	var seq imap.SeqSet
	seq.AddNum(1)
	msgs, err := c.Fetch(seq, &imap.FetchOptions{BodySection: []*imap.FetchItemBodySection{{}}}).Collect()
	if err != nil || len(msgs) != 1 {
		t.Fatalf("fetch: %v, %d messages", err, len(msgs))
	}
	for _, body := range msgs[0].BodySection {
		if !strings.Contains(string(body.Bytes), "Delivered-To: shimin-katsudo-join@bounces.localhost\r\n") {
			t.Errorf("delivered message:\n%s", body.Bytes)
		}
	}
}

func TestRemoveIMAPAddr(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := removeIMAPAddr(dir); err != nil {
		t.Fatalf("nothing recorded: %v", err)
	}
	if err := writeIMAPAddr(dir, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1143}); err != nil {
		t.Fatal(err)
	}
	if err := removeIMAPAddr(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, IMAPAddrFile)); !os.IsNotExist(err) {
		t.Errorf("address file still there: %v", err)
	}
}
