package bounces

import (
	"context"
	"fmt"
)

// ForgetAddress removes an erased subscriber's address from the bounce
// tables (a deletion request; the caller erased the subscriber). The
// bounce rows stay for the issues' statistics (class, status, outcome,
// the issue and list) without the address, the subscriber, the copy of
// the message or the diagnostic text (which often quotes the address);
// the alerts made from them lose their detail for the same reason, and
// the address's bounce score goes. inbound_commands holds no address.
func (s *Service) ForgetAddress(ctx context.Context, subscriberID int64, email string) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("forgetting an address: %w", err)
	}
	defer tx.Rollback()
	steps := []struct {
		what, q string
	}{
		{"alerts", `UPDATE bounce_alerts SET detail = '' WHERE bounce_id IN
  (SELECT id FROM bounces WHERE subscriber_id = ?1 OR email = ?2 COLLATE NOCASE)`},
		{"bounces", `UPDATE bounces SET email = '', subscriber_id = NULL, raw = NULL, diagnostic = '', apply_error = ''
WHERE subscriber_id = ?1 OR email = ?2 COLLATE NOCASE`},
		{"scores", `DELETE FROM bounce_scores WHERE email = ?2 COLLATE NOCASE`},
	}
	for _, st := range steps {
		if _, err := tx.ExecContext(ctx, st.q, subscriberID, email); err != nil {
			return fmt.Errorf("forgetting an address: %s: %w", st.what, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("forgetting an address: %w", err)
	}
	return nil
}
