package localmail_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/emersion/go-smtp"

	"kawaraban/localmail"
)

// Local mode: a relay that captures to a directory and bounces *.invalid
// recipients into an IMAP mailbox.
func ExampleNewSMTP() {
	dir, _ := os.MkdirTemp("", "captured")
	defer os.RemoveAll(dir)
	box, _ := localmail.NewIMAP(localmail.IMAPOptions{Username: "bounces", Password: "secret"})
	relay, _ := localmail.NewSMTP(localmail.SMTPOptions{Dir: dir, Bounces: box})
	addr, _ := relay.Listen("127.0.0.1:0")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go relay.Run(ctx)

	c, _ := smtp.Dial(addr.String())
	_ = c.Mail("bounces+TOKEN@city.example.jp", nil)
	fmt.Println(c.Rcpt("nobody@example.invalid", nil))
	_ = c.Rcpt("a@example.jp", nil)
	w, _ := c.Data()
	_, _ = w.Write([]byte("Subject: hello\r\n\r\nbody\r\n"))
	_ = w.Close()
	_ = c.Quit()

	raw, _ := os.ReadFile(filepath.Join(dir, "1.eml"))
	fmt.Println(strings.SplitN(string(raw), "\r\n", 2)[0])
	fmt.Println(relay.Count("a@example.jp"), relay.Total())
	// Output:
	// SMTP error 550: <nobody@example.invalid>: Recipient address rejected: domain does not exist (.invalid, RFC 2606 section 2)
	// Return-Path: <bounces+TOKEN@city.example.jp>
	// 1 1
}

// Tests inject faults: here the first RCPT of every connection is deferred.
func ExampleSMTP_SetFault() {
	relay, _ := localmail.NewSMTP(localmail.SMTPOptions{Keep: true})
	addr, _ := relay.Listen("127.0.0.1:0")
	defer relay.Close()
	go relay.Run(context.Background())
	relay.SetFault(func(e localmail.Event) localmail.Action {
		if e.Stage == localmail.StageRcpt && e.Msg == 1 {
			return localmail.Reply(450, "4.2.1", "try again later")
		}
		return localmail.Action{}
	})
	c, _ := smtp.Dial(addr.String())
	defer c.Close()
	_ = c.Mail("b@example.jp", nil)
	fmt.Println(c.Rcpt("a@example.jp", nil))
	// Output: SMTP error 450: try again later
}

func ExampleBuildDSN() {
	raw := localmail.BuildDSN(localmail.DSN{
		ReportingMTA: "mx.city.example.jp",
		To:           "bounces+TOKEN@city.example.jp",
		Date:         time.Date(2027, 4, 1, 9, 0, 0, 0, time.UTC),
		MessageID:    "dsn.1@mx.city.example.jp",
		Recipients: []localmail.DSNRecipient{{
			Final: "a@example.jp", Action: "failed", Status: "5.1.1",
			Diagnostic: "550 5.1.1 user unknown",
		}},
	})
	i := bytes.Index(raw, []byte("Reporting-MTA"))
	fmt.Print(strings.ReplaceAll(string(raw[i:i+bytes.Index(raw[i:], []byte("\r\n--dsn"))]), "\r\n", "\n"))
	// Output:
	// Reporting-MTA: dns; mx.city.example.jp
	//
	// Final-Recipient: rfc822; a@example.jp
	// Action: failed
	// Status: 5.1.1
	// Diagnostic-Code: smtp; 550 5.1.1 user unknown
}
