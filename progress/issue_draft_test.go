package progress

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"kawaraban/templates"
)

// A bureau's note is plain text: rendered as the issue's Markdown it
// stays literal (no heading, emphasis, link or HTML), keeps its line
// breaks and does not break the summary table.
func TestComposedNoteRendersLiterally(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newPlanFixture(t)
	note := "# 見出しではない\n*強調ではない* [リンクではない](https://evil.example/) <b>タグ</b> | 縦棒\n1. 番号ではない"
	in := []ReportInput{{Project: "35-1", Status: StatusDone, Note: note}}
	if _, err := f.s.SaveReport(ctx, "fy2026-status", "sogo-kikaku", in, Evidence{Actor: "coord"}); err != nil {
		t.Fatal(err)
	}
	f.publish(t, "")
	d, err := f.s.ComposeIssue(ctx, "fy2026-status")
	if err != nil {
		t.Fatal(err)
	}
	set, err := templates.New(templates.Options{})
	if err != nil {
		t.Fatal(err)
	}
	html, err := set.MarkdownHTML(d.Markdown)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"# 見出しではない<br", "*強調ではない* [リンクではない](https://evil.example/) &lt;b&gt;タグ&lt;/b&gt; | 縦棒<br", "1. 番号ではない", "<table>"} {
		if !strings.Contains(html, want) {
			t.Errorf("rendered draft lacks %q:\n%s", want, html)
		}
	}
	for _, ban := range []string{"<h1", "<em>", "<b>", `href="https://evil.example/"`, "<ol"} {
		if strings.Contains(html, ban) {
			t.Errorf("rendered draft has %q:\n%s", ban, html)
		}
	}
	if n := strings.Count(html, "<tr>"); n != 3 { // the header and the plan's two measures
		t.Errorf("summary table has %d rows, want 3", n)
	}
}

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

// TestComposeIssueGolden pins the newsletter draft's Markdown: review a
// diff of testdata/issue-draft.golden like code (go test ./progress
// -run Golden -update rewrites it).
func TestComposeIssueGolden(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newPlanFixture(t)
	f.clk.Set(at(-3))
	f.report(t, "somu", somuReport)
	kikaku := []ReportInput{{Project: "35-1", Status: StatusDelayed, Note: "印刷の入札が不調となり、発行を2か月遅らせます。"}}
	f.report(t, "sogo-kikaku", kikaku)
	f.publish(t, "")
	d, err := f.s.ComposeIssue(ctx, "fy2026-status")
	if err != nil {
		t.Fatal(err)
	}
	got := []byte("Subject: " + d.Subject + "\n\n" + d.Markdown)
	path := filepath.Join("testdata", "issue-draft.golden")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("draft differs from %s (run with -update after review):\n%s", path, got)
	}
}
