package newsletter

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"kawaraban/issues"
	"kawaraban/mailer"
	"kawaraban/scheduler"
	"kawaraban/subscribers"
	"kawaraban/templates"
)

// Errors of the sending rules; web maps them to a status and a message.
var (
	// ErrPastSendAt refuses a send time before now: a typo in a date must
	// not become an immediate mass send.
	ErrPastSendAt = errors.New("the send time is in the past")
	// ErrNoRecipients refuses to send to a list with no confirmed,
	// unsuppressed subscriber (see RecipientsError).
	ErrNoRecipients = errors.New("the list has no recipients")
)

// RecipientsError is ErrNoRecipients with the list and its count.
type RecipientsError struct {
	List       string
	Recipients int
}

func (e *RecipientsError) Error() string {
	return fmt.Sprintf("list %s has %d recipients: nothing to send", e.List, e.Recipients)
}

// Unwrap makes errors.Is(err, ErrNoRecipients) true.
func (e *RecipientsError) Unwrap() error { return ErrNoRecipients }

// JobIssueSend is the scheduler kind of an issue's one-off send_at fire.
const JobIssueSend = "issue-send"

// pastGrace tolerates a send time picked as "this minute" in a form that
// has no seconds.
const pastGrace = time.Minute

// SendingOptions configures Sending.
type SendingOptions struct {
	Now    func() time.Time
	Logger *slog.Logger
}

// Sending coordinates an issue's state (package issues) with the outbox
// (package mailer): it is what "send now", "schedule", "pause", "resume",
// "cancel" and "retry" mean for both.
type Sending struct {
	issues *issues.Store
	subs   *subscribers.Store
	mail   *mailer.Mailer
	render *Renderer
	system *SystemMail
	// Scheduler, when set, records an issue's send_at as a one-off fire
	// (shown in the admin, kept across restarts). Set it before use.
	Scheduler *scheduler.Scheduler
	opt       SendingOptions
	kicks     chan struct{}
}

// NewSending returns the coordinator; r checks drafts and renders test
// sends, which sys sends.
func NewSending(is *issues.Store, subs *subscribers.Store, m *mailer.Mailer, r *Renderer, sys *SystemMail, opt SendingOptions) *Sending {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	return &Sending{issues: is, subs: subs, mail: m, render: r, system: sys, opt: opt, kicks: make(chan struct{}, 1)}
}

// Recipients is how many confirmed, unsuppressed subscribers listID has.
func (s *Sending) Recipients(ctx context.Context, listID int64) (int, error) {
	st, err := s.subs.Stats(ctx, listID)
	return st.Confirmed, err
}

// IssueRecipients is how many subscribers the issue would go to now: of a
// joint issue, every subscriber eligible on one of its lists, once.
func (s *Sending) IssueRecipients(ctx context.Context, is issues.Issue) (int, error) {
	if !is.Joint() {
		return s.Recipients(ctx, is.ListID)
	}
	return s.subs.CountRecipients(ctx, is.ListIDs())
}

// checkRecipients refuses a send nobody would receive.
func (s *Sending) checkRecipients(ctx context.Context, is issues.Issue) error {
	n, err := s.IssueRecipients(ctx, is)
	if err != nil {
		return err
	}
	if n > 0 {
		return nil
	}
	l, err := s.subs.ListByID(ctx, is.ListID)
	if err != nil {
		return err
	}
	return &RecipientsError{List: l.Slug, Recipients: n}
}

// CheckSendAt refuses a send time in the past.
func (s *Sending) CheckSendAt(at time.Time) error {
	if now := s.opt.Now(); at.Before(now.Add(-pastGrace)) {
		return fmt.Errorf("%s is before now (%s): %w", at.Format(time.RFC3339), now.Format(time.RFC3339), ErrPastSendAt)
	}
	return nil
}

// Create stores a draft after checking it: a send time in the past is
// refused, and the draft must render for its real list, so that a template
// error or a list without its legal sender details is refused when saved,
// not at send time (templates' errors).
func (s *Sending) Create(ctx context.Context, d issues.Draft) (issues.Issue, error) {
	if err := s.checkDraft(ctx, d.Lists(), d); err != nil {
		return issues.Issue{}, err
	}
	return s.issues.Create(ctx, d)
}

