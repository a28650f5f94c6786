package templates

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// TestLinksAreTrackedOnlyWhenAsked: with a LinkTracker the body's http(s)
// links point at the tracker's addresses in both parts, numbered as Links
// numbers them; personal links, mailto and images stay as written.
func TestLinksAreTrackedOnlyWhenAsked(t *testing.T) {
	t.Parallel()
	s := newSet(t)
	md := "講座の案内は[こちら](https://example.jp/kouza)、会場は https://example.jp/b です。\n\n" +
		"もう一度[こちら](https://example.jp/kouza)。[個人](https://example.jp/p?e={{ .Email }})、" +
		"[メール](mailto:x@example.jp)、![図](https://example.jp/i.png)"
	links, err := s.Links(md)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"https://example.jp/kouza", "https://example.jp/b"}; !reflect.DeepEqual(links, want) {
		t.Fatalf("Links = %q, want %q", links, want)
	}
	in := goldenInput("utf-8")
	in.Markdown = md
	plain, err := s.Prepare(in)
	if err != nil {
		t.Fatal(err)
	}
	in.TrackLink = func(i int, dest string) string { return fmt.Sprintf("https://kawaraban.example/r/T%d", i) }
	tracked, err := s.Prepare(in)
	if err != nil {
		t.Fatal(err)
	}
	r := goldenRecipient("花子")
	pp, _ := plain.Render(r)
	tp, err := tracked.Render(r)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(pp.HTML+pp.Text, "/r/T") {
		t.Fatal("links rewritten without a tracker")
	}
	for _, want := range []string{`href="https://kawaraban.example/r/T0"`, `href="https://kawaraban.example/r/T1"`,
		`>https://example.jp/b</a>`, `https://example.jp/p?e=`, `href="mailto:x@example.jp"`, `src="https://example.jp/i.png"`} {
		if !strings.Contains(tp.HTML, want) {
			t.Errorf("HTML lacks %s:\n%s", want, tp.HTML)
		}
	}
	for _, bad := range []string{`href="https://example.jp/kouza"`, `href="https://example.jp/b"`} {
		if strings.Contains(tp.HTML, bad) {
			t.Errorf("HTML still has %s", bad)
		}
	}
	for _, want := range []string{"https://kawaraban.example/r/T0", "https://kawaraban.example/r/T1", "https://example.jp/b"} {
		if !strings.Contains(tp.Text, want) {
			t.Errorf("text lacks %s:\n%s", want, tp.Text)
		}
	}
	if strings.Contains(tp.Text, "https://example.jp/kouza") {
		t.Errorf("text still links the course page directly:\n%s", tp.Text)
	}
}

// FuzzLinksMatchTracker: whatever the Markdown, every link Prepare hands
// the tracker is the one Links numbers the same way, so a click redirect
// always leads to the link the reader saw.
func FuzzLinksMatchTracker(f *testing.F) {
	for _, seed := range []string{
		"[a](https://example.jp/a) https://example.jp/b [a again](https://example.jp/a)",
		"<https://example.jp/x> www.example.jp [m](mailto:a@example.jp) ![i](https://example.jp/i.png)",
		"[p](https://example.jp/?e={{ .Email }}) [[nested](https://example.jp/n)](https://example.jp/o)",
		"| a | b |\n|---|---|\n| https://example.jp/t | [c](HTTP://EXAMPLE.JP/C) |",
		"> [q](https://example.jp/q)\n\n- [l](https://example.jp/l)\n\n```\nhttps://example.jp/code\n```",
	} {
		f.Add(seed)
	}
	s := newSet(f)
	f.Fuzz(func(t *testing.T, md string) {
		links, err := s.Links(md)
		if err != nil {
			return // a template error: Prepare refuses it too
		}
		in := goldenInput("utf-8")
		in.Markdown = md
		in.TrackLink = func(i int, dest string) string {
			if i < 0 || i >= len(links) || links[i] != dest {
				t.Fatalf("tracker got link %d %q; Links = %q", i, dest, links)
			}
			return "https://kawaraban.example/r/T" + strconv.Itoa(i)
		}
		if _, err := s.Prepare(in); err != nil && !strings.Contains(err.Error(), "template") {
			t.Logf("prepare: %v", err)
		}
	})
}
