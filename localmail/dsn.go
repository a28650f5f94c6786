package localmail

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// DSN describes a delivery status notification (RFC 3464) for BuildDSN.
// Zero fields get the defaults their comments name.
type DSN struct {
	// ReportingMTA is the host that writes the report (default "localhost").
	ReportingMTA string
	// From is the report's author (default MAILER-DAEMON@ReportingMTA).
	From string
	// To is the original message's envelope sender, kept verbatim (a VERP
	// address such as bounces+TOKEN@example.jp).
	To string
	// Date is the report's date (default time.Now()).
	Date time.Time
	// MessageID is the report's Message-ID without angle brackets (default
	// a random one at ReportingMTA).
	MessageID string
	// Boundary is the MIME boundary (default derived from MessageID).
	Boundary string
	// ArrivalDate is when the original message arrived (optional).
	ArrivalDate time.Time
	// EnvelopeID is the original ENVID (RFC 3461 §4.4), if any.
	EnvelopeID string
	// Recipients holds one entry per recipient reported on; at least one.
	Recipients []DSNRecipient
	// Headers are the original message's header lines, returned as
	// text/rfc822-headers (RFC 6522 §4). Ignored when Original is set.
	Headers []byte
	// Original is the whole original message, returned as message/rfc822.
	Original []byte
}

// DSNRecipient is the per-recipient part of a DSN (RFC 3464 §2.3).
type DSNRecipient struct {
	// Final is the recipient address (Final-Recipient).
	Final string
	// Original is the Original-Recipient field value including its address
	// type, e.g. "rfc822; a@example.jp" (optional).
	Original string
	// Action is failed, delayed, delivered, relayed or expanded.
	Action string
	// Status is the RFC 3463 enhanced status code, e.g. "5.1.1".
	Status string
	// RemoteMTA names the host that answered, e.g. "mx.example.jp"
	// (optional).
	RemoteMTA string
	// Diagnostic is the SMTP reply, e.g. "550 5.1.1 no such user"
	// (optional; sent as "smtp; " + Diagnostic).
	Diagnostic string
	// LastAttempt is the time of the last delivery attempt (optional).
	LastAttempt time.Time
}

// rfc5322Date is the date-time format of RFC 5322 §3.3.
const rfc5322Date = "Mon, 02 Jan 2006 15:04:05 -0700"

// BuildDSN writes in as a complete message: a multipart/report with
// report-type=delivery-status (RFC 6522 §3) whose parts are a
// human-readable explanation (Japanese, then English), the
// message/delivery-status fields of RFC 3464 §2, and the returned headers
// or message. When an address is not ASCII it writes the RFC 6533 forms
// (utf-8 address type, message/global-delivery-status, message/global).
// The output uses CRLF line ends.
func BuildDSN(in DSN) []byte {
	in.ReportingMTA = oneLine(in.ReportingMTA)
	if in.ReportingMTA == "" {
		in.ReportingMTA = "localhost"
	}
	if in.From == "" {
		in.From = "MAILER-DAEMON@" + in.ReportingMTA
	}
	if in.Date.IsZero() {
		in.Date = time.Now()
	}
	if in.MessageID == "" {
		in.MessageID = randomID() + "@" + in.ReportingMTA
	}
	if in.Boundary == "" {
		sum := sha256.Sum256([]byte(in.MessageID))
		in.Boundary = "dsn=" + hex.EncodeToString(sum[:12])
	}
	global := !isASCII(in.To) || !isASCII(string(in.Headers)) || !isASCII(string(in.Original))
	for _, r := range in.Recipients {
		global = global || !isASCII(r.Final) || !isASCII(r.Original)
	}
	var b bytes.Buffer
	writeDSNHeader(&b, in)
	fmt.Fprintf(&b, "This is a MIME-encapsulated message.\r\n\r\n--%s\r\n", in.Boundary)
	b.WriteString("Content-Description: Notification\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n")
	writeExplanation(&b, in)
	fmt.Fprintf(&b, "\r\n--%s\r\n", in.Boundary)
	if global {
		b.WriteString("Content-Description: Delivery report\r\nContent-Type: message/global-delivery-status\r\n\r\n")
	} else {
		b.WriteString("Content-Description: Delivery report\r\nContent-Type: message/delivery-status\r\n\r\n")
	}
	writeStatusFields(&b, in, global)
	writeReturned(&b, in, global)
	fmt.Fprintf(&b, "\r\n--%s--\r\n", in.Boundary)
	return b.Bytes()
}

func writeDSNHeader(b *bytes.Buffer, in DSN) {
	subject := "Undelivered Mail Returned to Sender"
	if len(in.Recipients) > 0 {
		switch in.Recipients[0].Action {
		case "delayed":
			subject = "Delayed Mail (still being retried)"
		case "delivered", "relayed", "expanded":
			subject = "Successful Mail Delivery Report"
		}
	}
	fmt.Fprintf(b, "From: Mail Delivery System <%s>\r\n", oneLine(in.From))
	fmt.Fprintf(b, "To: %s\r\n", oneLine(in.To))
	fmt.Fprintf(b, "Subject: %s\r\n", subject)
	fmt.Fprintf(b, "Date: %s\r\n", in.Date.Format(rfc5322Date))
	fmt.Fprintf(b, "Message-ID: <%s>\r\n", oneLine(in.MessageID))
	b.WriteString("Auto-Submitted: auto-replied\r\n") // RFC 3834 §5
	b.WriteString("MIME-Version: 1.0\r\n")
	fmt.Fprintf(b, "Content-Type: multipart/report; report-type=delivery-status;\r\n\tboundary=\"%s\"\r\n\r\n", in.Boundary)
}

