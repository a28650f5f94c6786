package mailer

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math/bits"
	"mime"
	"net/mail"
	"slices"
	"strings"
	"sync"
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

// write composes msg into buf and signs it. j carries the pre-encoded
// ISO-2022-JP parts, or is nil for UTF-8.
func (m *Mailer) write(buf *bytes.Buffer, msg *Message, j *jisParts) error {
	if j == nil && len(msg.Headers) == 0 {
		if err := checkAddrs(msg); err != nil {
			return err
		}
		if m.compose(buf, msg) {
			return m.sign(buf)
		}
	}
	if err := m.writeGoMail(buf, msg, j); err != nil {
		return err
	}
	return m.sign(buf)
}

func (m *Mailer) sign(buf *bytes.Buffer) error {
	if m.dkim != nil {
		return m.dkim.sign(buf)
	}
	return nil
}

// writeGoMail composes with go-mail: ISO-2022-JP, custom header fields,
// and what compose leaves to it.
func (m *Mailer) writeGoMail(buf *bytes.Buffer, msg *Message, j *jisParts) error {
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
		d = m.now().In(m.opt.Location)
	}
	g.SetDateWithValue(d)
	if err := m.setListHeaders(g, msg); err != nil {
		return err
	}
	for _, h := range msg.Headers {
		g.SetGenHeader(gomail.Header(h[0]), h[1])
	}
	setBody(g, msg, j)
	if _, err := g.WriteTo(buf); err != nil {
		return fmt.Errorf("writing message: %w", err)
	}
	orderHeaders(buf)
	if j != nil && !j.longLine {
		fix7bit(buf)
	}
	return nil
}

// headerRank orders header fields: go-mail keeps some in a map, so its
// order varies between runs; a fixed order keeps golden files stable and
// puts what a reader looks for first.
var headerRank = map[string]int{
	"from": 1, "to": 2, "subject": 3, "date": 4, "message-id": 5,
	"list-id": 10, "list-unsubscribe": 11, "list-unsubscribe-post": 12,
	"precedence": 13, "auto-submitted": 14, "x-auto-response-suppress": 15,
	"cfbl-address": 16, "cfbl-feedback-id": 17,
	"mime-version": 90, "content-type": 91, "content-transfer-encoding": 92,
}

// headerField is one top-level header field of a composed message.
type headerField struct {
	rank int
	name []byte // as written; compared without case
	raw  []byte // the whole field with its continuation lines and CRLF
}

// orderScratch holds orderHeaders' work space between messages.
type orderScratch struct {
	fields []headerField
	hdr    []byte
}

var orderPool = sync.Pool{New: func() any { return new(orderScratch) }}

// orderHeaders sorts the top-level header fields of the message in buf by
// headerRank, then by name; fields of the same name keep their order.
func orderHeaders(buf *bytes.Buffer) {
	b := buf.Bytes()
	end := bytes.Index(b, []byte("\r\n\r\n"))
	if end < 0 {
		return
	}
	sc := orderPool.Get().(*orderScratch)
	defer orderPool.Put(sc)
	fields := sc.fields[:0]
	var lower [32]byte
	for start := 0; start < end+2; {
		i := start
		for {
			j := bytes.Index(b[i:end+2], []byte("\r\n"))
			i += j + 2
			if i >= end+2 || (b[i] != ' ' && b[i] != '\t') {
				break
			}
		}
		raw := b[start:i]
		name := raw[:max(bytes.IndexByte(raw, ':'), 0)]
		r := 50
		if len(name) <= len(lower) {
			l := lower[:len(name)]
			for k, c := range name {
				if 'A' <= c && c <= 'Z' {
					c += 'a' - 'A'
				}
				l[k] = c
			}
			if v, ok := headerRank[string(l)]; ok { // no allocation: map lookup by converted bytes
				r = v
			}
		}
		fields = append(fields, headerField{r, name, raw})
		start = i
	}
	slices.SortStableFunc(fields, func(x, y headerField) int {
		if x.rank != y.rank {
			return x.rank - y.rank
		}
		return compareFold(x.name, y.name)
	})
	hdr := sc.hdr[:0]
	for _, f := range fields {
		hdr = append(hdr, f.raw...)
	}
	copy(b, hdr) // same fields, same length: the body stays where it is
	clear(fields)
	sc.fields, sc.hdr = fields, hdr
}

// compareFold compares two ASCII header names ignoring case.
func compareFold(a, b []byte) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return int(x) - int(y)
		}
	}
	return len(a) - len(b)
}

