package classify

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net/mail"
	nettextproto "net/textproto"
	"regexp"
	"strings"

	"github.com/emersion/go-message"
	"github.com/emersion/go-message/textproto"
)

// maxPartBytes bounds how much of one MIME part is read.
const maxPartBytes = 4 << 20

// maxDepth bounds multipart nesting.
const maxDepth = 8

// parsed is a message taken apart into what the rules need.
type parsed struct {
	header    textproto.Header
	from      string // address only
	fromName  string // display name and address, decoded
	subject   string
	topType   string
	texts     []string // decoded text/plain (or untyped) parts outside the returned original
	htmls     []string // text/html parts, tags stripped; used when there is no plain text
	dsn       []string // message/delivery-status and message/global-delivery-status bodies
	feedback  []string // message/feedback-report bodies
	original  *textproto.Header
	origBody  string
	hasReport bool // multipart/report seen
	dc        *decider
}

// readMessage parses raw with go-message and walks its MIME tree.
func readMessage(raw []byte) (*parsed, error) {
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil, ErrUnreadable
	}
	// An mbox "From " separator line (RFC 4155) is not a header field.
	if bytes.HasPrefix(raw, []byte("From ")) {
		if i := bytes.IndexByte(raw, '\n'); i >= 0 {
			raw = raw[i+1:]
		}
	}
	e, err := message.Read(bytes.NewReader(raw))
	if e == nil {
		return nil, errors.Join(ErrUnreadable, err)
	}
	p := &parsed{header: e.Header.Header}
	p.subject = decodeHeader(p.header.Get("Subject"))
	p.fromName = decodeHeader(p.header.Get("From"))
	p.from = firstAddress(p.fromName)
	p.topType, _, _ = e.Header.ContentType()
	p.walk(e, 0)
	p.lenient(raw)
	p.pastedFeedback()
	return p, nil
}

// feedbackTypeRe finds the Feedback-Type field of an ARF report at the
// start of a line.
var feedbackTypeRe = regexp.MustCompile(`(?im)^feedback-type:[ \t]*[a-z][a-z-]*[ \t]*$`)

// pastedFeedback recovers an ARF report (RFC 5965) whose machine-readable
// part is not typed message/feedback-report: typed text/plain, or its
// fields pasted into the text. Its fields start at Feedback-Type, and the
// report also has the required Version or User-Agent field; without this
// such a report would be read by its subject or headers, as an auto-reply
// or a reply.
func (p *parsed) pastedFeedback() {
	if len(p.feedback) > 0 || len(p.dsn) > 0 {
		return
	}
	for _, t := range p.texts {
		loc := feedbackTypeRe.FindStringIndex(t)
		if loc == nil {
			continue
		}
		fields := t[loc[0]:]
		l := strings.ToLower(fields)
		if strings.Contains(l, "\nuser-agent:") || strings.Contains(l, "\nversion:") {
			p.feedback = append(p.feedback, fields)
			return
		}
	}
}

// lenient recovers from MIME structure go-message cannot read (seen in
// Office 365 NDRs whose multipart/alternative header continues without
// indentation): the body becomes the text, and delivery-status fields are
// cut out of the raw bytes.
func (p *parsed) lenient(raw []byte) {
	if len(p.texts) > 0 || len(p.htmls) > 0 || len(p.dsn) > 0 || len(p.feedback) > 0 {
		return
	}
	body := raw
	if i := bytes.Index(body, []byte("\n\n")); i >= 0 {
		body = body[i+2:]
	} else if i := bytes.Index(body, []byte("\r\n\r\n")); i >= 0 {
		body = body[i+4:]
	}
	text := strings.ReplaceAll(sniffDecode(body), "\r", "")
	if !p.hasReport {
		p.texts = append(p.texts, text)
		return
	}
	var human, dsn strings.Builder
	inDSN := false
	for _, line := range strings.Split(text, "\n") {
		l := strings.ToLower(line)
		switch {
		case strings.HasPrefix(l, "content-type: message/delivery-status"),
			strings.HasPrefix(l, "content-type: message/global-delivery-status"):
			inDSN = true
			continue
		case strings.HasPrefix(l, "--") || strings.HasPrefix(l, "content-type:"):
			inDSN = false
		}
		if inDSN {
			dsn.WriteString(line + "\n")
		} else {
			human.WriteString(line + "\n")
		}
	}
	p.texts = append(p.texts, human.String())
	if dsn.Len() > 0 {
		p.dsn = append(p.dsn, dsn.String())
	}
}

