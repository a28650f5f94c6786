package templates

import (
	"io"
	"mime"
	"strings"
	"testing"

	"golang.org/x/text/encoding/japanese"
)

func TestEncodeHeaderISO2022JP(t *testing.T) {
	t.Parallel()
	dec := mime.WordDecoder{CharsetReader: func(cs string, r io.Reader) (io.Reader, error) {
		return japanese.ISO2022JP.NewDecoder().Reader(r), nil
	}}
	cases := []struct{ in, want string }{
		{"Plain ASCII subject", "Plain ASCII subject"},
		{"12月号", "12月号"},
		{"【環境センターだより】山田 花子様へ 12月号のお知らせ 9時〜17時 ごみの分別と省エネの話題をお届けします", "【環境センターだより】山田 花子様へ 12月号のお知らせ 9時～17時 ごみの分別と省エネの話題をお届けします"},
		{"ABCDEFGHIJKLMNOPQRSTUVWXYZあいうえおかきくけこさしすせそABCDEFGHIJKLMNOPQRSTUVWXYZ", ""},
	}
	for _, c := range cases {
		got, ok := EncodeHeaderISO2022JP(c.in)
		if !ok {
			t.Fatalf("%q refused", c.in)
		}
		for _, w := range strings.Split(got, "\r\n ") {
			if len(w) > 75 {
				t.Errorf("encoded-word of %d characters: %s", len(w), w)
			}
		}
		back, err := dec.DecodeHeader(strings.ReplaceAll(got, "\r\n ", " "))
		if err != nil {
			t.Fatal(err)
		}
		want := c.want
		if want == "" {
			want = c.in
		}
		if back != want {
			t.Errorf("round trip of %q = %q", c.in, back)
		}
	}
	if _, ok := EncodeHeaderISO2022JP("①のお知らせ"); ok {
		t.Error("NEC special accepted")
	}
}
