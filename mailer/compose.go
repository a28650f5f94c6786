package mailer

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"mime"
	"mime/quotedprintable"
	"net/mail"
	"net/url"
	"strings"
	"sync"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// compose writes a UTF-8 message without custom header fields straight
// into buf, byte for byte what go-mail v0.8.1 writes for it followed by
// orderHeaders (the header fields already in their final order), without
// go-mail's per-message maps, multipart writer, formatted strings and
// intermediate body buffers: composing through go-mail was a third of the
// daemon's CPU per message (issue 19, docs/BENCHMARKS.md). It reports
// false, having written nothing, for a message it leaves to go-mail: one
// whose boundary or unsubscribe URL go-mail would refuse. TestCompose
// checks it against go-mail.
func (m *Mailer) compose(buf *bytes.Buffer, msg *Message) bool {
	boundary := msg.Boundary
	if boundary == "" {
		boundary = randomBoundary()
	} else if !validBoundary(boundary) {
		return false
	}
	unsub, post, ok := unsubscribeValue(msg)
	if !ok {
		return false
	}
	foldHeader(buf, "From", m.hdrs.get(hdrFrom, msg.FromName, msg.FromAddress))
	foldHeader(buf, "To", (&mail.Address{Name: msg.ToName, Address: unquote(msg.To)}).String())
	foldHeader(buf, "Subject", m.hdrs.get(hdrSubject, msg.Subject, ""))
	d := msg.Date
	if d.IsZero() {
		d = m.now().In(m.opt.Location)
	}
	var date [len(time.RFC1123Z) + 8]byte
	foldHeader(buf, "Date", string(d.AppendFormat(date[:0], time.RFC1123Z)))
	id := msg.MessageID
	if id == "" {
		id = newMessageID(Domain(msg.FromAddress))
	}
	foldHeader(buf, "Message-ID", genValue("<"+strings.Trim(id, "<>")+">"))
	if msg.ListID != "" {
		rawHeader(buf, "List-Id", encodeListID(msg.ListID))
	}
	if unsub != "" {
		rawHeader(buf, "List-Unsubscribe", unsub)
	}
	if post {
		rawHeader(buf, "List-Unsubscribe-Post", "List-Unsubscribe=One-Click")
	}
	prec := msg.Precedence
	if prec == "" && msg.ListID != "" {
		prec = "bulk"
	}
	if prec != "" {
		foldHeader(buf, "Precedence", genValue(prec))
	}
	if msg.AutoSubmitted {
		rawHeader(buf, "Auto-Submitted", "auto-generated")
	}
	if prec == "bulk" {
		foldHeader(buf, "X-Auto-Response-Suppress", "All")
	}
	if m.opt.CFBLAddress != "" && msg.FeedbackID != "" {
		rawHeader(buf, "CFBL-Address", m.opt.CFBLAddress+"; report=arf")
		rawHeader(buf, "CFBL-Feedback-ID", msg.FeedbackID)
	}
	foldHeader(buf, "MIME-Version", "1.0")
	text := crlf(msg.Text)
	if msg.HTML == "" {
		enc := bodyEncoding(text)
		foldHeader(buf, "Content-Type", "text/plain; charset=UTF-8")
		foldHeader(buf, "Content-Transfer-Encoding", string(enc))
		buf.WriteString("\r\n")
		writeEncoded(buf, text, enc)
		return true
	}
	// go-mail's multipart/alternative: the part headers in
	// mime/multipart's order (sorted), CRLF before each delimiter.
	buf.WriteString("Content-Type: multipart/alternative;\r\n boundary=")
	buf.WriteString(boundary)
	buf.WriteString("\r\n\r\n")
	html := crlf(msg.HTML)
	for i, p := range [2][2]string{{"text/plain", text}, {"text/html", html}} {
		if i > 0 {
			buf.WriteString("\r\n")
		}
		enc := bodyEncoding(p[1])
		buf.WriteString("--")
		buf.WriteString(boundary)
		buf.WriteString("\r\nContent-Transfer-Encoding: ")
		buf.WriteString(string(enc))
		buf.WriteString("\r\nContent-Type: ")
		buf.WriteString(p[0])
		buf.WriteString("; charset=UTF-8\r\n\r\n")
		writeEncoded(buf, p[1], enc)
	}
	buf.WriteString("\r\n--")
	buf.WriteString(boundary)
	buf.WriteString("--\r\n")
	return true
}

// headerCache keeps the encoded From and Subject values of recent
// messages: every recipient of an issue has the same.
type headerCache struct {
	mu sync.Mutex
	m  map[headerKey]string
}

type headerKey struct {
	kind byte // hdrFrom or hdrSubject
	a, b string
}

const (
	hdrFrom    = 'f' // a: name, b: address
	hdrSubject = 's' // a: subject
)

