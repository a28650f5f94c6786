//go:build e2e

package e2e

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-message"
	"github.com/emersion/go-message/mail"
)

// delivered is one message in a Maildir of the mail stack.
type delivered struct {
	Path    string
	Raw     []byte
	Header  mail.Header
	Subject string // decoded
	Text    string // every text/* part, transfer- and charset-decoded
}

// maildir reads every message delivered to user@example.test (new and
// cur), oldest first. A missing Maildir is an empty one.
func maildir(t *testing.T, user string) []delivered {
	t.Helper()
	var paths []string
	for _, sub := range []string{"new", "cur"} {
		m, _ := filepath.Glob(filepath.Join(mailRoot, user, sub, "*"))
		paths = append(paths, m...)
	}
	sort.Slice(paths, func(i, j int) bool { return filepath.Base(paths[i]) < filepath.Base(paths[j]) })
	var out []delivered
	for _, p := range paths {
		raw, err := os.ReadFile(p)
		if err != nil {
			continue // moved from new to cur meanwhile
		}
		out = append(out, parseMail(t, p, raw))
	}
	return out
}

// parseMail decodes raw enough for the assertions: headers, subject, and
// the text of every text part.
func parseMail(t *testing.T, path string, raw []byte) delivered {
	d := delivered{Path: path, Raw: raw}
	e, err := message.Read(bytes.NewReader(raw))
	if e == nil {
		t.Logf("%s: unreadable message: %v", path, err)
		return d
	}
	d.Header = mail.Header{Header: e.Header}
	d.Subject, _ = d.Header.Subject()
	var text strings.Builder
	_ = e.Walk(func(_ []int, part *message.Entity, err error) error {
		if err != nil && part == nil {
			return nil
		}
		ct, _, _ := part.Header.ContentType()
		if strings.HasPrefix(ct, "text/") {
			b, _ := io.ReadAll(part.Body)
			text.Write(b)
			text.WriteString("\n")
		}
		return nil
	})
	d.Text = text.String()
	return d
}

// matching returns the messages whose subject or text contains s.
func matching(msgs []delivered, s string) []delivered {
	var out []delivered
	for _, m := range msgs {
		if strings.Contains(m.Subject, s) || strings.Contains(m.Text, s) {
			out = append(out, m)
		}
	}
	return out
}

// withSubject returns the messages whose subject contains s.
func withSubject(msgs []delivered, s string) []delivered {
	var out []delivered
	for _, m := range msgs {
		if strings.Contains(m.Subject, s) {
			out = append(out, m)
		}
	}
	return out
}

// waitMail polls user's Maildir until pick returns at least n messages;
// it returns them.
func waitMail(t *testing.T, d *daemon, user string, n int, timeout time.Duration, what string, pick func([]delivered) []delivered) []delivered {
	t.Helper()
	var got []delivered
	if !waitFor(timeout, 250*time.Millisecond, func() bool {
		got = pick(maildir(t, user))
		return len(got) >= n
	}) {
		d.fatalf("%s@example.test: %d message(s) %s, want %d within %s", user, len(got), what, n, timeout)
	}
	return got
}

// linkRE finds http(s) URLs in decoded text.
var linkRE = regexp.MustCompile(`https?://[^\s"'<>)\]]+`)

// link returns the first URL in m's text that starts with prefix.
func link(m delivered, prefix string) string {
	for _, u := range linkRE.FindAllString(m.Text, -1) {
		if strings.HasPrefix(u, prefix) {
			return strings.TrimRight(u, ".,;")
		}
	}
	return ""
}
