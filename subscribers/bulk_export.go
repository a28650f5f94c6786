package subscribers

import (
	"context"
	"database/sql"
	"encoding/csv"
	"fmt"
	"strings"
	"time"
)

// exportHeader is the header row of a subscriber export: the fixed
// columns, then one per attribute (prefixed attr_ where a name would
// repeat a fixed column).
func exportHeader(keys []string) []string {
	head := append([]string(nil), subscriberColumns...)
	for _, k := range keys {
		if contains(subscriberColumns, strings.ToLower(k)) {
			k = "attr_" + k
		}
		head = append(head, k)
	}
	return head
}

// exportRows writes one page of search rows of list l in the columns of
// ExportSubscribers, reading what the page lacks (source, times,
// attributes) in one query.
func (s *Store) exportRows(ctx context.Context, cw *csv.Writer, l List, keys []string, rows []SubscriberRow) error {
	ids := make([]int64, len(rows))
	for i, r := range rows {
		ids[i] = r.SubscriberID
	}
	type more struct {
		source, attrs string
		unsub         sql.NullInt64
	}
	extra := map[int64]more{}
	qr, err := s.db.QueryContext(ctx, `
SELECT p.subscriber_id, p.source, p.unsubscribed_at, s.attributes
FROM subscriptions p JOIN subscribers s ON s.id = p.subscriber_id
WHERE p.list_id = ? AND p.subscriber_id IN (SELECT value FROM json_each(?))`, l.ID, idsJSON(ids))
	if err != nil {
		return fmt.Errorf("exporting list %s: %w", l.Slug, err)
	}
	defer qr.Close()
	for qr.Next() {
		var id int64
		var m more
		if err := qr.Scan(&id, &m.source, &m.unsub, &m.attrs); err != nil {
			return fmt.Errorf("exporting list %s: %w", l.Slug, err)
		}
		extra[id] = m
	}
	if err := qr.Err(); err != nil {
		return fmt.Errorf("exporting list %s: %w", l.Slug, err)
	}
	for _, r := range rows {
		m := extra[r.SubscriberID]
		rec := []string{r.Email, r.Name, r.Status, s.fmtTime(r.SubscribedAt), s.fmtTime(r.ConfirmedAt),
			s.fmtTime(unixOrZero(m.unsub, time.UTC)), m.source, r.Suppression}
		attrs := decodeAttributes(m.attrs)
		for _, k := range keys {
			rec = append(rec, attrs[k])
		}
		if err := cw.Write(guardCells(rec)); err != nil {
			return fmt.Errorf("writing export: %w", err)
		}
	}
	return nil
}
