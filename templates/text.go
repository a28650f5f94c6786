package templates

import (
	"html"
	"strconv"
	"strings"

	"github.com/yuin/goldmark/ast"
	east "github.com/yuin/goldmark/extension/ast"
	"github.com/yuin/goldmark/util"
)

// TextWidth is the default width of text/plain lines in columns: about 35
// full-width characters, what an old phone shows without scrolling.
const TextWidth = 70

// softBreak marks a Markdown soft line break until wrapping decides whether
// it becomes a space (between Latin words) or nothing (between Japanese
// characters).
const softBreak = '\x01'

// textRenderer walks a goldmark tree and writes the text/plain version.
type textRenderer struct {
	m     markdown
	src   []byte
	ph    string // placeholder prefix, "" outside Prepare
	links []string
	seen  map[string]int
}

func (m markdown) text(src []byte, width int, ph string, lr *linkRewrite) string {
	if width <= 0 {
		width = TextWidth
	}
	r := &textRenderer{m: m, src: src, ph: ph, seen: map[string]int{}}
	lines := r.blocks(m.parseLinks(src, lr), width)
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(strings.TrimRight(l, " "))
		b.WriteByte('\n')
	}
	if len(r.links) > 0 {
		b.WriteByte('\n')
		for i, u := range r.links {
			b.WriteString("[" + strconv.Itoa(i+1) + "] " + u + "\n")
		}
	}
	return strings.TrimRight(b.String(), "\n")
}

// blocks renders the block children of n, separated by blank lines unless
// n is a tight list item.
func (r *textRenderer) blocks(n ast.Node, width int) []string {
	var out []string
	tight := false
	if li, ok := n.(*ast.ListItem); ok {
		if l, ok := li.Parent().(*ast.List); ok {
			tight = l.IsTight
		}
	}
	for c := n.FirstChild(); c != nil; c = c.NextSibling() {
		lines := r.block(c, width)
		if len(lines) == 0 {
			continue
		}
		if len(out) > 0 && !tight {
			out = append(out, "")
		}
		out = append(out, lines...)
	}
	return out
}

func (r *textRenderer) block(n ast.Node, width int) []string {
	switch n := n.(type) {
	case *ast.Paragraph, *ast.TextBlock:
		return wrap(r.inlines(n), width, r.ph)
	case *ast.Heading:
		return wrap("■"+r.inlines(n), width, r.ph)
	case *ast.List:
		return r.list(n, width)
	case *ast.Blockquote:
		return prefix(r.blocks(n, width-2), "> ", "> ")
	case *ast.FencedCodeBlock, *ast.CodeBlock:
		return prefix(r.rawLines(n), "  ", "  ")
	case *ast.HTMLBlock:
		// Keep the words of pasted HTML, never its tags.
		s := html.UnescapeString(r.m.strict.Sanitize(strings.Join(r.rawLines(n), "\n")))
		return wrap(strings.TrimSpace(s), width, r.ph)
	case *ast.ThematicBreak:
		return []string{"────────────"}
	case *east.Table:
		return r.table(n, width)
	default:
		return r.blocks(n, width)
	}
}

func (r *textRenderer) list(l *ast.List, width int) []string {
	var out []string
	num := l.Start
	for c := l.FirstChild(); c != nil; c = c.NextSibling() {
		marker := "・"
		if l.IsOrdered() {
			marker = strconv.Itoa(num) + ". "
			num++
		}
		w := strWidth(marker)
		if !l.IsTight && len(out) > 0 {
			out = append(out, "")
		}
		out = append(out, prefix(r.blocks(c, width-w), marker, strings.Repeat(" ", w))...)
	}
	return out
}

func (r *textRenderer) table(t *east.Table, width int) []string {
	var out []string
	for row := t.FirstChild(); row != nil; row = row.NextSibling() {
		var cells []string
		for c := row.FirstChild(); c != nil; c = c.NextSibling() {
			cells = append(cells, strings.TrimSpace(r.inlines(c)))
		}
		out = append(out, wrap(strings.Join(cells, " | "), width, r.ph)...)
		if _, ok := row.(*east.TableHeader); ok {
			out = append(out, "──────")
		}
	}
	return out
}

func (r *textRenderer) rawLines(n ast.Node) []string {
	var out []string
	lines := n.Lines()
	for i := 0; i < lines.Len(); i++ {
		seg := lines.At(i)
		out = append(out, strings.TrimRight(string(seg.Value(r.src)), "\r\n"))
	}
	return out
}

// inlines renders n's inline children to one string with '\n' for hard
// breaks and softBreak for soft ones.
func (r *textRenderer) inlines(n ast.Node) string {
	var b strings.Builder
	r.inline(&b, n)
	return b.String()
}

func (r *textRenderer) inline(b *strings.Builder, n ast.Node) {
	for c := n.FirstChild(); c != nil; c = c.NextSibling() {
		switch c := c.(type) {
		case *ast.Text:
			v := c.Value(r.src)
			if !c.IsRaw() {
				v = util.ResolveEntityNames(util.ResolveNumericReferences(util.UnescapePunctuations(v)))
			}
			b.Write(v)
			switch {
			case c.HardLineBreak():
				b.WriteByte('\n')
			case c.SoftLineBreak():
				b.WriteByte(softBreak)
			}
		case *ast.String:
			b.Write(c.Value)
		case *ast.AutoLink:
			u := string(c.URL(r.src))
			if c.AutoLinkType == ast.AutoLinkEmail {
				u = string(c.Label(r.src))
			}
			b.WriteString(r.urlContext(u))
		case *ast.Link:
			r.link(b, c, string(c.Destination))
		case *ast.Image:
			r.link(b, c, string(c.Destination))
		case *east.TaskCheckBox:
			if c.IsChecked {
				b.WriteString("[x] ")
			} else {
				b.WriteString("[ ] ")
			}
		case *ast.RawHTML:
			// Tags are dropped; the text between them is in Text nodes.
		default:
			r.inline(b, c)
		}
	}
}

// link writes the link text and a footnote mark; a link whose text is its
// own URL is written once, inline.
func (r *textRenderer) link(b *strings.Builder, n ast.Node, dest string) {
	text := r.inlines(n)
	dest = r.urlContext(dest)
	if text == dest || "mailto:"+text == dest || strings.TrimSpace(dest) == "" {
		b.WriteString(text)
		return
	}
	i, ok := r.seen[dest]
	if !ok {
		r.links = append(r.links, dest)
		i = len(r.links)
		r.seen[dest] = i
	}
	b.WriteString(text + "[" + strconv.Itoa(i) + "]")
}

// urlContext marks the placeholders in a URL so that Render URL-escapes the
// values it puts there.
func (r *textRenderer) urlContext(u string) string {
	if r.ph == "" {
		return u
	}
	return strings.ReplaceAll(u, r.ph+string(modeText), r.ph+string(modeURL))
}

func prefix(lines []string, first, rest string) []string {
	for i := range lines {
		p := rest
		if i == 0 {
			p = first
		}
		if lines[i] == "" && i > 0 {
			lines[i] = strings.TrimRight(p, " ")
			continue
		}
		lines[i] = p + lines[i]
	}
	return lines
}
