package issues

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// change runs one action in one transaction: load, ask the rules, let apply
// adjust the row, store it and append the event.
func (s *Store) change(ctx context.Context, id int64, act Action, actor Actor, comment string,
	apply func(is *Issue, now time.Time) error) (Issue, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return Issue{}, fmt.Errorf("%s issue %d: %w", act, id, err)
	}
	defer tx.Rollback()
	is, err := byID(ctx, tx, id)
	if err != nil {
		return Issue{}, err
	}
	to, err := next(act, is, actor.Login)
	if err != nil {
		return Issue{}, err
	}
	from, now, wasApproved := is.Status, s.now(), is.ApprovedBy != ""
	if apply != nil {
		// apply still sees the old status.
		if err := apply(&is, now); err != nil {
			return Issue{}, err
		}
	}
	is.Status = to
	if to == StatusSending && is.Number == 0 {
		if err := numberLists(ctx, tx, &is); err != nil {
			return Issue{}, fmt.Errorf("%s issue %d: %w", act, id, err)
		}
	}
	if act == ActUpdate && wasApproved {
		comment = "approval voided by the edit"
	}
	is.UpdatedAt = now
	_, err = tx.ExecContext(ctx, `UPDATE issues SET subject = ?, body_markdown = ?, status = ?,
		paused_from = ?, send_at = ?, approved_by = ?, approved_at = ?, recipients = ?,
		updated_at = ?, sent_at = ?, number = NULLIF(?, 0) WHERE id = ?`,
		is.Subject, is.BodyMarkdown, is.Status, is.PausedFrom, msPtr(is.SendAt), is.ApprovedBy,
		msPtr(is.ApprovedAt), is.Recipients, ms(now), msPtr(is.SentAt), is.Number, id)
	if err != nil {
		return Issue{}, fmt.Errorf("%s issue %d: %w", act, id, err)
	}
	ev := Event{IssueID: id, At: now, Actor: actor.Login, Source: actor.Source, Action: act,
		From: from, To: is.Status, Comment: comment}
	if err := addEvent(ctx, tx, ev); err != nil {
		return Issue{}, err
	}
	if err := tx.Commit(); err != nil {
		return Issue{}, fmt.Errorf("%s issue %d: %w", act, id, err)
	}
	s.log.Info("issue changed", "issue_id", id, "action", string(act), "from", from, "to", is.Status)
	return is, nil
}

// Update replaces the subject and body of a draft or scheduled issue, and
// its send time when d.SendAt is set (nil keeps it, so a scheduled issue
// stays due). The list and the approval requirement stay as created. An edit of
// an approved issue voids the approval (recorded in the event's comment); a
// scheduled issue that needed it goes back to draft.
func (s *Store) Update(ctx context.Context, id int64, d Draft, actor Actor) (Issue, error) {
	return s.change(ctx, id, ActUpdate, actor, "", func(is *Issue, _ time.Time) error {
		d.ListID = is.ListID
		if err := d.Validate(); err != nil {
			return fmt.Errorf("updating issue %d: %w", id, err)
		}
		is.Subject, is.BodyMarkdown = d.Subject, d.BodyMarkdown
		if d.SendAt != nil {
			is.SendAt = d.SendAt
		}
		is.ApprovedBy, is.ApprovedAt = "", nil
		return nil
	})
}

// Schedule sets the send time of a draft or scheduled issue and makes it
// scheduled. A list requiring approval needs it first (ErrNeedsApproval).
func (s *Store) Schedule(ctx context.Context, id int64, at time.Time, actor Actor) (Issue, error) {
	return s.change(ctx, id, ActSchedule, actor, "", func(is *Issue, _ time.Time) error {
		is.SendAt = &at
		return nil
	})
}

// SendNow schedules the issue for now; the next StartDue run sends it.
func (s *Store) SendNow(ctx context.Context, id int64, actor Actor) (Issue, error) {
	return s.change(ctx, id, ActSendNow, actor, "", func(is *Issue, now time.Time) error {
		is.SendAt = &now
		return nil
	})
}

