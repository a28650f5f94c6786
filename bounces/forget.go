package bounces

import (
	"context"
	"database/sql"
	"fmt"
)

// ForgetAddress removes an erased subscriber's address from the bounce
// tables (a deletion request; the caller erased the subscriber). The
// bounce rows stay for the issues' statistics (class, status, outcome,
// the issue and list) without the address, the subscriber, the copy of
// the message or the diagnostic text (which often quotes the address);
// the alerts made from them lose their detail for the same reason; the
// address's bounce score goes; a Message-ID or rule that quotes the
// address has "[erased]" or "an erased address" in its place
// (forgetInText). An inbound command (join or unsubscribe by mail) keeps
// its row, with the address taken out of its Message-ID and its result
// (forgetInCommands).
func (s *Service) ForgetAddress(ctx context.Context, subscriberID int64, email string) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("forgetting an address: %w", err)
	}
	defer tx.Rollback()
	if err := forgetInText(ctx, tx, email); err != nil {
		return fmt.Errorf("forgetting an address: %w", err)
	}
	if err := forgetInCommands(ctx, tx, email); err != nil {
		return fmt.Errorf("forgetting an address: %w", err)
	}
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

// forgetInText takes email, in any case, out of the bounces' Message-ID,
// the dedupe key made of it and the rule (a claim names the bounce's own
// address: it runs before ForgetAddress empties that), as forgetErased
// does for a report read after the erasure, so that the same report read
// again is still found as a duplicate. It reads every bounce (about 12 ms
// per 100,000): an erasure is rare.
func forgetInText(ctx context.Context, tx *sql.Tx, email string) error {
	return forgetInRows(ctx, tx, email, "bounces", "rule",
		`message_id LIKE '%' || ?1 || '%' OR email = ?1 COLLATE NOCASE`)
}

// forgetInCommands takes email, in any case, out of the inbound commands'
// Message-ID (an empty mail's Message-ID often carries its sender), the
// dedupe key made of it and the result (a refusal quotes the address),
// keeping the row so that the same mail read again is still a duplicate.
func forgetInCommands(ctx context.Context, tx *sql.Tx, email string) error {
	return forgetInRows(ctx, tx, email, "inbound_commands", "result",
		`message_id LIKE '%' || ?1 || '%' OR result LIKE '%' || ?1 || '%'`)
}

// forgetInRows takes email out of the message_id, the dedupe_key made of
// it and the text column of the rows of table that where (a condition on
// ?1, the address) finds. Were the new dedupe key another row's already,
// the row's id is added to it. LIKE may find more than the address ('_'
// matches any character); replaceAddr then changes nothing there. table,
// text and where are constants of this file.
func forgetInRows(ctx context.Context, tx *sql.Tx, email, table, text, where string) error {
	type row struct {
		id                    int64
		msgID, dedupe, detail string
	}
	rs, err := tx.QueryContext(ctx, `SELECT id, message_id, dedupe_key, `+text+` FROM `+table+` WHERE `+where, email)
	if err != nil {
		return fmt.Errorf("%s: %w", table, err)
	}
	var found []row
	for rs.Next() {
		var r row
		if err := rs.Scan(&r.id, &r.msgID, &r.dedupe, &r.detail); err != nil {
			rs.Close()
			return fmt.Errorf("%s: %w", table, err)
		}
		found = append(found, r)
	}
	rs.Close()
	if err := rs.Err(); err != nil {
		return fmt.Errorf("%s: %w", table, err)
	}
	for _, r := range found {
		id, dedupe := erasedMessageID(r.msgID, r.dedupe, email)
		_, err := tx.ExecContext(ctx, `UPDATE `+table+` SET message_id = ?1, `+text+` = ?2,
  dedupe_key = CASE WHEN EXISTS (SELECT 1 FROM `+table+` WHERE dedupe_key = ?3 AND id != ?4) THEN ?3 || ' #' || ?4 ELSE ?3 END
WHERE id = ?4`, id, replaceAddr(r.detail, email, "an erased address"), dedupe, r.id)
		if err != nil {
			return fmt.Errorf("%s row %d: %w", table, r.id, err)
		}
	}
	return nil
}
