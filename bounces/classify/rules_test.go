package classify

import (
	"reflect"
	"testing"
)

// TestParseDSN covers RFC 3464 section 2 field layouts seen in the wild.
func TestParseDSN(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		body string
		want []dsnRecipient
	}{
		{"folded diagnostic (RFC 3464 2.1)",
			"Reporting-MTA: dns; mx.example.jp\n\nFinal-Recipient: rfc822; a@example.jp\nAction: failed\nStatus: 5.1.1\n" +
				"Diagnostic-Code: smtp; 550 5.1.1 <a@example.jp>: Recipient address\n    rejected: User unknown\n",
			[]dsnRecipient{{final: "a@example.jp", action: "failed", status: "5.1.1",
				diagnostic: "550 5.1.1 <a@example.jp>: Recipient address rejected: User unknown"}}},
		{"no blank line between recipients",
			"Final-Recipient: rfc822; a@example.jp\nAction: failed\nStatus: 5.1.1\nFinal-Recipient: rfc822; b@example.jp\nAction: failed\nStatus: 5.2.2\n",
			[]dsnRecipient{{final: "a@example.jp", action: "failed", status: "5.1.1"}, {final: "b@example.jp", action: "failed", status: "5.2.2"}}},
		{"Action before Final-Recipient, Original-Recipient after (Amazon SES inbound)",
			"Action: failed\nFinal-Recipient: rfc822; a@example.jp\nOriginal-Recipient: rfc822; a@example.jp\nStatus: 5.3.4\n",
			[]dsnRecipient{{final: "a@example.jp", original: "a@example.jp", action: "failed", status: "5.3.4"}}},
		{"RFC 6533 utf-8 address with escapes",
			"Final-Recipient: utf-8; \\x{5C71}\\x{7530}@example.jp\nAction: failed\nStatus: 5.1.1\n",
			[]dsnRecipient{{final: "山田@example.jp", action: "failed", status: "5.1.1"}}},
		{"RFC 3461 xtext, plus address kept",
			"Original-Recipient: rfc822; a+2Bb@example.jp\nFinal-Recipient: rfc822; news+list-7@example.jp\nAction: failed\nStatus: 5.1.1\n",
			[]dsnRecipient{{original: "a+b@example.jp", final: "news+list-7@example.jp", action: "failed", status: "5.1.1"}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			if got := parseDSN(c.body); !reflect.DeepEqual(got, c.want) {
				t.Errorf("got  %+v\nwant %+v", got, c.want)
			}
		})
	}
}

