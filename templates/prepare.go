package templates

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	htmltemplate "html/template"
	"net/url"
	"strconv"
	"strings"
)

// segment is a piece of a pre-rendered part: literal text, then optionally
// one personal field written with an escaping mode.
type segment struct {
	lit   string
	field int // -1: none
	esc   escMode
}

type escMode uint8

const (
	escRaw     escMode = iota // plain text: control characters become spaces
	escHTML                   // HTML text or a trusted URL in an attribute
	escHTMLURL                // a personal value inside an HTML attribute: URL-escaped, then HTML-escaped
	escURL                    // a personal value inside a URL in text: URL-escaped
)

// Prepared is an issue rendered once, ready for per-recipient Render.
// It is immutable and safe for concurrent use.
type Prepared struct {
	fields       fieldSet
	fallback     string
	subject      []segment
	text, html   []segment
	subjLen      int
	textLen      int
	htmlLen      int
	List         ListInfo
	Subject      string // the subject as written, with template actions
	IssueID      int64
	UsesPersonal bool // the body or subject names the recipient
}

// Prepare renders an issue once: personalisation actions become
// placeholders, the Markdown becomes sanitised HTML and wrapped text, and
// the list's layouts are executed. It refuses a subject with a line break,
// a list without the legally required sender details (ErrMissingLegal) and
// template errors (with file:line; the body is "body", the subject
// "subject").
func (s *Set) Prepare(in IssueInput) (*Prepared, error) {
	if strings.ContainsAny(in.Subject, "\r\n") {
		return nil, fmt.Errorf("preparing issue %d: subject contains a line break: %w", in.IssueID, ErrInvalidInput)
	}
	l := in.List
	if strings.TrimSpace(l.FromName) == "" || strings.TrimSpace(l.PostalAddress) == "" || strings.TrimSpace(l.Contact) == "" {
		return nil, fmt.Errorf("preparing issue %d for list %s: %w", in.IssueID, l.Slug, ErrMissingLegal)
	}
	prefix, err := newPrefix()
	if err != nil {
		return nil, err
	}
	p := &Prepared{fields: fieldSet{prefix: prefix}, fallback: l.NameFallback, List: l,
		Subject: in.Subject, IssueID: in.IssueID}
	if p.fallback == "" {
		p.fallback = "読者"
	}
	subject, err := p.fields.personalise("subject", in.Subject)
	if err != nil {
		return nil, err
	}
	body, err := p.fields.personalise("body", in.Markdown)
	if err != nil {
		return nil, err
	}
	p.UsesPersonal = strings.Contains(subject+body, prefix)
	var lr *linkRewrite
	if in.TrackLink != nil {
		lr = &linkRewrite{ph: prefix, track: in.TrackLink}
	}
	bodyHTML, err := s.md.html([]byte(body), lr)
	if err != nil {
		return nil, err
	}
	f := &p.fields
	data := LayoutData{
		List: l, Subject: subject, IssueID: in.IssueID, Number: in.Number, Date: in.Date, ArchiveURL: in.ArchiveURL,
		BodyHTML: htmltemplate.HTML(bodyHTML), BodyText: s.md.text([]byte(body), TextWidth, prefix, lr),
		Name: f.token(fieldName, modeText), Email: f.token(fieldEmail, modeText),
		UnsubscribeURL: f.token(fieldUnsubscribe, modeText), PreferencesURL: f.token(fieldPreferences, modeText),
		Joint: in.Joint,
	}
	htmlOut, textOut, err := s.layouts(l.Slug, data)
	if err != nil {
		return nil, fmt.Errorf("preparing issue %d: %w", in.IssueID, err)
	}
	p.subject, p.subjLen = split(subject, prefix, false)
	p.text, p.textLen = split(textOut, prefix, false)
	p.html, p.htmlLen = split(htmlOut, prefix, true)
	return p, nil
}

func newPrefix() (string, error) {
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("making placeholder: %w", err)
	}
	return "Kwrbn" + hex.EncodeToString(b[:]), nil
}

// layouts executes the list's own layouts, or the default ones.
func (s *Set) layouts(slug string, data LayoutData) (htmlOut, textOut string, err error) {
	hname, tname := LayoutHTML, LayoutText
	if _, ok := s.html["lists/"+slug+"/"+LayoutHTML]; ok && slug != "" {
		hname = "lists/" + slug + "/" + LayoutHTML
	}
	if _, ok := s.text["lists/"+slug+"/"+LayoutText]; ok && slug != "" {
		tname = "lists/" + slug + "/" + LayoutText
	}
	var hb, tb strings.Builder
	if err := s.html[hname].Execute(&hb, data); err != nil {
		return "", "", templateError(hname, err)
	}
	if err := s.text[tname].Execute(&tb, data); err != nil {
		return "", "", templateError(tname, err)
	}
	return hb.String(), tb.String(), nil
}

// split cuts a pre-rendered part at its placeholders. In HTML a value inside
// a tag (an attribute) gets URL- and HTML-escaping, elsewhere HTML-escaping.
func split(s, prefix string, isHTML bool) ([]segment, int) {
	var (
		segs  []segment
		lit   strings.Builder
		inTag bool
		total int
	)
	for {
		i := strings.Index(s, prefix)
		if i < 0 {
			break
		}
		field, mode, n := parseToken(s[i+len(prefix):])
		if n == 0 {
			lit.WriteString(s[:i+len(prefix)])
			s = s[i+len(prefix):]
			continue
		}
		before := s[:i]
		if isHTML {
			lt, gt := strings.LastIndexByte(before, '<'), strings.LastIndexByte(before, '>')
			if lt > gt {
				inTag = true
			} else if gt > lt {
				inTag = false
			}
		}
		lit.WriteString(before)
		segs = append(segs, segment{lit: lit.String(), field: field, esc: escapeFor(field, mode, isHTML, inTag)})
		total += lit.Len()
		lit.Reset()
		s = s[i+len(prefix)+n:]
	}
	lit.WriteString(s)
	total += lit.Len()
	return append(segs, segment{lit: lit.String(), field: -1}), total
}

