package progress

import (
	"context"
	"fmt"
	"time"
)

// Publishing is the coordinator's review step: a bureau's report is a
// draft for the public until published, and a later revision replaces the
// public text only when it is published in turn. Nothing here returns a
// contact's name or address, or a revision's evidence.

// Publish makes the newest revision of every project of the deadline (or
// of one bureau's projects, bureau != "") public, where it is not already,
// and returns how many were published. actor is the coordinator's login.
func (s *Store) Publish(ctx context.Context, deadlineID, bureau, actor string) (int, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("publishing %s: %w", deadlineID, err)
	}
	defer tx.Rollback()
	d, err := deadlineByKey(ctx, tx, deadlineID)
	if err != nil {
		return 0, err
	}
	if bureau != "" {
		var one int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM deadline_bureaus WHERE deadline = ? AND bureau = ?`,
			d.id, bureau).Scan(&one); err != nil {
			return 0, fmt.Errorf("publishing %s: %w", deadlineID, err)
		}
		if one == 0 {
			return 0, fmt.Errorf("bureau %s for deadline %s: %w", bureau, deadlineID, ErrNotFound)
		}
	}
	projects, err := s.deadlineProjects(ctx, tx, d, bureau)
	if err != nil {
		return 0, err
	}
	now := s.opt.Now().UnixMilli()
	n := 0
	for _, p := range projects {
		if !p.Unpublished() {
			continue
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO report_publications (revision, deadline, project_key, published_ms, actor)
			VALUES (?, ?, ?, ?, ?)`, p.Latest.ID, d.id, p.Key, now, actor); err != nil {
			return 0, fmt.Errorf("publishing %s of %s: %w", p.Key, deadlineID, err)
		}
		n++
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("publishing %s: %w", deadlineID, err)
	}
	s.log.Info("reports published", "deadline", deadlineID, "bureau", bureau, "published", n)
	return n, nil
}

// DeadlineReports is every project of a deadline with its revisions, for
// the coordinator's review page.
type DeadlineReports struct {
	ID       string
	Title    string
	Due      Date
	Projects []ProjectReport
}

