package progress

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// querier is what *sql.DB and *sql.Tx share.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// deadlineRow is a deadline as stored.
type deadlineRow struct {
	id      int64
	key     string
	titleJa string
	due     Date
}

// contactRow is a bureau's contact as stored.
type contactRow struct {
	bureau, nameJa, nameEn, person, email, cc string
}

func deadlineByKey(ctx context.Context, q querier, key string) (deadlineRow, error) {
	return scanDeadline(q.QueryRowContext(ctx, `SELECT id, key, title_ja, due FROM deadlines WHERE key = ?`, key), key)
}

func deadlineByID(ctx context.Context, q querier, id int64) (deadlineRow, error) {
	return scanDeadline(q.QueryRowContext(ctx, `SELECT id, key, title_ja, due FROM deadlines WHERE id = ?`, id), fmt.Sprint(id))
}

func scanDeadline(row *sql.Row, name string) (deadlineRow, error) {
	var d deadlineRow
	var due string
	err := row.Scan(&d.id, &d.key, &d.titleJa, &due)
	if errors.Is(err, sql.ErrNoRows) {
		return d, fmt.Errorf("deadline %s: %w", name, ErrNotFound)
	}
	if err != nil {
		return d, fmt.Errorf("loading deadline %s: %w", name, err)
	}
	if d.due, err = ParseDate(due); err != nil {
		return d, fmt.Errorf("loading deadline %s: %w", name, err)
	}
	return d, nil
}

func contactByBureau(ctx context.Context, q querier, bureau string) (contactRow, error) {
	var c contactRow
	err := q.QueryRowContext(ctx, `SELECT bureau, name_ja, name_en, person, email, cc FROM contacts WHERE bureau = ?`,
		bureau).Scan(&c.bureau, &c.nameJa, &c.nameEn, &c.person, &c.email, &c.cc)
	if errors.Is(err, sql.ErrNoRows) {
		return c, fmt.Errorf("bureau %s: %w", bureau, ErrNotFound)
	}
	if err != nil {
		return c, fmt.Errorf("loading bureau %s: %w", bureau, err)
	}
	return c, nil
}

// projectsOf lists a bureau's projects in plan order.
func projectsOf(ctx context.Context, q querier, bureau string) ([]projectLine, error) {
	rows, err := q.QueryContext(ctx, `SELECT m.number, m.title_ja, p.title_ja FROM projects p
		JOIN measures m ON m.number = p.measure WHERE p.bureau = ? ORDER BY m.number, p.position`, bureau)
	if err != nil {
		return nil, fmt.Errorf("loading projects of %s: %w", bureau, err)
	}
	defer rows.Close()
	var out []projectLine
	for rows.Next() {
		var p projectLine
		if err := rows.Scan(&p.Measure, &p.MeasureTitle, &p.Title); err != nil {
			return nil, fmt.Errorf("loading projects of %s: %w", bureau, err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// rules loads the stored reminder rules, or DefaultRules.
func loadRules(ctx context.Context, q querier) (Rules, error) {
	var r Rules
	var before string
	err := q.QueryRowContext(ctx, `SELECT before_days, overdue_every_days, escalate_after_days, coordinator
		FROM reminder_rules WHERE id = 1`).Scan(&before, &r.OverdueEveryDays, &r.EscalateAfterDays, &r.Coordinator)
	if errors.Is(err, sql.ErrNoRows) {
		return DefaultRules, nil
	}
	if err != nil {
		return r, fmt.Errorf("loading reminder rules: %w", err)
	}
	r.BeforeDays, err = parseBeforeText(before)
	return r, err
}

// Rules returns the reminder rules in force.
func (s *Store) Rules(ctx context.Context) (Rules, error) {
	return loadRules(ctx, s.db)
}

// deadlineBureaus lists, for every deadline, its bureaus, in due order.
type pair struct {
	deadline deadlineRow
	bureau   string
}

func pendingPairs(ctx context.Context, q querier) ([]pair, error) {
	rows, err := q.QueryContext(ctx, `SELECT d.id, d.key, d.title_ja, d.due, db.bureau FROM deadlines d
		JOIN deadline_bureaus db ON db.deadline = d.id
		LEFT JOIN submissions s ON s.deadline = d.id AND s.bureau = db.bureau
		WHERE s.deadline IS NULL ORDER BY d.due, d.key, db.bureau`)
	if err != nil {
		return nil, fmt.Errorf("listing unsubmitted reports: %w", err)
	}
	defer rows.Close()
	var out []pair
	for rows.Next() {
		var p pair
		var due string
		if err := rows.Scan(&p.deadline.id, &p.deadline.key, &p.deadline.titleJa, &due, &p.bureau); err != nil {
			return nil, fmt.Errorf("listing unsubmitted reports: %w", err)
		}
		if p.deadline.due, err = ParseDate(due); err != nil {
			return nil, fmt.Errorf("deadline %s: %w", p.deadline.key, err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}
