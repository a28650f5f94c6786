package classify_test

import (
	"fmt"

	"kawaraban/bounces/classify"
)

// ExampleParse classifies a Postfix DSN for an unknown user: the class is
// hard, and the VERP address and returned Message-ID are there for
// attribution.
func ExampleParse() {
	raw := []byte(`Return-Path: <>
Delivered-To: bounces+v1.AbCd@kawaraban.example.jp
From: MAILER-DAEMON@mx.example.jp (Mail Delivery System)
To: bounces+v1.AbCd@kawaraban.example.jp
Subject: Undelivered Mail Returned to Sender
Content-Type: multipart/report; report-type=delivery-status; boundary="B"

--B
Content-Type: text/plain; charset=us-ascii

<gone@example.jp>: host mx.example.jp[192.0.2.1] said: 550 5.1.1
    <gone@example.jp>: Recipient address rejected: User unknown (in reply to
    RCPT TO command)

--B
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.jp

Final-Recipient: rfc822; gone@example.jp
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 <gone@example.jp>: Recipient address
    rejected: User unknown

--B
Content-Type: text/rfc822-headers

Message-ID: <issue-42.7@kawaraban.example.jp>
To: gone@example.jp

--B--
`)
	rep, err := classify.Parse(raw)
	if err != nil {
		fmt.Println(err)
		return
	}
	r := rep.Recipients[0]
	fmt.Println(rep.Class, rep.Format, rep.EnvelopeTo[0], rep.OriginalMessageID)
	fmt.Println(r.Address, r.Status, r.Reason)
	// Output:
	// hard rfc3464 bounces+v1.AbCd@kawaraban.example.jp issue-42.7@kawaraban.example.jp
	// gone@example.jp 5.1.1 userunknown
}

// ExampleParse_autoReply shows that an out-of-office reply is never a
// bounce.
func ExampleParse_autoReply() {
	raw := []byte("From: Hanako <hanako@example.ne.jp>\r\n" +
		"Subject: Out of Office: kurashi\r\n" +
		"Auto-Submitted: auto-replied\r\n\r\n" +
		"I am away until December 1.\r\n")
	rep, _ := classify.Parse(raw)
	fmt.Println(rep.Class, rep.Recipients[0].Address)
	// Output: autoreply hanako@example.ne.jp
}
