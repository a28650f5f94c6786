package subscribers

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// Suppression reasons.
const (
	ReasonHardBounce = "hard-bounce"
	ReasonComplaint  = "complaint"
	ReasonManual     = "manual"
)

// Suppress stops all mail to email, for every list, for reason
// (ReasonHardBounce, ReasonComplaint or ReasonManual). The address need not
// be a subscriber. Suppressing again updates the reason and detail.
//
// A hard-bounce or complaint suppression is lifted when the address
// confirms a subscription again (Confirm); a manual one only by Unsuppress.
func (s *Store) Suppress(ctx context.Context, email, reason, detail string) error {
	if reason != ReasonHardBounce && reason != ReasonComplaint && reason != ReasonManual {
		return fmt.Errorf("suppression reason %q: %w", reason, ErrBadSource)
	}
	a, err := ParseAddress(email)
	if err != nil {
		return err
	}
	_, err = s.db.ExecContext(ctx, `
INSERT INTO suppressions (email, list_id, reason, detail, since) VALUES (?, 0, ?, ?, ?)
ON CONFLICT (email, list_id) DO UPDATE SET reason=excluded.reason, detail=excluded.detail, since=excluded.since`,
		a.String(), reason, detail, s.now().Unix())
	if err != nil {
		return fmt.Errorf("suppressing address: %w", err)
	}
	s.log.Info("address suppressed", "reason", reason)
	return nil
}

// Unsuppress lifts every suppression of email; actor names who did it.
func (s *Store) Unsuppress(ctx context.Context, email, actor string) error {
	a, err := ParseAddress(email)
	if err != nil {
		return err
	}
	res, err := s.db.ExecContext(ctx, `DELETE FROM suppressions WHERE email = ? COLLATE NOCASE`, a.String())
	if err != nil {
		return fmt.Errorf("unsuppressing address: %w", err)
	}
	n, _ := res.RowsAffected()
	s.log.Info("address unsuppressed", "actor", actor, "rows", n)
	return nil
}

// IsSuppressed reports whether email is suppressed for every list.
func (s *Store) IsSuppressed(ctx context.Context, email string) (bool, error) {
	r, err := s.SuppressionReason(ctx, email)
	return r != "", err
}

// SuppressionReason returns why email is suppressed for every list
// (ReasonHardBounce, ReasonComplaint, ReasonManual), or "" when it is not.
func (s *Store) SuppressionReason(ctx context.Context, email string) (string, error) {
	a, err := ParseAddress(email)
	if err != nil {
		return "", err
	}
	return suppressionReason(ctx, s.db, a.String())
}

func suppressionReason(ctx context.Context, q queryer, key string) (string, error) {
	var r string
	err := q.QueryRowContext(ctx, `SELECT reason FROM suppressions WHERE email = ? COLLATE NOCASE AND list_id = 0`, key).Scan(&r)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("checking suppression: %w", err)
	}
	return r, nil
}

// liftOnConfirm removes a hard-bounce or complaint suppression: the
// address has just proved it reads its mail and wants it again.
func liftOnConfirm(ctx context.Context, tx *sql.Tx, key string) (bool, error) {
	res, err := tx.ExecContext(ctx, `DELETE FROM suppressions WHERE email = ? COLLATE NOCASE AND reason IN ('hard-bounce', 'complaint')`, key)
	if err != nil {
		return false, fmt.Errorf("lifting suppression: %w", err)
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}
