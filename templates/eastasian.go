package templates

import (
	"unicode"
	"unicode/utf8"

	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/renderer"
	"github.com/yuin/goldmark/renderer/html"
	"github.com/yuin/goldmark/util"
)

// Japanese is written without spaces between words or sentences, so a line
// break that an editor typed inside a paragraph must vanish when the
// paragraph is joined, while one between two English words must become a
// space. CSS Text Level 3, §4.1.3 "Segment Break Transformation Rules"
// (W3C Working Draft 2020-04-29, the version that still carried them;
// csswg-drafts issue 5086) gives the rules used here for the HTML part, the
// text part and the archive alike.

// wideRune reports whether r has East Asian Width F, W or H (not A) and is
// not Hangul, which CSS treats like a Latin letter here because Korean is
// written with spaces.
func wideRune(r rune) bool {
	return breakable(r) && !unicode.Is(unicode.Hangul, r)
}

// wideBreakRemoved reports whether a soft line break between prev and next
// disappears (true) or becomes a space (false):
//
//  1. a zero-width space on either side removes it;
//  2. wide characters on both sides remove it (「です。⏎次に」, 「12月⏎3日」);
//  3. a wide punctuation mark or U+3000 on either side removes it
//     (「。⏎Access」, 「English⏎（詳細）」);
//  4. (ours) an ASCII digit beside a wide character is removed too
//     (「申込は⏎12月10日まで」);
//  5. anything else becomes a space (「詳しくは⏎https://…」 keeps it, as
//     does any break between two Latin words).
//
// A rune of 0 (nothing there, or markup) keeps the space.
func wideBreakRemoved(prev, next rune) bool {
	if prev == 0 || next == 0 {
		return false
	}
	if prev == '\u200B' || next == '\u200B' {
		return true
	}
	if wideRune(prev) && wideRune(next) {
		return true
	}
	widePunct := func(r rune) bool { return r == '\u3000' || (wideRune(r) && unicode.IsPunct(r)) }
	if widePunct(prev) || widePunct(next) {
		return true
	}
	// An addition to the CSS rules: Japanese sets numbers in its text
	// without spaces (「会場は⏎2階」 reads 「会場は2階」), so an ASCII digit
	// beside a wide character joins too.
	digit := func(r rune) bool { return '0' <= r && r <= '9' }
	return (digit(prev) && wideRune(next)) || (wideRune(prev) && digit(next))
}

// eastAsianText renders Text nodes for the HTML part: goldmark's own Text renderer, except that
// a soft line break follows wideBreakRemoved, looking into the next inline
// node (emphasis, link) for the character that follows.
type eastAsianText struct {
	w html.Writer
}

// RegisterFuncs implements renderer.NodeRenderer.
func (e eastAsianText) RegisterFuncs(reg renderer.NodeRendererFuncRegisterer) {
	reg.Register(ast.KindText, e.render)
}

func (e eastAsianText) render(w util.BufWriter, src []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
	if !entering {
		return ast.WalkContinue, nil
	}
	n := node.(*ast.Text)
	value := n.Segment.Value(src)
	if n.IsRaw() {
		e.w.RawWrite(w, value)
	} else {
		e.w.Write(w, value)
	}
	switch {
	case n.HardLineBreak():
		_, _ = w.WriteString("<br>\n")
	case n.SoftLineBreak():
		prev, _ := utf8.DecodeLastRune(value)
		if len(value) == 0 {
			prev = lastRune(n.PreviousSibling(), src)
		}
		if !wideBreakRemoved(prev, firstRune(n.NextSibling(), src)) {
			_ = w.WriteByte('\n')
		}
	}
	return ast.WalkContinue, nil
}

// firstRune is the first character that n renders, descending into inline
// containers; 0 when there is none or it cannot be known (raw HTML).
func firstRune(n ast.Node, src []byte) rune {
	for ; n != nil; n = n.NextSibling() {
		switch n := n.(type) {
		case *ast.Text:
			v := n.Segment.Value(src)
			if len(v) == 0 {
				continue
			}
			r, _ := utf8.DecodeRune(v)
			return r
		case *ast.String:
			if len(n.Value) == 0 {
				continue
			}
			r, _ := utf8.DecodeRune(n.Value)
			return r
		case *ast.AutoLink:
			r, _ := utf8.DecodeRune(n.Label(src))
			return r
		case *ast.RawHTML:
			return 0
		default:
			if n.HasChildren() {
				return firstRune(n.FirstChild(), src)
			}
			return 0
		}
	}
	return 0
}

// lastRune is the last character that n renders, descending into inline
// containers; 0 when there is none or it cannot be known.
func lastRune(n ast.Node, src []byte) rune {
	for ; n != nil; n = n.PreviousSibling() {
		switch n := n.(type) {
		case *ast.Text:
			v := n.Segment.Value(src)
			if len(v) == 0 {
				continue
			}
			r, _ := utf8.DecodeLastRune(v)
			return r
		case *ast.String:
			if len(n.Value) == 0 {
				continue
			}
			r, _ := utf8.DecodeLastRune(n.Value)
			return r
		case *ast.AutoLink:
			r, _ := utf8.DecodeLastRune(n.Label(src))
			return r
		case *ast.RawHTML:
			return 0
		default:
			if n.HasChildren() {
				return lastRune(n.LastChild(), src)
			}
			return 0
		}
	}
	return 0
}

// eastAsianHTML is the goldmark option that installs eastAsianText above the
// default Text renderer (priority 1000).
func eastAsianHTML() renderer.Option {
	return renderer.WithNodeRenderers(util.Prioritized(eastAsianText{w: html.DefaultWriter}, 100))
}
