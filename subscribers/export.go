package subscribers

import (
	"context"
	"database/sql"
	"encoding/csv"
	"fmt"
	"io"
	"strings"
	"time"
)

// subscriberColumns are the fixed columns of ExportSubscribers; attribute
// columns follow, sorted by name.
var subscriberColumns = []string{"email", "name", "status", "subscribed_at", "confirmed_at", "unsubscribed_at", "source", "suppression"}

// consentColumns are the columns of ExportConsent.
var consentColumns = []string{"at", "list", "email", "event", "source", "ip", "user_agent", "message_id", "actor", "detail"}

// ExportSubscribers writes the list's subscribers as UTF-8 CSV: a header
// row, then one row per subscription with email, name, status (unconfirmed,
// confirmed, unsubscribed or suppressed), times in Options.Location (RFC
// 3339), the source of the last opt-in request, the suppression reason,
// and one column per attribute. bom prefixes a UTF-8 byte order mark so
// that Excel reads it as UTF-8. Cells that a spreadsheet would run as a
// formula get a leading apostrophe, which Import removes again.
func (s *Store) ExportSubscribers(ctx context.Context, w io.Writer, listSlug string, bom bool) error {
	l, keys, cw, err := s.startExport(ctx, w, listSlug, bom)
	if err != nil {
		return err
	}
	rows, err := s.db.QueryContext(ctx, `
SELECT s.email, s.name, p.status, p.requested_at, p.confirmed_at, p.unsubscribed_at, p.source, s.attributes,
  coalesce((SELECT reason FROM suppressions x WHERE x.email = s.email COLLATE NOCASE AND x.list_id IN (0, p.list_id) LIMIT 1), '')
FROM subscriptions p JOIN subscribers s ON s.id = p.subscriber_id
WHERE p.list_id = ? ORDER BY s.id`, l.ID)
	if err != nil {
		return fmt.Errorf("exporting list %s: %w", l.Slug, err)
	}
	defer rows.Close()
	for rows.Next() {
		var email, name, status, source, attrs, supp string
		var req int64
		var conf, unsub sql.NullInt64
		if err := rows.Scan(&email, &name, &status, &req, &conf, &unsub, &source, &attrs, &supp); err != nil {
			return fmt.Errorf("exporting list %s: %w", l.Slug, err)
		}
		rec := []string{email, name, exportStatus(status, supp), s.fmtTime(time.Unix(req, 0)),
			s.fmtTime(unixOrZero(conf, time.UTC)), s.fmtTime(unixOrZero(unsub, time.UTC)), source, supp}
		m := decodeAttributes(attrs)
		for _, k := range keys {
			rec = append(rec, m[k])
		}
		if err := cw.Write(guardCells(rec)); err != nil {
			return fmt.Errorf("writing export: %w", err)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("exporting list %s: %w", l.Slug, err)
	}
	cw.Flush()
	return cw.Error()
}

// exportStatus is the status a person reading the export cares about: a
// suppressed address gets no mail whatever its subscription says, unless
// it left the list anyway.
func exportStatus(status, suppression string) string {
	if suppression != "" && status != StatusUnsubscribed {
		return StatusSuppressed
	}
	return status
}

func (s *Store) attributeKeys(ctx context.Context, listID int64) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, `
SELECT DISTINCT j.key FROM subscriptions p JOIN subscribers s ON s.id = p.subscriber_id, json_each(s.attributes) j
WHERE p.list_id = ? AND s.attributes != '{}' ORDER BY j.key`, listID)
	if err != nil {
		return nil, fmt.Errorf("listing attribute names: %w", err)
	}
	defer rows.Close()
	var keys []string
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			return nil, fmt.Errorf("listing attribute names: %w", err)
		}
		keys = append(keys, k)
	}
	return keys, rows.Err()
}

// ExportConsent writes the consent log as UTF-8 CSV, oldest first: a
// header row, then one event a row. listSlug "" exports every list.
func (s *Store) ExportConsent(ctx context.Context, w io.Writer, listSlug string, bom bool) error {
	q := `SELECT e.at_ms, coalesce(l.slug, ''), e.email, e.event, e.source, e.ip, e.user_agent, e.message_id, e.actor, e.detail
FROM consent_events e LEFT JOIN lists l ON l.id = e.list_id`
	var args []any
	if listSlug != "" {
		l, err := s.ListBySlug(ctx, listSlug)
		if err != nil {
			return err
		}
		q += ` WHERE e.list_id = ?`
		args = append(args, l.ID)
	}
	cw, err := newCSV(w, bom)
	if err != nil {
		return err
	}
	if err := cw.Write(consentColumns); err != nil {
		return fmt.Errorf("writing consent export: %w", err)
	}
	rows, err := s.db.QueryContext(ctx, q+` ORDER BY e.at_ms, e.id`, args...)
	if err != nil {
		return fmt.Errorf("exporting consent log: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var at int64
		rec := make([]string, len(consentColumns))
		if err := rows.Scan(&at, &rec[1], &rec[2], &rec[3], &rec[4], &rec[5], &rec[6], &rec[7], &rec[8], &rec[9]); err != nil {
			return fmt.Errorf("exporting consent log: %w", err)
		}
		rec[0] = time.UnixMilli(at).In(s.opt.Location).Format("2006-01-02T15:04:05.000Z07:00")
		if err := cw.Write(guardCells(rec)); err != nil {
			return fmt.Errorf("writing consent export: %w", err)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("exporting consent log: %w", err)
	}
	cw.Flush()
	return cw.Error()
}

// startExport begins a subscriber export of the list: its attribute keys,
// and the CSV writer with the header row written.
func (s *Store) startExport(ctx context.Context, w io.Writer, listSlug string, bom bool) (List, []string, *csv.Writer, error) {
	l, err := s.ListBySlug(ctx, listSlug)
	if err != nil {
		return List{}, nil, nil, err
	}
	keys, err := s.attributeKeys(ctx, l.ID)
	if err != nil {
		return List{}, nil, nil, err
	}
	cw, err := newCSV(w, bom)
	if err != nil {
		return List{}, nil, nil, err
	}
	if err := cw.Write(exportHeader(keys)); err != nil {
		return List{}, nil, nil, fmt.Errorf("writing export: %w", err)
	}
	return l, keys, cw, nil
}

func newCSV(w io.Writer, bom bool) (*csv.Writer, error) {
	if bom {
		if _, err := io.WriteString(w, "\ufeff"); err != nil {
			return nil, fmt.Errorf("writing export: %w", err)
		}
	}
	return csv.NewWriter(w), nil
}

func (s *Store) fmtTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(s.opt.Location).Format(time.RFC3339)
}

// guardCells prefixes an apostrophe to cells a spreadsheet would treat as
// a formula (OWASP "CSV injection"): names come from a public form.
func guardCells(rec []string) []string {
	for i, v := range rec {
		if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
			rec[i] = "'" + v
		}
	}
	return rec
}
