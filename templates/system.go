package templates

import (
	"fmt"
	"strings"
)

// System renders a system mail: name is one of SystemNames()
// ("confirmation", "welcome", "goodbye"), lang "ja" or "en" (anything else
// falls back to "ja"), data usually a SystemData. System mails are text
// only (Parts.HTML is empty). The progress package keeps its own reminder
// texts.
func (s *Set) System(name, lang string, data any) (Parts, error) {
	if lang != "en" {
		lang = "ja"
	}
	file := "system/" + name + "." + lang + ".txt.tmpl"
	t, ok := s.text[file]
	if !ok {
		return Parts{}, fmt.Errorf("system mail %q: %w", name, ErrUnknownTemplate)
	}
	var subj, body strings.Builder
	if err := t.ExecuteTemplate(&subj, "subject", data); err != nil {
		return Parts{}, templateError(file, err)
	}
	if err := t.Execute(&body, data); err != nil {
		return Parts{}, templateError(file, err)
	}
	subject := strings.TrimSpace(subj.String())
	if strings.ContainsAny(subject, "\r\n") {
		return Parts{}, fmt.Errorf("system mail %q: subject contains a line break: %w", name, ErrInvalidInput)
	}
	return Parts{Subject: subject, Text: strings.TrimRight(body.String(), "\n") + "\n"}, nil
}
