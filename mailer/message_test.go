package mailer

import (
	"bytes"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	_ "github.com/emersion/go-message/charset" // ISO-2022-JP for the parser
	gomessage "github.com/emersion/go-message/mail"
	"github.com/emersion/go-msgauth/dkim"
)

var update = flag.Bool("update", false, "rewrite golden files")

// parsed is a built message read back with go-message.
type parsed struct {
	h     gomessage.Header
	parts map[string]string // media type → decoded text
	cs    map[string]string // media type → charset
}

func parse(t *testing.T, raw []byte) parsed {
	t.Helper()
	r, err := gomessage.CreateReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("parsing built message: %v", err)
	}
	p := parsed{h: r.Header, parts: map[string]string{}, cs: map[string]string{}}
	for {
		part, err := r.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("reading part: %v", err)
		}
		ih, ok := part.Header.(*gomessage.InlineHeader)
		if !ok {
			t.Fatalf("unexpected attachment")
		}
		mt, params, _ := ih.ContentType()
		b, err := io.ReadAll(part.Body)
		if err != nil {
			t.Fatalf("reading %s: %v", mt, err)
		}
		p.parts[mt] = string(b)
		p.cs[mt] = strings.ToLower(params["charset"])
	}
	return p
}

func checkLines(t *testing.T, raw []byte) {
	t.Helper()
	for i, line := range bytes.Split(raw, []byte("\r\n")) {
		if len(line) > 998 {
			t.Errorf("line %d has %d octets (RFC 5322 §2.1.1 allows 998)", i+1, len(line))
		}
		if bytes.ContainsAny(line, "\r\n") {
			t.Errorf("line %d has a bare CR or LF", i+1)
		}
	}
}

// TestBuildGolden pins complete messages (issue 4 headers) and parses each
// back with go-message. Regenerate with go test ./mailer -run Golden -update.
func TestBuildGolden(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		msg    func() *Message
		cfbl   bool
		wantCS string // charset of text/plain
	}{
		{"utf8", listMessage, false, "utf-8"},
		{"utf8-cfbl", func() *Message { m := listMessage(); m.FeedbackID = "12:issue:kawaraban"; return m }, true, "utf-8"},
		{"iso2022jp", func() *Message { m := listMessage(); m.Charset = CharsetISO2022JP; return m }, false, "iso-2022-jp"},
		{"iso2022jp-fallback", func() *Message {
			m := listMessage()
			m.Charset = CharsetISO2022JP
			m.Text += "𠮷野家で会いましょう 🎉\n" // no JIS X 0208 form: whole message goes UTF-8
			return m
		}, false, "utf-8"},
		{"no-name-carrier", func() *Message {
			m := listMessage()
			m.ToName, m.To = "", "user..name.@docomo.ne.jp"
			m.Text = strings.ReplaceAll(m.Text, "山田 太郎 様", "読者の皆さま")
			return m
		}, false, "utf-8"},
		{"system", func() *Message {
			m := listMessage()
			m.ListID, m.UnsubscribeURL, m.UnsubscribeMailto = "", "", ""
			m.Subject = "【京都市】登録の確認"
			m.AutoSubmitted = true
			return m
		}, false, "utf-8"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			opt := Options{Now: func() time.Time { return pinned }}
			if tc.cfbl {
				opt.CFBLAddress = "fbl@city.example.jp"
			}
			m := newMailer(t, nil, opt)
			msg := tc.msg()
			raw, err := m.Build(msg)
			if err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", "build-"+tc.name+".golden")
			if *update {
				if err := os.WriteFile(golden, raw, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update)", err)
			}
			if !bytes.Equal(raw, want) {
				t.Errorf("built message differs from %s (run with -update and review the diff):\n%s", golden, raw)
			}
			checkLines(t, raw)
			checkHeaders4(t, msg, parse(t, raw), tc.wantCS)
		})
	}
}

