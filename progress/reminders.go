package progress

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"time"
)

// Reminder is one mail the reminder job sent, failed to send, or (in a dry
// run) would send.
type Reminder struct {
	Deadline   string // stable id
	Bureau     string
	Kind       string // "remind" (to the bureau) or "escalate" (to the coordinator)
	Occurrence Date   // the date the rule fell due
	Label      string // before-7, due, overdue-6, escalate-7
	To         string
	Subject    string
	Text       string // the mail's text, for `reminders run --show`
	// Status is "sent", "failed" (will be retried next run), "gave-up"
	// (MaxAttempts reached) or "dry-run".
	Status string
	Err    string
}

// RunReport says what one run of the reminder job did.
type RunReport struct {
	Now       time.Time
	Today     Date
	DryRun    bool
	Reminders []Reminder
	Sent      int
	Failed    int
}

// leaseTime is how long a run holds the reminders it is sending, so that a
// second run at the same moment (the daemon and `reminders run`) does not
// send them too.
const leaseTime = 10 * time.Minute

// RunReminders runs the reminder job once as if at now.
//
// For each deadline and each of its bureaus that has not submitted, it
// finds the latest reminder occurrence on or before today (a before_days
// offset, the due day, or a multiple of overdue_every_days after it) and,
// once escalate_after_days have passed, the latest escalation occurrence
// for the coordinator. Only the latest is considered, so days the job
// missed are caught up with one mail, not several; an occurrence at or
// before one already logged is never sent.
//
// Delivery is at-least-once per occurrence: in one transaction the job
// inserts each new occurrence into reminders_sent as "pending" (the unique
// key (deadline, bureau, kind, occurrence) makes a second insert a no-op),
// and leases every pending row; after commit it sends and marks each row
// "sent", or records the error and leaves it pending for the next run
// (until Options.MaxAttempts). A crash between the relay accepting a mail
// and the row being marked sent resends that one mail on the next run; a
// reminder is never silently lost. A newer occurrence supersedes an older
// pending one; a submission cancels the pair's pending ones.
//
// With dryRun it computes the same mails, renders them for the report, and
// rolls back: nothing is recorded or sent.
func (s *Store) RunReminders(ctx context.Context, now time.Time, dryRun bool) (RunReport, error) {
	rep := RunReport{Now: now, Today: DateOf(now, s.loc), DryRun: dryRun}
	if s.opt.Sender == nil && !dryRun {
		return rep, ErrNoSender
	}
	claimed, err := s.decide(ctx, rep.Today, now, dryRun)
	if err != nil {
		return rep, fmt.Errorf("running reminders: %w", err)
	}
	for _, c := range claimed {
		if err := ctx.Err(); err != nil {
			return rep, fmt.Errorf("running reminders: %w", err)
		}
		r, m, err := s.buildReminder(ctx, c, rep.Today)
		if err != nil {
			return rep, fmt.Errorf("running reminders: %w", err)
		}
		if dryRun {
			r.Status = "dry-run"
			rep.Reminders = append(rep.Reminders, r)
			continue
		}
		sendErr := s.opt.Sender.SendSystem(ctx, m)
		if r.Status, err = s.finish(ctx, c, now, sendErr); err != nil {
			return rep, fmt.Errorf("running reminders: %w", err)
		}
		if sendErr != nil {
			r.Err = sendErr.Error()
			rep.Failed++
			s.log.Warn("reminder not sent", "deadline", r.Deadline, "bureau", r.Bureau, "kind", r.Kind, "err", sendErr)
		} else {
			rep.Sent++
			s.log.Info("reminder sent", "deadline", r.Deadline, "bureau", r.Bureau, "kind", r.Kind, "label", r.Label)
		}
		rep.Reminders = append(rep.Reminders, r)
	}
	if !dryRun {
		s.log.Info("reminder run", "today", rep.Today.String(), "sent", rep.Sent, "failed", rep.Failed)
	}
	return rep, nil
}

// logRow is a reminders_sent row claimed for sending.
type logRow struct {
	id         int64
	deadline   int64
	bureau     string
	kind       string
	occurrence string
	label      string
	recipient  string
	attempts   int
}

