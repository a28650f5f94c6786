package templates

import (
	"strings"

	"github.com/yuin/goldmark/ast"
)

// LinkTracker gives the address that stands for an issue's link number
// index (counted from 0 among the distinct http(s) links, in the
// order Links returns them) whose destination is dest: the click
// redirect. Package newsletter sets it for lists that count clicks.
type LinkTracker func(index int, dest string) string

// Links returns the destinations an issue's body links to that a click
// redirect may stand for, in the order the LinkTracker numbers them: each
// distinct http(s) URL of a Markdown link or autolink once, in document
// order. Images, mailto: and tel: links, raw HTML and links that contain
// a personal field ({{ .Email }}) are not among them: a redirect names no
// subscriber.
func (s *Set) Links(md string) ([]string, error) {
	f := fieldSet{prefix: "Kwrbnlinks"}
	body, err := f.personalise("body", md)
	if err != nil {
		return nil, err
	}
	src := []byte(body)
	var out []string
	seen := map[string]bool{}
	for _, l := range trackable(s.md.parse(src), src, f.prefix) {
		if !seen[l.dest] {
			seen[l.dest] = true
			out = append(out, l.dest)
		}
	}
	return out, nil
}

type trackedLink struct {
	node ast.Node
	dest string
}

// trackable walks doc for the links Links counts; ph is the placeholder
// prefix of personal fields.
func trackable(doc ast.Node, src []byte, ph string) []trackedLink {
	var out []trackedLink
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		var dest string
		switch n := n.(type) {
		case *ast.Link:
			dest = string(n.Destination)
		case *ast.AutoLink:
			if n.AutoLinkType != ast.AutoLinkURL {
				return ast.WalkSkipChildren, nil
			}
			dest = string(n.URL(src))
		case *ast.Image:
			return ast.WalkSkipChildren, nil
		default:
			return ast.WalkContinue, nil
		}
		low := strings.ToLower(dest)
		if (strings.HasPrefix(low, "https://") || strings.HasPrefix(low, "http://")) && (ph == "" || !strings.Contains(dest, ph)) {
			out = append(out, trackedLink{node: n, dest: dest})
		}
		return ast.WalkSkipChildren, nil
	})
	return out
}

// rewriteLinks points doc's trackable links at track's addresses. An
// autolink becomes a link whose text is still the URL it shows, so the
// reader sees where it leads.
func rewriteLinks(doc ast.Node, src []byte, ph string, track LinkTracker) {
	index := map[string]int{}
	for _, l := range trackable(doc, src, ph) {
		i, ok := index[l.dest]
		if !ok {
			i = len(index)
			index[l.dest] = i
		}
		to := []byte(track(i, l.dest))
		switch n := l.node.(type) {
		case *ast.Link:
			n.Destination = to
		case *ast.AutoLink:
			nl := ast.NewLink()
			nl.Destination = to
			nl.AppendChild(nl, ast.NewString(n.Label(src)))
			n.Parent().ReplaceChild(n.Parent(), n, nl)
		}
	}
}