// checkHeaders4 checks every header issue 4 asks for.
func checkHeaders4(t *testing.T, msg *Message, p parsed, wantCS string) {
	t.Helper()
	h := p.h
	from, err := h.AddressList("From")
	if err != nil || len(from) != 1 || from[0].Address != msg.FromAddress || from[0].Name != msg.FromName {
		t.Errorf("From = %v, %v", from, err)
	}
	to := h.Get("To")
	if !strings.Contains(to, mustSMTP(t, msg.To)) {
		t.Errorf("To = %q, want address %q", to, mustSMTP(t, msg.To))
	}
	if msg.ToName != "" {
		if tl, err := h.AddressList("To"); err != nil || len(tl) != 1 || tl[0].Name != msg.ToName {
			t.Errorf("To name = %v, %v", tl, err)
		}
	}
	if subj, err := h.Subject(); err != nil || subj != msg.Subject {
		t.Errorf("Subject = %q, %v; want %q", subj, err, msg.Subject)
	}
	if id, err := h.MessageID(); err != nil || id != msg.MessageID {
		t.Errorf("Message-ID = %q, %v", id, err)
	}
	if d, err := h.Date(); err != nil || !d.Equal(msg.Date) {
		t.Errorf("Date = %v, %v", d, err)
	}
	if msg.ListID != "" {
		if got, err := h.Text("List-Id"); err != nil || got != msg.ListID {
			t.Errorf("List-Id = %q, %v; want %q", got, err, msg.ListID)
		}
		lu := h.Get("List-Unsubscribe")
		if lu != "<"+msg.UnsubscribeURL+">, <"+msg.UnsubscribeMailto+">" {
			t.Errorf("List-Unsubscribe = %q", lu)
		}
		if got := h.Get("List-Unsubscribe-Post"); got != "List-Unsubscribe=One-Click" {
			t.Errorf("List-Unsubscribe-Post = %q (RFC 8058 §3.1)", got)
		}
		if got := h.Get("Precedence"); got != "bulk" {
			t.Errorf("Precedence = %q", got)
		}
	}
	if msg.AutoSubmitted && h.Get("Auto-Submitted") != "auto-generated" {
		t.Errorf("Auto-Submitted = %q (RFC 3834 §5)", h.Get("Auto-Submitted"))
	}
	if mt, _, _ := h.ContentType(); mt != "multipart/alternative" {
		t.Errorf("Content-Type = %q", mt)
	}
	if p.cs["text/plain"] != wantCS {
		t.Errorf("text/plain charset = %q, want %q", p.cs["text/plain"], wantCS)
	}
	if got := strings.ReplaceAll(p.parts["text/plain"], "\r\n", "\n"); got != msg.Text {
		t.Errorf("text part = %q, want %q", got, msg.Text)
	}
	if got := strings.ReplaceAll(p.parts["text/html"], "\r\n", "\n"); got != msg.HTML {
		t.Errorf("html part = %q, want %q", got, msg.HTML)
	}
}

func mustSMTP(t *testing.T, a string) string {
	t.Helper()
	s, err := SMTPAddress(a)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestDKIMVerifies signs with RSA-2048 and Ed25519 and verifies with
// go-msgauth, the public key served by a custom lookup (issue 5).
func TestDKIMVerifies(t *testing.T) {
	t.Parallel()
	edPEM, edTXT := ed25519PEM(t)
	rsaKey, rsaTXT := rsaPEM(t)
	for _, tc := range []struct {
		name, txt string
		key       []byte
	}{{"ed25519", edTXT, edPEM}, {"rsa2048", rsaTXT, rsaKey}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m := newMailer(t, nil, Options{
				DKIM:        &DKIM{Domain: "city.example.jp", Selector: "k1", KeyPEM: tc.key},
				CFBLAddress: "fbl@city.example.jp",
			})
			for _, cs := range []string{CharsetUTF8, CharsetISO2022JP} {
				msg := listMessage()
				msg.Charset = cs
				msg.FeedbackID = "12:issue:kawaraban"
				msg.To = "user..name.@docomo.ne.jp"
				raw, err := m.Build(msg)
				if err != nil {
					t.Fatal(err)
				}
				vs, err := dkim.VerifyWithOptions(bytes.NewReader(raw), &dkim.VerifyOptions{
					LookupTXT: func(domain string) ([]string, error) {
						if domain != "k1._domainkey.city.example.jp" {
							return nil, errors.New("no such record")
						}
						return []string{tc.txt}, nil
					},
				})
				if err != nil || len(vs) != 1 {
					t.Fatalf("%s: verify: %v (%d signatures)", cs, err, len(vs))
				}
				if vs[0].Err != nil {
					t.Fatalf("%s: signature does not verify: %v\n%s", cs, vs[0].Err, raw)
				}
				signed := strings.ToLower(strings.Join(vs[0].HeaderKeys, ":"))
				for _, h := range []string{"from", "subject", "list-unsubscribe", "list-unsubscribe-post", "cfbl-address", "cfbl-feedback-id"} {
					if !strings.Contains(signed, h) {
						t.Errorf("%s: %s not covered by the signature (h=%s)", cs, h, signed)
					}
				}
			}
		})
	}
}

