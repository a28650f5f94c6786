package main

import (
	"context"

	"kawaraban/web"
)

// webImports lists CSV imports for the admin UI (web.Imports).
type webImports struct{ a *app }

func (w webImports) Imports(ctx context.Context, listSlug string, limit int) ([]web.ImportStatus, error) {
	rs, err := w.a.subs.Imports(ctx, listSlug, limit)
	out := make([]web.ImportStatus, 0, len(rs))
	for _, r := range rs {
		out = append(out, web.ImportStatus{ID: r.ID, FileName: r.FileName, Status: r.Status, Rows: r.Rows,
			Valid: r.Valid, Written: r.Written, Added: r.Added, Rejected: r.Rejected, Percent: r.Percent(),
			Error: r.Error, Started: r.Started})
	}
	return out, webErr(err)
}
