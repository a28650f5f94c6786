package issues

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Outbox is what StartDue needs from the delivery engine (mailer): copy the
// confirmed recipients of listID into deliveries for issueID and say how
// many there are. Snapshot must be idempotent per issue (unique (issue,
// subscriber)), because a crash between MarkSending and the snapshot makes
// StartDue call it again.
type Outbox interface {
	Snapshot(ctx context.Context, issueID int64, listID int64) (int, error)
}

// SchedulerActor is the actor StartDue records in the events table.
func SchedulerActor() Actor { return Actor{Login: "scheduler", Source: "scheduler"} }

// StartDue moves every due issue into sending and snapshots its recipients
// into the outbox; it also finishes snapshots that a crash interrupted. One
// issue's failure does not stop the others; the errors are joined.
func (s *Store) StartDue(ctx context.Context, now time.Time, outbox Outbox) error {
	due, err := s.Due(ctx, now)
	if err != nil {
		return err
	}
	var errs []error
	for _, is := range due {
		if _, err := s.MarkSending(ctx, is.ID, SchedulerActor()); err != nil {
			// Paused or cancelled since Due looked: not an error worth stopping for.
			if !errors.Is(err, ErrInvalidTransition) {
				errs = append(errs, err)
			}
		}
	}
	pending, err := s.Unsnapshotted(ctx)
	if err != nil {
		return errors.Join(append(errs, err)...)
	}
	for _, is := range pending {
		n, err := outbox.Snapshot(ctx, is.ID, is.ListID)
		if err != nil {
			errs = append(errs, fmt.Errorf("snapshotting recipients of issue %d: %w", is.ID, err))
			continue
		}
		if _, err := s.MarkSnapshotted(ctx, is.ID, n, SchedulerActor()); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
