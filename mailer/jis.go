package mailer

import (
	"encoding/base64"
	"fmt"
	"strings"

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

// jisCompat maps characters that Japanese text often carries in a Unicode
// form the WHATWG JIS X 0208 table lacks to the form it has (JIS 0x213D is
// EM DASH in JIS X 0208 but U+2015 in the table).
var jisCompat = strings.NewReplacer("\u2014", "\u2015")

func jisString(s string) (string, error) {
	s = jisCompat.Replace(widenKana(s))
	out, err := japanese.ISO2022JP.NewEncoder().String(s)
	if err != nil {
		return "", err
	}
	return out, nil
}

func widenKana(s string) string {
	if !strings.ContainsFunc(s, isHalfKana) {
		return s
	}
	return width.Widen.String(s)
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