// get returns the encoded value, encoding and keeping it the first time.
func (c *headerCache) get(kind byte, a, b string) string {
	k := headerKey{kind, a, b}
	c.mu.Lock()
	v, ok := c.m[k]
	c.mu.Unlock()
	if ok {
		return v
	}
	if kind == hdrFrom {
		v = (&mail.Address{Name: a, Address: b}).String()
	} else {
		v = genValue(a)
	}
	c.mu.Lock()
	if c.m == nil || len(c.m) >= 256 {
		c.m = map[headerKey]string{} // test sends and previews must not grow it for ever
	}
	c.m[k] = v
	c.mu.Unlock()
	return v
}

// genValue encodes a header value as go-mail's SetGenHeader does (RFC 2047
// Q encoding, charset UTF-8, only when needed).
func genValue(s string) string { return mime.QEncoding.Encode("UTF-8", s) }

// unsubscribeValue is the List-Unsubscribe value and whether
// List-Unsubscribe-Post goes with it, as setListHeaders has go-mail set
// them; ok is false for an https URL go-mail would refuse.
func unsubscribeValue(msg *Message) (value string, post, ok bool) {
	switch {
	case strings.HasPrefix(msg.UnsubscribeURL, "http://"):
		v := "<" + msg.UnsubscribeURL + ">"
		if msg.UnsubscribeMailto != "" {
			v += ", <" + msg.UnsubscribeMailto + ">"
		}
		return v, true, true
	case msg.UnsubscribeURL != "":
		u, err := url.Parse(strings.TrimSpace(msg.UnsubscribeURL))
		if err != nil || u.Scheme != "https" || u.Host == "" {
			return "", false, false
		}
		v := unsubURI(u.String())
		if msg.UnsubscribeMailto != "" {
			if w := unsubURI(msg.UnsubscribeMailto); w != "" {
				v += ", " + w
			}
		}
		return v, true, true
	case msg.UnsubscribeMailto != "":
		return unsubURI(msg.UnsubscribeMailto), false, true
	}
	return "", false, true
}

// unsubURI is one URI of go-mail's List-Unsubscribe list.
func unsubURI(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return ""
	}
	return "<" + strings.TrimPrefix(strings.TrimSuffix(s, ">"), "<") + ">"
}

// rawHeader writes a field whose value is already formatted (go-mail's
// SetGenHeaderPreformatted).
func rawHeader(buf *bytes.Buffer, name, value string) {
	buf.WriteString(name)
	buf.WriteString(": ")
	buf.WriteString(value)
	buf.WriteString("\r\n")
}

// foldHeader writes a field folded as go-mail's msgWriter.writeHeader does:
// words split at spaces, a line broken before a word that would pass 76
// characters, no space left before a line break.
func foldHeader(buf *bytes.Buffer, name, value string) {
	const maxLen = 76
	left := maxLen - 2 - len(name) - 2
	buf.WriteString(name)
	buf.WriteString(": ")
	for first := true; ; first = false {
		word, rest, more := strings.Cut(value, " ")
		if !first {
			buf.WriteByte(' ')
			left--
		}
		if left-len(word) <= 1 {
			if b := buf.Bytes(); b[len(b)-1] == ' ' {
				buf.Truncate(buf.Len() - 1)
			}
			buf.WriteString("\r\n ")
			left = maxLen - 3
		}
		buf.WriteString(word)
		left -= len(word)
		if !more {
			break
		}
		value = rest
	}
	buf.WriteString("\r\n")
}

// writeEncoded writes s in the transfer encoding enc: base64 in lines of
// 76 characters, each ended by CRLF (go-mail's line breaker), or
// quoted-printable (mime/quotedprintable, as go-mail uses it).
func writeEncoded(buf *bytes.Buffer, s string, enc gomail.Encoding) {
	if enc == gomail.EncodingB64 {
		const in = 57 // bytes per 76-character line
		var src [in]byte
		var line [78]byte
		buf.Grow(len(s)/in*78 + 80)
		for len(s) > 0 {
			n := copy(src[:], s)
			k := base64.StdEncoding.EncodedLen(n)
			base64.StdEncoding.Encode(line[:k], src[:n])
			line[k], line[k+1] = '\r', '\n'
			buf.Write(line[:k+2])
			s = s[n:]
		}
		return
	}
	w := quotedprintable.NewWriter(buf)
	w.Write([]byte(s))
	w.Close()
}

// randomBoundary is a boundary as mime/multipart makes one: 30 random bytes
// in hex.
func randomBoundary() string {
	var b [30]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// validBoundary reports whether mime/multipart accepts b (RFC 2046 §5.1.1).
func validBoundary(b string) bool {
	if len(b) < 1 || len(b) > 70 {
		return false
	}
	for i := 0; i < len(b); i++ {
		c := b[i]
		switch {
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9':
		case strings.IndexByte("'()+_,-./:=?", c) >= 0:
		case c == ' ' && i != len(b)-1:
		default:
			return false
		}
	}
	return true
}