// TestFindStatus covers RFC 3463 codes among look-alikes.
func TestFindStatus(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		"550 5.1.1 <a@example.jp>... User unknown": "5.1.1",
		"host 192.5.1.1 said: 550 5.7.1 blocked":   "5.7.1",
		"Sorry (#5.4.4)":                           "5.4.4",
		"no code here":                             "",
		"550-'5.7.1 <x>... Access denied'":         "5.7.1",
	}
	for in, want := range cases {
		if got := diagStatus(in); got != want {
			t.Errorf("diagStatus(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestDecideReason pins the class-deciding rules to the MTA formats that
// motivate them.
func TestDecideReason(t *testing.T) {
	t.Parallel()
	cases := []struct {
		source, diag, status, reason string
	}{
		{"Postfix, RFC 3463 X.1.1", "550 5.1.1 <a@example.jp>: Recipient address rejected: User unknown in local recipient table (in reply to RCPT TO command)", "5.1.1", ReasonUserUnknown},
		{"au/KDDI filter after DATA", "550 : User unknown", "5.2.0", ReasonFiltered},
		{"Sendmail pipelined DATA, RCPT refused", ">>> DATA\n<<< 550 5.1.1 <a@example.jp>... User Unknown\n550 5.1.1 <a@example.jp>... User unknown\n<<< 503 5.0.0 Need RCPT", "5.1.1", ReasonUserUnknown},
		{"Sendmail, refusal answers DATA", ">>> DATA\n<<< 550 : User unknown\n554 5.0.0 Service unavailable", "5.2.0", ReasonFiltered},
		{"Exim, sender refused at MAIL FROM", "SMTP error from remote mail server after MAIL FROM:<s@example.org>: 553 5.1.8 Domain of sender address does not exist", "5.1.8", ReasonRejected},
		{"Gmail policy refusal is soft", "550-5.7.26 Unauthenticated email from example.jp is not accepted due to domain's DMARC policy", "5.7.26", ReasonAuthFailure},
		{"Gmail mailbox full", "452-4.2.2 The email account that you tried to reach is over quota", "4.2.2", ReasonMailboxFull},
		{"Google disabled account, X.2.1", "550 5.2.1 The email account that you tried to reach is disabled.", "5.2.1", ReasonSuspend},
		{"Yahoo [RCPT_TO] keeps user unknown with 5.2.1", "550 5.2.1 <a@example.jp>... User Unknown [RCPT_TO]", "5.2.1", ReasonUserUnknown},
		{"docomo full mailbox", "552 too much mail data", "5.0.0", ReasonMailboxFull},
		{"Exchange Online directory-based edge blocking", "550 5.4.1 Recipient address rejected: Access denied", "5.4.1", ReasonUserUnknown},
		{"qmail no MX", "Sorry, I couldn't find a mail exchanger or IP address. (#5.4.4)", "5.4.4", ReasonNotAccept},
		{"RFC 7504 521", "521 5.3.2 <a@example.jp>: host does not accept mail", "5.3.2", ReasonNotAccept},
		{"Japanese MTA", "宛先のメールアドレスは存在しません", "5.0.0", ReasonUserUnknown},
		{"status alone", "", "5.1.2", ReasonHostUnknown},
		// Issue 18: soft refusals that a permanent code does not make hard.
		{"docomo filter after DATA (Postfix relay)", "550 Unknown user taro@docomo.ne.jp (in reply to end of DATA command)", "5.0.0", ReasonFiltered},
		{"docomo unknown user at RCPT", "550 Unknown user taro@docomo.ne.jp (in reply to RCPT TO command)", "5.0.0", ReasonUserUnknown},
		{"SoftBank filter after DATA (Sendmail transcript)", ">>> DATA\n<<< 550 Invalid recipient: <taro@i.softbank.jp>\n554 5.0.0 Service unavailable", "5.0.0", ReasonFiltered},
		{"carrier 指定受信 wording", "550 5.7.1 指定受信の設定により受信を拒否しました", "5.7.1", ReasonFiltered},
		{"policy status with unknown-user words (SFR)", "550 5.7.1 <a@sfr.fr>: Recipient address rejected: User unknown", "5.7.1", ReasonFiltered},
		{"appliance: unknown-user words beside a filter", "550 5.0.0 User unknown (content filter)", "5.0.0", ReasonFiltered},
		{"bare 5.7.1 block", "554 5.7.1 Message blocked by policy", "5.7.1", ReasonBlocked},
		{"recipient preferences override 5.1.1", "550 5.1.1 RCP-P2 Refused due to recipient preferences", "5.1.1", ReasonFiltered},
		{"resolver TRY_AGAIN is not a dead domain", "Name service error for domain example.jp: Host not found, try again", "4.0.0", ReasonNetworkError},
		{"unknown-user words by their parts", "The recipient name is not recognized", "5.0.0", ReasonUserUnknown},
		{"nothing stated", "", "", ReasonUndefined},
	}
	for _, c := range cases {
		got := decideReason(nil, c.diag, c.status, smtpCommand(c.diag))
		if got != c.reason {
			t.Errorf("%s: decideReason(%q, %q) = %q, want %q", c.source, c.diag, c.status, got, c.reason)
		}
	}
}

// TestDecodeText covers the Japanese charsets, labelled and sniffed.
func TestDecodeText(t *testing.T) {
	t.Parallel()
	want := "宛先不明"
	cases := []struct {
		name, charset string
		in            []byte
	}{
		{"ISO-2022-JP", "iso-2022-jp", []byte("\x1b$B08@hITL@\x1b(B")},
		{"Shift_JIS", "shift_jis", []byte("\x88\xb6\x90\xe6\x95\x73\x96\xbe")},
		{"EUC-JP unlabelled", "", []byte("\xb0\xb8\xc0\xe8\xc9\xd4\xcc\xc0")},
		{"ISO-2022-JP labelled Shift_JIS", "Shift_JIS", []byte("\x1b$B08@hITL@\x1b(B")},
		{"CP932 alias", "cp932", []byte("\x88\xb6\x90\xe6\x95\x73\x96\xbe")},
		{"UTF-8", "utf-8", []byte(want)},
	}
	for _, c := range cases {
		if got := decodeText(c.in, c.charset); got != want {
			t.Errorf("%s: %q, want %q", c.name, got, want)
		}
	}
}

// TestRefusal: a refusal met while sending is classed by its reason, not by
// its first digit (issue 18).
func TestRefusal(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name           string
		code           int
		enhanced, text string
		cmd            string
		status, reason string
		class          Class
	}{
		{"unknown user at RCPT", 550, "5.1.1", "<a@example.jp>: Recipient address rejected: User unknown", "RCPT", "5.1.1", ReasonUserUnknown, Hard},
		{"mailbox full behind a 5xx", 552, "5.2.2", "Mailbox full", "RCPT", "5.2.2", ReasonMailboxFull, Soft},
		{"carrier filter with 5.7.1", 550, "5.7.1", "指定受信の設定により受信を拒否しました", "DATA", "5.7.1", ReasonFiltered, Soft},
		{"unknown user after DATA is a filter", 550, "", "Unknown user a@docomo.ne.jp", "DATA", "5.0.0", ReasonFiltered, Soft},
		{"blocklisted sender", 554, "5.7.1", "Service unavailable; client host blocked using zen.spamhaus.org", "RCPT", "5.7.1", ReasonBlocked, Soft},
		{"bare 550, no words", 550, "", "Requested action not taken", "", "5.0.0", ReasonOnHold, Soft},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			r := Refusal(Reply{Code: c.code, Enhanced: c.enhanced, Text: c.text, Command: c.cmd})
			if r.Status != c.status || r.Reason != c.reason || r.Class != c.class || r.Why == "" {
				t.Errorf("Refusal = %+v; want %s %s %s with a why", r, c.status, c.reason, c.class)
			}
		})
	}
}