func TestDKIMRefusesShortRSA(t *testing.T) {
	t.Parallel()
	_, err := New(nil, Options{DKIM: &DKIM{Domain: "d", Selector: "s", KeyPEM: []byte("nonsense")}})
	if err == nil {
		t.Fatal("bad key accepted")
	}
}

func TestBuildRefusesHeaderInjection(t *testing.T) {
	t.Parallel()
	m := newMailer(t, nil, Options{})
	for name, mut := range map[string]func(*Message){
		"subject": func(m *Message) { m.Subject = "hi\r\nBcc: x@evil.example" },
		"name":    func(m *Message) { m.ToName = "a\nb" },
		"to":      func(m *Message) { m.To = "a@b.example\r\nX: y" },
		"header":  func(m *Message) { m.Headers = [][2]string{{"X-A", "1\r\nX-B: 2"}} },
		"hname":   func(m *Message) { m.Headers = [][2]string{{"X-A: b", "1"}} },
	} {
		msg := listMessage()
		mut(msg)
		if _, err := m.Build(msg); !errors.Is(err, ErrHeaderInjection) && !errors.Is(err, ErrBadAddress) {
			t.Errorf("%s: err = %v, want a refusal", name, err)
		}
	}
}

func TestLongSubjectAndLinesFold(t *testing.T) {
	t.Parallel()
	m := newMailer(t, nil, Options{})
	for _, cs := range []string{CharsetUTF8, CharsetISO2022JP} {
		msg := listMessage()
		msg.Charset = cs
		msg.Subject = strings.Repeat("とても長い件名です。", 60)
		msg.Text = strings.Repeat("長い行", 600) + "\n"
		raw, err := m.Build(msg)
		if err != nil {
			t.Fatal(err)
		}
		checkLines(t, raw)
		p := parse(t, raw)
		if s, _ := p.h.Subject(); s != msg.Subject {
			t.Errorf("%s: subject does not round-trip", cs)
		}
		if got := strings.ReplaceAll(p.parts["text/plain"], "\r\n", "\n"); got != msg.Text {
			t.Errorf("%s: long text does not round-trip", cs)
		}
	}
}

// FuzzBuild feeds arbitrary subjects, names and text: Build either refuses
// or returns a message with no overlong line that parses back with the
// same subject.
func FuzzBuild(f *testing.F) {
	f.Add("件名", "山田", "本文\n", false)
	f.Add("a\r\nBcc: x@y", "", "", true)
	f.Add(strings.Repeat("長", 300), "ｶﾀｶﾅ", strings.Repeat("x", 2000), true)
	m := newMailer(f, nil, Options{})
	f.Fuzz(func(t *testing.T, subject, name, text string, jis bool) {
		msg := listMessage()
		msg.Subject, msg.ToName, msg.Text = subject, name, text
		if jis {
			msg.Charset = CharsetISO2022JP
		}
		raw, err := m.Build(msg)
		if err != nil {
			return
		}
		checkLines(t, raw)
		if !utf8.ValidString(subject) || strings.ContainsAny(subject, "\x00") {
			return
		}
		r, err := gomessage.CreateReader(bytes.NewReader(raw))
		if err != nil {
			t.Fatalf("built message does not parse: %v", err)
		}
		if got, err := r.Header.Subject(); err == nil && strings.TrimSpace(got) != strings.TrimSpace(subject) && isPrintable(subject) {
			t.Fatalf("subject %q came back as %q", subject, got)
		}
	})
}

func isPrintable(s string) bool {
	for _, r := range s {
		if r < 0x20 || r == 0x7f || r == utf8.RuneError {
			return false
		}
	}
	return !strings.Contains(s, "  ") && !strings.Contains(s, "=?")
}

// FuzzCRLF checks the one-pass line-end normaliser against the plain
// definition (every LF not after CR becomes CRLF), and highBytes against a
// byte loop.
func FuzzCRLF(f *testing.F) {
	for _, s := range []string{"", "a", "\n", "\r\n", "a\nb\r\nc\n", "\n\n\r\r\n", "京都\n市民\r\n", "\r"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want := strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\n", "\r\n")
		if got := crlf(s); got != want {
			t.Errorf("crlf(%q) = %q, want %q", s, got, want)
		}
		n := 0
		for i := 0; i < len(s); i++ {
			if s[i] >= 0x80 {
				n++
			}
		}
		if got := highBytes(s); got != n {
			t.Errorf("highBytes(%q) = %d, want %d", s, got, n)
		}
	})
}
