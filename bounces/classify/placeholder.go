// Package classify parses bounce messages and tells what happened.
//
// This file is a minimal stand-in (RFC 3464 DSNs and RFC 5965 ARF only) used
// by package bounces until the real classifier lands; it keeps the same API.
package classify

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/textproto"
	"strings"

	"github.com/emersion/go-message"
	_ "github.com/emersion/go-message/charset" // charsets for headers and text parts
)

// Class is what a message means for the recipient it names.
type Class string

// The classes, exactly as the contract names them.
const (
	Hard      Class = "hard"
	Soft      Class = "soft"
	AutoReply Class = "autoreply"
	Complaint Class = "complaint"
	Delivered Class = "delivered"
	Other     Class = "other"
)

// Recipient is one recipient a report talks about.
type Recipient struct {
	Address, Status                       string
	Class                                 Class
	Action, Diagnostic, RemoteMTA, Reason string
}

// Report is what Parse found in one message.
type Report struct {
	Class                    Class
	Recipients               []Recipient
	EnvelopeTo               []string
	OriginalMessageID        string
	OriginalHeaders          map[string][]string
	FeedbackType             string
	MessageID, From, Subject string
	Format                   string
}

// ErrEmpty reports an empty message.
var ErrEmpty = errors.New("empty message")

// Parse classifies one raw message.
func Parse(raw []byte) (*Report, error) {
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil, ErrEmpty
	}
	e, err := message.Read(bytes.NewReader(raw))
	if e == nil {
		return nil, fmt.Errorf("reading message: %w", err)
	}
	r := &Report{Class: Other, Format: "unknown"}
	h := e.Header
	r.MessageID = strings.Trim(strings.TrimSpace(h.Get("Message-Id")), "<>")
	r.From, _ = h.Text("From")
	r.Subject, _ = h.Text("Subject")
	for _, k := range []string{"Delivered-To", "X-Original-To", "To"} {
		for _, v := range h.Values(k) {
			if a := bareAddr(v); a != "" {
				r.EnvelopeTo = append(r.EnvelopeTo, a) // lower-cased: a stand-in only
			}
		}
	}
	walk(e, r)
	if r.Format == "unknown" {
		as := strings.ToLower(h.Get("Auto-Submitted"))
		if strings.HasPrefix(as, "auto-replied") || h.Get("X-Autoreply") != "" {
			r.Class, r.Format = AutoReply, "rfc3834"
		}
	}
	return r, nil
}

func walk(e *message.Entity, r *Report) {
	t, _, _ := e.Header.ContentType()
	switch {
	case strings.HasPrefix(t, "multipart/"):
		mr := e.MultipartReader()
		for {
			p, err := mr.NextPart()
			if err != nil {
				return
			}
			walk(p, r)
		}
	case t == "message/delivery-status" || t == "message/global-delivery-status":
		body, _ := io.ReadAll(e.Body)
		parseDSN(body, r)
	case t == "message/feedback-report":
		body, _ := io.ReadAll(e.Body)
		fields := readFields(body)
		r.Format, r.Class = "arf", Complaint
		if len(fields) > 0 {
			r.FeedbackType = fields[0].Get("Feedback-Type")
		}
		for _, f := range fields {
			if a := bareAddr(f.Get("Original-Rcpt-To")); a != "" {
				r.Recipients = append(r.Recipients, Recipient{Address: a, Class: Complaint})
			}
		}
	case t == "message/rfc822" || t == "message/global" || t == "text/rfc822-headers":
		inner, err := message.Read(e.Body)
		if inner == nil {
			_ = err
			return
		}
		r.OriginalHeaders = map[string][]string{}
		fs := inner.Header.Fields()
		for fs.Next() {
			k := textproto.CanonicalMIMEHeaderKey(fs.Key())
			r.OriginalHeaders[k] = append(r.OriginalHeaders[k], fs.Value())
		}
		r.OriginalMessageID = strings.Trim(strings.TrimSpace(inner.Header.Get("Message-Id")), "<>")
	}
}

func parseDSN(body []byte, r *Report) {
	fields := readFields(body)
	if len(fields) < 2 {
		return
	}
	r.Format = "rfc3464"
	worst := Other
	for _, f := range fields[1:] {
		rc := Recipient{
			Address:    bareAddr(afterType(f.Get("Final-Recipient"))),
			Status:     strings.TrimSpace(f.Get("Status")),
			Action:     strings.ToLower(strings.TrimSpace(f.Get("Action"))),
			Diagnostic: afterType(f.Get("Diagnostic-Code")),
			RemoteMTA:  afterType(f.Get("Remote-MTA")),
		}
		if rc.Address == "" {
			rc.Address = bareAddr(afterType(f.Get("Original-Recipient")))
		}
		rc.Class = classOf(rc.Action, rc.Status)
		if rank(rc.Class) > rank(worst) {
			worst = rc.Class
		}
		r.Recipients = append(r.Recipients, rc)
	}
	r.Class = worst
}

func classOf(action, status string) Class {
	switch {
	case action == "delivered" || action == "relayed" || action == "expanded":
		return Delivered
	case action == "delayed" || strings.HasPrefix(status, "4"):
		return Soft
	case strings.HasPrefix(status, "5") || action == "failed":
		return Hard
	}
	return Other
}

func rank(c Class) int {
	switch c {
	case Hard:
		return 4
	case Soft:
		return 3
	case Delivered:
		return 2
	}
	return 1
}

// readFields splits an RFC 3464 §2.1 body into its header groups.
func readFields(body []byte) []textproto.MIMEHeader {
	var out []textproto.MIMEHeader
	br := bufio.NewReader(bytes.NewReader(body))
	for {
		tr := textproto.NewReader(br)
		h, err := tr.ReadMIMEHeader()
		if len(h) > 0 {
			out = append(out, h)
		}
		if err != nil {
			return out
		}
		// skip extra blank lines between groups
		for {
			b, err := br.Peek(1)
			if err != nil {
				return out
			}
			if b[0] != '\r' && b[0] != '\n' {
				break
			}
			br.ReadByte()
		}
	}
}

func afterType(v string) string {
	if i := strings.IndexByte(v, ';'); i >= 0 {
		return strings.TrimSpace(v[i+1:])
	}
	return strings.TrimSpace(v)
}

func bareAddr(v string) string {
	v = strings.TrimSpace(v)
	if i := strings.LastIndexByte(v, '<'); i >= 0 {
		if j := strings.IndexByte(v[i:], '>'); j > 0 {
			v = v[i+1 : i+j]
		}
	}
	if !strings.Contains(v, "@") {
		return ""
	}
	return strings.ToLower(strings.TrimSpace(v))
}
