package templates

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestWideBreakRemoved(t *testing.T) {
	t.Parallel()
	// Cases from CSS Text 3 §4.1.3 (WD 2020-04-29), rules 1 to 4.
	cases := []struct {
		name       string
		prev, next rune
		removed    bool
	}{
		{"rule 1 zero-width space", 'a', '\u200B', true},
		{"rule 2 kana kana", 'す', 'ご', true},
		{"rule 2 kanji after full stop", '。', '次', true},
		{"rule 2 fullwidth latin", 'Ｎ', 'あ', true},
		{"rule 2 halfwidth katakana", 'ｱ', 'ｲ', true},
		{"rule 2 hangul keeps the space", '다', '한', false},
		{"rule 3 full stop before latin", '。', 'A', true},
		{"rule 3 latin before bracket", 'h', '（', true},
		{"rule 3 ideographic space", 'a', '\u3000', true},
		{"ours: digit before kanji", '2', '月', true},
		{"ours: kana before digit", 'は', '1', true},
		{"rule 4 kana before url", 'は', 'h', false},
		{"rule 4 latin words", 'e', 'y', false},
		{"nothing known", 0, 'あ', false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			if got := wideBreakRemoved(c.prev, c.next); got != c.removed {
				t.Errorf("wideBreakRemoved(%q, %q) = %v, want %v", c.prev, c.next, got, c.removed)
			}
		})
	}
}

// TestSoftBreaks checks the same Markdown in the HTML part, the text part
// and the archive: a soft break between Japanese sentences leaves no space.
func TestSoftBreaks(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, md, html, text string
	}{
		{"sentences", "ありがとうございます。\n12月の講座は", "<p>ありがとうございます。12月の講座は</p>", "ありがとうございます。12月の講座は"},
		{"kanji kana", "講座を\n開きます", "<p>講座を開きます</p>", "講座を開きます"},
		{"into emphasis", "申込は\n**12月10日**まで", "<p>申込は<strong>12月10日</strong>まで</p>", "申込は12月10日まで"},
		{"after a link", "[講座](https://example.jp/a)\nです", "<p><a href=\"https://example.jp/a\" rel=\"nofollow noreferrer\">講座</a>です</p>", "講座[1]です"},
		{"before a url", "詳しくは\nhttps://example.jp/", "<p>詳しくは\n<a href=\"https://example.jp/\" rel=\"nofollow noreferrer\">https://example.jp/</a></p>", "詳しくは https://example.jp/"},
		{"english", "See\nyou", "<p>See\nyou</p>", "See you"},
		{"full stop then english", "開きます。\nEnglish below", "<p>開きます。English below</p>", "開きます。English below"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			html, err := newSet(t).MarkdownHTML(c.md)
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.TrimSpace(html); got != c.html {
				t.Errorf("HTML:\n got %q\nwant %q", got, c.html)
			}
			if got := newSet(t).MarkdownText(c.md, 0); !strings.HasPrefix(got, c.text) {
				t.Errorf("text:\n got %q\nwant %q", got, c.text)
			}
		})
	}
}

func TestWrapKeepsCounters(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, in string
		width    int
	}{
		{"month", "あいうえおかきくけ12月", 20},
		{"day and hour", "あいうえおかきくけこさし3日10時", 26},
		{"fullwidth", "あいうえおかきくけ１２月", 20},
		{"ordinal", "あいうえおかきくけ第3回", 20},
	}
	counter := regexp.MustCompile(`[0-9０-９第]$`)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			for width := 8; width <= c.width; width++ {
				lines := wrap(c.in, width, "")
				for i, l := range lines[:len(lines)-1] {
					if counter.MatchString(l) {
						t.Errorf("width %d: line %d %q leaves its number's counter on the next line %q", width, i+1, l, lines[i+1])
					}
				}
			}
		})
	}
}

// TestGoldenCenterIssues renders three issues as a center would write them
// (events with dates and times, a list of links, a quote) in both parts and
// in the archive, and checks the line-breaking rules on the text part.
func TestGoldenCenterIssues(t *testing.T) {
	t.Parallel()
	s := newSet(t)
	for _, name := range []string{"events", "links", "quote"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			md, err := os.ReadFile(filepath.Join("testdata", "center", name+".md"))
			if err != nil {
				t.Fatal(err)
			}
			l := goldenList("utf-8")
			l.Slug, l.NameJA, l.FromName = "shimin-katsudo", "市民活動総合センターだより", "京都市市民活動総合センター"
			in := IssueInput{List: l, IssueID: 7, Number: 7, Subject: "市民活動総合センターだより 12月号", Markdown: string(md),
				ArchiveURL: "https://example.jp/archive/shimin-katsudo/7", Date: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)}
			p, err := s.Prepare(in)
			if err != nil {
				t.Fatal(err)
			}
			parts, err := p.Render(goldenRecipient("山田 花子"))
			if err != nil {
				t.Fatal(err)
			}
			pub, err := s.Public(in)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, "center/"+name+".txt.golden", []byte(parts.Text))
			golden(t, "center/"+name+".html.golden", []byte(parts.HTML))
			golden(t, "center/"+name+".archive.golden", []byte(pub.HTML))
			checkLines(t, parts.Text, TextWidth)
			checkJoined(t, "text", parts.Text)
			checkJoined(t, "html", parts.HTML)
			checkJoined(t, "archive", pub.HTML)
		})
	}
}

// checkJoined fails on a space or line break left between two Japanese
// characters inside a paragraph of the rendered part, and on a number
// split from its counter ("12⏎月").
func checkJoined(t *testing.T, part, s string) {
	t.Helper()
	for _, sep := range []string{" ", "\n"} {
		for i := 0; ; {
			j := strings.Index(s[i:], sep)
			if j < 0 {
				break
			}
			at := i + j
			prev, _ := utf8.DecodeLastRuneInString(s[:at])
			next, _ := utf8.DecodeRuneInString(s[at+1:])
			if sep == " " && wideRune(prev) && wideRune(next) && !strings.HasSuffix(s[:at], "山田") {
				t.Errorf("%s: space between %q and %q: …%s…", part, prev, next, around(s, at))
			}
			if sep == "\n" && part != "text" && wideRune(prev) && wideRune(next) {
				t.Errorf("%s: line break between %q and %q becomes a space: …%s…", part, prev, next, around(s, at))
			}
			if sep == "\n" && gluesCounter(prev) && strings.ContainsRune("年月日時分回名円階号期人件歳", next) {
				t.Errorf("%s: number split from its counter: …%s…", part, around(s, at))
			}
			i = at + 1
		}
	}
}

func around(s string, at int) string {
	lo, hi := max(0, at-15), min(len(s), at+15)
	for lo > 0 && !utf8.RuneStart(s[lo]) {
		lo--
	}
	for hi < len(s) && !utf8.RuneStart(s[hi]) {
		hi++
	}
	return s[lo:hi]
}
