package main

import (
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2/imapclient"

	"kawaraban/localmail"
)

var localIMAPRe = regexp.MustCompile(`"imap":"(127\.0\.0\.1:[0-9]+)"`)

// deliverInbound puts a message into local mode's bounce mailbox, as the
// MTA in front of the inbound domain would. Local mode's relay captures
// everything, so mail to the inbound addresses cannot reach the mailbox by
// SMTP there; the mailbox's address is in the start-up log and its
// credentials are local mode's (user bounces).
func deliverInbound(t *testing.T, d *daemonProc, raw string) {
	t.Helper()
	m := localIMAPRe.FindStringSubmatch(d.out.String())
	if m == nil {
		t.Fatalf("no local IMAP address in the log:\n%s", d.out.String())
	}
	c, err := imapclient.DialInsecure(m[1], nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Login(localmail.Mailbox, localmail.MailboxPassword).Wait(); err != nil {
		t.Fatalf("IMAP login: %v", err)
	}
	raw = strings.ReplaceAll(raw, "\n", "\r\n")
	cmd := c.Append("INBOX", int64(len(raw)), nil)
	if _, err := cmd.Write([]byte(raw)); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := cmd.Wait(); err != nil {
		t.Fatalf("IMAP APPEND: %v", err)
	}
	c.Logout().Wait()
}

// Issue 6: an empty mail to a join address yields the confirmation mail;
// a feedback-loop complaint unsubscribes and suppresses; auto-replies and
// replies change nothing;
// a mail to the List-Unsubscribe mailto address unsubscribes.
func TestAcceptanceInboundMail(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, t.TempDir())
	const list = "choju-sukoyaka"
	const reader = "sachiko@example.jp"
	const away = "keiko@example.jp"
	const complainer = "angry@example.jp"
	importCSV(t, d.Data, list, "email,name\n"+reader+",幸子\n"+away+",恵子\n"+complainer+",\n")
	token := adminToken(t, d.Data)
	is := createIssue(t, d, token, map[string]any{"list": list, "subject": "すこやか通信", "body_markdown": "本文"})
	sendIssue(t, d, token, is.ID)
	waitIssueSent(t, d, token, is.ID)
	ms := mailsTo(readCaptured(t, d.Data), reader, "すこやか通信")
	if len(ms) != 1 {
		t.Fatalf("%d copies, want 1", len(ms))
	}
	mailto := regexp.MustCompile(`<mailto:([^>?]+)`).FindStringSubmatch(ms[0].Header.Get("List-Unsubscribe"))
	if mailto == nil {
		t.Fatalf("no mailto in List-Unsubscribe %q", ms[0].Header.Get("List-Unsubscribe"))
	}
	domain := mailto[1][strings.LastIndex(mailto[1], "@")+1:]
	date := time.Now().Format(time.RFC1123Z)

	// An out-of-office reply and a person's answer, both to keiko's VERP
	// Return-Path, come first; they must leave her subscribed.
	awayMail := mailsTo(readCaptured(t, d.Data), away, "すこやか通信")
	if len(awayMail) != 1 {
		t.Fatalf("%d copies to %s, want 1", len(awayMail), away)
	}
	verp := strings.Trim(awayMail[0].ReturnPath, "<>")
	deliverInbound(t, d, fmt.Sprintf("From: %s\nTo: %s\nSubject: =?UTF-8?B?5LiN5Zyo44Gu44GK55+l44KJ44Gb?=\nAuto-Submitted: auto-replied\nDate: %s\nMessage-ID: <away-1@example.jp>\nContent-Type: text/plain; charset=UTF-8\n\n12月1日まで不在にしております。\n", away, verp, time.Now().Format(time.RFC1123Z)))
	deliverInbound(t, d, fmt.Sprintf("From: %s\nTo: %s\nSubject: Re: すこやか通信\nDate: %s\nMessage-ID: <reply-1@example.jp>\nContent-Type: text/plain; charset=UTF-8\n\nいつも楽しみにしています。\n", away, verp, time.Now().Format(time.RFC1123Z)))

	// A mailbox provider's feedback loop report (RFC 5965) about the mail
	// to angry@: unsubscribe and suppress.
	cm := mailsTo(readCaptured(t, d.Data), complainer, "すこやか通信")
	if len(cm) != 1 {
		t.Fatalf("%d copies to %s, want 1", len(cm), complainer)
	}
	origRaw, err := os.ReadFile(cm[0].File)
	if err != nil {
		t.Fatal(err)
	}
	origHead, _, _ := strings.Cut(strings.ReplaceAll(string(origRaw), "\r\n", "\n"), "\n\n")
	arf := fmt.Sprintf("From: fbl@isp.example\nTo: %s\nSubject: FW: complaint\nDate: %s\nMessage-ID: <arf-1@isp.example>\nMIME-Version: 1.0\n"+
		"Content-Type: multipart/report; report-type=feedback-report; boundary=\"ARF\"\n\n"+
		"--ARF\nContent-Type: text/plain\n\nThis is an email abuse report.\n"+
		"--ARF\nContent-Type: message/feedback-report\n\nFeedback-Type: abuse\nUser-Agent: ISP-FBL/1.0\nVersion: 1\nOriginal-Rcpt-To: %s\n\n"+
		"--ARF\nContent-Type: text/rfc822-headers\n\n%s\n\n--ARF--\n",
		strings.Trim(cm[0].ReturnPath, "<>"), time.Now().Format(time.RFC1123Z), complainer, origHead)
	deliverInbound(t, d, arf)

	const newbie = "newbie@example.jp"
	deliverInbound(t, d, fmt.Sprintf("From: %s\nTo: %s-join@%s\nSubject: \nDate: %s\nMessage-ID: <join-1@example.jp>\n\n", newbie, list, domain, date))
	deliverInbound(t, d, fmt.Sprintf("From: %s\nTo: %s\nSubject: unsubscribe\nDate: %s\nMessage-ID: <unsub-1@example.jp>\n\n", reader, mailto[1], date))

	waitUntil(t, "a confirmation mail to "+newbie+" after the empty mail to the join address", func() bool {
		for _, m := range mailsTo(readCaptured(t, d.Data), newbie, "") {
			if confirmLinkRe.MatchString(m.Parts["text/plain"]) {
				return true
			}
		}
		return false
	})
	if st := exportSubscribers(t, d.Data, list)[newbie]["status"]; st != "unconfirmed" {
		t.Errorf("%s after the empty mail: %q, want unconfirmed until the link is followed", newbie, st)
	}
	waitUntil(t, reader+" to be unsubscribed by mail to the mailto address", func() bool {
		return exportSubscribers(t, d.Data, list)[reader]["status"] == "unsubscribed"
	})
	waitUntil(t, complainer+" to be suppressed after the complaint", func() bool {
		row := exportSubscribers(t, d.Data, list)[complainer]
		return row["status"] == "suppressed" || row["suppression"] == "complaint"
	})
	if row := exportSubscribers(t, d.Data, list)[complainer]; row["suppression"] != "complaint" {
		t.Errorf("%s after the complaint: %v, want suppression complaint", complainer, row)
	}
	if st := exportSubscribers(t, d.Data, list)[away]["status"]; st != "confirmed" {
		t.Errorf("%s after an auto-reply and a reply: %q, want still confirmed", away, st)
	}
	var evidence bool
	for _, row := range csvList(t, mustCLI(t, "export", "consent", "--data", d.Data, "--list", list).Stdout) {
		if row["email"] == reader && row["event"] == "opt-out" {
			evidence = row["message_id"] != "" && strings.Contains(row["message_id"], "unsub-1@example.jp")
		}
	}
	if !evidence {
		t.Errorf("the mailto opt-out of %s lacks the inbound Message-ID as evidence", reader)
	}
}

