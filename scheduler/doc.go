// Package scheduler runs kawaraban's timed work: recurring schedules in
// cron syntax (robfig/cron/v3) and one-off instants, persisted in SQLite so
// that every fire happens exactly once, whatever restarts.
//
// It knows nothing of the domain. cmd registers each job kind as a JobFunc
// ("send due issues", "poll bounces", "run reminders", "housekeeping") and
// declares its system schedules with Upsert at every start; an issue's
// send_at becomes a one-off through AddOnce.
//
// # Exactly once
//
// A fire is recorded in the fires table under the unique key (schedule,
// fire instant), in the same transaction that advances the schedule's
// cursor, before its job runs. A fire whose row exists is never started
// again. A fire that was started but never finished (the process crashed
// or was stopped mid-job) is handed to its job once more when a scheduler
// next runs on the database, with Fire.Resumed set: the job resumes from
// its own state (the outbox resumes from its deliveries table) rather than
// starting over. Jobs must therefore be idempotent with respect to a
// resumed fire. A job that returns an error is recorded as failed and is
// not retried by the scheduler; the next instant is the next chance.
//
// # Missed fires
//
// When instants passed while nothing ran (the daemon was down, or the
// schedule's previous fire was still running), the schedule's Policy
// decides: RunOnce fires once, for the latest missed instant, unless that
// instant is later than MaxLateness; Skip fires only if the latest
// instant is within Options.Slack of now, so missed polls are not made up.
// A skipped fire is recorded (result "skipped") and logged.
//
// # Time
//
// Specs are the standard five fields or descriptors (@daily, @hourly,
// @every 1m), read as wall-clock time in the schedule's timezone (default
// Options.Location, Asia/Tokyo). Across daylight-saving changes a wall-clock
// schedule fires once per matching wall-clock time: a time the clocks skip
// fires at the same instant with the clock moved on (02:30 on a spring-
// forward day fires at 03:30 daylight time), and a time the clocks repeat
// fires at its first occurrence only. @every schedules are plain elapsed
// time. All time comes from Options.Now, and Tick does the work due at an
// instant, so tests drive the clock without sleeping.
package scheduler
