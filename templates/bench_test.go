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

// TestRenderAllocs guards the per-recipient cost: the mailer renders
// thousands of messages a second.
func TestRenderAllocs(t *testing.T) {
	s := newSet(t)
	in := goldenInput("utf-8")
	in.Markdown = benchBody
	p, err := s.Prepare(in)
	if err != nil {
		t.Fatal(err)
	}
	r := goldenRecipient("山田 花子")
	if n := testing.AllocsPerRun(100, func() { p.Render(r) }); n > 6 {
		t.Errorf("Render makes %.0f allocations, want at most 6", n)
	}
}

func TestRenderConcurrent(t *testing.T) {
	t.Parallel()
	s := newSet(t)
	p, err := s.Prepare(goldenInput("utf-8"))
	if err != nil {
		t.Fatal(err)
	}
	want, _ := p.Render(goldenRecipient("山田 花子"))
	done := make(chan Parts)
	for range 4 {
		go func() {
			var last Parts
			for range 50 {
				last, _ = p.Render(goldenRecipient("山田 花子"))
			}
			done <- last
		}()
	}
	for range 4 {
		if got := <-done; got != want {
			t.Error("concurrent Render differs")
		}
	}
}
