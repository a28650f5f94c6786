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

// submittedURL returns the signed link to bureau's report form for the
// deadline: BaseURL + "/progress/submitted/" + token. A GET of it shows
// ReportByToken and changes nothing; the POST calls SaveReportByToken,
// which records the submission (link scanners must not submit anything).
// The token's payload is the deadline's stable id and the bureau, so links survive a
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
