// Package classify reads one bounce, auto-reply or feedback report and says
// what happened to which recipient.
//
// It understands RFC 3464 delivery status notifications (and their RFC 6533
// internationalised form), RFC 5965 ARF feedback reports, RFC 3834
// auto-replies, success notifications, and the free-text bounces of common
// MTAs and providers (Postfix, Exim, Sendmail, qmail, Exchange/Office 365,
// Gmail, Yahoo, the Japanese carriers and MTAs), in any of the charsets that
// Japanese mail uses. Each failed recipient gets a reason (see reason.go for
// the vocabulary), an RFC 3463 status and a Class: Hard only when the address
// itself is dead, Soft for every other failure.
//
// The package is pure: it reads bytes and returns a Report. Attribution of a
// bounce to a delivery (VERP, Message-ID) and the suppression policy belong to
// package bounces, which uses EnvelopeTo and OriginalHeaders for that.
package classify

import (
	"errors"
	"fmt"
)

// Class is the overall meaning of a message for a mailing list.
type Class string

// The classes a message or recipient can have.
const (
	// Hard means the address itself is dead (unknown user or host, moved,
	// domain that accepts no mail).
	Hard Class = "hard"
	// Soft is every other delivery failure, including permanent policy,
	// spam, authentication and reputation refusals, full mailboxes and
	// expired retries: the address may still be good.
	Soft Class = "soft"
	// AutoReply is an RFC 3834 automatic reply such as a vacation notice;
	// it is never a bounce.
	AutoReply Class = "autoreply"
	// Complaint is an RFC 5965 feedback report from a person (abuse,
	// opt-out, fraud, virus, other).
	Complaint Class = "complaint"
	// Delivered is a success notification (Action: delivered, relayed or
	// expanded).
	Delivered Class = "delivered"
	// Other is anything else: a person's reply, an authentication failure
	// report, mail that is not about a delivery.
	Other Class = "other"
)

// Recipient is what a report says about one recipient.
type Recipient struct {
	// Address is the recipient's address as written (Final-Recipient or the
	// address the MTA names).
	Address string
	// Status is the RFC 3463 enhanced status, e.g. "5.1.1". For a failure
	// whose message states none it is a class-consistent "5.0.0" or
	// "4.0.0"; it is empty for auto-replies and complaints.
	Status string
	// Class is Hard, Soft, Delivered, AutoReply or Complaint.
	Class Class
	// Action is the RFC 3464 Action field (failed, delayed, delivered,
	// relayed, expanded), or "failed" for a non-standard bounce.
	Action string
	// Diagnostic is the remote server's answer or the MTA's explanation.
	Diagnostic string
	// RemoteMTA is the host that refused, when known.
	RemoteMTA string
	// Reason is the cause in this package's vocabulary (userunknown,
	// mailboxfull, filtered, …; see the Reason* constants).
	Reason string
	// Why explains the decision in words: the rules that chose the reason,
	// the status and the class, in the order they were applied.
	Why string

	rules []string // IDs of the rules behind Why (see decider)
}

// Report is the result of classifying one message.
type Report struct {
	// Class is the overall class of the message: Hard if any recipient is
	// hard, else the class of the recipients; Other for a non-bounce.
	Class Class
	// Recipients has one entry per failed or affected recipient. It is
	// empty for a non-bounce; for an auto-reply it holds the replying
	// address if known.
	Recipients []Recipient
	// EnvelopeTo lists the bounce's own Delivered-To, X-Original-To and To
	// addresses, in that order, without duplicates: a VERP token lives here.
	EnvelopeTo []string
	// OriginalMessageID is the Message-ID of the returned original, without
	// angle brackets, if found.
	OriginalMessageID string
	// OriginalHeaders holds the header of the returned original
	// (message/rfc822, text/rfc822-headers, message/global or an inline
	// copy), keyed by canonical MIME header key ("Message-Id",
	// "X-Kawaraban-Issue"), values decoded to UTF-8.
	OriginalHeaders map[string][]string
	// FeedbackType is the RFC 5965 Feedback-Type of an ARF report.
	FeedbackType string
	// MessageID is the Message-ID of the message itself, without brackets.
	MessageID string
	// From is the message's From address.
	From string
	// Subject is the message's decoded Subject.
	Subject string
	// Format names the rule family that recognised the message: "rfc3464",
	// "arf", "autoreply", or an MTA name such as "postfix", "exim",
	// "qmail", "sendmail", "exchange", "gmail", "yahoo", "ezweb", "text".
	// It is empty for a non-bounce.
	Format string
}

// ErrUnreadable is returned by Parse when the input is not a mail message
// at all (empty, or no header could be read).
var ErrUnreadable = errors.New("unreadable message")

// Parse classifies one raw message (LF or CRLF line ends). It never panics.
// It returns an error wrapping ErrUnreadable only for input that is not a
// message; anything else, including a person's reply, is a Report, with
// Class Other for a non-bounce.
func Parse(raw []byte) (rep *Report, err error) {
	defer func() {
		// Defence in depth: a malformed message must not take the reader
		// down. The fuzzer keeps this path unused.
		if r := recover(); r != nil {
			rep, err = nil, fmt.Errorf("classifying message: %w: %v", ErrUnreadable, r)
		}
	}()
	return parseWith(raw, &decider{})
}

// parseWith is Parse deciding with dc; the corpus evaluation passes a
// decider with rules switched off.
func parseWith(raw []byte, dc *decider) (*Report, error) {
	m, err := readMessage(raw)
	if err != nil {
		return nil, fmt.Errorf("classifying message: %w", err)
	}
	m.dc = dc
	return classifyMessage(m), nil
}