// Update changes a draft or scheduled issue, checked as Create checks.
func (s *Sending) Update(ctx context.Context, id int64, d issues.Draft, by issues.Actor) (issues.Issue, error) {
	is, err := s.issues.ByID(ctx, id)
	if err != nil {
		return issues.Issue{}, err
	}
	if err := s.checkDraft(ctx, is.ListIDs(), d); err != nil {
		return issues.Issue{}, err
	}
	return s.issues.Update(ctx, id, d, by)
}

// checkDraft checks the send time and that the draft renders for each of
// its lists (each may have its own layout).
func (s *Sending) checkDraft(ctx context.Context, listIDs []int64, d issues.Draft) error {
	if d.SendAt != nil {
		if err := s.CheckSendAt(*d.SendAt); err != nil {
			return err
		}
	}
	for i := range listIDs {
		if _, err := s.render.PreviewJoint(ctx, listIDs, listIDs[i], d.Subject, d.BodyMarkdown, templates.Recipient{}); err != nil {
			return err
		}
	}
	return nil
}

// DefaultTestSendsPerHour is how many test sends each user may make per
// hour when the configuration does not say (sending.test_sends_per_hour):
// a test send goes to a real mailbox, so it is rate-limited.
const DefaultTestSendsPerHour = 20

// TestSubjectPrefix marks a test send's subject.
const TestSubjectPrefix = "[テスト] "

// TestSend sends the issue to to as a reader would get it (its links are
// placeholders, its heading says it has no number yet), the subject marked
// with TestSubjectPrefix.
func (s *Sending) TestSend(ctx context.Context, id int64, to string) error {
	is, err := s.issues.ByID(ctx, id)
	if err != nil {
		return err
	}
	msg, err := s.render.PreviewJoint(ctx, is.ListIDs(), is.ListID, is.Subject, is.BodyMarkdown, templates.Recipient{Email: to})
	if err != nil {
		return err
	}
	msg.Subject = TestSubjectPrefix + msg.Subject
	_, err = s.system.Send(ctx, msg)
	return err
}

// SendNow sends the issue at once: refused when its list has no recipient.
func (s *Sending) SendNow(ctx context.Context, id int64, by issues.Actor) error {
	is, err := s.issues.ByID(ctx, id)
	if err != nil {
		return err
	}
	if err := issues.Allowed(issues.ActSendNow, is, by.Login); err != nil {
		return fmt.Errorf("sending issue %d: %w", id, err)
	}
	if err := s.checkRecipients(ctx, is); err != nil {
		return err
	}
	if _, err := s.issues.SendNow(ctx, id, by); err != nil {
		return err
	}
	s.Kick()
	return nil
}

// Schedule sends the issue at at (refused in the past).
func (s *Sending) Schedule(ctx context.Context, id int64, at time.Time, by issues.Actor) error {
	if err := s.CheckSendAt(at); err != nil {
		return err
	}
	if _, err := s.issues.Schedule(ctx, id, at, by); err != nil {
		return err
	}
	if s.Scheduler == nil {
		return nil
	}
	_, err := s.Scheduler.AddOnce(ctx, JobIssueSend, strconv.FormatInt(id, 10), at)
	return err
}

// Pause pauses the issue and its outbox run.
func (s *Sending) Pause(ctx context.Context, id int64, by issues.Actor) error {
	if _, err := s.issues.Pause(ctx, id, by); err != nil {
		return err
	}
	return ignoreNotRunning(s.mail.Pause(ctx, id))
}

// Resume resumes the issue and its outbox run.
func (s *Sending) Resume(ctx context.Context, id int64, by issues.Actor) error {
	if _, err := s.issues.Resume(ctx, id, by); err != nil {
		return err
	}
	return ignoreNotRunning(s.mail.Resume(ctx, id))
}

// Cancel cancels the issue and what its outbox run has not sent.
func (s *Sending) Cancel(ctx context.Context, id int64, by issues.Actor) error {
	if _, err := s.issues.Cancel(ctx, id, by); err != nil {
		return err
	}
	return ignoreNotRunning(s.mail.Cancel(ctx, id))
}

