package subscribers

import (
	"context"
	"fmt"
	"time"
)

// OptOuts counts the opt-outs from a list in [from, to): the admin's
// "unsubscribed after this issue" figure, taken as the opt-outs between an
// issue's sending and the next one's. A zero to means up to now.
func (s *Store) OptOuts(ctx context.Context, listID int64, from, to time.Time) (int, error) {
	if to.IsZero() {
		to = s.now().Add(time.Second)
	}
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM consent_events
		WHERE list_id = ? AND event = 'opt-out' AND at_ms >= ? AND at_ms < ?`,
		listID, from.UnixMilli(), to.UnixMilli()).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("counting opt-outs of list %d: %w", listID, err)
	}
	return n, nil
}
