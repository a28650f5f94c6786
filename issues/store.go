package issues

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

const issueColumns = `id, list_id, subject, body_markdown, status, paused_from, send_at, author,
	require_approval, approved_by, approved_at, recipients, created_at, updated_at, sent_at, COALESCE(number, 0),
	(SELECT group_concat(l.list_id || ':' || COALESCE(l.number, 0), ',' ORDER BY l.position)
	 FROM issue_lists l WHERE l.issue_id = issues.id)`

type scanner interface{ Scan(dest ...any) error }

func scanIssue(row scanner) (Issue, error) {
	var (
		is                                 Issue
		sendAt, approvedAt, sentAt, recips sql.NullInt64
		created, updated                   int64
		lists                              sql.NullString
	)
	err := row.Scan(&is.ID, &is.ListID, &is.Subject, &is.BodyMarkdown, &is.Status, &is.PausedFrom,
		&sendAt, &is.Author, &is.RequireApproval, &is.ApprovedBy, &approvedAt, &recips,
		&created, &updated, &sentAt, &is.Number, &lists)
	if err != nil {
		return Issue{}, err
	}
	if is.Lists, err = parseLists(lists.String); err != nil {
		return Issue{}, err
	}
	if len(is.Lists) == 0 { // not possible after migration 0025; kept total
		is.Lists = []ListNumber{{ListID: is.ListID, Number: is.Number}}
	}
	is.SendAt, is.ApprovedAt, is.SentAt = fromMS(sendAt), fromMS(approvedAt), fromMS(sentAt)
	if recips.Valid {
		n := int(recips.Int64)
		is.Recipients = &n
	}
	is.CreatedAt = time.UnixMilli(created).UTC()
	is.UpdatedAt = time.UnixMilli(updated).UTC()
	return is, nil
}

// parseLists reads the "list:number,…" of issueColumns.
func parseLists(s string) ([]ListNumber, error) {
	if s == "" {
		return nil, nil
	}
	var out []ListNumber
	for _, f := range strings.Split(s, ",") {
		id, n, _ := strings.Cut(f, ":")
		l, err1 := strconv.ParseInt(id, 10, 64)
		k, err2 := strconv.Atoi(n)
		if err := errors.Join(err1, err2); err != nil {
			return nil, fmt.Errorf("reading the lists of an issue: %w", err)
		}
		out = append(out, ListNumber{ListID: l, Number: k})
	}
	return out, nil
}

type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