func escapeFor(field int, mode byte, isHTML, inTag bool) escMode {
	trustedURL := field == fieldUnsubscribe || field == fieldPreferences
	switch {
	case isHTML && inTag && !trustedURL:
		return escHTMLURL
	case isHTML:
		return escHTML
	case mode == modeURL && !trustedURL:
		return escURL
	}
	return escRaw
}

// parseToken reads "T12Q" after a prefix: the field, the mode and the
// length; n = 0 when it is not a token.
func parseToken(s string) (field int, mode byte, n int) {
	if len(s) < 3 || (s[0] != modeText && s[0] != modeURL) {
		return 0, 0, 0
	}
	j := 1
	for j < len(s) && s[j] >= '0' && s[j] <= '9' {
		j++
	}
	if j == 1 || j >= len(s) || s[j] != placeholderEnd {
		return 0, 0, 0
	}
	f, err := strconv.Atoi(s[1:j])
	if err != nil {
		return 0, 0, 0
	}
	return f, s[0], j + 1
}

// Render splices one recipient's values into the prepared parts. Values are
// HTML-escaped in the HTML part, URL-escaped inside URLs, and control
// characters (CR, LF, …) become spaces everywhere, so no value can inject
// markup or a header. An empty name becomes the list's fallback.
func (p *Prepared) Render(r Recipient) (Parts, error) {
	if !validURL(r.UnsubscribeURL) || !validURL(r.PreferencesURL) {
		return Parts{}, fmt.Errorf("rendering issue %d: unsubscribe and preferences links must be absolute http(s) URLs: %w", p.IssueID, ErrInvalidInput)
	}
	var buf [8]string
	vals := buf[:0]
	name := r.Name
	if strings.TrimSpace(name) == "" {
		name = p.fallback
	}
	vals = append(vals, name, r.Email, r.UnsubscribeURL, r.PreferencesURL)
	for _, k := range p.fields.extra {
		vals = append(vals, r.Fields[k])
	}
	extra := 0
	for _, v := range vals {
		extra += len(v)
	}
	return Parts{
		Subject: assemble(p.subject, p.subjLen+extra, vals),
		Text:    assemble(p.text, p.textLen+2*extra, vals),
		HTML:    assemble(p.html, p.htmlLen+2*extra, vals),
	}, nil
}

// UseCRLF makes Render end the lines of Text and HTML with CRLF, as mail
// carries them, so the sender need not copy every message to change them.
// Call it once, right after Prepare and before Render is used.
func (p *Prepared) UseCRLF() {
	p.textLen = toCRLF(p.text, p.textLen)
	p.htmlLen = toCRLF(p.html, p.htmlLen)
}

func toCRLF(segs []segment, size int) int {
	for i, s := range segs {
		c := strings.ReplaceAll(strings.ReplaceAll(s.lit, "\r\n", "\n"), "\n", "\r\n")
		size += len(c) - len(s.lit)
		segs[i].lit = c
	}
	return size
}

func assemble(segs []segment, size int, vals []string) string {
	if len(segs) == 1 {
		return segs[0].lit
	}
	var b strings.Builder
	b.Grow(size)
	for _, s := range segs {
		b.WriteString(s.lit)
		if s.field < 0 {
			continue
		}
		v := vals[s.field]
		switch s.esc {
		case escRaw:
			writeClean(&b, v)
		case escHTML:
			writeHTML(&b, v)
		case escHTMLURL:
			writeHTML(&b, url.QueryEscape(v))
		case escURL:
			b.WriteString(url.QueryEscape(v))
		}
	}
	return b.String()
}

// writeClean writes v with every control character replaced by a space.
func writeClean(b *strings.Builder, v string) {
	start := 0
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < 0x20 || c == 0x7f {
			b.WriteString(v[start:i])
			b.WriteByte(' ')
			start = i + 1
		}
	}
	b.WriteString(v[start:])
}

// writeHTML writes v HTML-escaped (text and quoted attributes), with
// control characters as spaces.
func writeHTML(b *strings.Builder, v string) {
	start := 0
	for i := 0; i < len(v); i++ {
		var rep string
		switch c := v[i]; {
		case c == '<':
			rep = "&lt;"
		case c == '>':
			rep = "&gt;"
		case c == '&':
			rep = "&amp;"
		case c == '"':
			rep = "&#34;"
		case c == '\'':
			rep = "&#39;"
		case c < 0x20 || c == 0x7f:
			rep = " "
		default:
			continue
		}
		b.WriteString(v[start:i])
		b.WriteString(rep)
		start = i + 1
	}
	b.WriteString(v[start:])
}

func validURL(u string) bool {
	if !strings.HasPrefix(u, "https://") && !strings.HasPrefix(u, "http://") {
		return false
	}
	for i := 0; i < len(u); i++ {
		if c := u[i]; c <= ' ' || c == 0x7f || c == '"' || c == '<' || c == '>' || c == '\'' {
			return false
		}
	}
	return true
}
