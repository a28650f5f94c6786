// Package templates turns what editors write into what subscribers read.
//
// It owns the per-list layouts (header and footer around an issue, in an
// HTML and a text/plain version) and the system mails (confirmation,
// welcome, goodbye), all Go templates embedded in the binary and
// overridable, file by file, from a directory. Every template is parsed and
// executed against sample data when the Set is built and when an editor
// saves one (Check), so a syntax error or an unknown field is reported with
// its file and line and a broken template is never used at send time.
//
// An issue body is Markdown. It becomes sanitised HTML (goldmark, then
// bluemonday) and a readable text/plain version: links as numbered
// footnotes, lines wrapped for small screens counting East Asian width, with
// light Japanese line-breaking rules (kinsoku). The body may name the
// subscriber ({{ .Name }}, {{ .Email }}, {{ .Fields.key }}).
//
// Sending is fast because the work is split: Prepare renders an issue once,
// leaving opaque placeholders where personal values go, and Render only
// splices each recipient's escaped values into the pre-rendered parts.
//
// The package builds no MIME message, encodes no charset and sends nothing:
// package mailer does, and decides alone whether a message can go as
// ISO-2022-JP (docs/ENCODINGS.md).
package templates

import (
	"embed"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"
	texttemplate "text/template"
)

//go:embed files
var embedded embed.FS

// Sentinel errors; callers branch on them with errors.Is.
var (
	// ErrTemplate reports a template that does not parse or execute; the
	// error is a *TemplateError naming the file and line.
	ErrTemplate = errors.New("template error")
	// ErrUnknownTemplate reports a template name the Set does not know.
	ErrUnknownTemplate = errors.New("unknown template")
	// ErrInvalidInput reports an issue or recipient that cannot be rendered
	// (subject with a line break, bad unsubscribe URL).
	ErrInvalidInput = errors.New("invalid input")
	// ErrMissingLegal reports a list without the sender details the law
	// (特定電子メール法) requires in every mail: name, postal address, contact.
	ErrMissingLegal = errors.New("list lacks the sender's name, postal address or contact")
)

// TemplateError locates a template problem. Error() reads "file:line: msg".
type TemplateError struct {
	File   string
	Line   int
	Column int // 0 when unknown
	Msg    string
}

// Error formats the location and the problem.
func (e *TemplateError) Error() string {
	if e.Column > 0 {
		return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Column, e.Msg)
	}
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return e.File + ": " + e.Msg
}

// Unwrap makes errors.Is(err, ErrTemplate) true.
func (e *TemplateError) Unwrap() error { return ErrTemplate }

// goTemplateErr matches the location in text/template and html/template
// errors: "template: NAME:LINE:COL: msg" and "html/template:NAME:LINE:COL: msg".
var goTemplateErr = regexp.MustCompile(`(?s)^(?:html/)?template: ?([^:]+):(\d+):(?:(\d+):)?\s*(.*)$`)

// templateError turns a Go template error into a *TemplateError for file.
func templateError(file string, err error) error {
	if m := goTemplateErr.FindStringSubmatch(err.Error()); m != nil {
		line, _ := strconv.Atoi(m[2])
		col, _ := strconv.Atoi(m[3])
		msg := m[4]
		if m[1] != file {
			msg = m[1] + ": " + msg
		}
		return &TemplateError{File: file, Line: line, Column: col, Msg: msg}
	}
	return &TemplateError{File: file, Msg: err.Error()}
}

// Options configures a Set. The zero value uses only the embedded templates.
type Options struct {
	// Dir holds overrides: a file there with the same name as an embedded
	// one (layout.html.tmpl, system/welcome.ja.txt.tmpl, …) replaces it, and
	// lists/SLUG/layout.html.tmpl or layout.txt.tmpl is that list's own layout.
	Dir string
	// Logger notes which overrides are in use (nil = discard).
	Logger *slog.Logger
}

// Set is the checked, parsed templates. It is safe for concurrent use.
type Set struct {
	html   map[string]*htmltemplate.Template
	text   map[string]*texttemplate.Template
	md     markdown
	log    *slog.Logger
	source map[string]string // name → "embedded" or the override path
}

// Names of the templates a Set always has.
const (
	LayoutHTML = "layout.html.tmpl"
	LayoutText = "layout.txt.tmpl"
)

// SystemNames returns the names of the system mails System renders.
func SystemNames() []string { return []string{"confirmation", "welcome", "goodbye"} }

var listLayout = regexp.MustCompile(`^lists/[a-z0-9][a-z0-9_-]*/layout\.(html|txt)\.tmpl$`)

// known reports whether name is a template file name the Set accepts.
func known(name string) bool {
	if name == LayoutHTML || name == LayoutText || listLayout.MatchString(name) {
		return true
	}
	for _, n := range SystemNames() {
		if name == "system/"+n+".ja.txt.tmpl" || name == "system/"+n+".en.txt.tmpl" {
			return true
		}
	}
	return false
}