// decide records new occurrences and claims what is pending, in one
// transaction; with dryRun it rolls back and only returns the claims.
func (s *Store) decide(ctx context.Context, today Date, now time.Time, dryRun bool) ([]logRow, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	rules, err := loadRules(ctx, tx)
	if err != nil {
		return nil, err
	}
	pairs, err := pendingPairs(ctx, tx)
	if err != nil {
		return nil, err
	}
	for _, p := range pairs {
		if occ, ok := rules.latestReminder(p.deadline.due, today); ok {
			if err := s.record(ctx, tx, p, "remind", occ, now); err != nil {
				return nil, err
			}
		}
		if occ, ok := rules.latestEscalation(p.deadline.due, today); ok {
			if err := s.record(ctx, tx, p, "escalate", occ, now); err != nil {
				return nil, err
			}
		}
	}
	// A report submitted, or a bureau taken off a deadline, since a row
	// was recorded: its pending mails are no longer wanted.
	if _, err := tx.ExecContext(ctx, `UPDATE reminders_sent SET status = 'cancelled' WHERE status = 'pending'
		AND (EXISTS (SELECT 1 FROM submissions s WHERE s.deadline = reminders_sent.deadline AND s.bureau = reminders_sent.bureau)
		  OR NOT EXISTS (SELECT 1 FROM deadline_bureaus db WHERE db.deadline = reminders_sent.deadline AND db.bureau = reminders_sent.bureau))`); err != nil {
		return nil, fmt.Errorf("cancelling reminders no longer wanted: %w", err)
	}
	claimed, err := s.claim(ctx, tx)
	if err != nil {
		return nil, err
	}
	if dryRun {
		return claimed, nil // the deferred Rollback forgets it all
	}
	return claimed, tx.Commit()
}

// record inserts occurrence occ of kind for p as pending unless it, or a
// later one, is already logged, and supersedes older pending ones.
func (s *Store) record(ctx context.Context, tx *sql.Tx, p pair, kind string, occ occurrence, now time.Time) error {
	var latest sql.NullString
	err := tx.QueryRowContext(ctx, `SELECT max(occurrence) FROM reminders_sent WHERE deadline = ? AND bureau = ? AND kind = ?`,
		p.deadline.id, p.bureau, kind).Scan(&latest)
	if err != nil {
		return fmt.Errorf("reading reminder log: %w", err)
	}
	if latest.Valid && latest.String >= occ.date.String() { // dates as YYYY-MM-DD compare as text
		return nil
	}
	to, err := s.recipient(ctx, tx, p.bureau, kind)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE reminders_sent SET status = 'superseded'
		WHERE deadline = ? AND bureau = ? AND kind = ? AND status = 'pending'`, p.deadline.id, p.bureau, kind); err != nil {
		return fmt.Errorf("superseding reminders: %w", err)
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO reminders_sent (deadline, bureau, kind, occurrence, label, status, recipient, created_at)
		VALUES (?, ?, ?, ?, ?, 'pending', ?, ?) ON CONFLICT DO NOTHING`,
		p.deadline.id, p.bureau, kind, occ.date.String(), occ.label, to, now.Unix())
	if err != nil {
		return fmt.Errorf("recording reminder: %w", err)
	}
	return nil
}

func (s *Store) recipient(ctx context.Context, q querier, bureau, kind string) (string, error) {
	if kind == "escalate" {
		r, err := loadRules(ctx, q)
		return r.Coordinator, err
	}
	c, err := contactByBureau(ctx, q, bureau)
	return c.email, err
}

// claim leases every pending row whose lease has run out.
func (s *Store) claim(ctx context.Context, tx *sql.Tx) ([]logRow, error) {
	wall := s.opt.Now().Unix()
	rows, err := tx.QueryContext(ctx, `UPDATE reminders_sent SET lease_until = ?
		WHERE status = 'pending' AND lease_until <= ?
		RETURNING id, deadline, bureau, kind, occurrence, label, recipient, attempts`,
		wall+int64(leaseTime/time.Second), wall)
	if err != nil {
		return nil, fmt.Errorf("claiming pending reminders: %w", err)
	}
	defer rows.Close()
	var out []logRow
	for rows.Next() {
		var r logRow
		if err := rows.Scan(&r.id, &r.deadline, &r.bureau, &r.kind, &r.occurrence, &r.label, &r.recipient, &r.attempts); err != nil {
			return nil, fmt.Errorf("claiming pending reminders: %w", err)
		}
		out = append(out, r)
	}
	// RETURNING gives no order: send in the order the rows were decided.
	sort.Slice(out, func(i, j int) bool { return out[i].id < out[j].id })
	return out, rows.Err()
}

