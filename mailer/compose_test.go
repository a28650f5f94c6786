package mailer

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// composeBoth builds msg with compose and with go-mail; ok is false when
// compose leaves msg to go-mail.
func composeBoth(t testing.TB, m *Mailer, msg *Message) (fast, slow []byte, ok bool) {
	t.Helper()
	var a, b bytes.Buffer
	if !m.compose(&a, msg) {
		return nil, nil, false
	}
	if err := m.writeGoMail(&b, msg, nil); err != nil {
		t.Fatalf("go-mail: %v", err)
	}
	return a.Bytes(), b.Bytes(), true
}

// TestCompose checks that the outbox's own composer writes exactly what
// go-mail writes (issue 19): every header variant the outbox and the system
// mail produce, Japanese and ASCII names and subjects around the folding
// width, bodies in both transfer encodings and at base64 line boundaries.
func TestCompose(t *testing.T) {
	t.Parallel()
	pinned := time.Date(2026, 11, 24, 9, 30, 0, 0, time.FixedZone("JST", 9*3600))
	mod := func(f func(*Message)) func() *Message {
		return func() *Message { m := listMessage(); f(m); return m }
	}
	cases := []struct {
		name string
		msg  func() *Message
		cfbl bool
	}{
		{"list", listMessage, false},
		{"cfbl", mod(func(m *Message) { m.FeedbackID = "12:sanka:kawaraban" }), true},
		{"cfbl-no-feedback-id", listMessage, true},
		{"no-html", mod(func(m *Message) { m.HTML = "" }), false},
		{"no-html-ascii", mod(func(m *Message) { m.HTML, m.Text = "", "Hello,\nplain text only.\n" }), false},
		{"empty-bodies", mod(func(m *Message) { m.HTML, m.Text = "", "" }), false},
		{"ascii-qp", mod(func(m *Message) {
			m.Text = "Dear reader,\n\n" + strings.Repeat("A line of plain ASCII text that goes on. ", 8) + "\n=?not encoded?= tab\there \n"
			m.HTML = "<p>" + strings.Repeat("plain ", 40) + "</p>\n"
		}), false},
		{"base64-57", mod(func(m *Message) { m.Text = strings.Repeat("あ", 19) }), false},  // 57 bytes: one full line
		{"base64-114", mod(func(m *Message) { m.Text = strings.Repeat("い", 38) }), false}, // two full lines
		{"base64-short", mod(func(m *Message) { m.Text = strings.Repeat("う", 7) + "x" }), false},
		{"no-name", mod(func(m *Message) { m.ToName = "" }), false},
		{"ascii-name", mod(func(m *Message) { m.ToName = "Taro Yamada" }), false},
		{"quoted-name", mod(func(m *Message) { m.ToName = `Yamada, Taro "T"` }), false},
		{"carrier", mod(func(m *Message) { m.ToName, m.To = "", "user..name.@docomo.ne.jp" }), false},
		{"long-ascii-subject", mod(func(m *Message) {
			m.Subject = "Announcement: " + strings.Repeat("word ", 30) + strings.Repeat("x", 90) + " end"
		}), false},
		{"subject-at-width", mod(func(m *Message) { m.Subject = strings.Repeat("a", 65) + " " + strings.Repeat("b", 5) }), false},
		{"subject-double-space", mod(func(m *Message) { m.Subject = "two  spaces   and more " + strings.Repeat("z", 70) }), false},
		{"long-japanese-name", mod(func(m *Message) { m.ToName = strings.Repeat("京都市民", 12) }), false},
		{"http-unsubscribe", mod(func(m *Message) { m.UnsubscribeURL = "http://localhost:8080/unsubscribe/T" }), false},
		{"http-no-mailto", mod(func(m *Message) {
			m.UnsubscribeURL, m.UnsubscribeMailto = "http://localhost:8080/unsubscribe/T", ""
		}), false},
		{"https-no-mailto", mod(func(m *Message) { m.UnsubscribeMailto = "" }), false},
		{"https-escaped", mod(func(m *Message) { m.UnsubscribeURL = "https://city.example.jp/u/a b?x=%41&y=日本" }), false},
		{"mailto-only", mod(func(m *Message) { m.UnsubscribeURL = "" }), false},
		{"mailto-brackets", mod(func(m *Message) { m.UnsubscribeURL, m.UnsubscribeMailto = "", " <mailto:u@x.jp> " }), false},
		{"no-list", mod(func(m *Message) { m.ListID, m.UnsubscribeURL, m.UnsubscribeMailto = "", "", "" }), false},
		{"ascii-list-id", mod(func(m *Message) { m.ListID = "Sanka <sanka.city.example.jp>" }), false},
		{"precedence-list", mod(func(m *Message) { m.Precedence = "list" }), false},
		{"precedence-bulk-no-list", mod(func(m *Message) { m.ListID, m.Precedence = "", "bulk" }), false},
		{"system", mod(func(m *Message) {
			m.ListID, m.UnsubscribeURL, m.UnsubscribeMailto = "", "", ""
			m.AutoSubmitted = true
		}), false},
		{"auto-submitted-list", mod(func(m *Message) { m.AutoSubmitted = true }), true},
		{"message-id-brackets", mod(func(m *Message) { m.MessageID = "<abc@city.example.jp>" }), false},
		{"no-date", mod(func(m *Message) { m.Date = time.Time{} }), false},
		{"boundary-space", mod(func(m *Message) { m.Boundary = "a b" }), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			opt := Options{Now: func() time.Time { return pinned }, Location: pinned.Location()}
			if tc.cfbl {
				opt.CFBLAddress = "fbl@city.example.jp"
			}
			m := newMailer(t, nil, opt)
			msg := tc.msg()
			if msg.Date.IsZero() && tc.name != "no-date" {
				msg.Date = pinned
			}
			fast, slow, ok := composeBoth(t, m, msg)
			if !ok {
				t.Fatal("compose left the message to go-mail")
			}
			if !bytes.Equal(fast, slow) {
				t.Errorf("compose differs from go-mail:\n--- compose\n%s\n--- go-mail\n%s", fast, slow)
			}
		})
	}
	t.Run("random-boundary", func(t *testing.T) {
		m := newMailer(t, nil, Options{})
		msg := listMessage()
		msg.Boundary = ""
		var buf bytes.Buffer
		if !m.compose(&buf, msg) {
			t.Fatal("compose left the message to go-mail")
		}
		p := parse(t, buf.Bytes())
		if len(p.parts) != 2 {
			t.Errorf("parts %v, want text/plain and text/html", p.parts)
		}
	})
	t.Run("left-to-go-mail", func(t *testing.T) {
		m := newMailer(t, nil, Options{})
		for _, f := range []func(*Message){
			func(m *Message) { m.Boundary = strings.Repeat("x", 71) },
			func(m *Message) { m.Boundary = "bad\x01" },
			func(m *Message) { m.UnsubscribeURL = "https://" },
			func(m *Message) { m.UnsubscribeURL = "ftp://x/y" },
		} {
			msg := listMessage()
			f(msg)
			var buf bytes.Buffer
			if m.compose(&buf, msg) || buf.Len() != 0 {
				t.Errorf("compose took %+v", msg)
			}
		}
	})
}

