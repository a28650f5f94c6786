package templates

import (
	"encoding/base64"
	"strings"
)

// maxWordBytes is the most ISO-2022-JP bytes one RFC 2047 encoded-word
// carries: "=?ISO-2022-JP?B?" + base64 + "?=" stays within 75 characters
// (RFC 2047 §2) when base64 has at most 56 characters, i.e. 42 bytes.
const maxWordBytes = 42

// EncodeHeaderISO2022JP encodes a header value (a subject, a display name)
// as RFC 2047 "B" encoded-words in ISO-2022-JP, folded with CRLF SP between
// words. Every word is a complete ISO-2022-JP text that ends in ASCII, as
// RFC 1468 and RFC 2047 §5 require, and no character is split between
// words. Printable ASCII is returned unchanged. ok is false when
// EncodeISO2022JP refuses s; the caller then encodes the header as UTF-8.
func EncodeHeaderISO2022JP(s string) (string, bool) {
	if isPrintableASCII(s) {
		return s, true
	}
	b, ok := EncodeISO2022JP(s)
	if !ok {
		return "", false
	}
	var (
		words    []string
		cur      []byte
		curJIS   bool // the mode the current word is in
		streamJS bool // the mode of the next character in b
	)
	flush := func() {
		if curJIS {
			cur = append(cur, 0x1b, '(', 'B')
		}
		words = append(words, "=?ISO-2022-JP?B?"+base64.StdEncoding.EncodeToString(cur)+"?=")
		cur, curJIS = cur[:0], false
	}
	for i := 0; i < len(b); {
		if b[i] == 0x1b && i+2 < len(b) {
			streamJS = b[i+1] == '$'
			i += 3
			continue
		}
		n, need := 1, 1
		if streamJS {
			n, need = 2, 2+3 // the character and the closing ESC ( B
		}
		if curJIS != streamJS {
			need += 3
		}
		if len(cur)+need > maxWordBytes && len(cur) > 0 {
			flush()
		}
		if curJIS != streamJS {
			if streamJS {
				cur = append(cur, 0x1b, '$', 'B')
			} else {
				cur = append(cur, 0x1b, '(', 'B')
			}
			curJIS = streamJS
		}
		cur = append(cur, b[i:min(i+n, len(b))]...)
		i += n
	}
	if len(cur) > 0 {
		flush()
	}
	return strings.Join(words, "\r\n "), true
}

func isPrintableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}