// checkAddrs refuses a From or To address that SMTPAddress refuses.
func checkAddrs(msg *Message) error {
	if _, err := SMTPAddress(msg.FromAddress); err != nil {
		return fmt.Errorf("from: %w", err)
	}
	if _, err := SMTPAddress(msg.To); err != nil {
		return fmt.Errorf("to: %w", err)
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
		g.SetGenHeaderPreformatted(gomail.Header("List-Id"), encodeListID(msg.ListID))
	}
	switch {
	case strings.HasPrefix(msg.UnsubscribeURL, "http://"):
		// RFC 8058 §3 asks for an https URI and go-mail enforces it; a
		// plain-http base URL only happens in local mode and tests, where
		// the headers must still be there to be tried.
		v := "<" + msg.UnsubscribeURL + ">"
		if msg.UnsubscribeMailto != "" {
			v += ", <" + msg.UnsubscribeMailto + ">"
		}
		g.SetGenHeaderPreformatted(gomail.Header("List-Unsubscribe"), v)
		g.SetGenHeaderPreformatted(gomail.Header("List-Unsubscribe-Post"), "List-Unsubscribe=One-Click")
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
		// go-mail v0.8.1 writes "7bit" parts quoted-printable, escaping the
		// ESC bytes; write them unencoded and relabel (fix7bit).
		enc := gomail.NoEncoding
		if j.longLine {
			enc = gomail.EncodingB64
		}
		g.SetBodyString(gomail.TypeTextPlain, j.text,
			gomail.WithPartCharset(gomail.CharsetISO2022JP), gomail.WithPartEncoding(enc))
	default:
		g.SetBodyString(gomail.TypeTextPlain, text,
			gomail.WithPartCharset(gomail.CharsetUTF8), gomail.WithPartEncoding(bodyEncoding(text)))
	}
	if msg.HTML != "" {
		html := crlf(msg.HTML)
		g.AddAlternativeString(gomail.TypeTextHTML, html,
			gomail.WithPartCharset(gomail.CharsetUTF8), gomail.WithPartEncoding(bodyEncoding(html)))
	}
}

// bodyEncoding picks quoted-printable for mostly-ASCII text and base64 for
// mostly-Japanese text, where quoted-printable would triple every byte
// (base64 adds a third, and is what Japanese mail software sends).
func bodyEncoding(s string) gomail.Encoding {
	if highBytes(s)*4 > len(s) {
		return gomail.EncodingB64
	}
	return gomail.EncodingQP
}

// highBytes counts the bytes of s at or above 0x80, eight at a time.
func highBytes(s string) int {
	n, i := 0, 0
	for ; i+8 <= len(s); i += 8 {
		w := binary.LittleEndian.Uint64([]byte(s[i : i+8]))
		n += bits.OnesCount64(w & 0x8080808080808080)
	}
	for ; i < len(s); i++ {
		if s[i] >= 0x80 {
			n++
		}
	}
	return n
}

// crlf normalises line ends to CRLF in one pass; text that has no bare LF
// is returned as it is.
func crlf(s string) string {
	bare := bareLFs(s)
	if bare == 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + bare)
	for {
		i := strings.IndexByte(s, '\n')
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		if i > 0 && s[i-1] == '\r' {
			b.WriteString(s[:i+1])
		} else {
			b.WriteString(s[:i])
			b.WriteString("\r\n")
		}
		s = s[i+1:]
	}
}

// bareLFs counts the LFs of s not preceded by CR, one newline at a time
// (a rendered issue has few lines and, prepared with CRLF, no bare LF).
func bareLFs(s string) int {
	n := 0
	for i := 0; ; {
		j := strings.IndexByte(s[i:], '\n')
		if j < 0 {
			return n
		}
		if i+j == 0 || s[i+j-1] != '\r' {
			n++
		}
		i += j + 1
	}
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

// encodeListID RFC 2047-encodes the description phrase of a List-Id value
// (RFC 2919 §3) when it is not ASCII; the <list-id> itself must be ASCII.
func encodeListID(v string) string {
	if isASCII(v) {
		return v
	}
	i := strings.LastIndexByte(v, '<')
	if i < 0 {
		return mime.BEncoding.Encode("UTF-8", v)
	}
	phrase := strings.TrimSpace(v[:i])
	return mime.BEncoding.Encode("UTF-8", phrase) + "\r\n " + v[i:]
}

var (
	jis8bit = []byte("Content-Transfer-Encoding: 8bit\r\nContent-Type: text/plain; charset=ISO-2022-JP\r\n")
	jis7bit = []byte("Content-Transfer-Encoding: 7bit\r\nContent-Type: text/plain; charset=ISO-2022-JP\r\n")
)

// fix7bit labels the ISO-2022-JP text part 7bit (RFC 1468): its bytes are
// all 7-bit and its lines at most 998 octets.
func fix7bit(buf *bytes.Buffer) {
	b := buf.Bytes()
	if i := bytes.Index(b, jis8bit); i >= 0 {
		copy(b[i:], jis7bit)
	}
}
