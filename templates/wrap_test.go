package templates

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// checkLines verifies the wrapping rules on out: no line wider than width
// unless it is one unbreakable word, no line starting with closing
// punctuation, none ending with an opening bracket.
func checkLines(t *testing.T, out string, width int) {
	t.Helper()
	for i, l := range strings.Split(out, "\n") {
		if strWidth(l) > width && strings.ContainsAny(strings.TrimSpace(l), " ") {
			t.Errorf("line %d is %d columns: %q", i+1, strWidth(l), l)
		}
		first, _ := utf8.DecodeRuneInString(l)
		last, _ := utf8.DecodeLastRuneInString(l)
		if strings.ContainsRune("。、」）", first) {
			t.Errorf("line %d starts with %q", i+1, first)
		}
		if strings.ContainsRune("「（", last) {
			t.Errorf("line %d ends with %q", i+1, last)
		}
	}
}

func TestWrap(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, in string
		width    int
		want     []string
	}{
		{"japanese", "あいうえおかきくけこ", 10, []string{"あいうえお", "かきくけこ"}},
		{"kinsoku period", "あいうえ。かきくけこ", 8, []string{"あいう", "え。かき", "くけこ"}},
		{"kinsoku open bracket", "あいう「かきくけこ」", 8, []string{"あいう", "「かきく", "けこ」"}},
		{"latin words", "the quick brown fox jumps", 10, []string{"the quick", "brown fox", "jumps"}},
		{"url kept", "see https://example.jp/a/very/long/url ok", 12, []string{"see", "https://example.jp/a/very/long/url", "ok"}},
		{"mixed", "京都市のWebサイトをご覧ください", 12, []string{"京都市のWeb", "サイトをご覧", "ください"}},
		{"hard break", "あい\nうえ", 10, []string{"あい", "うえ"}},
		{"soft break ja", "あい\x01うえ", 10, []string{"あいうえ"}},
		{"soft break en", "ab\x01cd", 10, []string{"ab cd"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			got := wrap(c.in, c.width, "")
			if strings.Join(got, "|") != strings.Join(c.want, "|") {
				t.Fatalf("wrap(%q, %d) = %q, want %q", c.in, c.width, got, c.want)
			}
		})
	}
}

func TestMarkdownText(t *testing.T) {
	t.Parallel()
	md := "# 見出し\n\n本文に**強調**と[リンク](https://example.jp/a)と[同じリンク](https://example.jp/a)と<https://example.jp/b>があります。" +
		strings.Repeat("長い文章が続きます。", 10) + "\n\n- 一\n  - 二\n\n```\ncode  kept\n```\n"
	set := newSet(t)
	got := set.MarkdownText(md, 40)
	for _, want := range []string{"■見出し", "本文に強調とリンク[1]と同じリンク[1]と\nhttps://example.jp/bがあります。", "・一\n  ・二", "  code  kept", "[1] https://example.jp/a"} {
		if !strings.Contains(got, want) {
			t.Errorf("MarkdownText lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "[2]") || strings.Contains(got, "**") || strings.Contains(got, "#") {
		t.Errorf("markup left or footnote duplicated:\n%s", got)
	}
	checkLines(t, got, 40)
	checkLines(t, set.MarkdownText(goldenBody, 0), TextWidth)
}

func FuzzWrap(f *testing.F) {
	f.Add("あいうえお「かきくけこ」。さしすせそ https://example.jp/x abc", 20)
	f.Add("（（（（（（（（（（）））））））", 10)
	f.Add(goldenBody, 70)
	f.Fuzz(func(t *testing.T, s string, width int) {
		if width < 10 || width > 200 || !utf8.ValidString(s) {
			return
		}
		lines := wrap(strings.ReplaceAll(s, "\r", ""), width, "")
		for _, l := range lines {
			// A line may overflow only when it holds one unbreakable atom.
			if strWidth(l) > width && len(atoms(l, "")) > 1 && !strings.ContainsAny(l, noStart+noEnd) {
				t.Fatalf("line %q is %d columns (width %d)", l, strWidth(l), width)
			}
		}
	})
}
