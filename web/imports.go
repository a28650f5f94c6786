package web

import (
	"context"
	"net/http"
	"time"

	"kawaraban/subscribers"
)

// importJSON is one CSV import in imports.json, for the progress bar of
// an upload.
type importJSON struct {
	ID       int64  `json:"id"`
	FileName string `json:"file_name"`
	// Status is writing, done or failed (resumable: import the same file
	// again).
	Status  string `json:"status"`
	Rows    int64  `json:"rows"`
	Valid   int64  `json:"valid"`
	Written int64  `json:"written"`
	Added   int64  `json:"added"`
	// Rejected counts the rows not imported.
	Rejected int64     `json:"rejected"`
	Percent  int       `json:"percent"`
	Error    string    `json:"error,omitempty"`
	Started  time.Time `json:"started"`
}

func importJSONOf(r subscribers.ImportRecord) importJSON {
	return importJSON{ID: r.ID, FileName: r.FileName, Status: r.Status, Rows: r.Rows, Valid: r.Valid,
		Written: r.Written, Added: r.Added, Rejected: r.Rejected, Percent: r.Percent(), Error: r.Error, Started: r.Started}
}

// Imports lists a list's recent CSV imports, newest first
// (*subscribers.Store).
type Imports interface {
	Imports(ctx context.Context, listSlug string, limit int) ([]subscribers.ImportRecord, error)
}

// recentImports is how many imports the subscribers page shows.
const recentImports = 5

// handleImportsJSON answers the upload form's progress bar, which polls
// it while an import runs: {"imports": [...]} newest first.
func (s *Server) handleImportsJSON(w http.ResponseWriter, r *http.Request, sess *session, v *view) {
	l, _, err := s.chosenList(r, sess.user, r.URL.Query().Get("list"))
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	ims := []importJSON{}
	if s.opt.Imports != nil {
		rs, err := s.opt.Imports.Imports(r.Context(), l.Slug, recentImports)
		if err != nil {
			s.apiFail(w, r, err)
			return
		}
		for _, r := range rs {
			ims = append(ims, importJSONOf(r))
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"imports": ims})
}

// recent is the list's recent imports for the subscribers page (none
// when they cannot be read: the page works without them).
func (s *Server) recent(ctx context.Context, listSlug string) []subscribers.ImportRecord {
	if s.opt.Imports == nil {
		return nil
	}
	ims, err := s.opt.Imports.Imports(ctx, listSlug, recentImports)
	if err != nil {
		s.log.Warn("listing imports", "list", listSlug, "err", err)
	}
	return ims
}
