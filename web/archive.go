package web

import (
	"context"
	"encoding/xml"
	"html/template"
	"net/http"
	"strconv"
	"strings"
	"time"

	"kawaraban/issues"
)

const archivePage = 20

// publicList finds a public list for the archive; internal lists have no
// public archive.
func (s *Server) publicList(r *http.Request) (List, error) {
	l, err := s.listBySlug(r.Context(), r.PathValue("list"))
	if err != nil {
		return List{}, err
	}
	if l.Kind == "internal" || l.ArchiveOff {
		return List{}, ErrNotFound
	}
	return l, nil
}

type archiveData struct {
	List   List
	Issues []issues.Issue
	Page   int
	More   bool
}

func (s *Server) handleArchive(w http.ResponseWriter, r *http.Request) {
	if s.opt.Issues == nil {
		s.errorPage(w, r, http.StatusServiceUnavailable, "err.unavailable")
		return
	}
	l, err := s.publicList(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	pg, _ := strconv.Atoi(r.URL.Query().Get("page"))
	pg = max(pg, 1)
	iss, err := s.opt.Issues.Archive(r.Context(), l.ID, archivePage+1, (pg-1)*archivePage)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	issuesOn(iss, l.ID) // a joint issue shows as this list's, with its number here
	d := archiveData{List: l, Page: pg, More: len(iss) > archivePage}
	if d.More {
		iss = iss[:archivePage]
	}
	d.Issues = iss
	v := s.newView(w, r, "title.archive")
	v.Data = d
	s.render(w, r, http.StatusOK, "archive", v)
}

// archiveHTML renders an issue for the archive and the feed as nobody in
// particular: no personal data, the greeting's name as the list's
// fallback (newsletter.Renderer.Public). It returns the body and the
// subject.
func (s *Server) archiveHTML(ctx context.Context, is issues.Issue) (template.HTML, string, error) {
	if s.opt.Renderer == nil {
		return template.HTML("<pre>" + template.HTMLEscapeString(is.BodyMarkdown) + "</pre>"), is.Subject, nil
	}
	p, err := s.opt.Renderer.Public(ctx, is)
	// The renderer sanitises its output (bluemonday), so it is trusted here.
	return template.HTML(p.HTML), p.Subject, err
}

type archiveIssueData struct {
	List  List
	Issue issues.Issue
	Body  template.HTML
}

func (s *Server) archivedIssue(r *http.Request) (List, issues.Issue, error) {
	l, err := s.publicList(r)
	if err != nil {
		return List{}, issues.Issue{}, err
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return List{}, issues.Issue{}, ErrNotFound
	}
	is, err := s.opt.Issues.ByID(r.Context(), id)
	if err != nil {
		return List{}, issues.Issue{}, err
	}
	if !is.HasList(l.ID) || is.Status != "sent" {
		return List{}, issues.Issue{}, ErrNotFound
	}
	return l, issueOn(is, l.ID), nil
}

func (s *Server) handleArchiveIssue(w http.ResponseWriter, r *http.Request) {
	if s.opt.Issues == nil {
		s.errorPage(w, r, http.StatusServiceUnavailable, "err.unavailable")
		return
	}
	l, is, err := s.archivedIssue(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	body, subject, err := s.archiveHTML(r.Context(), is)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	is.Subject = subject
	v := s.newView(w, r, "title.archive")
	v.Title = is.Subject
	v.Data = archiveIssueData{List: l, Issue: is, Body: body}
	s.render(w, r, http.StatusOK, "archive_issue", v)
}

// Atom (RFC 4287) feed types.
type atomFeed struct {
	XMLName xml.Name    `xml:"http://www.w3.org/2005/Atom feed"`
	Lang    string      `xml:"xml:lang,attr"`
	ID      string      `xml:"id"`
	Title   string      `xml:"title"`
	Updated string      `xml:"updated"`
	Links   []atomLink  `xml:"link"`
	Author  atomAuthor  `xml:"author"`
	Entries []atomEntry `xml:"entry"`
}

type atomLink struct {
	Rel  string `xml:"rel,attr,omitempty"`
	Href string `xml:"href,attr"`
	Type string `xml:"type,attr,omitempty"`
}

type atomAuthor struct {
	Name string `xml:"name"`
}

type atomEntry struct {
	ID      string      `xml:"id"`
	Title   string      `xml:"title"`
	Updated string      `xml:"updated"`
	Link    atomLink    `xml:"link"`
	Content atomContent `xml:"content"`
}

type atomContent struct {
	Type string `xml:"type,attr"`
	Body string `xml:",chardata"`
}

func (s *Server) handleFeed(w http.ResponseWriter, r *http.Request) {
	if s.opt.Issues == nil {
		s.errorPage(w, r, http.StatusServiceUnavailable, "err.unavailable")
		return
	}
	l, err := s.publicList(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	iss, err := s.opt.Issues.Archive(r.Context(), l.ID, 50, 0)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	issuesOn(iss, l.ID)
	base := strings.TrimSuffix(s.opt.BaseURL, "/")
	self := base + "/archive/" + l.Slug
	f := atomFeed{Lang: "ja", ID: self, Title: l.NameJA, Author: atomAuthor{Name: l.NameJA},
		Links: []atomLink{{Rel: "self", Href: self + "/feed.atom", Type: "application/atom+xml"}, {Rel: "alternate", Href: self, Type: "text/html"}}}
	var updated time.Time
	for _, is := range iss {
		body, subject, err := s.archiveHTML(r.Context(), is)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		is.Subject = subject
		at := is.CreatedAt
		if is.SentAt != nil && !is.SentAt.IsZero() {
			at = *is.SentAt
		}
		if at.After(updated) {
			updated = at
		}
		link := self + "/" + strconv.FormatInt(is.ID, 10)
		f.Entries = append(f.Entries, atomEntry{ID: link, Title: is.Subject, Updated: at.UTC().Format(time.RFC3339),
			Link: atomLink{Rel: "alternate", Href: link, Type: "text/html"}, Content: atomContent{Type: "html", Body: string(body)}})
	}
	if updated.IsZero() {
		updated = s.now() // an empty feed was last updated now
	}
	f.Updated = updated.UTC().Format(time.RFC3339)
	w.Header().Set("Content-Type", "application/atom+xml; charset=utf-8")
	w.Write([]byte(xml.Header))
	enc := xml.NewEncoder(w)
	if err := enc.Encode(f); err != nil {
		s.log.Error("writing feed", "err", err)
	}
}
