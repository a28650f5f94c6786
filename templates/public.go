package templates

import (
	"fmt"
	"strings"
)

// Public renders an issue for the public archive and its Atom feed: the
// subject and the body only (no layout, no footer, no links of anyone's),
// with {{ .Name }} as the list's fallback and every other personal field
// empty, so no subscriber's data can appear.
func (s *Set) Public(in IssueInput) (Parts, error) {
	if strings.ContainsAny(in.Subject, "\r\n") {
		return Parts{}, fmt.Errorf("rendering issue %d: subject contains a line break: %w", in.IssueID, ErrInvalidInput)
	}
	prefix, err := newPrefix()
	if err != nil {
		return Parts{}, err
	}
	f := fieldSet{prefix: prefix}
	subject, err := f.personalise("subject", in.Subject)
	if err != nil {
		return Parts{}, err
	}
	body, err := f.personalise("body", in.Markdown)
	if err != nil {
		return Parts{}, err
	}
	html, err := s.md.html([]byte(body), nil)
	if err != nil {
		return Parts{}, err
	}
	text := s.md.text([]byte(body), TextWidth, prefix, nil)
	name := in.List.NameFallback
	if name == "" {
		name = "読者"
	}
	vals := make([]string, fieldFirstExtra+len(f.extra))
	vals[fieldName] = name
	out := func(s string, isHTML bool) string {
		segs, n := split(s, prefix, isHTML)
		return assemble(segs, n+len(name)*len(segs), vals)
	}
	return Parts{Subject: out(subject, false), Text: out(text, false), HTML: out(html, true)}, nil
}

// CheckIssue validates what an editor saves before any list is involved: a
// subject without line breaks and personalisation that Prepare accepts
// ({{ .Name }}, {{ .Email }}, {{ .Fields.key }}). Errors name "subject" or
// "body" with the line and column (*TemplateError).
func CheckIssue(subject, markdown string) error {
	if strings.ContainsAny(subject, "\r\n") {
		return fmt.Errorf("subject contains a line break: %w", ErrInvalidInput)
	}
	f := fieldSet{prefix: "Kwrbncheck"}
	if _, err := f.personalise("subject", subject); err != nil {
		return err
	}
	_, err := f.personalise("body", markdown)
	return err
}
