package templates

import (
	"strings"
	"testing"
)

// benchBody is about 2 KB of Japanese Markdown with personalisation.
var benchBody = "{{ .Name }}様\n\n" + strings.Repeat("京都市の市民参加推進計画について、今月の取り組みをお知らせします。", 20) +
	"\n\n- [詳しくはこちら](https://example.jp/a?e={{ .Email }})\n"

func BenchmarkRender(b *testing.B) {
	s := newSet(b)
	in := goldenInput("utf-8")
	in.Markdown = benchBody
	p, err := s.Prepare(in)
	if err != nil {
		b.Fatal(err)
	}
	r := goldenRecipient("山田 花子")
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := p.Render(r); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPrepare(b *testing.B) {
	s := newSet(b)
	in := goldenInput("utf-8")
	in.Markdown = benchBody
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Prepare(in); err != nil {
			b.Fatal(err)
		}
	}
}
