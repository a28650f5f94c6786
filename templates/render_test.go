package templates

import (
	"errors"
	"strings"
	"testing"

	"golang.org/x/net/html"
)

// unsafeHTML tokenizes s as a mail client would and names the first
// script element, event handler, style attribute or javascript: URL.
func unsafeHTML(s string) string {
	z := html.NewTokenizer(strings.NewReader(s))
	for {
		switch z.Next() {
		case html.ErrorToken:
			return ""
		case html.StartTagToken, html.SelfClosingTagToken:
			tok := z.Token()
			if tok.Data == "script" || tok.Data == "iframe" || tok.Data == "object" {
				return "element " + tok.Data
			}
			for _, a := range tok.Attr {
				v := strings.ToLower(strings.TrimSpace(a.Val))
				switch {
				case strings.HasPrefix(a.Key, "on"):
					return "attribute " + a.Key
				case strings.HasPrefix(v, "javascript:") || strings.HasPrefix(v, "vbscript:") || strings.HasPrefix(v, "data:"):
					return "URL " + a.Val
				}
			}
		}
	}
}

// TestRenderNeverInjects feeds hostile subscriber values and checks that
// they come out escaped in HTML, URL-escaped in URLs and without line
// breaks in the subject.
func TestRenderNeverInjects(t *testing.T) {
	t.Parallel()
	s := newSet(t)
	in := goldenInput("utf-8")
	in.Markdown = "{{ .Name }}\n\n[x]({{ .Fields.site }})\n\n<a href=\"https://example.jp/?n={{ .Name }}\">y</a>"
	p, err := s.Prepare(in)
	if err != nil {
		t.Fatal(err)
	}
	r := goldenRecipient("<script>alert(1)</script>\"'\r\nBcc: evil@example.jp")
	r.Fields = map[string]string{"site": "javascript:alert(1)"}
	parts, err := p.Render(r)
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"<script>", "\"'", "javascript:", "\r", "\nBcc"} {
		if strings.Contains(parts.HTML, bad) {
			t.Errorf("HTML contains %q", bad)
		}
	}
	if strings.ContainsAny(parts.Subject, "\r\n") {
		t.Errorf("subject has a line break: %q", parts.Subject)
	}
	if !strings.Contains(parts.HTML, "&lt;script&gt;") || !strings.Contains(parts.HTML, `href="javascript%3Aalert%281%29"`) {
		t.Errorf("values not escaped as expected:\n%s", parts.HTML)
	}
	if !strings.Contains(parts.Text, "<script>alert(1)</script>\"'  Bcc: evil@example.jp") {
		t.Errorf("text part should carry the name raw, without line breaks:\n%s", parts.Text)
	}
	for _, u := range []string{"", "javascript:alert(1)", "https://example.jp/u/a\"b", "https://example.jp/u/\r\nX"} {
		r := goldenRecipient("x")
		r.UnsubscribeURL = u
		if _, err := p.Render(r); !errors.Is(err, ErrInvalidInput) {
			t.Errorf("unsubscribe URL %q accepted: %v", u, err)
		}
	}
}

func TestMarkdownHTMLSanitises(t *testing.T) {
	t.Parallel()
	set := newSet(t)
	cases := []struct{ md, bad string }{
		{"<script>alert(1)</script>", "<script"},
		{"[x](javascript:alert(1))", "javascript:"},
		{"<a href=\"javascript:alert(1)\">x</a>", "javascript:"},
		{"<img src=x onerror=alert(1)>", "onerror"},
		{"<p style=\"position:fixed\">x</p>", "style="},
		{"<iframe src=\"https://evil.example\"></iframe>", "<iframe"},
		{"<div onclick=\"x()\">x</div>", "onclick"},
	}
	for _, c := range cases {
		got, err := set.MarkdownHTML(c.md)
		if err != nil || strings.Contains(got, c.bad) {
			t.Errorf("MarkdownHTML(%q) = %q, %v", c.md, got, err)
		}
	}
	got, _ := set.MarkdownHTML("~~old~~ **new** https://example.jp")
	if !strings.Contains(got, "<del>old</del>") || !strings.Contains(got, `<a href="https://example.jp"`) {
		t.Errorf("GFM lost: %s", got)
	}
}

func TestRenderFieldsAndFallback(t *testing.T) {
	t.Parallel()
	s := newSet(t)
	in := goldenInput("utf-8")
	in.List.NameFallback = ""
	in.Subject = "お知らせ"
	in.Markdown = "{{ .Name }}様（{{ .Email }}、{{ .Fields.ku }}、{{ .Fields.none }}）"
	p, err := s.Prepare(in)
	if err != nil {
		t.Fatal(err)
	}
	parts, _ := p.Render(Recipient{Email: "a@example.jp", Fields: map[string]string{"ku": "北区"},
		UnsubscribeURL: "https://example.jp/u", PreferencesURL: "https://example.jp/p"})
	if !strings.Contains(parts.Text, "読者様（a@example.jp、北区、）") || !strings.Contains(parts.HTML, "読者様（a@example.jp、北区、）") {
		t.Errorf("personal values wrong:\n%s", parts.Text)
	}
	if parts.Subject != "お知らせ" {
		t.Errorf("subject %q", parts.Subject)
	}
}

