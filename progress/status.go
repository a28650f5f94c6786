package progress

import (
	"context"
	"database/sql"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"time"
)

// BureauStatus is one bureau's state for one deadline.
type BureauStatus struct {
	Bureau      string
	Name        string
	Email       string
	Submitted   bool
	SubmittedAt time.Time // zero unless Submitted
	How         string    // link|admin, when Submitted
	Actor       string
	// DaysLate is how many days after the due date it was submitted, or,
	// not submitted, how many days overdue it is today; 0 when on time.
	DaysLate int
	// RemindersSent counts the mails sent to the bureau for this deadline.
	RemindersSent int
}

// DeadlineStatus is a deadline with each of its bureaus' state.
type DeadlineStatus struct {
	ID       string // stable id
	Title    string
	Due      Date
	DaysLeft int // negative when overdue
	Bureaus  []BureauStatus
}

// SubmittedCount is the number of bureaus that have submitted.
func (d DeadlineStatus) SubmittedCount() int {
	n := 0
	for _, b := range d.Bureaus {
		if b.Submitted {
			n++
		}
	}
	return n
}

// Status returns every deadline (by due date) with its bureaus' state as
// of Options.Now.
func (s *Store) Status(ctx context.Context) ([]DeadlineStatus, error) {
	return s.statusAt(ctx, DateOf(s.opt.Now(), s.loc))
}

func (s *Store) statusAt(ctx context.Context, today Date) ([]DeadlineStatus, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT d.key, d.title_ja, d.due, db.bureau, c.name_ja, c.email,
			s.submitted_at, coalesce(s.how, ''), coalesce(s.actor, ''),
			(SELECT count(*) FROM reminders_sent r WHERE r.deadline = d.id AND r.bureau = db.bureau
				AND r.kind = 'remind' AND r.status = 'sent')
		FROM deadlines d JOIN deadline_bureaus db ON db.deadline = d.id
		JOIN contacts c ON c.bureau = db.bureau
		LEFT JOIN submissions s ON s.deadline = d.id AND s.bureau = db.bureau
		ORDER BY d.due, d.key, db.bureau`)
	if err != nil {
		return nil, fmt.Errorf("loading status: %w", err)
	}
	defer rows.Close()
	var out []DeadlineStatus
	for rows.Next() {
		var key, title, due string
		var b BureauStatus
		var at sql.NullInt64
		if err := rows.Scan(&key, &title, &due, &b.Bureau, &b.Name, &b.Email, &at, &b.How, &b.Actor, &b.RemindersSent); err != nil {
			return nil, fmt.Errorf("loading status: %w", err)
		}
		if len(out) == 0 || out[len(out)-1].ID != key {
			d, err := ParseDate(due)
			if err != nil {
				return nil, fmt.Errorf("deadline %s: %w", key, err)
			}
			out = append(out, DeadlineStatus{ID: key, Title: title, Due: d, DaysLeft: today.DaysUntil(d)})
		}
		cur := &out[len(out)-1]
		late := cur.Due.DaysUntil(today)
		if at.Valid {
			b.Submitted, b.SubmittedAt = true, time.Unix(at.Int64, 0).In(s.loc)
			late = cur.Due.DaysUntil(DateOf(b.SubmittedAt, s.loc))
		}
		b.DaysLate = max(late, 0)
		cur.Bureaus = append(cur.Bureaus, b)
	}
	return out, rows.Err()
}

// ExportCSV writes the status as CSV for the 市民参加推進レポート: a UTF-8
// byte order mark (so spreadsheet software reads the Japanese), a header
// row, then one row per deadline and bureau.
func (s *Store) ExportCSV(ctx context.Context, w io.Writer) error {
	st, err := s.Status(ctx)
	if err != nil {
		return err
	}
	if _, err := io.WriteString(w, "\ufeff"); err != nil {
		return fmt.Errorf("writing CSV: %w", err)
	}
	cw := csv.NewWriter(w)
	cw.Write([]string{"deadline_id", "title_ja", "due", "bureau", "bureau_name_ja", "status", "submitted_at", "how", "days_late", "reminders_sent"})
	for _, d := range st {
		for _, b := range d.Bureaus {
			status, at := "pending", ""
			switch {
			case b.Submitted:
				status, at = "submitted", b.SubmittedAt.Format(time.RFC3339)
			case b.DaysLate > 0:
				status = "overdue"
			}
			cw.Write([]string{d.ID, csvSafe(d.Title), d.Due.String(), b.Bureau, csvSafe(b.Name), status, at, b.How,
				strconv.Itoa(b.DaysLate), strconv.Itoa(b.RemindersSent)})
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("writing CSV: %w", err)
	}
	return nil
}

// csvSafe defuses a cell a spreadsheet would run as a formula.
func csvSafe(s string) string {
	if s != "" && (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@') {
		return "'" + s
	}
	return s
}

// Project is one project (事業) of a measure.
type Project struct {
	Title  string
	Bureau string
	// New (新規) and Enhanced (充実) are nil where the plan is unclear.
	New, Enhanced *bool
}

// Measure is one measure (施策) of the plan with its projects.
type Measure struct {
	Number   int
	Title    string
	TitleEn  string
	Projects []Project
}

// Measures returns the plan's measures in number order.
func (s *Store) Measures(ctx context.Context) ([]Measure, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT m.number, m.title_ja, m.title_en, p.title_ja, p.bureau, p.is_new, p.enhanced
		FROM measures m LEFT JOIN projects p ON p.measure = m.number ORDER BY m.number, p.position`)
	if err != nil {
		return nil, fmt.Errorf("loading measures: %w", err)
	}
	defer rows.Close()
	var out []Measure
	for rows.Next() {
		var m Measure
		var title, bureau sql.NullString
		var isNew, enh sql.NullBool
		if err := rows.Scan(&m.Number, &m.Title, &m.TitleEn, &title, &bureau, &isNew, &enh); err != nil {
			return nil, fmt.Errorf("loading measures: %w", err)
		}
		if len(out) == 0 || out[len(out)-1].Number != m.Number {
			out = append(out, m)
		}
		if title.Valid {
			p := Project{Title: title.String, Bureau: bureau.String}
			if isNew.Valid {
				p.New = &isNew.Bool
			}
			if enh.Valid {
				p.Enhanced = &enh.Bool
			}
			out[len(out)-1].Projects = append(out[len(out)-1].Projects, p)
		}
	}
	return out, rows.Err()
}

// Bureau is a bureau and its contact, with its calendar feed address.
type Bureau struct {
	ID      string
	NameJa  string
	NameEn  string
	Person  string
	Email   string // empty: known from a plan's bureau list only, no reminders
	Cc      string
	FeedURL string // empty without a Signer
}

// Bureaus returns every known bureau in id order.
func (s *Store) Bureaus(ctx context.Context) ([]Bureau, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT bureau, name_ja, name_en, person, email, cc FROM contacts ORDER BY bureau`)
	if err != nil {
		return nil, fmt.Errorf("loading bureaus: %w", err)
	}
	defer rows.Close()
	var out []Bureau
	for rows.Next() {
		var b Bureau
		if err := rows.Scan(&b.ID, &b.NameJa, &b.NameEn, &b.Person, &b.Email, &b.Cc); err != nil {
			return nil, fmt.Errorf("loading bureaus: %w", err)
		}
		b.FeedURL = s.FeedURL(b.ID)
		out = append(out, b)
	}
	return out, rows.Err()
}
