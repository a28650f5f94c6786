package templates

import (
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/width"
)

// jisVariants maps Unicode characters that have a JIS X 0208 counterpart
// under another code point (the Microsoft/WHATWG mapping used by
// golang.org/x/text) to that code point, so that they encode as the
// character the writer meant. See docs/ENCODINGS.md.
var jisVariants = strings.NewReplacer(
	"\u301C", "\uFF5E", // 〜 WAVE DASH → ～ (JIS 1-1-33)
	"\u2212", "\uFF0D", // − MINUS SIGN → － (JIS 1-1-61)
	"\u2016", "\u2225", // ‖ DOUBLE VERTICAL LINE → ∥ (JIS 1-1-34)
	"\u2014", "\u2015", // — EM DASH → ― (JIS 1-1-29)
	"\u00A2", "\uFFE0", // ¢ → ￠ (JIS 1-1-81)
	"\u00A3", "\uFFE1", // £ → ￡ (JIS 1-1-82)
	"\u00AC", "\uFFE2", // ¬ → ￢ (JIS 1-2-44)
	"\u00A5", "\uFFE5", // ¥ → ￥ (JIS 1-1-79); ASCII 0x5C stays a backslash
	"\u203E", "\uFFE3", // ‾ → ￣ (JIS 1-1-17)
)

// EncodeISO2022JP encodes s as ISO-2022-JP (RFC 1468: ASCII and JIS X 0208,
// every line ending in ASCII), after the mappings of ForISO2022JP. ok is
// false when any character is outside JIS X 0208 — including the NEC
// special characters (①, Ⅰ, ㍉, № in row 13) and the IBM extensions (髙,
// 﨑), which golang.org/x/text would otherwise emit but which are not JIS X
// 0208; the caller then sends that message as UTF-8 (docs/ENCODINGS.md).
func EncodeISO2022JP(s string) (b []byte, ok bool) {
	if strings.ContainsAny(s, "\x1b\x0e\x0f") {
		return nil, false
	}
	s = widenKana(jisVariants.Replace(s))
	out, err := japanese.ISO2022JP.NewEncoder().Bytes([]byte(s))
	if err != nil || !onlyJISX0208(out) {
		return nil, false
	}
	return out, true
}

// ForISO2022JP prepares UTF-8 text for an encoder that uses the
// golang.org/x/text tables (such as package mailer's): variant code points
// become the ones those tables map to their JIS X 0208 character (〜 U+301C
// → ～ U+FF5E, − U+2212 → － U+FF0D, — U+2014 → ― U+2015, ¥ → ￥ …) and
// half-width katakana become full-width with voiced marks combined (ｶﾞ →
// ガ), as RFC 1468 has no JIS X 0201 kana. ok is false when the text has a
// character outside JIS X 0208 (NEC row 13, IBM extensions, emoji, é…):
// send that message as UTF-8, do not let the encoder emit NEC codes.
func ForISO2022JP(s string) (string, bool) {
	mapped := widenKana(jisVariants.Replace(s))
	if _, ok := EncodeISO2022JP(mapped); !ok {
		return "", false
	}
	return mapped, true
}

// onlyJISX0208 checks that every two-byte character is in rows 1–8 or
// 16–84, the rows JIS X 0208 assigns; x/text also encodes the NEC row 13 and
// the IBM rows 89–92.
func onlyJISX0208(b []byte) bool {
	jis := false
	for i := 0; i < len(b); i++ {
		if b[i] == 0x1b && i+2 < len(b) {
			jis = b[i+1] == '$'
			if b[i+1] == '(' && b[i+2] == 'I' {
				return false
			}
			i += 2
			continue
		}
		if !jis {
			continue
		}
		row := int(b[i]) - 0x20
		if row < 1 || (row > 8 && row < 16) || row > 84 {
			return false
		}
		i++ // second byte of the pair
	}
	return true
}

// widenKana turns half-width katakana into full-width, combining a voiced
// or semi-voiced mark with the kana before it (ｶﾞ → ガ, ﾊﾟ → パ).
func widenKana(s string) string {
	has := false
	for _, r := range s {
		if r >= 0xFF61 && r <= 0xFF9F {
			has = true
			break
		}
	}
	if !has {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		i += n
		if r < 0xFF61 || r > 0xFF9F {
			b.WriteRune(r)
			continue
		}
		w := []rune(width.Widen.String(string(r)))[0]
		next, m := utf8.DecodeRuneInString(s[i:])
		switch {
		case next == 0xFF9E && w == 'ウ':
			w, i = 'ヴ', i+m
		case next == 0xFF9E && strings.ContainsRune("カキクケコサシスセソタチツテトハヒフヘホ", w):
			w, i = w+1, i+m
		case next == 0xFF9F && strings.ContainsRune("ハヒフヘホ", w):
			w, i = w+2, i+m
		}
		b.WriteRune(w)
	}
	return b.String()
}
