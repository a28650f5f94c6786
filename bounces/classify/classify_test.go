package classify

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// TestOwnFixtures checks messages written for kawaraban's own cases: an
// SMTPUTF8 Postfix DSN (RFC 6533), Japanese auto-replies, replies and
// bounces in ISO-2022-JP, Shift_JIS and EUC-JP, docomo's legacy local part,
// and a success DSN.
func TestOwnFixtures(t *testing.T) {
	t.Parallel()
	type want struct {
		class, format, addr, status, reason, origID, subject string
		envelope                                             string
		recipients                                           int
	}
	cases := []struct {
		file string
		want want
	}{
		{"postfix-smtputf8.eml", want{class: "hard", format: "rfc3464", addr: "山田@例え.jp", status: "5.1.1",
			reason: ReasonUserUnknown, origID: "issue-42.7.1763946004@kawaraban.example.jp",
			subject: "Undelivered Mail Returned to Sender", envelope: "bounces+v1.AbCd1234@kawaraban.example.jp", recipients: 1}},
		{"vacation-iso2022jp.eml", want{class: "autoreply", format: "autoreply", addr: "hanako@example.ne.jp",
			reason: ReasonVacation, subject: "自動応答: くらしの情報 11月号", recipients: 1}},
		{"citizen-reply.eml", want{class: "other", subject: "Re: 【京都市】くらしの情報 11月号の配信について"}},
		{"autoreply-subject-only.eml", want{class: "autoreply", format: "autoreply", addr: "info@example.co.jp",
			reason: ReasonVacation, subject: "【自動返信】お問い合わせを受け付けました", recipients: 1}},
		{"jp-mta-shiftjis.eml", want{class: "hard", format: "text", addr: "jiro@mail.example.co.jp", status: "5.1.1",
			reason: ReasonUserUnknown, origID: "issue-42.10.1763946004@kawaraban.example.jp", subject: "配信エラーのお知らせ", recipients: 1}},
		{"jp-mta-eucjp.eml", want{class: "soft", format: "text", addr: "saburo@example.or.jp", status: "5.0.0",
			reason: ReasonMailboxFull, origID: "issue-42.11.1763946004@kawaraban.example.jp", recipients: 1}},
		{"docomo-unknown.eml", want{class: "hard", format: "rfc3464", addr: "a..b.@docomo.ne.jp", status: "5.0.0",
			reason: ReasonUserUnknown, origID: "issue-42.12.1763946004@kawaraban.example.jp", recipients: 1}},
		{"success-relayed.eml", want{class: "delivered", format: "rfc3464", addr: "shiro@example.jp", status: "2.0.0",
			reason: ReasonDelivered, recipients: 1}},
		// Issue 18: an ARF report whose feedback part is typed text/plain,
		// under a subject that reads like an auto-reply (【自動送信】).
		{"arf-textplain-jisou.eml", want{class: "complaint", format: "arf", addr: "taro@isp.example.ne.jp",
			reason: ReasonFeedback, origID: "issue-42.20.1763946004@kawaraban.example.jp", recipients: 1}},
		// Issue 18: a bounce sent with auto-reply headers names a real
		// failed recipient; it is not the auto-reply of its From.
		{"bounce-autoreply-headers.eml", want{class: "hard", format: "text", addr: "hanako@example.co.jp", status: "5.1.1",
			reason: ReasonUserUnknown, origID: "issue-42.21.1763946004@kawaraban.example.jp", recipients: 1}},
		// Issue 18: Japanese carriers' filter refusals are soft: docomo's
		// "Unknown user" after DATA (docomo-unknown.eml is the RCPT one),
		// SoftBank's "Invalid recipient" answering DATA in a Sendmail
		// transcript, an ISO-2022-JP notice of an au 指定受信 refusal.
		{"docomo-filter-data.eml", want{class: "soft", format: "rfc3464", addr: "taro.yamada@docomo.ne.jp", status: "5.0.0",
			reason: ReasonFiltered, origID: "issue-42.30.1763946004@kawaraban.example.jp", recipients: 1}},
		{"softbank-filter-sendmail.eml", want{class: "soft", format: "rfc3464", addr: "hanako.kyoto@i.softbank.jp", status: "5.0.0",
			reason: ReasonFiltered, origID: "issue-42.31.1763946004@kawaraban.example.jp", recipients: 1}},
		{"au-shitei-jushin-iso2022jp.eml", want{class: "soft", format: "text", addr: "jiro.sakyo@ezweb.ne.jp", status: "5.7.1",
			reason: ReasonFiltered, origID: "issue-42.32.1763946004@kawaraban.example.jp", subject: "配信エラー", recipients: 1}},
		// Issue 18: an RFC 2047 encoded local part is decoded.
		{"rfc2047-localpart.eml", want{class: "hard", format: "exim", addr: "山田@example.jp", status: "5.1.1",
			reason: ReasonUserUnknown, origID: "issue-42.22.1763946004@kawaraban.example.jp", recipients: 1}},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			t.Parallel()
			raw, err := os.ReadFile(filepath.Join("testdata", "own", c.file))
			if err != nil {
				t.Fatal(err)
			}
			for _, variant := range [][]byte{raw, toCRLF(raw)} {
				rep, err := Parse(variant)
				if err != nil {
					t.Fatalf("Parse: %v", err)
				}
				w := c.want
				if string(rep.Class) != w.class || rep.Format != w.format || len(rep.Recipients) != w.recipients {
					t.Fatalf("got class %q format %q recipients %+v; want %q %q %d", rep.Class, rep.Format, rep.Recipients, w.class, w.format, w.recipients)
				}
				if w.subject != "" && rep.Subject != w.subject {
					t.Errorf("subject %q, want %q", rep.Subject, w.subject)
				}
				if rep.OriginalMessageID != w.origID {
					t.Errorf("original Message-ID %q, want %q", rep.OriginalMessageID, w.origID)
				}
				if w.envelope != "" && (len(rep.EnvelopeTo) == 0 || rep.EnvelopeTo[0] != w.envelope) {
					t.Errorf("EnvelopeTo %v, want first %q", rep.EnvelopeTo, w.envelope)
				}
				if w.recipients == 0 {
					continue
				}
				r := rep.Recipients[0]
				if r.Address != w.addr || r.Status != w.status || r.Reason != w.reason {
					t.Errorf("recipient %+v; want %s %s %s", r, w.addr, w.status, w.reason)
				}
			}
		})
	}
}

// TestOriginalHeaders checks that the returned original's own header is
// available for attribution (DESIGN: VERP → returned headers → recipient).
func TestOriginalHeaders(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile(filepath.Join("testdata", "own", "postfix-smtputf8.eml"))
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	if got := rep.OriginalHeaders["X-Kawaraban-Issue"]; len(got) != 1 || got[0] != "42" {
		t.Errorf("X-Kawaraban-Issue = %v", got)
	}
	if got := rep.OriginalHeaders["To"]; len(got) != 1 || got[0] != "山田@例え.jp" {
		t.Errorf("To = %v", got)
	}
}

// TestUnreadable checks the error contract: only input that is not a
// message is an error.
func TestUnreadable(t *testing.T) {
	t.Parallel()
	for _, in := range []string{"", "   \n\n"} {
		if _, err := Parse([]byte(in)); !errors.Is(err, ErrUnreadable) {
			t.Errorf("Parse(%q) = %v, want ErrUnreadable", in, err)
		}
	}
	rep, err := Parse([]byte("Subject: hello\n\njust text\n"))
	if err != nil || rep.Class != Other || len(rep.Recipients) != 0 {
		t.Errorf("plain note: %+v, %v", rep, err)
	}
}
