package subscribers

import (
	"context"
	"fmt"
	"time"
)

// OptOut is one opt-out from a list, as the consent log records it.
type OptOut struct {
	SubscriberID int64
	At           time.Time
}

// OptOuts returns the opt-outs from a list in [from, to), oldest first:
// what package newsletter attributes to the issue each reader had last
// received (its "unsubscribed within 7 days" figure).
func (s *Store) OptOuts(ctx context.Context, listID int64, from, to time.Time) ([]OptOut, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT subscriber_id, at_ms FROM consent_events
		WHERE list_id = ? AND event = 'opt-out' AND at_ms >= ? AND at_ms < ? ORDER BY at_ms, id`,
		listID, from.UnixMilli(), to.UnixMilli())
	if err != nil {
		return nil, fmt.Errorf("reading opt-outs of list %d: %w", listID, err)
	}
	defer rows.Close()
	var out []OptOut
	for rows.Next() {
		var o OptOut
		var ms int64
		if err := rows.Scan(&o.SubscriberID, &ms); err != nil {
			return nil, fmt.Errorf("reading opt-outs of list %d: %w", listID, err)
		}
		o.At = time.UnixMilli(ms).UTC()
		out = append(out, o)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading opt-outs of list %d: %w", listID, err)
	}
	return out, nil
}
