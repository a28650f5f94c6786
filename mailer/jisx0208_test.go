package mailer

import (
	"fmt"
	"reflect"
	"testing"
)

func TestCheckJISX0208(t *testing.T) {
	t.Parallel()
	// The characters come from the issue's measurements (① in a subject,
	// a reader named 髙橋) and from docs/ENCODINGS.md.
	cases := []struct {
		name string
		in   string
		want []NonJIS
	}{
		{"plain japanese", "12月の講座〜ご案内（ｶﾞｲﾄﾞ）～−", nil},
		{"enclosed number", "講座①と②", []NonJIS{
			{Char: '①', Substitute: "(1)", Count: 1, Line: 1, Column: 3},
			{Char: '②', Substitute: "(2)", Count: 1, Line: 1, Column: 5}}},
		{"company mark twice", "㈱京都\n㈱大阪", []NonJIS{{Char: '㈱', Substitute: "(株)", Count: 2, Line: 1, Column: 1}}},
		{"ibm kanji", "こんにちは\n髙橋様", []NonJIS{{Char: '髙', Substitute: "高", Count: 1, Line: 2, Column: 1}}},
		{"ibm compatibility kanji", "﨑", []NonJIS{{Char: '﨑', Substitute: "崎", Count: 1, Line: 1, Column: 1}}},
		{"roman numeral", "第Ⅲ期", []NonJIS{{Char: 'Ⅲ', Substitute: "III", Count: 1, Line: 1, Column: 2}}},
		{"era", "㍻", []NonJIS{{Char: '㍻', Substitute: "平成", Count: 1, Line: 1, Column: 1}}},
		{"accent", "café", []NonJIS{{Char: 'é', Substitute: "e", Count: 1, Line: 1, Column: 4}}},
		{"emoji has none", "🎍", []NonJIS{{Char: '🎍', Count: 1, Line: 1, Column: 1}}},
		{"no-break space", "a\u00A0b", []NonJIS{{Char: '\u00A0', Substitute: " ", Count: 1, Line: 1, Column: 2}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			got := CheckJISX0208(c.in)
			if !reflect.DeepEqual(got, c.want) {
				t.Fatalf("CheckJISX0208(%q) =\n %+v\nwant\n %+v", c.in, got, c.want)
			}
			fixed := SubstituteJISX0208(c.in)
			left := CheckJISX0208(fixed)
			for _, p := range left {
				if p.Substitute != "" {
					t.Errorf("after SubstituteJISX0208(%q) = %q, %q is still there", c.in, fixed, p.Char)
				}
			}
			if ok := encodesJIS(fixed); ok != (len(left) == 0) {
				t.Errorf("encodesJIS(%q) = %v, but CheckJISX0208 reports %v", fixed, ok, left)
			}
		})
	}
}

func TestNonJISSummary(t *testing.T) {
	t.Parallel()
	got := NonJISSummary(CheckJISX0208("件名①\n髙橋様 ㈱京都 ①です😀"))
	if want := "①→(1), 髙→高, ㈱→(株), 😀"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func FuzzCheckJISX0208(f *testing.F) {
	f.Add("講座①と㈱髙橋 ｶﾞ café 🎍")
	f.Fuzz(func(t *testing.T, s string) {
		probs := CheckJISX0208(s)
		if ok := encodesJIS(s); ok != (len(probs) == 0) {
			t.Fatalf("encodesJIS = %v but %d problems for %q", ok, len(probs), s)
		}
	})
}

func ExampleCheckJISX0208() {
	for _, p := range CheckJISX0208("髙橋様、講座①のご案内") {
		fmt.Printf("%c line %d: use %s\n", p.Char, p.Line, p.Substitute)
	}
	// Output:
	// 髙 line 1: use 高
	// ① line 1: use (1)
}
