// Package localmail runs the in-process mail servers of kawaraban's local
// mode and of the tests of other packages: an SMTP relay that captures
// every message (to a directory, to memory, or only as a count) and an IMAP
// mailbox that holds the bounces.
//
// The relay refuses recipients at *.invalid domains (RFC 2606 §2) with
// 550 5.1.1 and puts a real RFC 3464 delivery status notification for each
// of them into a DSNSink, normally the IMAP mailbox, so that the whole
// subscribe–send–bounce–suppress loop works with nothing installed. Tests
// inject faults at MAIL, RCPT and DATA (any SMTP reply, a dropped
// connection, a stall) and count the copies each recipient received.
//
// It knows nothing of kawaraban's domain: it neither reads the database nor
// parses VERP tokens. Which addresses exist, and what a bounce means, is
// left to mailer and bounces.
package localmail
