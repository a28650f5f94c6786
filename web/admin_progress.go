package web

import (
	"context"

	"kawaraban/progress"
)

// deadlineRow is a deadline on the admin progress page with the next
// reminder the job will send about it (nil when none will).
type deadlineRow struct {
	progress.DeadlineStatus
	Next *progress.NextReminder
}

// deadlineRows are the progress page's deadlines. Without the next
// reminders (their query failed, logged) the page still shows the
// deadlines.
func (s *Server) deadlineRows(ctx context.Context) ([]deadlineRow, error) {
	ds, err := s.opt.Plan.Status(ctx)
	if err != nil {
		return nil, err
	}
	ns, err := s.opt.Plan.NextReminders(ctx, s.now())
	if err != nil {
		s.log.Warn("next reminders unavailable", "err", err)
	}
	next := map[string]*progress.NextReminder{}
	for i := range ns {
		next[ns[i].Deadline] = &ns[i]
	}
	rows := make([]deadlineRow, len(ds))
	for i, d := range ds {
		rows[i] = deadlineRow{DeadlineStatus: d, Next: next[d.ID]}
	}
	return rows, nil
}
