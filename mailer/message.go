package mailer

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/mail"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// Charsets a Message may ask for.
const (
	CharsetUTF8      = "utf-8"
	CharsetISO2022JP = "iso-2022-jp"
)

// Message is one mail to one recipient. Build turns it into RFC 5322 bytes.
type Message struct {
	FromName, FromAddress string
	// To is the bare recipient address; a legacy carrier local part such as
	// user..name.@docomo.ne.jp is accepted and quoted on output.
	To, ToName string
	Subject    string
	Text, HTML string
	// Charset is utf-8 (default) or iso-2022-jp (text part and headers;
	// the HTML part stays UTF-8). A message whose text does not map to
	// ISO-2022-JP (JIS X 0208) falls back to UTF-8 as a whole.
	Charset string
	// ReturnPath is the envelope sender (MAIL FROM). The outbox fills it
	// with the VERP address; Send uses FromAddress when it is empty.
	ReturnPath string
	MessageID  string    // without <>; generated when empty
	Date       time.Time // now when zero
	// ListID is the List-Id value (RFC 2919), e.g. `Kyoto news <news.city.example.jp>`.
	ListID string
	// UnsubscribeURL (https) and UnsubscribeMailto (mailto:…) make
	// List-Unsubscribe and, with the URL, List-Unsubscribe-Post (RFC 8058).
	UnsubscribeURL, UnsubscribeMailto string
	// Precedence defaults to "bulk" for list mail (ListID set).
	Precedence string
	// AutoSubmitted adds Auto-Submitted: auto-generated (RFC 3834).
	AutoSubmitted bool
	// FeedbackID is the CFBL-Feedback-ID value (RFC 9477) used when
	// Options.CFBLAddress is set.
	FeedbackID string
	// Headers are extra header fields, added in order.
	Headers [][2]string
	// Boundary pins the MIME boundary (tests); random when empty.
	Boundary string
}