// New parses and checks the embedded templates and the overrides in
// opt.Dir. A broken or unknown override is refused with its file and line.
func New(opt Options) (*Set, error) {
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	s := &Set{
		html:   map[string]*htmltemplate.Template{},
		text:   map[string]*texttemplate.Template{},
		md:     newMarkdown(),
		log:    opt.Logger,
		source: map[string]string{},
	}
	sub, err := fs.Sub(embedded, "files")
	if err != nil {
		return nil, fmt.Errorf("loading embedded templates: %w", err)
	}
	if err := s.load(sub, "embedded"); err != nil {
		return nil, fmt.Errorf("embedded templates: %w", err)
	}
	if opt.Dir != "" {
		if err := s.load(os.DirFS(opt.Dir), opt.Dir); err != nil {
			return nil, fmt.Errorf("templates directory %s: %w", opt.Dir, err)
		}
	}
	return s, nil
}

func (s *Set) load(fsys fs.FS, origin string) error {
	var names []string
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() && strings.HasSuffix(p, ".tmpl") {
			names = append(names, p)
		}
		return nil
	})
	if err != nil {
		return err
	}
	sort.Strings(names)
	var errs []error
	for _, name := range names {
		src, err := fs.ReadFile(fsys, name)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if err := s.add(name, string(src)); err != nil {
			errs = append(errs, err)
			continue
		}
		s.source[name] = origin
		if origin != "embedded" {
			s.log.Info("template override", "template", name, "dir", origin)
		}
	}
	return errors.Join(errs...)
}

// add checks src as template name and keeps it.
func (s *Set) add(name, src string) error {
	h, t, err := parseChecked(name, src)
	if err != nil {
		return err
	}
	if h != nil {
		s.html[name] = h
	} else {
		s.text[name] = t
	}
	return nil
}

// Check parses src as the template file name (as named in Options.Dir, e.g.
// "layout.html.tmpl" or "system/welcome.ja.txt.tmpl") and executes it
// against sample data, without changing the Set. An error names the file
// and line (*TemplateError). Layouts must also keep the legally required
// footer: sender name, postal address, contact, unsubscribe and preferences
// links.
func (s *Set) Check(name, src string) error {
	_, _, err := parseChecked(name, src)
	return err
}

// Source says where template name was loaded from: "embedded" or the
// override directory; "" when the Set does not have it.
func (s *Set) Source(name string) string { return s.source[name] }

func parseChecked(name, src string) (*htmltemplate.Template, *texttemplate.Template, error) {
	name = path.Clean(name)
	if !known(name) {
		return nil, nil, fmt.Errorf("%s: %w (want layout.html.tmpl, layout.txt.tmpl, lists/SLUG/layout.*.tmpl or system/NAME.ja|en.txt.tmpl)", name, ErrUnknownTemplate)
	}
	if strings.HasSuffix(name, ".html.tmpl") {
		h, err := htmltemplate.New(name).Option("missingkey=error").Parse(src)
		if err != nil {
			return nil, nil, templateError(name, err)
		}
		var b strings.Builder
		if err := h.Execute(&b, sampleLayout()); err != nil {
			return nil, nil, templateError(name, err)
		}
		return h, nil, checkLegal(name, b.String())
	}
	t, err := texttemplate.New(name).Option("missingkey=error").Parse(src)
	if err != nil {
		return nil, nil, templateError(name, err)
	}
	var b strings.Builder
	if strings.HasPrefix(name, "system/") {
		if t.Lookup("subject") == nil {
			return nil, nil, &TemplateError{File: name, Msg: `no {{define "subject"}} block`}
		}
		if err := t.ExecuteTemplate(io.Discard, "subject", sampleSystem()); err != nil {
			return nil, nil, templateError(name, err)
		}
		if err := t.Execute(&b, sampleSystem()); err != nil {
			return nil, nil, templateError(name, err)
		}
		return nil, t, nil
	}
	if err := t.Execute(&b, sampleLayout()); err != nil {
		return nil, nil, templateError(name, err)
	}
	return nil, t, checkLegal(name, b.String())
}

// checkLegal refuses a layout whose output drops part of the footer the
// 特定電子メール法 requires in every mail.
func checkLegal(name, out string) error {
	d := sampleLayout()
	var missing []string
	for _, f := range []struct{ what, v string }{
		{"sender name (.List.FromName)", d.List.FromName},
		{"postal address (.List.PostalAddress)", d.List.PostalAddress},
		{"contact (.List.Contact)", d.List.Contact},
		{"unsubscribe link (.UnsubscribeURL)", d.UnsubscribeURL},
		{"preferences link (.PreferencesURL)", d.PreferencesURL},
	} {
		if !strings.Contains(out, f.v) {
			missing = append(missing, f.what)
		}
	}
	if len(missing) > 0 {
		return &TemplateError{File: name, Msg: "the legally required footer lacks " + strings.Join(missing, ", ")}
	}
	return nil
}