// FuzzCompose compares compose with go-mail on arbitrary names, subjects
// and bodies.
func FuzzCompose(f *testing.F) {
	f.Add("件名", "山田", "本文\n", "<p>x</p>", "https://city.example.jp/u/T")
	f.Add(strings.Repeat("長", 300), "ｶﾀｶﾅ", strings.Repeat("x", 2000), "", "http://localhost/u")
	f.Add("a  b   "+strings.Repeat("c", 80), `"q" , z`, "=\r\n.\n", "\n", "")
	m := newMailer(f, nil, Options{})
	pinned := time.Date(2026, 11, 24, 9, 30, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, subject, name, text, html, unsub string) {
		msg := listMessage()
		msg.Subject, msg.ToName, msg.Text, msg.HTML, msg.UnsubscribeURL = subject, name, text, html, unsub
		msg.Date = pinned
		if checkHeaders(msg) != nil || checkAddrs(msg) != nil {
			return
		}
		fast, slow, ok := composeBoth(t, m, msg)
		if ok && !bytes.Equal(fast, slow) {
			t.Fatalf("compose differs from go-mail:\n--- compose\n%q\n--- go-mail\n%q", fast, slow)
		}
	})
}

// BenchmarkCompose builds the same list message with compose and with
// go-mail (issue 19): go test ./mailer -run '^$' -bench Compose -benchmem
func BenchmarkCompose(b *testing.B) {
	m := newMailer(b, nil, Options{})
	msg := listMessage()
	msg.Text = strings.Repeat(msg.Text, 8)
	msg.HTML = strings.Repeat(msg.HTML, 8)
	for _, tc := range []struct {
		name  string
		write func(*bytes.Buffer) bool
	}{
		{"compose", func(buf *bytes.Buffer) bool { return m.compose(buf, msg) }},
		{"go-mail", func(buf *bytes.Buffer) bool { return m.writeGoMail(buf, msg, nil) == nil }},
	} {
		b.Run(tc.name, func(b *testing.B) {
			var buf bytes.Buffer
			for b.Loop() {
				buf.Reset()
				if !tc.write(&buf) {
					b.Fatal("not built")
				}
			}
			b.SetBytes(int64(buf.Len()))
		})
	}
}
