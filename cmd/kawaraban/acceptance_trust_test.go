package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

// Issue 15: a forged abuse report and a forged DSN, without our VERP token
// or a Message-ID of ours, appended to the bounce mailbox (local mode's
// in-process IMAP server), change no subscription and are listed as
// unverified; a DSN to a delivery's VERP return path still suppresses.
func TestAcceptanceForgedReportsChangeNothing(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, t.TempDir())
	const list = "kankyo-hozen"
	const carol, bob, gone = "carol@example.jp", "bob@example.jp", "gone@example.jp"
	importCSV(t, d.Data, list, "email,name\n"+carol+",\n"+bob+",\n"+gone+",\n")
	token := adminToken(t, d.Data)
	is := createIssue(t, d, token, map[string]any{"list": list, "subject": "環境だより", "body_markdown": "本文"})
	sendIssue(t, d, token, is.ID)
	waitIssueSent(t, d, token, is.ID)
	date := time.Now().Format(time.RFC1123Z)
	// The forger mails the return path's domain without a token.
	verp := strings.Trim(mailsTo(readCaptured(t, d.Data), gone, "環境だより")[0].ReturnPath, "<>")
	returnPath := "bounces@" + verp[strings.LastIndex(verp, "@")+1:]

	deliverInbound(t, d, fmt.Sprintf("From: abuse@forger.example\nTo: %s\nSubject: FW: complaint\nDate: %s\nMessage-ID: <forged-arf@forger.example>\nMIME-Version: 1.0\n"+
		"Content-Type: multipart/report; report-type=feedback-report; boundary=\"ARF\"\n\n"+
		"--ARF\nContent-Type: text/plain\n\nThis is an email abuse report.\n"+
		"--ARF\nContent-Type: message/feedback-report\n\nFeedback-Type: abuse\nUser-Agent: forger/1\nVersion: 1\nOriginal-Rcpt-To: %s\n\n"+
		"--ARF\nContent-Type: text/rfc822-headers\n\nMessage-ID: <not-ours@forger.example>\nTo: %s\n\n--ARF--\n", returnPath, date, carol, carol))
	deliverInbound(t, d, fmt.Sprintf("From: MAILER-DAEMON@forger.example\nTo: %s\nSubject: Undelivered Mail\nDate: %s\nMessage-ID: <forged-dsn@forger.example>\nMIME-Version: 1.0\n"+
		"Content-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\n\n"+
		"--B\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; forger.example\n\n"+
		"Final-Recipient: rfc822; %s\nAction: failed\nStatus: 5.1.1\nDiagnostic-Code: smtp; 550 5.1.1 user unknown\n\n"+
		"--B\nContent-Type: text/rfc822-headers\n\nMessage-ID: <not-ours@forger.example>\n\n--B--\n", returnPath, date, bob))
	// The genuine one: to the VERP return path of the mail to gone@.
	deliverInbound(t, d, fmt.Sprintf("From: MAILER-DAEMON@mx.example.jp\nTo: %s\nSubject: Undelivered Mail\nDate: %s\nMessage-ID: <real-dsn@mx.example.jp>\nMIME-Version: 1.0\n"+
		"Content-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\n\n"+
		"--B\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example.jp\n\n"+
		"Final-Recipient: rfc822; %s\nAction: failed\nStatus: 5.1.1\nDiagnostic-Code: smtp; 550 5.1.1 user unknown\n\n--B--\n", verp, date, gone))

	waitUntil(t, gone+" to be suppressed by the DSN with our VERP token", func() bool {
		return exportSubscribers(t, d.Data, list)[gone]["status"] == "suppressed"
	})
	type item struct {
		Email      string `json:"email"`
		Class      string `json:"class"`
		Unverified bool   `json:"unverified"`
	}
	var page struct{ Items []item }
	waitUntil(t, "three bounces recorded", func() bool {
		code, body := api(t, d, token, "GET", "/api/v1/bounces", nil)
		return code == 200 && json.Unmarshal(body, &page) == nil && len(page.Items) == 3
	})
	got := map[string]item{}
	for _, it := range page.Items {
		got[it.Email] = it
	}
	if !got[carol].Unverified || got[carol].Class != "complaint" || !got[bob].Unverified || got[gone].Unverified {
		t.Errorf("bounces %+v: want carol's complaint and bob's DSN unverified, gone's verified", page.Items)
	}
	rows := exportSubscribers(t, d.Data, list)
	for _, a := range []string{carol, bob} {
		if rows[a]["status"] != "confirmed" || rows[a]["suppression"] != "" {
			t.Errorf("%s after a forged report: %v, want still confirmed and not suppressed", a, rows[a])
		}
	}
}