func writeExplanation(b *bytes.Buffer, in DSN) {
	failed := len(in.Recipients) == 0 || in.Recipients[0].Action == "failed"
	if failed {
		fmt.Fprintf(b, "%s のメール配送システムからのお知らせです。\r\n次の宛先にメールを届けられませんでした。\r\n\r\n", in.ReportingMTA)
	} else {
		fmt.Fprintf(b, "%s のメール配送システムからのお知らせです。\r\n次の宛先への配送状況をお知らせします。\r\n\r\n", in.ReportingMTA)
	}
	writeRecipientLines(b, in)
	if failed {
		fmt.Fprintf(b, "\r\nThis is the mail system at host %s.\r\nYour message could not be delivered to the recipients below.\r\n\r\n", in.ReportingMTA)
	} else {
		fmt.Fprintf(b, "\r\nThis is the mail system at host %s.\r\nThis is a delivery status report for the recipients below.\r\n\r\n", in.ReportingMTA)
	}
	writeRecipientLines(b, in)
}

func writeRecipientLines(b *bytes.Buffer, in DSN) {
	for _, r := range in.Recipients {
		why := r.Diagnostic
		if why == "" {
			why = r.Action + " " + r.Status
		}
		fmt.Fprintf(b, "<%s>: %s\r\n", oneLine(r.Final), oneLine(why))
	}
}

// writeStatusFields writes the per-message fields, then one block of
// per-recipient fields per recipient, each block preceded by a blank line
// (RFC 3464 §2.1).
func writeStatusFields(b *bytes.Buffer, in DSN, global bool) {
	addrType := "rfc822"
	if global {
		addrType = "utf-8" // RFC 6533 §3
	}
	fmt.Fprintf(b, "Reporting-MTA: dns; %s\r\n", oneLine(in.ReportingMTA))
	if in.EnvelopeID != "" {
		fmt.Fprintf(b, "Original-Envelope-Id: %s\r\n", oneLine(in.EnvelopeID))
	}
	if !in.ArrivalDate.IsZero() {
		fmt.Fprintf(b, "Arrival-Date: %s\r\n", in.ArrivalDate.Format(rfc5322Date))
	}
	for _, r := range in.Recipients {
		b.WriteString("\r\n")
		if r.Original != "" {
			fmt.Fprintf(b, "Original-Recipient: %s\r\n", oneLine(r.Original))
		}
		fmt.Fprintf(b, "Final-Recipient: %s; %s\r\n", addrType, oneLine(r.Final))
		fmt.Fprintf(b, "Action: %s\r\n", oneLine(r.Action))
		fmt.Fprintf(b, "Status: %s\r\n", oneLine(r.Status))
		if r.RemoteMTA != "" {
			fmt.Fprintf(b, "Remote-MTA: dns; %s\r\n", oneLine(r.RemoteMTA))
		}
		if r.Diagnostic != "" {
			fmt.Fprintf(b, "Diagnostic-Code: smtp; %s\r\n", oneLine(r.Diagnostic))
		}
		if !r.LastAttempt.IsZero() {
			fmt.Fprintf(b, "Last-Attempt-Date: %s\r\n", r.LastAttempt.Format(rfc5322Date))
		}
	}
}

// writeReturned writes the optional third part (RFC 6522 §3): the whole
// message if known, else its headers.
func writeReturned(b *bytes.Buffer, in DSN, global bool) {
	body, ctype := in.Original, "message/rfc822"
	switch {
	case len(in.Original) > 0 && global:
		ctype = "message/global" // RFC 6533 §3
	case len(in.Original) == 0 && global:
		body, ctype = in.Headers, "message/global-headers"
	case len(in.Original) == 0:
		body, ctype = in.Headers, "text/rfc822-headers"
	}
	if len(body) == 0 {
		return
	}
	fmt.Fprintf(b, "\r\n--%s\r\n", in.Boundary)
	fmt.Fprintf(b, "Content-Description: Undelivered Message\r\nContent-Type: %s\r\n", ctype)
	if ctype == "message/rfc822" && !isSevenBit(body) {
		b.WriteString("Content-Transfer-Encoding: 8bit\r\n")
	}
	b.WriteString("\r\n")
	b.Write(body)
	if !bytes.HasSuffix(body, []byte("\n")) {
		b.WriteString("\r\n")
	}
}

// oneLine keeps a field value on one line so that no caller-supplied text
// can add header fields.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\r' || r == '\n' {
			return ' '
		}
		return r
	}, s)
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

func isSevenBit(b []byte) bool { return isASCII(string(b)) }

func randomID() string {
	var r [12]byte
	_, _ = rand.Read(r[:]) // crypto/rand.Read never fails (Go 1.24+)
	return hex.EncodeToString(r[:])
}
