package templates

import (
	"testing"

	"golang.org/x/text/encoding/japanese"
)

func TestEncodeISO2022JP(t *testing.T) {
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
		{"halfwidth kana", "ｶﾞｲﾄﾞﾌﾞｯｸ ﾊﾟﾝ", true, "ガイドブック パン"},
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
			b, ok := EncodeISO2022JP(c.in)
			if ok != c.ok {
				t.Fatalf("ok = %v, want %v", ok, c.ok)
			}
			if !ok {
				return
			}
			got, err := japanese.ISO2022JP.NewDecoder().Bytes(b)
			if err != nil {
				t.Fatal(err)
			}
			want := c.decoded
			if want == "" {
				want = c.in
			}
			if string(got) != want {
				t.Fatalf("decodes to %q, want %q", got, want)
			}
			if b[len(b)-1] != '\n' && len(b) >= 3 && string(b[len(b)-3:]) != "\x1b(B" && b[len(b)-1] >= 0x80 {
				t.Fatalf("does not end in ASCII: %q", b)
			}
		})
	}
}

func TestForISO2022JP(t *testing.T) {
	t.Parallel()
	got, ok := ForISO2022JP("9時〜17時 ｶﾞｲﾄﾞ −5")
	if !ok || got != "9時～17時 ガイド －5" {
		t.Fatalf("ForISO2022JP = %q, %v", got, ok)
	}
	// What an x/text encoder makes of the mapped text is pure JIS X 0208.
	b, err := japanese.ISO2022JP.NewEncoder().Bytes([]byte(got))
	if err != nil || !onlyJISX0208(b) {
		t.Fatalf("mapped text encodes to %q, %v", b, err)
	}
	for _, s := range []string{"①", "髙", "🎍"} {
		if _, ok := ForISO2022JP(s); ok {
			t.Errorf("%q accepted", s)
		}
	}
}
