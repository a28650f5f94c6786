package subscribers

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// The dashboard's numbers come from tables that triggers keep in the same
// transaction as each change (migration 0019): subscription_counts per list
// and status, consent_hours per list, UTC hour and event. Reading them
// costs the same at a hundred subscribers as at a million; a cache would
// answer slowly once per expiry and show numbers older than the page.

// ListStats counts a list's subscriptions by the status exports show:
// Confirmed are the ones mailed; Suppressed are confirmed or unconfirmed
// subscriptions whose address is suppressed.
type ListStats struct {
	Confirmed, Unconfirmed, Unsubscribed, Suppressed int
}

// Stats counts the subscriptions of listID.
func (s *Store) Stats(ctx context.Context, listID int64) (ListStats, error) {
	raw, err := s.statusCounts(ctx, listID)
	if err != nil {
		return ListStats{}, err
	}
	st := ListStats{Confirmed: raw[StatusConfirmed], Unconfirmed: raw[StatusUnconfirmed], Unsubscribed: raw[StatusUnsubscribed]}
	supp, err := s.suppressedCounts(ctx)
	if err != nil {
		return ListStats{}, fmt.Errorf("counting list %d: %w", listID, err)
	}
	c := supp[listID]
	st.Suppressed = c[StatusConfirmed] + c[StatusUnconfirmed]
	st.Confirmed -= c[StatusConfirmed]
	st.Unconfirmed -= c[StatusUnconfirmed]
	return st, nil
}

// suppressedCache holds the suppressed subscriptions of every list by raw
// status, with the key of the data it was counted from.
type suppressedCache struct {
	mu     sync.Mutex
	key    string
	counts map[int64]map[string]int
}

// suppressedCounts counts the confirmed and unconfirmed subscriptions of
// each list whose address is suppressed. Counting costs one lookup per
// suppression (not per subscriber), for every list at once; the result is
// kept while the subscription counts and the suppressions (their number
// and latest time) stay as they were, so a dashboard of nine lists counts
// once and never shows a stale figure after a suppression or a status
// change.
func (s *Store) suppressedCounts(ctx context.Context) (map[int64]map[string]int, error) {
	var key string
	err := s.db.QueryRowContext(ctx, `SELECT coalesce((SELECT group_concat(list_id || ':' || status || ':' || n, ',') FROM subscription_counts), '')
  || '/' || (SELECT count(*) || ':' || coalesce(max(since), 0) FROM suppressions)`).Scan(&key)
	if err != nil {
		return nil, err
	}
	c := s.supp
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.counts != nil && c.key == key {
		return c.counts, nil
	}
	// CROSS JOIN keeps SQLite from starting at the subscriptions.
	rows, err := s.db.QueryContext(ctx, `
SELECT p.list_id, p.status, count(DISTINCT p.subscriber_id) FROM suppressions x
CROSS JOIN subscribers s ON s.email = x.email COLLATE NOCASE
CROSS JOIN subscriptions p ON p.subscriber_id = s.id
WHERE x.list_id IN (0, p.list_id) AND p.status IN ('confirmed', 'unconfirmed')
GROUP BY p.list_id, p.status`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[int64]map[string]int{}
	for rows.Next() {
		var list int64
		var status string
		var n int
		if err := rows.Scan(&list, &status, &n); err != nil {
			return nil, err
		}
		if out[list] == nil {
			out[list] = map[string]int{}
		}
		out[list][status] = n
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	c.key, c.counts = key, out
	return out, nil
}

// statusCounts reads the maintained subscription counts of listID by raw
// status (unconfirmed, confirmed, unsubscribed).
func (s *Store) statusCounts(ctx context.Context, listID int64) (map[string]int, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT status, n FROM subscription_counts WHERE list_id = ?`, listID)
	if err != nil {
		return nil, fmt.Errorf("counting list %d: %w", listID, err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var status string
		var n int
		if err := rows.Scan(&status, &n); err != nil {
			return nil, fmt.Errorf("counting list %d: %w", listID, err)
		}
		out[status] = n
	}
	return out, rows.Err()
}

// DayCount is one day of a list's growth.
type DayCount struct {
	// Day is midnight of the day in Options.Location.
	Day             time.Time
	OptIns, OptOuts int
	// Subscribed is the number of confirmed subscriptions at the end of
	// the day, estimated back from today's count and the consent log.
	Subscribed int
}

// Growth returns the opt-ins and opt-outs of listID for each of the last
// days days (today included), oldest first, from the consent log's hourly
// counts. Days are cut at midnight in Options.Location, exact for zones
// whose offset is a whole number of hours and does not change.
func (s *Store) Growth(ctx context.Context, listID int64, days int) ([]DayCount, error) {
	if days <= 0 {
		return nil, nil
	}
	now := s.now().In(s.opt.Location)
	first := time.Date(now.Year(), now.Month(), now.Day()-(days-1), 0, 0, 0, 0, s.opt.Location)
	out := make([]DayCount, days)
	for i := range out {
		out[i].Day = time.Date(first.Year(), first.Month(), first.Day()+i, 0, 0, 0, 0, s.opt.Location)
	}
	// Hours become days in SQL at today's offset from UTC: exact for a
	// zone without summer time such as Asia/Tokyo; elsewhere an hour
	// around midnight may count on the neighbouring day.
	_, offset := now.Zone()
	rows, err := s.db.QueryContext(ctx, `SELECT (hour + ?) / 24, event, sum(n) FROM consent_hours
WHERE list_id = ? AND hour >= ? GROUP BY 1, 2`, offset/3600, listID, first.UnixMilli()/3_600_000)
	if err != nil {
		return nil, fmt.Errorf("loading growth of list %d: %w", listID, err)
	}
	defer rows.Close()
	firstDay := (first.Unix() + int64(offset)) / 86400
	for rows.Next() {
		var day int64
		var ev string
		var n int
		if err := rows.Scan(&day, &ev, &n); err != nil {
			return nil, fmt.Errorf("loading growth of list %d: %w", listID, err)
		}
		i := int(day - firstDay)
		if i < 0 || i >= len(out) {
			continue
		}
		if ev == EventOptIn {
			out[i].OptIns += n
		} else {
			out[i].OptOuts += n
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("loading growth of list %d: %w", listID, err)
	}
	raw, err := s.statusCounts(ctx, listID)
	if err != nil {
		return nil, fmt.Errorf("loading growth of list %d: %w", listID, err)
	}
	n := raw[StatusConfirmed]
	for i := len(out) - 1; i >= 0; i-- {
		out[i].Subscribed = max(n, 0)
		n -= out[i].OptIns - out[i].OptOuts
	}
	return out, nil
}
