package templates

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/width"
)

// runeWidth is the number of columns r takes on a Japanese phone: East
// Asian wide, fullwidth and ambiguous characters take two.
func runeWidth(r rune) int {
	if r < 0x80 {
		return 1
	}
	if unicode.In(r, unicode.Mn, unicode.Me, unicode.Cf) {
		return 0
	}
	switch width.LookupRune(r).Kind() {
	case width.EastAsianWide, width.EastAsianFullwidth, width.EastAsianAmbiguous:
		return 2
	}
	return 1
}

// breakable reports whether a line may break before and after r without a
// space, as between any two Japanese characters. Ambiguous-width letters
// (é, Greek) stay inside their words.
func breakable(r rune) bool {
	if r < 0x80 {
		return false
	}
	switch width.LookupRune(r).Kind() {
	case width.EastAsianWide, width.EastAsianFullwidth, width.EastAsianHalfwidth:
		return true
	}
	return false
}

func strWidth(s string) int {
	n := 0
	for _, r := range s {
		n += runeWidth(r)
	}
	return n
}

// Kinsoku lite: characters that must not begin a line (closing brackets,
// Japanese punctuation, small kana, the long-vowel mark) and those that must
// not end one (opening brackets). They are glued to their neighbour.
const (
	noStart = "、。，．・：；？！゛゜ヽヾゝゞ々ー）］｝」』】〕〉》〙〟’”｠»…‥" +
		"ぁぃぅぇぉっゃゅょゎゕゖァィゥェォッャュョヮヵヶ"
	noEnd = "（［｛「『【〔〈《〘〝‘“｟«"
)

// gluesCounter reports whether r keeps the next character on its line: a
// digit holds its counter (12月, 3日, 10時, ５名) and 第 its number (第3回),
// so that a date or a time is never split across lines.
func gluesCounter(r rune) bool {
	return ('0' <= r && r <= '9') || ('０' <= r && r <= '９') || r == '第'
}

// atom is a piece of a line that is never split: a Latin word or URL, one
// Japanese character with its glued punctuation, or a space.
type atom struct {
	s     string
	w     int
	space bool
}

// placeholderWidth is the width wrapping assumes for a personal value.
const placeholderWidth = 8

// wrap splits s (with '\n' hard breaks and softBreak marks) into lines of
// at most width columns. Words and URLs are never broken; a single one
// wider than width gets a line of its own. ph is the placeholder prefix
// (see Prepare), whose tokens count as placeholderWidth columns.
func wrap(s string, width int, ph string) []string {
	if width < 4 {
		width = 4
	}
	s = resolveSoftBreaks(s)
	var out []string
	for _, para := range strings.Split(s, "\n") {
		out = append(out, fill(atoms(para, ph), width)...)
	}
	return out
}

// resolveSoftBreaks joins lines of a Markdown paragraph as the HTML part
// does (wideBreakRemoved): nothing between two Japanese characters, a space
// between Latin words.
func resolveSoftBreaks(s string) string {
	if strings.IndexByte(s, softBreak) < 0 {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != softBreak {
			b.WriteByte(s[i])
			continue
		}
		prev := lastRuneBeforeFootnote(s[:i])
		next, _ := utf8.DecodeRuneInString(s[i+1:])
		if !wideBreakRemoved(prev, next) {
			b.WriteByte(' ')
		}
	}
	return b.String()
}

func atoms(s, ph string) []atom {
	var as []atom
	glueNext := false
	push := func(a atom) {
		if len(as) > 0 && !a.space && !as[len(as)-1].space && glueNext {
			as[len(as)-1].s += a.s
			as[len(as)-1].w += a.w
		} else {
			as = append(as, a)
		}
	}
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == ' ' || r == '\t':
			as = append(as, atom{s: " ", w: 1, space: true})
			glueNext = false
			i += size
		case breakable(r):
			a := atom{s: s[i : i+size], w: runeWidth(r)}
			if strings.ContainsRune(noStart, r) {
				glueNext = true
			}
			push(a)
			glueNext = strings.ContainsRune(noEnd, r) || gluesCounter(r)
			i += size
		default:
			j := i
			for j < len(s) {
				r2, sz := utf8.DecodeRuneInString(s[j:])
				if r2 == ' ' || r2 == '\t' || breakable(r2) {
					break
				}
				j += sz
			}
			word := s[i:j]
			if footnoteMark(word) {
				glueNext = true // a link's footnote mark stays with its words
			}
			push(atom{s: word, w: wordWidth(word, ph)})
			last, _ := utf8.DecodeLastRuneInString(word)
			glueNext = gluesCounter(last)
			i = j
		}
	}
	return as
}

func wordWidth(w, ph string) int {
	if ph == "" || !strings.Contains(w, ph) {
		return strWidth(w)
	}
	n := 0
	for w != "" {
		i := strings.Index(w, ph)
		if i < 0 {
			n += strWidth(w)
			break
		}
		n += strWidth(w[:i]) + placeholderWidth
		w = w[i+len(ph):]
		if j := strings.IndexByte(w, placeholderEnd); j >= 0 {
			w = w[j+1:]
		}
	}
	return n
}

func fill(as []atom, width int) []string {
	var (
		out     []string
		line    strings.Builder
		lw      int
		pending bool // a space waits to be written before the next atom
	)
	for _, a := range as {
		if a.space {
			pending = lw > 0
			continue
		}
		sp := 0
		if pending {
			sp = 1
		}
		if lw > 0 && lw+sp+a.w > width {
			out = append(out, line.String())
			line.Reset()
			lw, sp = 0, 0
		}
		if sp == 1 {
			line.WriteByte(' ')
		}
		line.WriteString(a.s)
		lw += sp + a.w
		pending = false
	}
	return append(out, line.String())
}

// lastRuneBeforeFootnote is the last character of s, looking through a
// trailing footnote mark "[n]" that the text part added after a link's
// words: 「リンク[1]⏎です」 joins like 「リンク⏎です」.
func lastRuneBeforeFootnote(s string) rune {
	if i := strings.LastIndexByte(s, '['); i >= 0 && strings.HasSuffix(s, "]") && footnoteMark(s[i:]) {
		s = s[:i]
	}
	r, _ := utf8.DecodeLastRuneInString(s)
	return r
}

// footnoteMark reports whether w begins with a footnote mark such as "[12]".
func footnoteMark(w string) bool {
	if !strings.HasPrefix(w, "[") {
		return false
	}
	end := strings.IndexByte(w, ']')
	return end > 1 && strings.Trim(w[1:end], "0123456789") == ""
}
