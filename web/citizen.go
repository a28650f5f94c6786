package web

import (
	"net/http"
	"strings"

	"kawaraban/issues"
)

// archiveIndexLatest is how many back numbers /archive shows per list.
const archiveIndexLatest = 5

// archiveIndexEntry is one public list on /archive with its latest issues.
type archiveIndexEntry struct {
	List   List
	Issues []issues.Issue
	More   bool
}

// handleArchiveIndex lists every public list with its latest back
// numbers; each links to the list's own archive.
func (s *Server) handleArchiveIndex(w http.ResponseWriter, r *http.Request) {
	if s.opt.Issues == nil || s.opt.Subscribers == nil {
		s.errorPage(w, r, http.StatusServiceUnavailable, "err.unavailable")
		return
	}
	lists, err := s.publicLists(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var out []archiveIndexEntry
	for _, l := range lists {
		if l.ArchiveOff {
			continue
		}
		iss, err := s.opt.Issues.Archive(r.Context(), l.ID, archiveIndexLatest+1, 0)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		issuesOn(iss, l.ID)
		e := archiveIndexEntry{List: l, More: len(iss) > archiveIndexLatest}
		if e.More {
			iss = iss[:archiveIndexLatest]
		}
		e.Issues = iss
		out = append(out, e)
	}
	v := s.newView(w, r, "title.archive")
	v.Data = out
	s.render(w, r, http.StatusOK, "archive_index", v)
}

// Privacy is the notice on how the service handles personal information
// (個人情報の取扱い), from the config; empty texts use the built-in notice.
type Privacy struct {
	// TextJA and TextEN are plain text; blank lines separate paragraphs.
	TextJA, TextEN string
	// Contact is who answers questions about it (a department, an address).
	Contact string
}

// handlePrivacy shows the privacy notice.
func (s *Server) handlePrivacy(w http.ResponseWriter, r *http.Request) {
	v := s.newView(w, r, "title.privacy")
	md := s.opt.Privacy.TextJA
	if v.EN() && s.opt.Privacy.TextEN != "" {
		md = s.opt.Privacy.TextEN
	}
	var paras []string // blank lines separate paragraphs
	for _, p := range strings.Split(strings.ReplaceAll(md, "\r\n", "\n"), "\n\n") {
		if p = strings.TrimSpace(p); p != "" {
			paras = append(paras, p)
		}
	}
	v.Data = map[string]any{"Paragraphs": paras, "Contact": s.opt.Privacy.Contact}
	s.render(w, r, http.StatusOK, "privacy", v)
}
