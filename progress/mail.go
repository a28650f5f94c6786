package progress

import (
	"bytes"
	"embed"
	"fmt"
	"strings"
	"text/template"
)

//go:embed templates/*.tmpl
var templateFS embed.FS

// mailTemplates holds one parsed template set per mail kind.
type mailTemplates map[string]*template.Template

func parseTemplates() (mailTemplates, error) {
	out := mailTemplates{}
	for _, name := range []string{"reminder", "escalation", "digest"} {
		t, err := template.ParseFS(templateFS, "templates/"+name+".tmpl")
		if err != nil {
			return nil, fmt.Errorf("parsing mail template %s: %w", name, err)
		}
		out[name] = t
	}
	return out, nil
}

// render executes the subject and text of template name with data.
func (s *Store) render(name string, data any) (subject, text string, err error) {
	if s.tmplErr != nil {
		return "", "", s.tmplErr
	}
	t := s.tmpl[name]
	var sb, tb bytes.Buffer
	if err := t.ExecuteTemplate(&sb, "subject", data); err != nil {
		return "", "", fmt.Errorf("rendering %s subject: %w", name, err)
	}
	if err := t.ExecuteTemplate(&tb, "text", data); err != nil {
		return "", "", fmt.Errorf("rendering %s text: %w", name, err)
	}
	// A subject is one line (RFC 5322 section 2.2: no bare CR or LF in a
	// header field body); a title from the file cannot break it.
	return oneLine(sb.String()), tb.String(), nil
}

// oneLine folds any whitespace run, newlines included, into one space.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// systemHeaders go on every reminder and digest besides Auto-Submitted:
// they ask Exchange-style servers not to answer with out-of-office replies.
var systemHeaders = [][2]string{{"X-Auto-Response-Suppress", "All"}}

// projectLine is a project as listed in a mail.
type projectLine struct {
	Measure      int
	MeasureTitle string
	Title        string
}

// reminderData feeds reminder.tmpl and escalation.tmpl.
type reminderData struct {
	BureauName, Person, BureauEmail string
	Title, Due                      string
	DaysLeft, DaysOverdue           int
	Projects                        []projectLine
	SubmitURL, FeedURL              string
	Escalated                       bool
	EscalateAfterDays               int
	FromName                        string
}