// MarkSending moves a scheduled issue into sending.
func (s *Store) MarkSending(ctx context.Context, id int64, actor Actor) (Issue, error) {
	return s.change(ctx, id, ActMarkSending, actor, "", nil)
}

// MarkSnapshotted records how many deliveries the snapshot of a sending
// issue created.
func (s *Store) MarkSnapshotted(ctx context.Context, id int64, recipients int, actor Actor) (Issue, error) {
	return s.change(ctx, id, ActSnapshot, actor, fmt.Sprintf("%d recipients", recipients), func(is *Issue, _ time.Time) error {
		is.Recipients = &recipients
		return nil
	})
}

// MarkSent records that every delivery of a sending issue is done.
func (s *Store) MarkSent(ctx context.Context, id int64, actor Actor) (Issue, error) {
	return s.change(ctx, id, ActMarkSent, actor, "", func(is *Issue, now time.Time) error {
		is.SentAt = &now
		return nil
	})
}

// MarkFailed records that a scheduled or sending issue cannot go on.
func (s *Store) MarkFailed(ctx context.Context, id int64, actor Actor, reason string) (Issue, error) {
	return s.change(ctx, id, ActMarkFailed, actor, reason, nil)
}

// Pause holds a scheduled or sending issue; Resume returns it.
func (s *Store) Pause(ctx context.Context, id int64, actor Actor) (Issue, error) {
	return s.change(ctx, id, ActPause, actor, "", func(is *Issue, _ time.Time) error {
		is.PausedFrom = is.Status
		return nil
	})
}

// Resume returns a paused issue to the status it was paused from, or
// retries a failed one (back to sending).
func (s *Store) Resume(ctx context.Context, id int64, actor Actor) (Issue, error) {
	return s.change(ctx, id, ActResume, actor, "", func(is *Issue, _ time.Time) error {
		is.PausedFrom = ""
		return nil
	})
}

// Cancel stops an issue for good; it never goes out (again).
func (s *Store) Cancel(ctx context.Context, id int64, actor Actor) (Issue, error) {
	return s.change(ctx, id, ActCancel, actor, "", nil)
}

// Approve records another user's approval of a draft that requires it.
func (s *Store) Approve(ctx context.Context, id int64, actor Actor, comment string) (Issue, error) {
	return s.change(ctx, id, ActApprove, actor, comment, func(is *Issue, now time.Time) error {
		is.ApprovedBy, is.ApprovedAt = actor.Login, &now
		return nil
	})
}

// Reject sends an issue back to its author as a draft with a comment, which
// is required. Any approval is voided.
func (s *Store) Reject(ctx context.Context, id int64, actor Actor, comment string) (Issue, error) {
	if strings.TrimSpace(comment) == "" {
		return Issue{}, fmt.Errorf("rejecting issue %d: %w", id, &InvalidError{Problems: []Problem{{Field: "comment", Code: CodeRequired}}})
	}
	return s.change(ctx, id, ActReject, actor, comment, func(is *Issue, _ time.Time) error {
		is.ApprovedBy, is.ApprovedAt = "", nil
		return nil
	})
}

// numberLists gives the issue its 第N号 on each of its lists, each in the
// list's own sequence: one more than the highest that list has given so far
// (issue 14: a per-list sequence, not the database id; issue 17: a joint
// issue takes the next number of every list it goes to). The lead's number
// is also kept in issues.number.
func numberLists(ctx context.Context, tx *sql.Tx, is *Issue) error {
	for i, l := range is.Lists {
		if l.Number != 0 {
			continue
		}
		var n int
		err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(number), 0) + 1 FROM issue_lists WHERE list_id = ?`, l.ListID).Scan(&n)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE issue_lists SET number = ? WHERE issue_id = ? AND list_id = ?`,
			n, is.ID, l.ListID); err != nil {
			return err
		}
		is.Lists[i].Number = n
		if l.ListID == is.ListID {
			is.Number = n
		}
	}
	return nil
}
