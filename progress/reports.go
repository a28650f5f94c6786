package progress

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// What a bureau reports for a deadline: for each of its projects a status,
// a plain-language note and an optional link. Every save is kept as a
// revision with its time and evidence; publish.go decides what the public
// sees.

// ReportStatus is how far a project has come.
type ReportStatus string

// The statuses a bureau chooses from.
const (
	StatusDone      ReportStatus = "done"      // 実施済み
	StatusOngoing   ReportStatus = "ongoing"   // 実施中
	StatusPreparing ReportStatus = "preparing" // 準備中
	StatusDelayed   ReportStatus = "delayed"   // 遅れ・見直し
)

// ReportStatuses lists the statuses in the order forms and tables show them.
var ReportStatuses = []ReportStatus{StatusDone, StatusOngoing, StatusPreparing, StatusDelayed}

// Valid reports whether st is one of ReportStatuses.
func (st ReportStatus) Valid() bool {
	switch st {
	case StatusDone, StatusOngoing, StatusPreparing, StatusDelayed:
		return true
	}
	return false
}

// Japanese is the status as the plan's reports write it; the newsletter
// draft and the CSV use it (web has its own catalogue for pages).
func (st ReportStatus) Japanese() string {
	switch st {
	case StatusDone:
		return "実施済み"
	case StatusOngoing:
		return "実施中"
	case StatusPreparing:
		return "準備中"
	case StatusDelayed:
		return "遅れ・見直し"
	}
	return string(st)
}

// Limits of a report line.
const (
	MaxNoteRunes = 1000
	MaxLinkBytes = 500
)

// ErrReportClosed reports a change through a bureau's link after the due
// date to a report already submitted: from then on only the coordinator
// corrects it (a bureau that has not yet reported may still report late).
var ErrReportClosed = errors.New("the report can no longer be changed by its link")

// ErrInvalidReport is what a *ReportError wraps.
var ErrInvalidReport = errors.New("invalid report")

// ReportProblem is one refused field of a report.
type ReportProblem struct {
	Project string // project key
	Field   string // status | note | link | project
	// Code says what is wrong: missing, unknown, too-long, control-chars,
	// not-http (the link).
	Code string
}

// ReportError lists every problem of a refused report; nothing was saved.
type ReportError struct{ Problems []ReportProblem }

func (e *ReportError) Error() string {
	parts := make([]string, 0, len(e.Problems))
	for _, p := range e.Problems {
		parts = append(parts, p.Field+"_"+p.Project+": "+p.Code)
	}
	return "invalid report: " + strings.Join(parts, "; ")
}

// Unwrap makes errors.Is(err, ErrInvalidReport) true.
func (e *ReportError) Unwrap() error { return ErrInvalidReport }

// ReportInput is one project's line as a form sends it.
type ReportInput struct {
	Project string // key, e.g. "35-1"
	Status  ReportStatus
	Note    string
	Link    string
}

// Evidence says who saved a revision: through the signed link (IP and
// user agent, as the consent log keeps them) or by hand in the admin UI
// (the login).
type Evidence struct {
	Source    string // link | admin
	Actor     string // admin login; "" for a link
	IP        string
	UserAgent string
}

// Revision is one saved version of a project's report.
type Revision struct {
	ID     int64
	Status ReportStatus
	Note   string
	Link   string
	At     time.Time
	Source string // link | admin
	Actor  string
}

// ProjectReport is one project of a bureau's report with its newest
// revision and the revision the public sees (either may be nil).
type ProjectReport struct {
	Key          string // "<measure>-<n>", n 1-based within the measure
	Measure      int
	MeasureTitle string
	Title        string
	Bureau       string
	BureauName   string
	Latest       *Revision
	Published    *Revision
	// PublishedAt is when Published was made public.
	PublishedAt time.Time
	Revisions   int
}

// Unpublished reports whether the newest revision is not yet public.
func (p ProjectReport) Unpublished() bool {
	return p.Latest != nil && (p.Published == nil || p.Published.ID != p.Latest.ID)
}