// Build returns msg as a complete RFC 5322 message, DKIM-signed when the
// Mailer has a DKIM key. Refused: CR or LF in a header value, bad addresses.
func (m *Mailer) Build(msg *Message) ([]byte, error) {
	var buf bytes.Buffer
	if err := m.build(&buf, msg); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func (m *Mailer) build(buf *bytes.Buffer, msg *Message) error {
	if err := checkHeaders(msg); err != nil {
		return err
	}
	cs := strings.ToLower(msg.Charset)
	if cs == CharsetISO2022JP {
		j, err := toJIS(msg)
		if err == nil {
			return m.write(buf, msg, j)
		}
		m.log.Info("iso-2022-jp fallback to utf-8", "msg_id", msg.MessageID, "reason", err.Error())
	} else if cs != "" && cs != CharsetUTF8 && cs != "utf8" {
		return fmt.Errorf("building message: unknown charset %q", msg.Charset)
	}
	return m.write(buf, msg, nil)
}

// write composes with go-mail. j carries the pre-encoded ISO-2022-JP
// parts, or is nil for UTF-8.
func (m *Mailer) write(buf *bytes.Buffer, msg *Message, j *jisParts) error {
	opts := []gomail.MsgOption{gomail.WithNoDefaultUserAgent()}
	if msg.Boundary != "" {
		opts = append(opts, gomail.WithBoundary(msg.Boundary))
	}
	g := gomail.NewMsg(opts...)
	if err := m.setAddrs(g, msg, j); err != nil {
		return err
	}
	if j != nil {
		g.SetGenHeaderPreformatted(gomail.HeaderSubject, j.subject)
	} else {
		g.Subject(msg.Subject)
	}
	id := msg.MessageID
	if id == "" {
		id = newMessageID(Domain(msg.FromAddress))
	}
	g.SetMessageIDWithValue(strings.Trim(id, "<>"))
	d := msg.Date
	if d.IsZero() {
		d = m.now()
	}
	g.SetDateWithValue(d)
	if err := m.setListHeaders(g, msg); err != nil {
		return err
	}
	for _, h := range msg.Headers {
		g.SetGenHeader(gomail.Header(h[0]), h[1])
	}
	setBody(g, msg, j)
	if m.dkim != nil {
		g.SetDKIM(m.dkim)
	}
	if _, err := g.WriteTo(buf); err != nil {
		return fmt.Errorf("writing message: %w", err)
	}
	return nil
}

func (m *Mailer) setAddrs(g *gomail.Msg, msg *Message, j *jisParts) error {
	from, err := SMTPAddress(msg.FromAddress)
	if err != nil {
		return fmt.Errorf("from: %w", err)
	}
	to, err := SMTPAddress(msg.To)
	if err != nil {
		return fmt.Errorf("to: %w", err)
	}
	if j != nil {
		g.SetGenHeaderPreformatted(gomail.Header("From"), addrHeader(j.fromName, from))
		g.SetGenHeaderPreformatted(gomail.Header("To"), addrHeader(j.toName, to))
		return nil
	}
	// net/mail's String quotes a local part that is not a dot-atom.
	g.SetAddrHeaderFromMailAddress(gomail.HeaderFrom, &mail.Address{Name: msg.FromName, Address: msg.FromAddress})
	g.SetAddrHeaderFromMailAddress(gomail.HeaderTo, &mail.Address{Name: msg.ToName, Address: unquote(msg.To)})
	return nil
}

func addrHeader(encodedName, addr string) string {
	if encodedName == "" {
		return "<" + addr + ">"
	}
	return encodedName + "\r\n <" + addr + ">"
}

func unquote(addr string) string {
	local, domain, err := splitAddress(addr)
	if err != nil || !strings.HasPrefix(local, `"`) {
		return addr
	}
	a, err := mail.ParseAddress(`<` + local + "@" + domain + `>`)
	if err != nil {
		return addr
	}
	return a.Address
}

func (m *Mailer) setListHeaders(g *gomail.Msg, msg *Message) error {
	if msg.ListID != "" {
		g.SetGenHeaderPreformatted(gomail.Header("List-Id"), msg.ListID)
	}
	switch {
	case msg.UnsubscribeURL != "":
		var extra []string
		if msg.UnsubscribeMailto != "" {
			extra = append(extra, msg.UnsubscribeMailto)
		}
		if err := g.SetListUnsubscribeOneClick(msg.UnsubscribeURL, extra...); err != nil {
			return fmt.Errorf("list-unsubscribe: %w", err)
		}
	case msg.UnsubscribeMailto != "":
		g.SetListUnsubscribe(msg.UnsubscribeMailto)
	}
	prec := msg.Precedence
	if prec == "" && msg.ListID != "" {
		prec = "bulk"
	}
	if prec == "bulk" {
		g.SetBulk()
	} else if prec != "" {
		g.SetGenHeader(gomail.HeaderPrecedence, prec)
	}
	if msg.AutoSubmitted {
		g.SetGenHeaderPreformatted(gomail.Header("Auto-Submitted"), "auto-generated")
	}
	if m.opt.CFBLAddress != "" && msg.FeedbackID != "" {
		g.SetGenHeaderPreformatted(gomail.Header("CFBL-Address"), m.opt.CFBLAddress+"; report=arf")
		g.SetGenHeaderPreformatted(gomail.Header("CFBL-Feedback-ID"), msg.FeedbackID)
	}
	return nil
}

func setBody(g *gomail.Msg, msg *Message, j *jisParts) {
	text := crlf(msg.Text)
	switch {
	case j != nil:
		enc := gomail.EncodingUSASCII
		if j.longLine {
			enc = gomail.EncodingB64
		}
		g.SetBodyString(gomail.TypeTextPlain, j.text,
			gomail.WithPartCharset(gomail.CharsetISO2022JP), gomail.WithPartEncoding(enc))
	default:
		g.SetBodyString(gomail.TypeTextPlain, text)
	}
	if msg.HTML != "" {
		g.AddAlternativeString(gomail.TypeTextHTML, crlf(msg.HTML),
			gomail.WithPartCharset(gomail.CharsetUTF8), gomail.WithPartEncoding(gomail.EncodingQP))
	}
}

// crlf normalises line ends to CRLF.
func crlf(s string) string {
	if !strings.Contains(s, "\n") {
		return s
	}
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return strings.ReplaceAll(s, "\n", "\r\n")
}

// checkHeaders refuses CR or LF in any value that becomes a header.
func checkHeaders(msg *Message) error {
	vals := []string{msg.FromName, msg.FromAddress, msg.To, msg.ToName, msg.Subject,
		msg.ReturnPath, msg.MessageID, msg.ListID, msg.UnsubscribeURL, msg.UnsubscribeMailto,
		msg.Precedence, msg.FeedbackID}
	for _, h := range msg.Headers {
		if h[0] == "" || strings.ContainsAny(h[0], ": \t") {
			return fmt.Errorf("header name %q: %w", h[0], ErrHeaderInjection)
		}
		vals = append(vals, h[0], h[1])
	}
	for _, v := range vals {
		if strings.ContainsAny(v, "\r\n\x00") {
			return ErrHeaderInjection
		}
	}
	return nil
}

func newMessageID(domain string) string {
	var b [12]byte
	rand.Read(b[:])
	if domain == "" {
		domain = "kawaraban.invalid"
	}
	return hex.EncodeToString(b[:]) + "@" + domain
}
