package progress

import (
	"context"
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
	f := newFixture(t)
	f.importFile(t, plan1471)
	note := "# 見出しではない\n*強調ではない* [リンクではない](https://evil.example/) <b>タグ</b> | 縦棒\n1. 番号ではない"
	in := []ReportInput{{Project: "35-1", Status: StatusDone, Note: note}}
	if _, err := f.s.SaveReport(ctx, "fy2026-status", "sogo-kikaku", in, Evidence{Actor: "coord"}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.Publish(ctx, "fy2026-status", "", "coord"); err != nil {
		t.Fatal(err)
	}
	d, err := f.s.ComposeIssue(ctx, "fy2026-status")
	if err != nil {
		t.Fatal(err)
	}
	html, err := templates.MarkdownHTML(d.Markdown)
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