// RetryFailed queues the issue's failed deliveries again and says how
// many; only an issue that has been sending may (issues.ErrInvalidTransition).
func (s *Sending) RetryFailed(ctx context.Context, id int64, by issues.Actor) (int, error) {
	is, err := s.issues.ByID(ctx, id)
	if err != nil {
		return 0, err
	}
	switch is.Status {
	case issues.StatusCancelled, issues.StatusDraft, issues.StatusScheduled:
		return 0, fmt.Errorf("retrying issue %d: it is %s: %w", id, is.Status, issues.ErrInvalidTransition)
	}
	n, err := s.mail.RetryFailed(ctx, id)
	if err != nil {
		return 0, ignoreNotRunning(err)
	}
	s.opt.Logger.Info("failed deliveries queued again", "issue_id", id, "count", n, "by", by.Login)
	return n, nil
}

// ignoreNotRunning: pausing an issue the outbox has not started is fine.
func ignoreNotRunning(err error) error {
	if errors.Is(err, mailer.ErrUnknownIssue) {
		return nil
	}
	return err
}

// Snapshot implements issues.Outbox: it copies the recipients of the
// issue's lists into the outbox (each subscriber once, for the first of
// the issue's lists they are on; listID is the lead), then applies a pause
// or cancel that came while the snapshot was being made (it found no
// outbox run to stop).
func (s *Sending) Snapshot(ctx context.Context, issueID, listID int64) (int, error) {
	is, err := s.issues.ByID(ctx, issueID)
	if err != nil {
		return 0, err
	}
	n, err := s.mail.SnapshotLists(ctx, issueID, is.ListIDs(), recipients{s.subs})
	if err != nil {
		return n, err
	}
	if is, err = s.issues.ByID(ctx, issueID); err != nil {
		return n, err
	}
	switch is.Status {
	case issues.StatusPaused:
		err = s.mail.Pause(ctx, issueID)
	case issues.StatusCancelled:
		err = s.mail.Cancel(ctx, issueID)
	}
	return n, err
}

var _ issues.Outbox = (*Sending)(nil)

// recipients streams a list's recipients into the outbox snapshot
// (mailer.RecipientSource).
type recipients struct{ subs *subscribers.Store }

func (r recipients) EachRecipient(ctx context.Context, tx *sql.Tx, listID int64, fn func(mailer.Recipient) error) error {
	return r.subs.EachRecipient(ctx, tx, listID, func(s subscribers.Recipient) error {
		return fn(mailer.Recipient{SubscriberID: s.SubscriberID, Email: s.Email, Name: s.Name})
	})
}

// StartDue moves due issues into sending and snapshots their recipients;
// the issues state machine and the idempotent snapshot make a second call
// harmless, so it may run from the scheduler, a kick and at start alike.
func (s *Sending) StartDue(ctx context.Context) error {
	return s.issues.StartDue(ctx, s.opt.Now(), s)
}

// Kick asks the due-issue loop to look now (after "send now").
func (s *Sending) Kick() {
	select {
	case s.kicks <- struct{}{}:
	default:
	}
}

// RunDueLoop starts due issues at once when kicked, and every few seconds
// otherwise, so "send now" never waits for the next cron minute.
func (s *Sending) RunDueLoop(ctx context.Context) error {
	t := time.NewTicker(5 * time.Second)
	defer t.Stop()
	for {
		if err := s.StartDue(ctx); err != nil && ctx.Err() == nil {
			s.opt.Logger.Error("starting due issues", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		case <-s.kicks:
		}
	}
}

// IssueDone marks an issue sent when the outbox has finished it
// (mailer.Options.OnIssueDone).
func IssueDone(is *issues.Store, log *slog.Logger) func(ctx context.Context, issueID int64) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return func(ctx context.Context, issueID int64) {
		if _, err := is.MarkSent(ctx, issueID, issues.Actor{Login: "mailer", Source: "outbox"}); err != nil &&
			!errors.Is(err, issues.ErrInvalidTransition) && !errors.Is(err, issues.ErrImmutable) {
			log.Error("marking issue sent", "issue_id", issueID, "err", err)
		}
	}
}