func byID(ctx context.Context, q querier, id int64) (Issue, error) {
	is, err := scanIssue(q.QueryRowContext(ctx, `SELECT `+issueColumns+` FROM issues WHERE id = ?`, id))
	if isNoRows(err) {
		return Issue{}, fmt.Errorf("issue %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return Issue{}, fmt.Errorf("loading issue %d: %w", id, err)
	}
	return is, nil
}

func addEvent(ctx context.Context, q querier, e Event) error {
	_, err := q.ExecContext(ctx, `INSERT INTO issue_events
		(issue_id, at, actor, source, action, from_status, to_status, comment)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		e.IssueID, ms(e.At), e.Actor, e.Source, string(e.Action), e.From, e.To, e.Comment)
	if err != nil {
		return fmt.Errorf("recording %s event for issue %d: %w", e.Action, e.IssueID, err)
	}
	return nil
}

// Create stores a new draft and records who created it.
func (s *Store) Create(ctx context.Context, d Draft) (Issue, error) {
	if err := d.Validate(); err != nil {
		return Issue{}, fmt.Errorf("creating issue: %w", err)
	}
	now := s.now()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return Issue{}, fmt.Errorf("creating issue: %w", err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `INSERT INTO issues
		(list_id, subject, body_markdown, status, send_at, author, require_approval, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		d.ListID, d.Subject, d.BodyMarkdown, StatusDraft, msPtr(d.SendAt), d.Author, d.RequireApproval, ms(now), ms(now))
	if err != nil {
		return Issue{}, fmt.Errorf("creating issue: %w", err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return Issue{}, fmt.Errorf("creating issue: %w", err)
	}
	for pos, listID := range d.Lists() {
		if _, err := tx.ExecContext(ctx, `INSERT INTO issue_lists (issue_id, list_id, position) VALUES (?, ?, ?)`,
			id, listID, pos); err != nil {
			return Issue{}, fmt.Errorf("creating issue: list %d: %w", listID, err)
		}
	}
	ev := Event{IssueID: id, At: now, Actor: d.Author, Source: d.Source, Action: ActCreate, To: StatusDraft}
	if d.DuplicateOf != 0 {
		ev.Comment = fmt.Sprintf("duplicate of issue %d", d.DuplicateOf)
	}
	if err := addEvent(ctx, tx, ev); err != nil {
		return Issue{}, err
	}
	is, err := byID(ctx, tx, id)
	if err != nil {
		return Issue{}, err
	}
	if err := tx.Commit(); err != nil {
		return Issue{}, fmt.Errorf("creating issue: %w", err)
	}
	s.log.Info("issue created", "issue_id", id, "list_id", d.ListID, "lists", len(d.Lists()))
	return is, nil
}

// ByID returns one issue, or ErrNotFound.
func (s *Store) ByID(ctx context.Context, id int64) (Issue, error) {
	return byID(ctx, s.db, id)
}

// ListByList returns a list's issues of every status, newest first; a
// joint issue is an issue of each of its lists.
func (s *Store) ListByList(ctx context.Context, listID int64, page Page) ([]Issue, error) {
	if page.Limit <= 0 {
		page.Limit = 50
	}
	return s.query(ctx, `SELECT `+issueColumns+` FROM issues WHERE id IN
		(SELECT issue_id FROM issue_lists WHERE list_id = ?)
		ORDER BY id DESC LIMIT ? OFFSET ?`, listID, page.Limit, max(page.Offset, 0))
}

// ListByLists returns the issues of any of the lists, newest first, each
// once (a joint issue of two of them too): the admin's all-lists view.
func (s *Store) ListByLists(ctx context.Context, listIDs []int64, page Page) ([]Issue, error) {
	if page.Limit <= 0 {
		page.Limit = 50
	}
	ids, err := json.Marshal(listIDs)
	if err != nil {
		return nil, fmt.Errorf("listing issues: %w", err)
	}
	return s.query(ctx, `SELECT `+issueColumns+` FROM issues WHERE id IN
		(SELECT issue_id FROM issue_lists WHERE list_id IN (SELECT value FROM json_each(?)))
		ORDER BY id DESC LIMIT ? OFFSET ?`, string(ids), page.Limit, max(page.Offset, 0))
}

// Archive returns a list's sent issues, newest first, for the public
// archive; a joint issue appears in the archive of each of its lists.
func (s *Store) Archive(ctx context.Context, listID int64, limit, offset int) ([]Issue, error) {
	if limit <= 0 {
		limit = 50
	}
	return s.query(ctx, `SELECT `+issueColumns+` FROM issues WHERE status = 'sent' AND id IN
		(SELECT issue_id FROM issue_lists WHERE list_id = ?)
		ORDER BY sent_at DESC, id DESC LIMIT ? OFFSET ?`, listID, limit, max(offset, 0))
}

// Due returns the scheduled issues whose send time has come, oldest first.
func (s *Store) Due(ctx context.Context, now time.Time) ([]Issue, error) {
	return s.query(ctx, `SELECT `+issueColumns+` FROM issues WHERE status = 'scheduled'
		AND send_at <= ? ORDER BY send_at, id`, ms(now))
}

// Unsnapshotted returns the issues in "sending" whose recipients were never
// snapshotted (a crash between MarkSending and the snapshot).
func (s *Store) Unsnapshotted(ctx context.Context) ([]Issue, error) {
	return s.query(ctx, `SELECT `+issueColumns+` FROM issues WHERE status = 'sending'
		AND recipients IS NULL ORDER BY id`)
}

func (s *Store) query(ctx context.Context, q string, args ...any) ([]Issue, error) {
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("listing issues: %w", err)
	}
	defer rows.Close()
	var out []Issue
	for rows.Next() {
		is, err := scanIssue(rows)
		if err != nil {
			return nil, fmt.Errorf("listing issues: %w", err)
		}
		out = append(out, is)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing issues: %w", err)
	}
	return out, nil
}

// Events returns an issue's history, oldest first.
func (s *Store) Events(ctx context.Context, id int64) ([]Event, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, issue_id, at, actor, source, action,
		from_status, to_status, comment FROM issue_events WHERE issue_id = ? ORDER BY id`, id)
	if err != nil {
		return nil, fmt.Errorf("loading events of issue %d: %w", id, err)
	}
	defer rows.Close()
	var out []Event
	for rows.Next() {
		var (
			e  Event
			at int64
			a  string
		)
		if err := rows.Scan(&e.ID, &e.IssueID, &at, &e.Actor, &e.Source, &a, &e.From, &e.To, &e.Comment); err != nil {
			return nil, fmt.Errorf("loading events of issue %d: %w", id, err)
		}
		e.At, e.Action = time.UnixMilli(at).UTC(), Action(a)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("loading events of issue %d: %w", id, err)
	}
	return out, nil
}
