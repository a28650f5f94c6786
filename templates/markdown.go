package templates

import (
	"bytes"
	"fmt"

	"github.com/microcosm-cc/bluemonday"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/renderer/html"
	"github.com/yuin/goldmark/text"
)

// markdown bundles the Markdown converter and the HTML sanitiser; both are
// safe for concurrent use once built.
type markdown struct {
	gm     goldmark.Markdown
	policy *bluemonday.Policy
	strict *bluemonday.Policy
}

func newMarkdown() markdown {
	gm := goldmark.New(
		goldmark.WithExtensions(extension.Table, extension.Strikethrough, extension.Linkify, extension.TaskList),
		// Raw HTML is let through goldmark so that bluemonday decides what of
		// it survives; nothing reaches a mail without the sanitiser.
		goldmark.WithRendererOptions(html.WithUnsafe()),
		// A soft line break between Japanese sentences joins them without
		// a space (eastasian.go).
		goldmark.WithRendererOptions(eastAsianHTML()),
	)
	// UGC: no scripts, no event handlers, no style attributes, only http,
	// https and mailto URLs (plus tel for phone numbers), links rel=nofollow.
	p := bluemonday.UGCPolicy()
	p.AllowURLSchemes("tel")
	p.RequireNoReferrerOnLinks(true)
	return markdown{gm: gm, policy: p, strict: bluemonday.StrictPolicy()}
}

func (m markdown) parse(src []byte) ast.Node {
	return m.gm.Parser().Parse(text.NewReader(src))
}

// linkRewrite, when not nil, points an issue's trackable links at the
// click redirect (links.go); ph is the placeholder prefix.
type linkRewrite struct {
	ph    string
	track LinkTracker
}

// parseLinks parses src and applies lr.
func (m markdown) parseLinks(src []byte, lr *linkRewrite) ast.Node {
	doc := m.parse(src)
	if lr != nil && lr.track != nil {
		rewriteLinks(doc, src, lr.ph, lr.track)
	}
	return doc
}

func (m markdown) html(src []byte, lr *linkRewrite) (string, error) {
	var b bytes.Buffer
	if err := m.gm.Renderer().Render(&b, src, m.parseLinks(src, lr)); err != nil {
		return "", fmt.Errorf("rendering Markdown: %w", err)
	}
	return m.policy.Sanitize(b.String()), nil
}

// MarkdownHTML renders Markdown (GFM tables, strikethrough, autolinks, task
// lists) to sanitised HTML with the Set's converter and sanitiser, which
// are built once in New. Template actions such as {{ .Name }} are not
// interpreted: use Prepare for mail and Public for the archive.
func (s *Set) MarkdownHTML(md string) (string, error) {
	return s.md.html([]byte(md), nil)
}

// MarkdownText renders Markdown to the text/plain form used in mail: links
// as numbered footnotes, lines wrapped at width columns (0 = TextWidth),
// counting East Asian wide characters as two.
func (s *Set) MarkdownText(md string, width int) string {
	return s.md.text([]byte(md), width, "", nil)
}
