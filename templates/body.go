package templates

import (
	"fmt"
	"strings"
	"text/template/parse"
)

// Placeholders: Prepare renders an issue once with an opaque ASCII token
// where each personal value goes, and Render splices the values in. A token
// is prefix + mode + field number + placeholderEnd, e.g. "Kwrbn1a2b3c4d5e6fT0Q".
// It is letters and digits only, so Markdown, the sanitiser, html/template
// and URL escaping all leave it alone. The prefix is random per Prepare, so
// an editor cannot forge one.
const (
	modeText       = 'T' // a value in running text
	modeURL        = 'U' // a value inside a URL (text part): URL-escaped
	placeholderEnd = 'Q'
)

// Fixed field numbers; Fields keys follow from fieldFirstExtra.
const (
	fieldName = iota
	fieldEmail
	fieldUnsubscribe
	fieldPreferences
	fieldFirstExtra
)

// fieldSet numbers the personal fields one issue uses.
type fieldSet struct {
	prefix string
	extra  []string // Fields keys, numbered from fieldFirstExtra
}

func (f *fieldSet) token(field int, mode byte) string {
	return fmt.Sprintf("%s%c%d%c", f.prefix, mode, field, placeholderEnd)
}

func (f *fieldSet) extraField(key string) int {
	for i, k := range f.extra {
		if k == key {
			return fieldFirstExtra + i
		}
	}
	f.extra = append(f.extra, key)
	return fieldFirstExtra + len(f.extra) - 1
}

// personalise replaces the template actions in an editor's text (subject or
// Markdown body) with placeholders. Only {{ .Name }}, {{ .Email }},
// {{ .Fields.key }} and string constants ({{ "{{" }}) are allowed: anything
// else (conditions, functions) would be evaluated once per issue, not once
// per recipient, and is refused with its line and column.
func (f *fieldSet) personalise(file, src string) (string, error) {
	if !strings.Contains(src, "{{") {
		return src, nil
	}
	trees, err := parse.Parse(file, src, "", "", map[string]any{})
	if err != nil {
		return "", templateError(file, err)
	}
	tree := trees[file]
	if tree == nil || tree.Root == nil || len(trees) > 1 {
		return "", &TemplateError{File: file, Msg: "{{define}} and {{block}} are not allowed here"}
	}
	var b strings.Builder
	for _, n := range tree.Root.Nodes {
		switch n := n.(type) {
		case *parse.TextNode:
			b.Write(n.Text)
		case *parse.ActionNode:
			s, err := f.action(n)
			if err != nil {
				loc, _ := tree.ErrorContext(n)
				return "", templateError(file, fmt.Errorf("template: %s: %s", loc, err))
			}
			b.WriteString(s)
		default:
			loc, _ := tree.ErrorContext(n)
			return "", templateError(file, fmt.Errorf("template: %s: only {{ .Name }}, {{ .Email }} and {{ .Fields.key }} are allowed", loc))
		}
	}
	return b.String(), nil
}

func (f *fieldSet) action(n *parse.ActionNode) (string, error) {
	p := n.Pipe
	if p == nil || len(p.Decl) > 0 || len(p.Cmds) != 1 || len(p.Cmds[0].Args) != 1 {
		return "", fmt.Errorf("only {{ .Name }}, {{ .Email }} and {{ .Fields.key }} are allowed, not %s", n)
	}
	switch a := p.Cmds[0].Args[0].(type) {
	case *parse.StringNode:
		return a.Text, nil
	case *parse.FieldNode:
		switch {
		case len(a.Ident) == 1 && a.Ident[0] == "Name":
			return f.token(fieldName, modeText), nil
		case len(a.Ident) == 1 && a.Ident[0] == "Email":
			return f.token(fieldEmail, modeText), nil
		case len(a.Ident) == 2 && a.Ident[0] == "Fields":
			return f.token(f.extraField(a.Ident[1]), modeText), nil
		}
		return "", fmt.Errorf("unknown field %s (use .Name, .Email or .Fields.key)", a)
	}
	return "", fmt.Errorf("only {{ .Name }}, {{ .Email }} and {{ .Fields.key }} are allowed, not %s", n)
}
