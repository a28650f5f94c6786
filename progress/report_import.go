package progress

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
)

// reportsMoved warns, after an import replaced projects, about reports
// whose project key now names another project (or none): keys are places
// in a measure's list, so a file that reorders or removes projects moves
// the reports with the places.
func reportsMoved(ctx context.Context, tx *sql.Tx) ([]string, error) {
	now := map[string]string{}
	rows, err := tx.QueryContext(ctx, `SELECT measure, position, title_ja FROM projects`)
	if err != nil {
		return nil, fmt.Errorf("checking reported projects: %w", err)
	}
	for rows.Next() {
		var m, pos int
		var title string
		if err := rows.Scan(&m, &pos, &title); err != nil {
			rows.Close()
			return nil, fmt.Errorf("checking reported projects: %w", err)
		}
		now[ProjectKey(m, pos)] = title
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("checking reported projects: %w", err)
	}
	rows, err = tx.QueryContext(ctx, `SELECT project_key, project_title FROM report_revisions
		WHERE id IN (SELECT max(id) FROM report_revisions GROUP BY project_key)`)
	if err != nil {
		return nil, fmt.Errorf("checking reported projects: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var key, was string
		if err := rows.Scan(&key, &was); err != nil {
			return nil, fmt.Errorf("checking reported projects: %w", err)
		}
		title, ok := now[key]
		switch {
		case !ok:
			out = append(out, fmt.Sprintf("project %s is gone: its reports (for %s) are no longer shown", key, was))
		case title != was:
			out = append(out, fmt.Sprintf("project %s is now %s, but its reports were written for %s: reports follow a project's place in its measure (keep the order; add new projects at the end)", key, title, was))
		}
	}
	sort.Strings(out)
	return out, rows.Err()
}
