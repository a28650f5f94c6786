package progress

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// submittedTTL is how long after the due date a "submitted" link works.
const submittedTTL = 366 * 24 * time.Hour

// SubmitInfo is what the "submitted" page shows before the button is pressed.
type SubmitInfo struct {
	DeadlineID string // the stable id from the file
	Title      string
	Due        Date
	Bureau     string
	BureauName string
	Projects   []string // "施策35 計画の進捗管理: 「市民参加推進レポート」の発行"
	// Submitted is true once a submission is recorded; then SubmittedAt
	// and How say when and how.
	Submitted   bool
	SubmittedAt time.Time
	How         string
}

// submittedURL returns the signed link that marks bureau's report for the
// deadline submitted: BaseURL + "/progress/submitted/" + token. A GET of it
// should show SubmissionByToken's info and a button; the POST calls
// SubmitByToken (link scanners must not submit anything). The token's
// payload is the deadline's stable id and the bureau, so links survive a
// re-import.
func (s *Store) submittedURL(d deadlineRow, bureau string) string {
	if s.opt.Signer == nil {
		return ""
	}
	exp := d.due.In(s.loc).Add(submittedTTL)
	tok := s.opt.Signer.Sign(PurposeSubmitted, []byte(d.key+"\x00"+bureau), exp)
	return s.opt.BaseURL + "/progress/submitted/" + tok
}

// SubmittedURL returns the signed "report submitted" link for a deadline
// (by its stable id) and a bureau, as reminders carry it.
func (s *Store) SubmittedURL(ctx context.Context, deadlineID, bureau string) (string, error) {
	if s.opt.Signer == nil {
		return "", ErrNoSigner
	}
	d, err := deadlineByKey(ctx, s.db, deadlineID)
	if err != nil {
		return "", err
	}
	return s.submittedURL(d, bureau), nil
}

func (s *Store) parseSubmitted(tok string) (deadlineID, bureau string, err error) {
	if s.opt.Signer == nil {
		return "", "", ErrNoSigner
	}
	p, err := s.opt.Signer.Verify(PurposeSubmitted, tok, s.opt.Now())
	if err != nil {
		return "", "", fmt.Errorf("%w: %w", ErrInvalidToken, err)
	}
	d, b, ok := strings.Cut(string(p), "\x00")
	if !ok {
		return "", "", ErrInvalidToken
	}
	return d, b, nil
}

// SubmissionByToken returns what a "submitted" link is about, for the page
// that asks to confirm. It records nothing.
func (s *Store) SubmissionByToken(ctx context.Context, tok string) (SubmitInfo, error) {
	key, bureau, err := s.parseSubmitted(tok)
	if err != nil {
		return SubmitInfo{}, err
	}
	d, err := deadlineByKey(ctx, s.db, key)
	if err != nil {
		return SubmitInfo{}, err
	}
	c, err := contactByBureau(ctx, s.db, bureau)
	if err != nil {
		return SubmitInfo{}, err
	}
	info := SubmitInfo{DeadlineID: d.key, Title: d.titleJa, Due: d.due, Bureau: bureau, BureauName: c.nameJa}
	ps, err := projectsOf(ctx, s.db, bureau)
	if err != nil {
		return SubmitInfo{}, err
	}
	for _, p := range ps {
		info.Projects = append(info.Projects, fmt.Sprintf("施策%d %s: %s", p.Measure, p.MeasureTitle, p.Title))
	}
	var at int64
	err = s.db.QueryRowContext(ctx, `SELECT submitted_at, how FROM submissions WHERE deadline = ? AND bureau = ?`,
		d.id, bureau).Scan(&at, &info.How)
	if err == nil {
		info.Submitted, info.SubmittedAt = true, time.Unix(at, 0).In(s.loc)
	}
	return info, nil
}

// SubmitByToken records the submission a "submitted" link stands for
// (how "link"). evidence says who pressed the button (e.g. IP and user
// agent). Pressing it again changes nothing and is not an error.
func (s *Store) SubmitByToken(ctx context.Context, tok, evidence string) error {
	key, bureau, err := s.parseSubmitted(tok)
	if err != nil {
		return err
	}
	return s.MarkSubmitted(ctx, key, bureau, "link", evidence)
}

// MarkSubmitted records that bureau has submitted its report for the
// deadline with stable id deadlineID; how is "link" or "admin", actor the
// admin's login or the link's evidence. The first record is kept; marking
// again is not an error. Pending reminders for the pair are cancelled.
func (s *Store) MarkSubmitted(ctx context.Context, deadlineID, bureau, how, actor string) error {
	if how != "link" && how != "admin" {
		return fmt.Errorf("marking submitted: how must be link or admin, got %q", how)
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("marking %s submitted for %s: %w", bureau, deadlineID, err)
	}
	defer tx.Rollback()
	d, err := deadlineByKey(ctx, tx, deadlineID)
	if err != nil {
		return err
	}
	if err := markSubmittedTx(ctx, tx, d, bureau, how, actor, s.opt.Now()); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("marking %s submitted for %s: %w", bureau, deadlineID, err)
	}
	s.log.Info("report submitted", "deadline", deadlineID, "bureau", bureau, "how", how)
	return nil
}

// UnmarkSubmitted removes bureau's submission for the deadline, for an
// administrator correcting a mistake. Reminders resume with the next
// occurrence of the rules; those already sent are not sent again.
func (s *Store) UnmarkSubmitted(ctx context.Context, deadlineID, bureau string) error {
	d, err := deadlineByKey(ctx, s.db, deadlineID)
	if err != nil {
		return err
	}
	res, err := s.db.ExecContext(ctx, `DELETE FROM submissions WHERE deadline = ? AND bureau = ?`, d.id, bureau)
	if err != nil {
		return fmt.Errorf("unmarking %s for %s: %w", bureau, deadlineID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("submission of %s for %s: %w", bureau, deadlineID, ErrNotFound)
	}
	s.log.Info("submission removed", "deadline", deadlineID, "bureau", bureau)
	return nil
}

// markSubmittedTx records the submission in tx (the first record is kept)
// and cancels the pair's pending reminders.
func markSubmittedTx(ctx context.Context, tx *sql.Tx, d deadlineRow, bureau, how, actor string, now time.Time) error {
	var one int
	err := tx.QueryRowContext(ctx, `SELECT 1 FROM deadline_bureaus WHERE deadline = ? AND bureau = ?`, d.id, bureau).Scan(&one)
	if err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("bureau %s for deadline %s: %w", bureau, d.key, ErrNotFound)
		}
		return fmt.Errorf("marking %s submitted for %s: %w", bureau, d.key, err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO submissions (deadline, bureau, submitted_at, how, actor)
		VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`, d.id, bureau, now.Unix(), how, actor); err != nil {
		return fmt.Errorf("marking %s submitted for %s: %w", bureau, d.key, err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE reminders_sent SET status = 'cancelled'
		WHERE deadline = ? AND bureau = ? AND status = 'pending'`, d.id, bureau); err != nil {
		return fmt.Errorf("cancelling reminders of %s for %s: %w", bureau, d.key, err)
	}
	return nil
}
