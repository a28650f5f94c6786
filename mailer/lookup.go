package mailer

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
)

// DeliveryByID returns one delivery, for bounce attribution through a VERP
// token; ok is false when there is no such delivery.
func (m *Mailer) DeliveryByID(ctx context.Context, id int64) (Delivery, bool, error) {
	return m.deliveryWhere(ctx, "id = ?", id)
}

// DeliveryByMessageID returns the delivery whose message carried msgID
// (with or without angle brackets), for bounces that return only the
// original headers.
func (m *Mailer) DeliveryByMessageID(ctx context.Context, msgID string) (Delivery, bool, error) {
	msgID = strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(msgID), "<"), ">")
	if msgID == "" {
		return Delivery{}, false, nil
	}
	// The outbox names its messages kawaraban.<issue>.<delivery>.<tag>@domain
	// (msgid.go): read the id from it instead of scanning the table. One
	// of ours with a wrong or missing tag names nothing.
	if issueID, id, ours, ok := m.parseDeliveryMessageID(msgID); ours {
		if !ok {
			return Delivery{}, false, nil
		}
		d, ok, err := m.DeliveryByID(ctx, id)
		if err != nil || !ok || d.IssueID != issueID {
			return Delivery{}, false, err
		}
		return d, true, nil
	}
	return m.deliveryWhere(ctx, "message_id = ?", msgID)
}

func (m *Mailer) deliveryWhere(ctx context.Context, where string, arg any) (Delivery, bool, error) {
	var d Delivery
	err := m.db.QueryRowContext(ctx,
		"SELECT id, issue_id, subscriber_id, COALESCE(list_id, 0), email, name, attempts FROM deliveries WHERE "+where, arg).
		Scan(&d.ID, &d.IssueID, &d.SubscriberID, &d.ListID, &d.Email, &d.Name, &d.Attempts)
	if errors.Is(err, sql.ErrNoRows) {
		return Delivery{}, false, nil
	}
	if err != nil {
		return Delivery{}, false, fmt.Errorf("looking up delivery: %w", err)
	}
	return d, true, nil
}