// UseCRLF gives the same parts with CRLF line ends, and no bare LF.
func TestUseCRLF(t *testing.T) {
	t.Parallel()
	s := newSet(t)
	in := goldenInput("utf-8")
	lf, err := s.Prepare(in)
	if err != nil {
		t.Fatal(err)
	}
	cr, err := s.Prepare(in)
	if err != nil {
		t.Fatal(err)
	}
	cr.UseCRLF()
	rc := Recipient{Name: "山田", Email: "a@example.jp", UnsubscribeURL: "https://example.jp/u", PreferencesURL: "https://example.jp/p"}
	a, _ := lf.Render(rc)
	b, _ := cr.Render(rc)
	for _, part := range []struct{ name, lf, crlf string }{{"text", a.Text, b.Text}, {"html", a.HTML, b.HTML}} {
		if want := strings.ReplaceAll(part.lf, "\n", "\r\n"); part.crlf != want {
			t.Errorf("%s with UseCRLF differs from the LF render with CRLF ends", part.name)
		}
		if strings.Count(part.crlf, "\n") != strings.Count(part.crlf, "\r\n") || !strings.Contains(part.crlf, "\r\n") {
			t.Errorf("%s has a bare LF, or no line end at all", part.name)
		}
	}
	if a.Subject != b.Subject {
		t.Errorf("subject changed: %q → %q", a.Subject, b.Subject)
	}
}

// FuzzPrepareRender: any body either is refused with an error or renders
// for any recipient without scripts, javascript: URLs or event handlers.
func FuzzPrepareRender(f *testing.F) {
	f.Add(goldenBody, "<script>x</script>")
	f.Add("{{ .Name }} {{ .Fields.a }} [x]({{ .Email }})", "\"><img src=x onerror=alert(1)>")
	f.Add("<a href=\"javascript:x\" onclick=\"y\">z</a>", "")
	s, err := New(Options{})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body, name string) {
		in := goldenInput("utf-8")
		in.Markdown = body
		p, err := s.Prepare(in)
		if err != nil {
			return
		}
		r := goldenRecipient(name)
		r.Email = name
		r.Fields = map[string]string{"a": name}
		parts, err := p.Render(r)
		if err != nil {
			t.Fatal(err)
		}
		if bad := unsafeHTML(parts.HTML); bad != "" {
			t.Fatalf("HTML has %s:\n%s", bad, parts.HTML)
		}
		if strings.ContainsAny(parts.Subject, "\r\n") {
			t.Fatalf("subject %q", parts.Subject)
		}
	})
}

func TestPublicHasNoPersonalData(t *testing.T) {
	t.Parallel()
	s := newSet(t)
	in := goldenInput("utf-8")
	p, err := s.Public(in)
	if err != nil {
		t.Fatal(err)
	}
	if p.Subject != "読者様へ 環境センターだより 12月号" {
		t.Errorf("subject %q", p.Subject)
	}
	for _, part := range []string{p.Text, p.HTML} {
		if !strings.Contains(part, "読者様") || strings.Contains(part, "Kwrbn") || strings.Contains(part, "unsubscribe") ||
			strings.Contains(part, "{{") || strings.Contains(part, "<script") {
			t.Errorf("public part:\n%s", part)
		}
	}
	if !strings.Contains(p.HTML, "<h2>今月のお知らせ</h2>") || !strings.Contains(p.Text, "[1] https://www.city.kyoto.lg.jp/") {
		t.Errorf("body missing:\n%s\n%s", p.HTML, p.Text)
	}
}

func TestCheckIssue(t *testing.T) {
	t.Parallel()
	cases := []struct{ subject, body, want string }{
		{"12月号", "{{ .Name }}様 {{ .Fields.ku }}", ""},
		{"a\nb", "", "line break"},
		{"{{ .Nmae }}", "", "subject:1:"},
		{"ok", "1\n2\n{{ .Name }", "body:3:"},
		{"ok", "{{ range .Fields }}x{{ end }}", "body:1:"},
	}
	for _, c := range cases {
		err := CheckIssue(c.subject, c.body)
		if (c.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), c.want)) {
			t.Errorf("CheckIssue(%q, %q) = %v, want %q", c.subject, c.body, err, c.want)
		}
	}
}