// dsnFor is an RFC 3464 report about one recipient, sent to the VERP
// return path, with the returned headers.
func dsnFor(rcpt, returnPath, action, status, diag, origHead string) string {
	return fmt.Sprintf("From: MAILER-DAEMON@mx.example.net\nTo: %s\nSubject: Delivery Status Notification\nDate: %s\nMessage-ID: <dsn-%s@mx.example.net>\nMIME-Version: 1.0\n"+
		"Content-Type: multipart/report; report-type=delivery-status; boundary=\"DSN\"\n\n"+
		"--DSN\nContent-Type: text/plain\n\nDelivery report.\n"+
		"--DSN\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example.net\n\n"+
		"Final-Recipient: rfc822; %s\nAction: %s\nStatus: %s\nDiagnostic-Code: smtp; %s\n\n"+
		"--DSN\nContent-Type: text/rfc822-headers\n\n%s\n\n--DSN--\n",
		returnPath, time.Now().Format(time.RFC1123Z), strings.ReplaceAll(rcpt, "@", "."), rcpt, action, status, diag, origHead)
}

// Issue 6 from outside: a DSN arriving in the mailbox days later (not the
// relay's 550) is attributed by its VERP address; a hard one suppresses, a
// "delayed" one does not.
func TestAcceptanceInboundDSN(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, t.TempDir())
	const list = "keikan-machizukuri"
	const gone, slow = "gone@example.jp", "slow@example.jp"
	importCSV(t, d.Data, list, "email,name\n"+gone+",\n"+slow+",\n")
	token := adminToken(t, d.Data)
	is := createIssue(t, d, token, map[string]any{"list": list, "subject": "景観だより", "body_markdown": "本文"})
	sendIssue(t, d, token, is.ID)
	waitIssueSent(t, d, token, is.ID)
	all := readCaptured(t, d.Data)
	head := func(m capturedMail) string {
		raw, err := os.ReadFile(m.File)
		if err != nil {
			t.Fatal(err)
		}
		h, _, _ := strings.Cut(strings.ReplaceAll(string(raw), "\r\n", "\n"), "\n\n")
		return h
	}
	g, s := mailsTo(all, gone, "景観だより"), mailsTo(all, slow, "景観だより")
	if len(g) != 1 || len(s) != 1 {
		t.Fatalf("copies: %d to %s, %d to %s; want 1 each", len(g), gone, len(s), slow)
	}
	deliverInbound(t, d, dsnFor(slow, strings.Trim(s[0].ReturnPath, "<>"), "delayed", "4.2.2", "452 4.2.2 Mailbox full", head(s[0])))
	deliverInbound(t, d, dsnFor(gone, strings.Trim(g[0].ReturnPath, "<>"), "failed", "5.1.1", "550 5.1.1 User unknown", head(g[0])))
	waitUntil(t, gone+" to be suppressed by the DSN", func() bool {
		return exportSubscribers(t, d.Data, list)[gone]["status"] == "suppressed"
	})
	if row := exportSubscribers(t, d.Data, list)[slow]; row["status"] != "confirmed" {
		t.Errorf("%s after one 'delayed' DSN: %v, want still confirmed", slow, row)
	}
	waitUntil(t, "the bounce counted on the issue", func() bool { return getIssue(t, d, token, is.ID).Counts["bounced"] >= 1 })
}
