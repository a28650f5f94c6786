package templates

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

// golden compares got with testdata/name, or rewrites it under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./templates -update)", err)
	}
	if string(want) != string(got) {
		t.Errorf("%s differs from golden file (review, then go test ./templates -update)\n--- got ---\n%s", name, got)
	}
}

const goldenBody = `{{ .Name }}様

いつも環境センターだよりをお読みいただき、ありがとうございます。今月は「ごみの分別」と「省エネ」の話題をお届けします。{{ .Fields.ku }}にお住まいの方は、特にご注意ください。

## 今月のお知らせ

- 12月1日（月）から、プラスチック製容器包装の回収日が変わります。
- 省エネ相談会を開きます。詳しくは[こちら](https://www.city.kyoto.lg.jp/kankyo/page/0000012345.html)をご覧ください。
- **申込締切**：11月28日（金）〜12月5日（金）

1. 申込書を書く
2. 窓口へ出す

> 引用です。これは長い引用文で、折り返しがどのように行われるかを確かめるためのものです。

Details (English): https://example.jp/events/2026/energy-saving-consultation-for-households-and-small-shops

<script>alert(1)</script><a href="javascript:alert(2)" onclick="x()">危険なリンク</a> <b style="color:red">太字</b>

| 日付 | 内容 |
|---|---|
| 12/1 | 回収日変更 |

[メールで問い合わせる](mailto:kankyo@example.jp?subject={{ .Email }})
`

func goldenList(enc string) ListInfo {
	return ListInfo{
		Slug: "kankyo", NameJA: "環境センターだより", NameEN: "Environment Center News",
		FromName: "京都市環境センター", FromAddress: "kankyo@example.jp",
		PostalAddress: "〒604-8571 京都市中京区寺町通御池上る上本能寺前町488",
		Contact:       "075-000-0000（平日9時〜17時） kankyo@example.jp",
		NameFallback:  "読者", Encoding: enc,
	}
}

func goldenInput(enc string) IssueInput {
	return IssueInput{
		List: goldenList(enc), IssueID: 12, Number: 3, Subject: "{{ .Name }}様へ 環境センターだより 12月号",
		Markdown: goldenBody, ArchiveURL: "https://example.jp/archive/kankyo/12",
		Date: time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC),
	}
}

func goldenRecipient(name string) Recipient {
	return Recipient{
		Name: name, Email: "hanako@example.jp", Fields: map[string]string{"ku": "左京区"},
		UnsubscribeURL: "https://example.jp/unsubscribe/UNSUBtoken",
		PreferencesURL: "https://example.jp/preferences/PREFStoken",
	}
}

// TestGoldenIssue renders an issue with and without a name, in UTF-8 and
// ISO-2022-JP, and checks the legally required footer in both parts.
func TestGoldenIssue(t *testing.T) {
	t.Parallel()
	s := newSet(t)
	cases := []struct {
		file, name, enc string
	}{
		{"issue-name", "山田 花子", "utf-8"},
		{"issue-noname", "", "utf-8"},
		{"issue-iso2022jp", "山田 花子", "iso-2022-jp"},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			t.Parallel()
			p, err := s.Prepare(goldenInput(c.enc))
			if err != nil {
				t.Fatal(err)
			}
			parts, err := p.Render(goldenRecipient(c.name))
			if err != nil {
				t.Fatal(err)
			}
			checkFooter(t, parts, goldenList(c.enc), goldenRecipient(c.name))
			wantName := c.name
			if wantName == "" {
				wantName = "読者"
			}
			if !strings.HasPrefix(parts.Subject, wantName+"様へ") || !strings.Contains(parts.Text, wantName+"様") {
				t.Errorf("name %q not filled in: %q", wantName, parts.Subject)
			}
			// The text as rendered; package mailer encodes it
			// (ISO-2022-JP for such a list, docs/ENCODINGS.md).
			text := []byte(parts.Text)
			if c.enc == "iso-2022-jp" {
				golden(t, c.file+".subject.golden", []byte(parts.Subject))
			} else {
				golden(t, c.file+".subject.golden", []byte(parts.Subject))
				golden(t, c.file+".html.golden", []byte(parts.HTML))
			}
			golden(t, c.file+".txt.golden", text)
			for i, l := range strings.Split(parts.Text, "\n") {
				if len(l) > 998 {
					t.Errorf("text line %d is %d octets", i+1, len(l))
				}
			}
		})
	}
}

func checkFooter(t *testing.T, p Parts, l ListInfo, r Recipient) {
	t.Helper()
	for _, part := range []struct{ name, s string }{{"text", p.Text}, {"html", p.HTML}} {
		for _, want := range []string{l.FromName, l.PostalAddress, r.UnsubscribeURL, r.PreferencesURL} {
			if !strings.Contains(part.s, want) {
				t.Errorf("%s part lacks %q", part.name, want)
			}
		}
		if !strings.Contains(part.s, "075-000-0000") {
			t.Errorf("%s part lacks the contact", part.name)
		}
	}
}

func TestGoldenSystem(t *testing.T) {
	t.Parallel()
	s := newSet(t)
	for _, name := range SystemNames() {
		for _, lang := range []string{"ja", "en"} {
			t.Run(name+"-"+lang, func(t *testing.T) {
				t.Parallel()
				d := sampleSystem()
				d.List = goldenList("utf-8")
				p, err := s.System(name, lang, d)
				if err != nil {
					t.Fatal(err)
				}
				if p.Subject == "" || p.HTML != "" || !strings.Contains(p.Text, d.List.PostalAddress) {
					t.Fatalf("parts %+v", p)
				}
				golden(t, "system-"+name+"-"+lang+".golden", []byte("Subject: "+p.Subject+"\n\n"+p.Text))
			})
		}
	}
	if _, err := s.System("reminder", "ja", sampleSystem()); err == nil {
		t.Fatal("unknown system mail accepted")
	}
}

func newSet(t testing.TB) *Set {
	t.Helper()
	s, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}
