package templates

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func readEmbedded(t *testing.T, name string) string {
	t.Helper()
	b, err := embedded.ReadFile("files/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestCheck(t *testing.T) {
	t.Parallel()
	s := newSet(t)
	html, txt := readEmbedded(t, LayoutHTML), readEmbedded(t, LayoutText)
	cases := []struct {
		name, file, src string
		want            string // substring of the error; "" = ok
	}{
		{"default html", LayoutHTML, html, ""},
		{"default text", LayoutText, txt, ""},
		{"list layout", "lists/kankyo/layout.txt.tmpl", txt, ""},
		{"syntax error", LayoutText, "a\nb\n{{ if .Name }}\n", "layout.txt.tmpl:4: unexpected EOF"},
		{"unknown field", LayoutText, txt + "\n{{ .Nmae }}\n", fmt.Sprintf("layout.txt.tmpl:%d:3: executing", strings.Count(txt, "\n")+2)},
		{"unknown field html", LayoutHTML, "<p>\n{{ .List.Slgu }}</p>", "layout.html.tmpl:2:"},
		{"footer dropped", LayoutText, "{{.BodyText}}\n{{.UnsubscribeURL}}", "legally required footer lacks sender name"},
		{"unknown file", "layuot.html.tmpl", html, "unknown template"},
		{"system ok", "system/welcome.ja.txt.tmpl", readEmbedded(t, "system/welcome.ja.txt.tmpl"), ""},
		{"system no subject", "system/welcome.ja.txt.tmpl", "hello", `no {{define "subject"}}`},
		{"system bad field", "system/goodbye.en.txt.tmpl", "{{define \"subject\"}}x{{end}}\n\n{{ .Emial }}", "goodbye.en.txt.tmpl:3:"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			err := s.Check(c.file, c.src)
			if c.want == "" {
				if err != nil {
					t.Fatalf("Check: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Check error %v, want it to contain %q", err, c.want)
			}
			if !errors.Is(err, ErrTemplate) && !errors.Is(err, ErrUnknownTemplate) {
				t.Fatalf("error %v is neither ErrTemplate nor ErrUnknownTemplate", err)
			}
		})
	}
}

func TestOverrideDir(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, src string) {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	txt := readEmbedded(t, LayoutText)
	write("lists/kankyo/layout.txt.tmpl", "【環境専用】\n"+txt)
	write("README", "not a template")
	s, err := New(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	for slug, want := range map[string]bool{"kankyo": true, "bunka": false} {
		in := goldenInput("utf-8")
		in.List.Slug = slug
		p, err := s.Prepare(in)
		if err != nil {
			t.Fatal(err)
		}
		parts, _ := p.Render(goldenRecipient("x"))
		if got := strings.HasPrefix(parts.Text, "【環境専用】"); got != want {
			t.Errorf("list %s: own layout used = %v", slug, got)
		}
	}
	if s.Source("lists/kankyo/layout.txt.tmpl") != dir || s.Source(LayoutHTML) != "embedded" {
		t.Error("Source does not say where templates came from")
	}

	// A broken override is refused at start, with its file and line.
	write("system/welcome.ja.txt.tmpl", "{{define \"subject\"}}x{{end}}\nline2\n{{ .Nmae }}\n")
	_, err = New(Options{Dir: dir})
	if err == nil || !strings.Contains(err.Error(), "system/welcome.ja.txt.tmpl:3:") {
		t.Fatalf("broken override: %v", err)
	}
}

func TestPrepareRefuses(t *testing.T) {
	t.Parallel()
	s := newSet(t)
	mod := func(f func(*IssueInput)) IssueInput {
		in := goldenInput("utf-8")
		f(&in)
		return in
	}
	cases := []struct {
		name string
		in   IssueInput
		want string
		is   error
	}{
		{"CR in subject", mod(func(in *IssueInput) { in.Subject = "a\rb" }), "line break", ErrInvalidInput},
		{"LF in subject", mod(func(in *IssueInput) { in.Subject = "a\nBcc: x@example.jp" }), "line break", ErrInvalidInput},
		{"no postal address", mod(func(in *IssueInput) { in.List.PostalAddress = "" }), "postal", ErrMissingLegal},
		{"no contact", mod(func(in *IssueInput) { in.List.Contact = " " }), "contact", ErrMissingLegal},
		{"unknown field", mod(func(in *IssueInput) { in.Markdown = "a\n\nb {{ .Nmae }}" }), "body:3:5: unknown field .Nmae", ErrTemplate},
		{"condition", mod(func(in *IssueInput) { in.Markdown = "{{ if .Name }}x{{ end }}" }), "body:1:", ErrTemplate},
		{"syntax", mod(func(in *IssueInput) { in.Markdown = "x\n{{ .Name " }), "body:2:", ErrTemplate},
		{"subject field", mod(func(in *IssueInput) { in.Subject = "{{ .Nmae }}" }), "subject:1:", ErrTemplate},
		{"function", mod(func(in *IssueInput) { in.Markdown = `{{ printf "%s" .Name }}` }), "body:1:", ErrTemplate},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			_, err := s.Prepare(c.in)
			if err == nil || !strings.Contains(err.Error(), c.want) || !errors.Is(err, c.is) {
				t.Fatalf("Prepare error %v, want %q (%v)", err, c.want, c.is)
			}
		})
	}
	p, err := s.Prepare(mod(func(in *IssueInput) { in.Markdown = `{{ "{{" }} は書けます` }))
	if err != nil {
		t.Fatal(err)
	}
	parts, _ := p.Render(goldenRecipient(""))
	if !strings.Contains(parts.Text, "{{ は書けます") {
		t.Fatalf("literal braces lost: %q", parts.Text)
	}
}