// walk collects the parts of e. It never descends into a returned
// original message.
func (p *parsed) walk(e *message.Entity, depth int) {
	mt, params, _ := e.Header.ContentType()
	if mr := e.MultipartReader(); mr != nil {
		if mt == "multipart/report" {
			p.hasReport = true
		}
		if depth >= maxDepth {
			return
		}
		for {
			part, err := mr.NextPart()
			if part == nil || (err != nil && !message.IsUnknownCharset(err) && !message.IsUnknownEncoding(err)) {
				// io.EOF or a broken boundary: keep what was read so far.
				return
			}
			p.walk(part, depth+1)
		}
	}
	body, _ := io.ReadAll(io.LimitReader(e.Body, maxPartBytes))
	switch {
	case mt == "message/delivery-status" || mt == "message/global-delivery-status":
		p.dsn = append(p.dsn, decodeText(body, params["charset"]))
	case mt == "message/feedback-report":
		p.feedback = append(p.feedback, decodeText(body, params["charset"]))
	case mt == "message/rfc822" || mt == "message/global" || mt == "message/partial" ||
		mt == "text/rfc822-headers" || mt == "message/global-headers" || mt == "message/rfc822-headers":
		if p.original == nil {
			p.setOriginal(body)
		}
	case mt == "" || strings.HasPrefix(mt, "text/"):
		t := strings.ReplaceAll(decodeText(body, params["charset"]), "\r", "")
		if mt == "text/html" {
			p.htmls = append(p.htmls, stripHTML(t))
		} else {
			p.texts = append(p.texts, t)
		}
	}
}

// bodyText is the human-readable text of the message: its plain-text
// parts, or its HTML parts when it has none.
func (p *parsed) bodyText() string {
	if len(p.texts) > 0 {
		return strings.Join(p.texts, "\n")
	}
	return strings.Join(p.htmls, "\n")
}

// setOriginal parses the header (and keeps the body) of a returned
// original message.
func (p *parsed) setOriginal(b []byte) {
	h, err := textproto.ReadHeader(bufio.NewReader(bytes.NewReader(b)))
	if err != nil && h.Len() == 0 {
		return
	}
	p.original = &h
	if i := bytes.Index(b, []byte("\n\n")); i >= 0 {
		p.origBody = string(b[i+2:])
	} else if i := bytes.Index(b, []byte("\r\n\r\n")); i >= 0 {
		p.origBody = string(b[i+4:])
	}
}

// headerMap converts a header into canonical-key form with decoded values.
func headerMap(h *textproto.Header) map[string][]string {
	if h == nil {
		return nil
	}
	m := make(map[string][]string)
	f := h.Fields()
	for f.Next() {
		k := nettextproto.CanonicalMIMEHeaderKey(f.Key())
		m[k] = append(m[k], decodeHeader(f.Value()))
	}
	return m
}

// firstAddress returns the first address in an address-list header, or a
// best effort when net/mail refuses it (e.g. legacy carrier local parts).
func firstAddress(s string) string {
	if s == "" {
		return ""
	}
	if a, err := mail.ParseAddress(s); err == nil {
		return a.Address
	}
	if l, err := mail.ParseAddressList(s); err == nil && len(l) > 0 {
		return l[0].Address
	}
	if as := findAddresses(s); len(as) > 0 {
		return as[0]
	}
	return ""
}

// allAddresses returns every address in an address-list header.
func allAddresses(s string) []string {
	if l, err := mail.ParseAddressList(s); err == nil {
		out := make([]string, 0, len(l))
		for _, a := range l {
			out = append(out, a.Address)
		}
		return out
	}
	return findAddresses(s)
}

// stripHTML removes tags and decodes the common entities, leaving text
// good enough for phrase matching.
func stripHTML(s string) string {
	var b strings.Builder
	in := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '<':
			in = true
			// Block elements become line breaks so lines keep their meaning.
			rest := strings.ToLower(s[i+1 : min(len(s), i+4)])
			if strings.HasPrefix(rest, "br") || strings.HasPrefix(rest, "p") ||
				strings.HasPrefix(rest, "div") || strings.HasPrefix(rest, "tr") ||
				strings.HasPrefix(rest, "/p") || strings.HasPrefix(rest, "/d") ||
				strings.HasPrefix(rest, "/tr") || strings.HasPrefix(rest, "li") {
				b.WriteByte('\n')
			}
		case c == '>' && in:
			in = false
		case !in:
			b.WriteByte(c)
		}
	}
	r := strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&", "&nbsp;", " ", "&quot;", `"`, "&#39;", "'")
	return r.Replace(b.String())
}
