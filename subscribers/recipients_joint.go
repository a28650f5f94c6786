package subscribers

import (
	"context"
	"fmt"
	"strings"
)

// CountRecipients is how many distinct subscribers are eligible for at
// least one of listIDs (a joint issue's recipients: each counted once,
// whatever the number of its lists they are on).
func (s *Store) CountRecipients(ctx context.Context, listIDs []int64) (int, error) {
	if len(listIDs) == 0 {
		return 0, nil
	}
	args := make([]any, len(listIDs))
	for i, id := range listIDs {
		args[i] = id
	}
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT count(DISTINCT p.subscriber_id)
FROM subscriptions p JOIN subscribers s ON s.id = p.subscriber_id
WHERE p.list_id IN (`+strings.TrimSuffix(strings.Repeat("?,", len(listIDs)), ",")+`) AND p.status = 'confirmed'
  AND NOT EXISTS (SELECT 1 FROM suppressions x WHERE x.email = s.email COLLATE NOCASE AND x.list_id IN (0, p.list_id))`,
		args...).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("counting recipients of lists %v: %w", listIDs, err)
	}
	return n, nil
}