// Report is a bureau's report for a deadline: what the form shows.
type Report struct {
	DeadlineID  string
	Title       string
	Due         Date
	Bureau      string
	BureauName  string
	Projects    []ProjectReport
	Submitted   bool
	SubmittedAt time.Time
	// Open is true while the bureau may still change it by its link.
	Open bool
}

// ProjectKey is the key of the n-th (0-based position) project of measure.
func ProjectKey(measure, position int) string {
	return strconv.Itoa(measure) + "-" + strconv.Itoa(position+1)
}

// ReportByToken returns the report a "submitted" link stands for. It
// records nothing.
func (s *Store) ReportByToken(ctx context.Context, tok string) (Report, error) {
	key, bureau, err := s.parseSubmitted(tok)
	if err != nil {
		return Report{}, err
	}
	return s.Report(ctx, key, bureau)
}

// Report returns bureau's report for the deadline with stable id
// deadlineID (ErrNotFound when the bureau does not report for it).
func (s *Store) Report(ctx context.Context, deadlineID, bureau string) (Report, error) {
	return s.report(ctx, s.db, deadlineID, bureau)
}

func (s *Store) report(ctx context.Context, q querier, deadlineID, bureau string) (Report, error) {
	d, err := deadlineByKey(ctx, q, deadlineID)
	if err != nil {
		return Report{}, err
	}
	var name string
	err = q.QueryRowContext(ctx, `SELECT c.name_ja FROM deadline_bureaus db JOIN contacts c ON c.bureau = db.bureau
		WHERE db.deadline = ? AND db.bureau = ?`, d.id, bureau).Scan(&name)
	if errors.Is(err, sql.ErrNoRows) {
		return Report{}, fmt.Errorf("bureau %s for deadline %s: %w", bureau, deadlineID, ErrNotFound)
	}
	if err != nil {
		return Report{}, fmt.Errorf("loading report of %s for %s: %w", bureau, deadlineID, err)
	}
	rep := Report{DeadlineID: d.key, Title: d.titleJa, Due: d.due, Bureau: bureau, BureauName: name}
	var at int64
	err = q.QueryRowContext(ctx, `SELECT submitted_at FROM submissions WHERE deadline = ? AND bureau = ?`, d.id, bureau).Scan(&at)
	switch {
	case err == nil:
		rep.Submitted, rep.SubmittedAt = true, time.Unix(at, 0).In(s.loc)
	case !errors.Is(err, sql.ErrNoRows):
		return Report{}, fmt.Errorf("loading report of %s for %s: %w", bureau, deadlineID, err)
	}
	rep.Open = s.linkOpen(d, rep.Submitted)
	all, err := s.deadlineProjects(ctx, q, d, bureau)
	if err != nil {
		return Report{}, err
	}
	rep.Projects = all
	return rep, nil
}

// linkOpen is the rule for changes through a bureau's link: until the due
// date (inclusive, in Options.Location); after it only a first, late
// report.
func (s *Store) linkOpen(d deadlineRow, submitted bool) bool {
	today := DateOf(s.opt.Now(), s.loc)
	return !d.due.Before(today) || !submitted
}

