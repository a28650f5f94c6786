package progress

import (
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// checkReport validates the lines of a report against the bureau's
// projects and returns them normalised by project key. partial (the admin
// form) lets a project go without a line; the bureau's form must give a
// status for each.
func checkReport(projects []ProjectReport, in []ReportInput, partial bool) (map[string]ReportInput, error) {
	known := make(map[string]bool, len(projects))
	for _, p := range projects {
		known[p.Key] = true
	}
	var probs []ReportProblem
	lines := map[string]ReportInput{}
	for _, l := range in {
		if !known[l.Project] {
			probs = append(probs, ReportProblem{Project: l.Project, Field: "project", Code: "unknown"})
			continue
		}
		l.Note = NormaliseNote(l.Note)
		l.Link = strings.TrimSpace(l.Link)
		if partial && l.Status == "" && l.Note == "" && l.Link == "" {
			continue
		}
		probs = append(probs, checkLine(l)...)
		lines[l.Project] = l
	}
	if !partial {
		for _, p := range projects {
			if _, ok := lines[p.Key]; !ok && !hasProblem(probs, p.Key, "status") {
				probs = append(probs, ReportProblem{Project: p.Key, Field: "status", Code: "missing"})
			}
		}
	}
	if len(probs) > 0 {
		return nil, &ReportError{Problems: probs}
	}
	return lines, nil
}

func hasProblem(probs []ReportProblem, key, field string) bool {
	for _, p := range probs {
		if p.Project == key && p.Field == field {
			return true
		}
	}
	return false
}

func checkLine(l ReportInput) []ReportProblem {
	var probs []ReportProblem
	switch {
	case l.Status == "":
		probs = append(probs, ReportProblem{Project: l.Project, Field: "status", Code: "missing"})
	case !l.Status.Valid():
		probs = append(probs, ReportProblem{Project: l.Project, Field: "status", Code: "unknown"})
	}
	switch {
	case utf8.RuneCountInString(l.Note) > MaxNoteRunes:
		probs = append(probs, ReportProblem{Project: l.Project, Field: "note", Code: "too-long"})
	case strings.IndexFunc(l.Note, badRune) >= 0:
		probs = append(probs, ReportProblem{Project: l.Project, Field: "note", Code: "control-chars"})
	}
	if l.Link != "" && !goodLink(l.Link) {
		probs = append(probs, ReportProblem{Project: l.Project, Field: "link", Code: "not-http"})
	}
	return probs
}

// NormaliseNote is how a note is stored: NFC, line ends as "\n", no
// surrounding white space, trailing spaces of lines removed.
func NormaliseNote(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRightFunc(l, unicode.IsSpace)
	}
	return strings.TrimSpace(norm.NFC.String(strings.Join(lines, "\n")))
}

// badRune refuses control characters other than line feed and tab, and
// the bidirectional overrides that can disguise text.
func badRune(r rune) bool {
	if r == '\n' || r == '\t' {
		return false
	}
	return unicode.IsControl(r) || (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069) || r == utf8.RuneError
}

// goodLink accepts an absolute http or https URL with a host, short, with
// nothing that would break out of Markdown or HTML.
func goodLink(s string) bool {
	if len(s) > MaxLinkBytes || strings.ContainsAny(s, " \t\n<>\"'`\\") {
		return false
	}
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" && u.User == nil
}
