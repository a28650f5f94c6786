package classify

import (
	"bytes"
	"io"
	"mime"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/htmlindex"
	"golang.org/x/text/encoding/japanese"
)

// charsetAliases maps labels seen in Japanese mail that the WHATWG index
// does not know to the encoding they mean.
var charsetAliases = map[string]string{
	"cp932":             "shift_jis",
	"x-cp932":           "shift_jis",
	"sjis-open":         "shift_jis",
	"iso-2022-jp-1":     "iso-2022-jp",
	"iso-2022-jp-2":     "iso-2022-jp",
	"iso-2022-jp-3":     "iso-2022-jp",
	"x-euc-jp":          "euc-jp",
	"eucjp":             "euc-jp",
	"unicode-1-1-utf-7": "utf-8",
}

// lookupEncoding returns the decoder for a charset label, or nil.
func lookupEncoding(label string) encoding.Encoding {
	label = strings.ToLower(strings.Trim(strings.TrimSpace(label), `"'`))
	if a, ok := charsetAliases[label]; ok {
		label = a
	}
	switch label {
	case "", "utf-8", "utf8", "us-ascii", "ascii":
		return nil
	}
	enc, err := htmlindex.Get(label)
	if err != nil {
		return nil
	}
	return enc
}

// decodeText turns a body or header in the given charset into UTF-8. An
// unknown or missing charset is sniffed: ISO-2022-JP by its escape
// sequences, otherwise Shift_JIS or EUC-JP when the bytes are not UTF-8
// (Japanese MTAs and carriers often omit or mislabel the charset).
func decodeText(b []byte, charset string) string {
	if enc := lookupEncoding(charset); enc != nil {
		// Some Japanese senders label ISO-2022-JP text as Shift_JIS or the
		// reverse; trust the escape sequences over the label.
		if hasJISEscape(b) {
			enc = japanese.ISO2022JP
		}
		if out, err := enc.NewDecoder().Bytes(b); err == nil {
			return string(out)
		}
	}
	return sniffDecode(b)
}

// sniffDecode decodes bytes whose charset is unknown.
func sniffDecode(b []byte) string {
	if hasJISEscape(b) {
		if out, err := japanese.ISO2022JP.NewDecoder().Bytes(b); err == nil {
			return string(out)
		}
	}
	if utf8.Valid(b) {
		return string(b)
	}
	enc := japanese.EUCJP
	if looksShiftJIS(b) {
		enc = japanese.ShiftJIS
	}
	if out, err := enc.NewDecoder().Bytes(b); err == nil {
		return string(out)
	}
	return strings.ToValidUTF8(string(b), "\uFFFD")
}

// hasJISEscape reports whether b holds an ISO-2022-JP designation
// (ESC $ B, ESC $ @ or ESC ( J).
func hasJISEscape(b []byte) bool {
	return bytes.Contains(b, []byte("\x1b$B")) || bytes.Contains(b, []byte("\x1b$@")) ||
		bytes.Contains(b, []byte("\x1b(J"))
}

// looksShiftJIS guesses Shift_JIS over EUC-JP: Shift_JIS lead bytes
// 0x81–0x9F never start an EUC-JP character (except the 0x8E/0x8F
// single-shift prefixes).
func looksShiftJIS(b []byte) bool {
	for _, c := range b {
		if c >= 0x81 && c <= 0x9f && c != 0x8e && c != 0x8f {
			return true
		}
	}
	return false
}

// charsetReader adapts decodeText for mime.WordDecoder.
func charsetReader(charset string, input io.Reader) (io.Reader, error) {
	b, err := io.ReadAll(input)
	if err != nil {
		return nil, err
	}
	return strings.NewReader(decodeText(b, charset)), nil
}

// decodeHeader decodes RFC 2047 encoded words and raw 8-bit or ISO-2022-JP
// header text (which some Japanese MTAs send) into UTF-8.
func decodeHeader(s string) string {
	if s == "" {
		return s
	}
	if !utf8.ValidString(s) || strings.Contains(s, "\x1b") {
		s = sniffDecode([]byte(s))
	}
	if !strings.Contains(s, "=?") {
		return s
	}
	d := mime.WordDecoder{CharsetReader: charsetReader}
	out, err := d.DecodeHeader(s)
	if err != nil {
		return s
	}
	return out
}
