package mailer

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/width"
)

// jisParts holds the ISO-2022-JP (RFC 1468) forms of a message's text part
// and headers.
type jisParts struct {
	subject, fromName, toName string // RFC 2047 encoded words, folded
	text                      string // 7bit ISO-2022-JP bytes
	longLine                  bool   // a line exceeds 998 octets: use base64
}

// toJIS transcodes the parts of msg that go out as ISO-2022-JP. It fails
// when a character has no JIS X 0208 form (e.g. 𠮷, emoji); the caller then
// sends the message as UTF-8. Half-width katakana are widened first because
// RFC 1468 has no JIS X 0201 katakana.
func toJIS(msg *Message) (*jisParts, error) {
	var j jisParts
	var err error
	if j.text, err = jisString(crlf(msg.Text)); err != nil {
		return nil, fmt.Errorf("text: %w", err)
	}
	for _, line := range strings.Split(j.text, "\r\n") {
		if len(line) > 998 {
			j.longLine = true
		}
	}
	if j.subject, err = jisWords(msg.Subject); err != nil {
		return nil, fmt.Errorf("subject: %w", err)
	}
	if j.fromName, err = jisWords(msg.FromName); err != nil {
		return nil, fmt.Errorf("from name: %w", err)
	}
	if j.toName, err = jisWords(msg.ToName); err != nil {
		return nil, fmt.Errorf("to name: %w", err)
	}
	return &j, nil
}

// jisVariants maps Unicode characters that have a JIS X 0208 counterpart
// under another code point (the Microsoft/WHATWG mapping golang.org/x/text
// uses) to that code point, so that they encode as the character the
// writer meant (docs/ENCODINGS.md). This package is the one place that
// decides whether a message goes as ISO-2022-JP.
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

// errNotJIS is a character outside JIS X 0208: the message goes as UTF-8.
var errNotJIS = errors.New("a character outside JIS X 0208")

func jisString(s string) (string, error) {
	if strings.ContainsAny(s, "\x1b\x0e\x0f") {
		return "", errNotJIS
	}
	s = jisVariants.Replace(widenKana(s))
	out, err := japanese.ISO2022JP.NewEncoder().String(s)
	if err != nil {
		return "", err
	}
	if !onlyJISX0208(out) {
		return "", errNotJIS
	}
	return out, nil
}

// onlyJISX0208 checks that every two-byte character is in rows 1–8 or
// 16–84, the rows JIS X 0208 assigns; x/text also encodes the NEC row 13
// (①, Ⅰ, ㍉) and the IBM rows 89–92 (髙, 﨑), which are not JIS X 0208.
func onlyJISX0208(b string) bool {
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
// or semi-voiced mark with the kana before it (ｶﾞ → ガ, ﾊﾟ → パ): RFC 1468
// has no JIS X 0201 kana.
func widenKana(s string) string {
	if !strings.ContainsFunc(s, isHalfKana) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		i += n
		if !isHalfKana(r) {
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

func isHalfKana(r rune) bool { return r >= 0xFF61 && r <= 0xFF9F }

// jisWords encodes s as RFC 2047 "B" encoded words in ISO-2022-JP, each
// word complete in itself (ending in ASCII, as RFC 1468 asks) and at most 75
// characters (RFC 2047 §2), joined by folding white space. ASCII text is
// returned unchanged.
func jisWords(s string) (string, error) {
	if isASCII(s) {
		return s, nil
	}
	const prefix, suffix, max = "=?ISO-2022-JP?B?", "?=", 75
	var words []string
	var chunk []rune
	var last string
	for _, r := range []rune(s) {
		enc, err := jisString(string(append(chunk, r)))
		if err != nil {
			return "", err
		}
		if len(chunk) > 0 && len(prefix)+base64.StdEncoding.EncodedLen(len(enc))+len(suffix) > max {
			words = append(words, prefix+base64.StdEncoding.EncodeToString([]byte(last))+suffix)
			chunk = chunk[:0]
			if enc, err = jisString(string(r)); err != nil {
				return "", err
			}
		}
		chunk = append(chunk, r)
		last = enc
	}
	if len(chunk) > 0 {
		words = append(words, prefix+base64.StdEncoding.EncodeToString([]byte(last))+suffix)
	}
	return strings.Join(words, "\r\n "), nil
}