// Reports returns every deadline's projects with their newest and
// published revisions, by due date.
func (s *Store) Reports(ctx context.Context) ([]DeadlineReports, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, key, title_ja, due FROM deadlines ORDER BY due, key`)
	if err != nil {
		return nil, fmt.Errorf("loading deadlines: %w", err)
	}
	var ds []deadlineRow
	for rows.Next() {
		var d deadlineRow
		var due string
		if err := rows.Scan(&d.id, &d.key, &d.titleJa, &due); err != nil {
			rows.Close()
			return nil, fmt.Errorf("loading deadlines: %w", err)
		}
		if d.due, err = ParseDate(due); err != nil {
			rows.Close()
			return nil, fmt.Errorf("deadline %s: %w", d.key, err)
		}
		ds = append(ds, d)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("loading deadlines: %w", err)
	}
	out := make([]DeadlineReports, 0, len(ds))
	for _, d := range ds {
		ps, err := s.deadlineProjects(ctx, s.db, d, "")
		if err != nil {
			return nil, err
		}
		out = append(out, DeadlineReports{ID: d.key, Title: d.titleJa, Due: d.due, Projects: ps})
	}
	return out, nil
}

// PublicReport is a published report line: no contact, no evidence.
type PublicReport struct {
	PublicationID int64
	DeadlineID    string
	DeadlineTitle string
	Due           Date
	ProjectKey    string
	Measure       int
	ProjectTitle  string
	BureauName    string
	BureauNameEn  string // "" when the progress file gives none
	Status        ReportStatus
	Note          string
	Link          string
	ReportedAt    time.Time
	PublishedAt   time.Time
}

// PublicProject is a project of the plan with its latest published report
// (nil when none).
type PublicProject struct {
	Key          string
	Title        string
	BureauName   string
	BureauNameEn string
	Report       *PublicReport
}

// PublicMeasure is a measure of the plan as the public pages show it.
type PublicMeasure struct {
	Number   int
	Title    string
	TitleEn  string
	Projects []PublicProject
}

// Counts returns how many of the measure's projects have each status
// ("" counts those without a published report).
func (m PublicMeasure) Counts() map[ReportStatus]int {
	c := map[ReportStatus]int{}
	for _, p := range m.Projects {
		if p.Report == nil {
			c[""]++
		} else {
			c[p.Report.Status]++
		}
	}
	return c
}

// publicSelect reads publications with what the public may see of them.
const publicSelect = `SELECT p.id, p.published_ms, d.key, d.title_ja, d.due, r.project_key, r.measure, r.project_title,
		coalesce(c.name_ja, r.bureau), coalesce(c.name_en, ''), r.status, r.note, r.link, r.created_ms
	FROM report_publications p JOIN report_revisions r ON r.id = p.revision
	JOIN deadlines d ON d.id = p.deadline LEFT JOIN contacts c ON c.bureau = r.bureau`

func (s *Store) publicReports(ctx context.Context, where string, args ...any) ([]PublicReport, error) {
	rows, err := s.db.QueryContext(ctx, publicSelect+" "+where, args...)
	if err != nil {
		return nil, fmt.Errorf("loading published reports: %w", err)
	}
	defer rows.Close()
	var out []PublicReport
	for rows.Next() {
		var r PublicReport
		var due string
		var pub, rep int64
		if err := rows.Scan(&r.PublicationID, &pub, &r.DeadlineID, &r.DeadlineTitle, &due, &r.ProjectKey, &r.Measure,
			&r.ProjectTitle, &r.BureauName, &r.BureauNameEn, &r.Status, &r.Note, &r.Link, &rep); err != nil {
			return nil, fmt.Errorf("loading published reports: %w", err)
		}
		if r.Due, err = ParseDate(due); err != nil {
			return nil, fmt.Errorf("deadline %s: %w", r.DeadlineID, err)
		}
		r.PublishedAt, r.ReportedAt = time.UnixMilli(pub).In(s.loc), time.UnixMilli(rep).In(s.loc)
		out = append(out, r)
	}
	return out, rows.Err()
}

// currentReports returns, for each project key, the public report of the
// latest deadline that has one (deadlineID != "": of that deadline only).
func (s *Store) currentReports(ctx context.Context, deadlineID string) (map[string]PublicReport, error) {
	all, err := s.publicReports(ctx, `WHERE p.id IN (SELECT max(id) FROM report_publications GROUP BY deadline, project_key)
		AND (? = '' OR d.key = ?) ORDER BY d.due DESC, p.id DESC`, deadlineID, deadlineID)
	if err != nil {
		return nil, err
	}
	cur := map[string]PublicReport{}
	for _, r := range all {
		if _, ok := cur[r.ProjectKey]; !ok {
			cur[r.ProjectKey] = r
		}
	}
	return cur, nil
}

// PublicMeasures returns the plan's measures with their projects, each
// with its latest published report.
func (s *Store) PublicMeasures(ctx context.Context) ([]PublicMeasure, error) {
	return s.publicMeasures(ctx, "")
}

func (s *Store) publicMeasures(ctx context.Context, deadlineID string) ([]PublicMeasure, error) {
	cur, err := s.currentReports(ctx, deadlineID)
	if err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT m.number, m.title_ja, m.title_en, p.position, p.title_ja,
			coalesce(c.name_ja, p.bureau, ''), coalesce(c.name_en, '')
		FROM measures m LEFT JOIN projects p ON p.measure = m.number LEFT JOIN contacts c ON c.bureau = p.bureau
		ORDER BY m.number, p.position`)
	if err != nil {
		return nil, fmt.Errorf("loading measures: %w", err)
	}
	defer rows.Close()
	var out []PublicMeasure
	for rows.Next() {
		var m PublicMeasure
		var pos *int
		var title *string
		var bureau, bureauEn string
		if err := rows.Scan(&m.Number, &m.Title, &m.TitleEn, &pos, &title, &bureau, &bureauEn); err != nil {
			return nil, fmt.Errorf("loading measures: %w", err)
		}
		if len(out) == 0 || out[len(out)-1].Number != m.Number {
			out = append(out, m)
		}
		if pos == nil {
			continue
		}
		p := PublicProject{Key: ProjectKey(m.Number, *pos), Title: *title, BureauName: bureau, BureauNameEn: bureauEn}
		if r, ok := cur[p.Key]; ok {
			p.Report = &r
		}
		last := &out[len(out)-1]
		last.Projects = append(last.Projects, p)
	}
	return out, rows.Err()
}

// Unreported is how many of the measure's projects have no published
// report.
func (m PublicMeasure) Unreported() int { return m.Counts()[""] }

// PublicMeasure returns one measure as PublicMeasures does (ErrNotFound
// for a number the plan does not have).
func (s *Store) PublicMeasure(ctx context.Context, number int) (PublicMeasure, error) {
	all, err := s.PublicMeasures(ctx)
	if err != nil {
		return PublicMeasure{}, err
	}
	for _, m := range all {
		if m.Number == number {
			return m, nil
		}
	}
	return PublicMeasure{}, fmt.Errorf("measure %d: %w", number, ErrNotFound)
}

// Publications returns the newest publications first, at most limit, for
// the public feed: one entry per project each time its report is
// published (a correction, once published, is a new entry).
func (s *Store) Publications(ctx context.Context, limit int) ([]PublicReport, error) {
	if limit <= 0 {
		limit = 50
	}
	return s.publicReports(ctx, `ORDER BY p.id DESC LIMIT ?`, limit)
}