// deadlineProjects lists the projects of the deadline's bureaus (or of one
// bureau) in plan order, each with its newest and its published revision.
func (s *Store) deadlineProjects(ctx context.Context, q querier, d deadlineRow, bureau string) ([]ProjectReport, error) {
	rows, err := q.QueryContext(ctx, `SELECT m.number, m.title_ja, p.position, p.title_ja, p.bureau, c.name_ja
		FROM projects p JOIN measures m ON m.number = p.measure
		JOIN deadline_bureaus db ON db.bureau = p.bureau AND db.deadline = ?
		JOIN contacts c ON c.bureau = p.bureau
		WHERE ? = '' OR p.bureau = ? ORDER BY m.number, p.position`, d.id, bureau, bureau)
	if err != nil {
		return nil, fmt.Errorf("loading projects of %s: %w", d.key, err)
	}
	var out []ProjectReport
	for rows.Next() {
		var p ProjectReport
		var pos int
		if err := rows.Scan(&p.Measure, &p.MeasureTitle, &pos, &p.Title, &p.Bureau, &p.BureauName); err != nil {
			rows.Close()
			return nil, fmt.Errorf("loading projects of %s: %w", d.key, err)
		}
		p.Key = ProjectKey(p.Measure, pos)
		out = append(out, p)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("loading projects of %s: %w", d.key, err)
	}
	for i := range out {
		if err := s.fillRevisions(ctx, q, d.id, &out[i]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (s *Store) fillRevisions(ctx context.Context, q querier, deadline int64, p *ProjectReport) error {
	latest, n, err := s.latestRevision(ctx, q, deadline, p.Key)
	if err != nil {
		return err
	}
	p.Latest, p.Revisions = latest, n
	var pubRev, pubMs int64
	err = q.QueryRowContext(ctx, `SELECT revision, published_ms FROM report_publications WHERE deadline = ? AND project_key = ?
		ORDER BY id DESC LIMIT 1`, deadline, p.Key).Scan(&pubRev, &pubMs)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("loading publication of %s: %w", p.Key, err)
	}
	p.PublishedAt = time.UnixMilli(pubMs).In(s.loc)
	if latest != nil && latest.ID == pubRev {
		p.Published = latest
		return nil
	}
	r, err := s.revisionByID(ctx, q, pubRev)
	p.Published = &r
	return err
}

const revisionCols = `id, status, note, link, created_ms, source, actor`

func (s *Store) scanRevision(sc interface{ Scan(...any) error }) (Revision, error) {
	var r Revision
	var ms int64
	if err := sc.Scan(&r.ID, &r.Status, &r.Note, &r.Link, &ms, &r.Source, &r.Actor); err != nil {
		return r, err
	}
	r.At = time.UnixMilli(ms).In(s.loc)
	return r, nil
}

func (s *Store) latestRevision(ctx context.Context, q querier, deadline int64, key string) (*Revision, int, error) {
	var n int
	if err := q.QueryRowContext(ctx, `SELECT count(*) FROM report_revisions WHERE deadline = ? AND project_key = ?`,
		deadline, key).Scan(&n); err != nil {
		return nil, 0, fmt.Errorf("counting revisions of %s: %w", key, err)
	}
	if n == 0 {
		return nil, 0, nil
	}
	r, err := s.scanRevision(q.QueryRowContext(ctx, `SELECT `+revisionCols+` FROM report_revisions
		WHERE deadline = ? AND project_key = ? ORDER BY id DESC LIMIT 1`, deadline, key))
	if err != nil {
		return nil, 0, fmt.Errorf("loading revision of %s: %w", key, err)
	}
	return &r, n, nil
}

func (s *Store) revisionByID(ctx context.Context, q querier, id int64) (Revision, error) {
	r, err := s.scanRevision(q.QueryRowContext(ctx, `SELECT `+revisionCols+` FROM report_revisions WHERE id = ?`, id))
	if err != nil {
		return r, fmt.Errorf("loading revision %d: %w", id, err)
	}
	return r, nil
}

// SaveReportByToken saves the report a "submitted" link stands for, as the
// bureau sends it from the form, and records the submission (which stops
// its reminders). It returns how many projects got a new revision (a line
// sent unchanged adds none). Every project of the bureau needs a status;
// a refused report is a *ReportError and saves nothing.
func (s *Store) SaveReportByToken(ctx context.Context, tok string, in []ReportInput, ev Evidence) (int, error) {
	key, bureau, err := s.parseSubmitted(tok)
	if err != nil {
		return 0, err
	}
	ev.Source, ev.Actor = "link", ""
	return s.saveReport(ctx, key, bureau, in, ev)
}

// SaveReport saves a report entered by hand in the admin UI (ev.Source
// "admin", ev.Actor the login). Lines with neither status nor note are
// left as they are, so the coordinator may correct one project; the
// bureau is recorded as submitted.
func (s *Store) SaveReport(ctx context.Context, deadlineID, bureau string, in []ReportInput, ev Evidence) (int, error) {
	ev.Source = "admin"
	if ev.Actor == "" {
		return 0, errors.New("saving a report by hand: the admin's login is required")
	}
	return s.saveReport(ctx, deadlineID, bureau, in, ev)
}

func (s *Store) saveReport(ctx context.Context, deadlineID, bureau string, in []ReportInput, ev Evidence) (int, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("saving report of %s for %s: %w", bureau, deadlineID, err)
	}
	defer tx.Rollback()
	rep, err := s.report(ctx, tx, deadlineID, bureau)
	if err != nil {
		return 0, err
	}
	if ev.Source == "link" && !rep.Open {
		return 0, fmt.Errorf("report of %s for %s: %w", bureau, deadlineID, ErrReportClosed)
	}
	lines, err := checkReport(rep.Projects, in, ev.Source == "admin")
	if err != nil {
		return 0, err
	}
	d, err := deadlineByKey(ctx, tx, deadlineID)
	if err != nil {
		return 0, err
	}
	now := s.opt.Now()
	saved := 0
	for _, p := range rep.Projects {
		l, ok := lines[p.Key]
		if !ok || (p.Latest != nil && p.Latest.Status == l.Status && p.Latest.Note == l.Note && p.Latest.Link == l.Link) {
			continue
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO report_revisions (deadline, bureau, project_key, measure,
			project_title, status, note, link, created_ms, source, actor, ip, user_agent)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, d.id, bureau, p.Key, p.Measure, p.Title, string(l.Status),
			l.Note, l.Link, now.UnixMilli(), ev.Source, ev.Actor, ev.IP, ev.UserAgent); err != nil {
			return 0, fmt.Errorf("saving report of %s for %s: %w", bureau, deadlineID, err)
		}
		saved++
	}
	actor := ev.Actor
	if ev.Source == "link" {
		actor = strings.TrimSpace(ev.IP + " " + ev.UserAgent)
	}
	if err := markSubmittedTx(ctx, tx, d, bureau, ev.Source, actor, now); err != nil {
		return 0, err
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("saving report of %s for %s: %w", bureau, deadlineID, err)
	}
	s.log.Info("report saved", "deadline", deadlineID, "bureau", bureau, "source", ev.Source, "revisions", saved)
	return saved, nil
}

// RevisionEntry is one saved revision with its evidence, for the
// coordinator (never for the public pages).
type RevisionEntry struct {
	Revision
	Project   string // key
	Title     string // the project's title when reported
	IP        string
	UserAgent string
	// PublishedAt is when this revision was first made public (zero: never).
	PublishedAt time.Time
}

// History returns every revision of bureau's report for the deadline,
// newest first, with who saved it from where and when it was published.
func (s *Store) History(ctx context.Context, deadlineID, bureau string) ([]RevisionEntry, error) {
	d, err := deadlineByKey(ctx, s.db, deadlineID)
	if err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT r.id, r.status, r.note, r.link, r.created_ms, r.source, r.actor,
			r.project_key, r.project_title, r.ip, r.user_agent,
			(SELECT min(p.published_ms) FROM report_publications p WHERE p.revision = r.id)
		FROM report_revisions r WHERE r.deadline = ? AND r.bureau = ? ORDER BY r.id DESC`, d.id, bureau)
	if err != nil {
		return nil, fmt.Errorf("loading history of %s for %s: %w", bureau, deadlineID, err)
	}
	defer rows.Close()
	var out []RevisionEntry
	for rows.Next() {
		var e RevisionEntry
		var ms int64
		var pub sql.NullInt64
		if err := rows.Scan(&e.ID, &e.Status, &e.Note, &e.Link, &ms, &e.Source, &e.Actor, &e.Project, &e.Title,
			&e.IP, &e.UserAgent, &pub); err != nil {
			return nil, fmt.Errorf("loading history of %s for %s: %w", bureau, deadlineID, err)
		}
		e.At = time.UnixMilli(ms).In(s.loc)
		if pub.Valid {
			e.PublishedAt = time.UnixMilli(pub.Int64).In(s.loc)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}
