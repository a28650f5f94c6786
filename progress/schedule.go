package progress

import (
	"context"
	"time"
)

// The scheduler's job kinds of the plan's progress. Existing databases
// hold schedules of these kinds under the names Jobs gives: keep both.
const (
	// JobReminders sends the day's reminders (RunReminders).
	JobReminders = "reminders"
	// JobDigest sends the coordinator's weekly digest (SendDigest).
	JobDigest = "digest"
)

// Job is one of the plan's periodic jobs with the system schedule that
// runs it. progress does not import the scheduler (it would bring HTTP
// with its metrics); newsletter.RegisterProgress hands the jobs to it.
type Job struct {
	// Kind is the job kind and Name the system schedule's name.
	Kind, Name string
	// Spec is the schedule's cron spec, in the scheduler's timezone.
	Spec string
	// MaxLateness is how late a fire missed while the daemon was down
	// still runs, once; a later one is skipped.
	MaxLateness time.Duration
	// Run does one fire's work, as of Options.Now.
	Run func(ctx context.Context) error
}

// Jobs are the daily reminders at 09:00 (a missed morning still runs up
// to 20 hours late) and the coordinator's digest on Mondays at 09:00 (up
// to 3 days late).
func (s *Store) Jobs() []Job {
	return []Job{
		{Kind: JobReminders, Name: "daily reminders", Spec: "0 9 * * *", MaxLateness: 20 * time.Hour,
			Run: func(ctx context.Context) error {
				_, err := s.RunReminders(ctx, s.opt.Now(), false)
				return err
			}},
		{Kind: JobDigest, Name: "weekly digest", Spec: "0 9 * * 1", MaxLateness: 3 * 24 * time.Hour,
			Run: func(ctx context.Context) error { return s.SendDigest(ctx, s.opt.Now()) }},
	}
}