// finish records the outcome of sending row c and returns its status.
func (s *Store) finish(ctx context.Context, c logRow, now time.Time, sendErr error) (string, error) {
	var err error
	status := "sent"
	if sendErr == nil {
		_, err = s.db.ExecContext(ctx, `UPDATE reminders_sent SET status = 'sent', sent_at = ?, attempts = attempts + 1,
			last_error = '', lease_until = 0 WHERE id = ?`, now.Unix(), c.id)
	} else {
		dbStatus := "pending"
		status = "failed"
		if c.attempts+1 >= s.opt.MaxAttempts {
			dbStatus, status = "failed", "gave-up"
		}
		_, err = s.db.ExecContext(ctx, `UPDATE reminders_sent SET status = ?, attempts = attempts + 1,
			last_error = ?, lease_until = 0 WHERE id = ?`, dbStatus, truncate(sendErr.Error(), 500), c.id)
	}
	if err != nil {
		// The mail may be out; the row stays leased and is retried when
		// the lease runs out (at-least-once).
		return status, fmt.Errorf("recording reminder %d: %w", c.id, err)
	}
	return status, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// buildReminder renders the mail for a claimed row.
func (s *Store) buildReminder(ctx context.Context, c logRow, today Date) (Reminder, Mail, error) {
	d, err := deadlineByID(ctx, s.db, c.deadline)
	if err != nil {
		return Reminder{}, Mail{}, err
	}
	occ, _ := ParseDate(c.occurrence)
	r := Reminder{Deadline: d.key, Bureau: c.bureau, Kind: c.kind, Occurrence: occ, Label: c.label, To: c.recipient}
	data, contact, err := s.reminderData(ctx, d, c.bureau, today)
	if err != nil {
		return r, Mail{}, err
	}
	m := Mail{To: c.recipient, AutoSubmitted: true, Headers: systemHeaders}
	tmpl := "reminder"
	if c.kind == "escalate" {
		tmpl, m.ToName = "escalation", "計画の進捗管理担当"
	} else {
		// The address as it is now: a re-import may have changed it
		// since the row was recorded.
		if contact.email != "" {
			m.To, r.To = contact.email, contact.email
		}
		m.ToName, m.Cc = contact.nameJa, contact.cc
		if contact.person != "" {
			m.ToName = contact.nameJa + " " + contact.person
		}
	}
	m.ToName = oneLine(m.ToName)
	if m.Subject, m.Text, err = s.render(tmpl, data); err != nil {
		return r, Mail{}, err
	}
	r.Subject, r.Text = m.Subject, m.Text
	return r, m, nil
}

func (s *Store) reminderData(ctx context.Context, d deadlineRow, bureau string, today Date) (reminderData, contactRow, error) {
	c, err := contactByBureau(ctx, s.db, bureau)
	if err != nil {
		return reminderData{}, c, err
	}
	ps, err := projectsOf(ctx, s.db, bureau)
	if err != nil {
		return reminderData{}, c, err
	}
	rules, err := loadRules(ctx, s.db)
	if err != nil {
		return reminderData{}, c, err
	}
	left := today.DaysUntil(d.due)
	data := reminderData{
		BureauName: c.nameJa, Person: c.person, BureauEmail: c.email,
		Title: d.titleJa, Due: d.due.Japanese(), Projects: ps,
		SubmitURL: s.submittedURL(d, bureau), FeedURL: s.FeedURL(bureau),
		EscalateAfterDays: rules.EscalateAfterDays, FromName: s.opt.FromName,
	}
	if left >= 0 {
		data.DaysLeft = left
	} else {
		data.DaysOverdue = -left
		_, data.Escalated = rules.latestEscalation(d.due, today)
	}
	return data, c, nil
}
