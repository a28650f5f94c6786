package mailer

import (
	"encoding/base64"
	"strings"
	"testing"

	"golang.org/x/text/encoding/japanese"
)

func TestJISWords(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, in, want string // want: decoded text; "" means refused
	}{
		{"ascii", "hello world", "hello world"},
		{"kanji", "京都市からのお知らせ", "京都市からのお知らせ"},
		{"half-width kana widened (RFC 1468 has none)", "ｶﾀｶﾅ", "カタカナ"},
		{"em dash mapped", "A—B", "A―B"},
		{"outside JIS X 0208", "𠮷野家", ""},
		{"emoji", "🎉", ""},
		{"long", strings.Repeat("長い件名", 40), strings.Repeat("長い件名", 40)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := jisWords(tc.in)
			if tc.want == "" {
				if err == nil {
					t.Fatalf("jisWords(%q) = %q, want a refusal", tc.in, got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var dec strings.Builder
			for _, w := range strings.Split(got, "\r\n ") {
				if len(w) > 75 {
					t.Errorf("encoded word %q longer than 75 (RFC 2047 §2)", w)
				}
				d, err := decodeWord(w)
				if err != nil {
					t.Fatal(err)
				}
				dec.WriteString(d)
			}
			if dec.String() != tc.want {
				t.Errorf("decoded %q, want %q", dec.String(), tc.want)
			}
		})
	}
}

func decodeWord(w string) (string, error) {
	if !strings.HasPrefix(w, "=?") {
		return w, nil
	}
	b64 := strings.TrimSuffix(strings.TrimPrefix(w, "=?ISO-2022-JP?B?"), "?=")
	raw, err := base64Decode(b64)
	if err != nil {
		return "", err
	}
	if i := strings.LastIndex(string(raw), "\x1b"); i >= 0 && !strings.HasPrefix(string(raw[i:]), "\x1b(B") {
		return "", errString("encoded word does not end in ASCII (RFC 1468)")
	}
	return japanese.ISO2022JP.NewDecoder().String(string(raw))
}

type errString string

func (e errString) Error() string { return string(e) }

func base64Decode(s string) ([]byte, error) { return base64.StdEncoding.DecodeString(s) }

// The one ISO-2022-JP decision (docs/ENCODINGS.md): mapped variants, the
// NEC and IBM rows refused, half-width kana combined.
func TestJISString(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, in string
		ok       bool
		decoded  string // what a reader sees; "" = same as in
	}{
		{"ascii", "Hello, Kyoto\n", true, ""},
		{"japanese", "京都市環境センターだより\n第12号", true, ""},
		{"wave dash U+301C", "9時〜17時", true, "9時～17時"},
		{"fullwidth tilde", "9時～17時", true, ""},
		{"minus sign", "−5℃", true, "－5℃"},
		{"em dash", "A—B", true, "A―B"},
		{"yen", "¥500", true, "￥500"},
		{"halfwidth kana", "ｶﾞｲﾄﾞﾌﾞｯｸ ﾊﾟﾝ ｳﾞ", true, "ガイドブック パン ヴ"},
		{"circled digit (NEC row 13)", "①会場", false, ""},
		{"roman numeral (NEC row 13)", "Ⅰ期", false, ""},
		{"IBM extension", "髙島屋", false, ""},
		{"emoji", "🎍", false, ""},
		{"latin accent", "café", false, ""},
		{"escape char", "a\x1b$Bb", false, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			b, err := jisString(c.in)
			if (err == nil) != c.ok {
				t.Fatalf("jisString(%q): %v, want ok=%v", c.in, err, c.ok)
			}
			if !c.ok {
				return
			}
			got, err := japanese.ISO2022JP.NewDecoder().String(b)
			if err != nil {
				t.Fatal(err)
			}
			want := c.decoded
			if want == "" {
				want = c.in
			}
			if got != want {
				t.Fatalf("decodes to %q, want %q", got, want)
			}
		})
	}
}
