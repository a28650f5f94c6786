package mailer

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// NonJIS is one character of a draft that ISO-2022-JP cannot carry: it is
// outside JIS X 0208 even after the mappings this package applies (〜 and
// ～, half-width kana and the like encode fine), so a message holding it
// goes out as UTF-8 (jis.go). One such character anywhere
// in an issue, or in a recipient's name, sends that copy as UTF-8
// (docs/ENCODINGS.md), which old phones may show as garbage.
type NonJIS struct {
	Char rune
	// Substitute is the usual replacement that JIS X 0208 has ((1) for ①,
	// (株) for ㈱, 高 for 髙); "" when there is none (emoji).
	Substitute string
	Count      int // occurrences in the text
	Line       int // line of the first occurrence, from 1
	Column     int // its column in characters, from 1
}

// Name is the character's code point as U+XXXX, for a message.
func (n NonJIS) Name() string {
	return "U+" + strings.ToUpper(strconv.FormatInt(int64(n.Char), 16))
}

// CheckJISX0208 names every distinct character of s outside JIS X 0208, in
// order of first appearance, with its usual substitute. An empty result
// means s encodes as ISO-2022-JP.
func CheckJISX0208(s string) []NonJIS {
	if encodesJIS(s) {
		return nil
	}
	// Half-width kana with their voiced marks become full-width first, as
	// jisString does: ｶﾞ is no problem, so positions are counted in
	// the widened text.
	s = widenKana(s)
	idx := map[rune]int{}
	var out []NonJIS
	line, col := 1, 0
	for _, r := range s {
		col++
		if r == '\n' {
			line, col = line+1, 0
			continue
		}
		if r < 0x80 && r != 0x1b && r != 0x0e && r != 0x0f {
			continue
		}
		if i, seen := idx[r]; seen {
			out[i].Count++
			continue
		}
		if encodesJIS(string(r)) {
			continue
		}
		idx[r] = len(out)
		out = append(out, NonJIS{Char: r, Substitute: jisSubstitute(r), Count: 1, Line: line, Column: col})
	}
	return out
}

// encodesJIS reports whether s goes out as ISO-2022-JP (jisString).
func encodesJIS(s string) bool {
	_, err := jisString(s)
	return err == nil
}

// SubstituteJISX0208 replaces every character of s that has a usual
// substitute (CheckJISX0208) with it; characters without one stay.
func SubstituteJISX0208(s string) string {
	probs := CheckJISX0208(s)
	if len(probs) == 0 {
		return s
	}
	var pairs []string
	for _, p := range probs {
		if p.Substitute != "" {
			pairs = append(pairs, string(p.Char), p.Substitute)
		}
	}
	return strings.NewReplacer(pairs...).Replace(s)
}

// jisSubstitute finds the usual JIS X 0208 replacement for r: the table of
// machine-dependent characters (NEC row 13, IBM extensions), else the
// compatibility decomposition (NFKC: ﾅ, ㍻ → 平成, ℡ → TEL, ⑴ → (1)),
// else the letter without its accent (é → e). The result is kept only if
// it encodes.
func jisSubstitute(r rune) string {
	candidates := []string{jisSubstitutes[r], norm.NFKC.String(string(r)), stripMarks(r)}
	for _, c := range candidates {
		if c == "" || c == string(r) {
			continue
		}
		if encodesJIS(c) {
			return c
		}
	}
	return ""
}

// stripMarks drops combining marks after canonical decomposition: é → e.
func stripMarks(r rune) string {
	var b strings.Builder
	for _, d := range norm.NFD.String(string(r)) {
		if !unicode.Is(unicode.Mn, d) {
			b.WriteRune(d)
		}
	}
	return b.String()
}

// jisSubstitutes are the replacements Japanese mail software has long
// offered for characters that only some machines have (機種依存文字).
var jisSubstitutes = func() map[rune]string {
	m := map[rune]string{
		// NEC row 13: enclosed numbers are built below; units and eras.
		'㍉': "ミリ", '㌔': "キロ", '㌢': "センチ", '㍍': "メートル", '㌘': "グラム", '㌧': "トン",
		'㌃': "アール", '㌶': "ヘクタール", '㍑': "リットル", '㍗': "ワット", '㌍': "カロリー",
		'㌦': "ドル", '㌣': "セント", '㌫': "パーセント", '㍊': "ミリバール", '㌻': "ページ",
		'㎜': "mm", '㎝': "cm", '㎞': "km", '㎎': "mg", '㎏': "kg", '㏄': "cc", '㎡': "平方メートル",
		'㍻': "平成", '㍼': "昭和", '㍽': "大正", '㍾': "明治", '㋿': "令和",
		'№': "No.", '℡': "TEL", '㏍': "K.K.",
		'㊤': "(上)", '㊥': "(中)", '㊦': "(下)", '㊧': "(左)", '㊨': "(右)",
		'㈱': "(株)", '㈲': "(有)", '㈹': "(代)",
		'〝': "“", '〟': "”",
		// IBM extended kanji and their JIS X 0208 forms.
		'髙': "高", '﨑': "崎", '德': "徳", '瀨': "瀬", '濵': "浜", '桒': "桑", '栁': "柳",
		'昻': "昂", '塚': "塚", '琇': "秀", '凜': "凛", '𠮷': "吉", '隆': "隆",
		'神': "神", '祥': "祥", '福': "福", '都': "都", '館': "館",
		// Others seen in drafts pasted from word processors and the web.
		'–': "－", '•': "・", '©': "(C)", '®': "(R)", '™': "TM", '＂': "”", '＇': "’",
		'￤': "｜", '～': "〜", '\u00A0': " ",
	}
	for i := 0; i < 20; i++ {
		m['①'+rune(i)] = "(" + strconv.Itoa(i+1) + ")"
	}
	roman := []string{"I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X"}
	for i, s := range roman {
		m['Ⅰ'+rune(i)] = s
		m['ⅰ'+rune(i)] = strings.ToLower(s)
	}
	return m
}()

// NonJISSummary lists the characters as "①→(1), 髙→高, 😀" for a log line
// or a short message; sorted by first appearance as CheckJISX0208 returns.
func NonJISSummary(probs []NonJIS) string {
	parts := make([]string, 0, len(probs))
	for _, p := range probs {
		s := string(p.Char)
		if !utf8.ValidRune(p.Char) || unicode.IsSpace(p.Char) || unicode.IsControl(p.Char) {
			s = p.Name()
		}
		if p.Substitute != "" {
			s += "→" + p.Substitute
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, ", ")
}
