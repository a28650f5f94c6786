package web

import (
	"context"
	"errors"
	"io"
	"time"

	"kawaraban/bounces"
	"kawaraban/issues"
	"kawaraban/mailer"
	"kawaraban/newsletter"
	"kawaraban/progress"
	"kawaraban/scheduler"
	"kawaraban/subscribers"
	"kawaraban/templates"
)

// This file declares what each handler group needs from the application
// layer and the domain packages, as small consumer-side interfaces (so a
// test can give a group a fake). domain.go connects them to the real
// values, most of which satisfy them as they are. They return the
// domain's errors; status.go words them. A nil interface in Options turns
// the pages that need it into a "not available" page.

// Errors of web's own that statusOf maps beside the domain's: a path that
// names nothing, an action the state does not allow.
var (
	ErrNotFound = errors.New("not found")
	ErrConflict = errors.New("not possible in the current state")
)

// InputError is bad input a person can correct; web shows Message (or
// MessageJA) next to the form. subscribers returns it for a bad address.
type InputError struct {
	Field     string
	Message   string
	MessageJA string
	cause     error // the domain error it stands for, if any
}

func (e *InputError) Error() string { return e.Field + ": " + e.Message }

// Unwrap returns the domain error behind the input error.
func (e *InputError) Unwrap() error { return e.cause }

// The domain's own types, used as they are (issue 14 removed the mirror
// structs and the translation between them).
type (
	// List is a mailing list.
	List = subscribers.List
	// Evidence is what the consent log records about a request.
	Evidence = subscribers.Evidence
	// SubscribeRequest is a public subscription from the form.
	SubscribeRequest = subscribers.SubscribeRequest
	// ConfirmResult says what a confirmation link confirmed.
	ConfirmResult = subscribers.ConfirmResult
	// UnsubscribeInfo describes what an unsubscribe link would do; pages
	// show MaskedEmail only.
	UnsubscribeInfo = subscribers.UnsubscribeInfo
	// Preferences is the state behind a preferences link.
	Preferences = subscribers.Prefs
	// ImportOptions configures an import.
	ImportOptions = subscribers.ImportOptions
	// ImportReport summarises an import.
	ImportReport = subscribers.ImportReport
	// ListStats are the dashboard numbers of one list.
	ListStats = newsletter.Stats
	// IssueEvent is one entry of an issue's history.
	IssueEvent = issues.Event
	// Parts is a rendered mail.
	Parts = templates.Parts
	// Progress is the live state of a sending issue.
	Progress = mailer.Progress
	// Bounce is one recorded bounce; pages explain it in words
	// (BounceExplain, Evidence, Explanation).
	Bounce = bounces.Bounce
)

// Subscribers is the public side of package subscribers.
type Subscribers interface {
	Lists(ctx context.Context) ([]List, error)
	// Subscribe answers nil for known and unknown addresses alike; the
	// store's *subscribers.AddressError for a bad address.
	Subscribe(ctx context.Context, req SubscribeRequest) error
	Confirm(ctx context.Context, tok string, ev Evidence) (ConfirmResult, error)
	UnsubscribeInfo(ctx context.Context, tok string) (UnsubscribeInfo, error)
	// UnsubscribeByToken takes source "web" or "one-click".
	UnsubscribeByToken(ctx context.Context, tok, source string, ev Evidence) error
	Preferences(ctx context.Context, tok string) (Preferences, error)
	SavePreferences(ctx context.Context, tok string, slugs []string, ev Evidence) error
}

// SubscriberAdmin is the admin side of package subscribers.
type SubscriberAdmin interface {
	// Search returns one page of a search (one list or several), newest
	// first, without counting a total.
	Search(ctx context.Context, q subscribers.SearchQuery) ([]subscribers.SubscriberRow, error)
	Stats(ctx context.Context, listID int64) (ListStats, error)
	// Growth is the list's daily counts over the last days (Subscribed:
	// confirmed at the end of each day).
	Growth(ctx context.Context, listID int64, days int) ([]subscribers.DayCount, error)
	Import(ctx context.Context, r io.Reader, opt ImportOptions) (ImportReport, error)
	ExportSubscribers(ctx context.Context, w io.Writer, listSlug string) error
	// AddMember puts an address on a list at once (internal lists; source
	// "admin" or "api", ev.Actor naming who); a bad address is the
	// store's *subscribers.AddressError.
	AddMember(ctx context.Context, listSlug, email, name, source string, ev Evidence) error
}

// The issue pages and the API reach issues through five small groups,
// each satisfied as it is by the real value named (domain.go): a test
// gives a group a fake that implements only that group. by is who acts:
// actor(login) for a web user.

// IssueReader reads issues: one, the listings, the archive and an
// issue's history (*issues.Store).
type IssueReader interface {
	ByID(ctx context.Context, id int64) (issues.Issue, error)
	ListByList(ctx context.Context, listID int64, p issues.Page) ([]issues.Issue, error)
	// ListByLists is the all-lists view: the issues of any of the lists,
	// newest first, each once.
	ListByLists(ctx context.Context, listIDs []int64, p issues.Page) ([]issues.Issue, error)
	// Archive returns sent issues, newest first.
	Archive(ctx context.Context, listID int64, limit, offset int) ([]issues.Issue, error)
	// Events is the issue's history (who changed what, approvals,
	// rejections with their comments), oldest first.
	Events(ctx context.Context, id int64) ([]issues.Event, error)
}

// IssueDrafts writes drafts (*newsletter.Sending).
type IssueDrafts interface {
	// Create stores a new draft; web decides RequireApproval (list
	// setting and the author's role, see needsApproval).
	Create(ctx context.Context, d issues.Draft) (issues.Issue, error)
	Update(ctx context.Context, id int64, d issues.Draft, by issues.Actor) (issues.Issue, error)
	// Duplicate copies an issue into a new draft (same lists, subject
	// and body; no number, schedule or approval).
	Duplicate(ctx context.Context, id int64, by issues.Actor, requireApproval bool) (issues.Issue, error)
}

// IssueSending moves an issue through sending (*newsletter.Sending).
type IssueSending interface {
	Schedule(ctx context.Context, id int64, at time.Time, by issues.Actor) error
	SendNow(ctx context.Context, id int64, by issues.Actor) error
	Pause(ctx context.Context, id int64, by issues.Actor) error
	Resume(ctx context.Context, id int64, by issues.Actor) error
	Cancel(ctx context.Context, id int64, by issues.Actor) error
	// RetryFailed queues again the deliveries that failed ("resend to
	// those that failed") and returns how many.
	RetryFailed(ctx context.Context, id int64, by issues.Actor) (int, error)
}

// IssueChecks is what an editor checks before sending
// (*newsletter.Sending).
type IssueChecks interface {
	TestSend(ctx context.Context, id int64, to string) error
	// IssueRecipients is how many readers the issue would reach now (a
	// joint issue's readers counted once): the confirmation before
	// 今すぐ配信 shows it.
	IssueRecipients(ctx context.Context, is issues.Issue) (int, error)
}

// IssueApprovals approves or rejects an issue (*issues.Store).
type IssueApprovals interface {
	Approve(ctx context.Context, id int64, by issues.Actor, comment string) (issues.Issue, error)
	Reject(ctx context.Context, id int64, by issues.Actor, comment string) (issues.Issue, error)
}

// actor is a web user acting on an issue.
func actor(login string) issues.Actor { return issues.Actor{Login: login, Source: "web"} }

// Renderer renders issues for previews and the archive
// (*newsletter.Renderer); pages show a preview's parts (partsOf).
type Renderer interface {
	// Preview renders an issue for list as the sample recipient gets it
	// (to "": the sample address).
	Preview(ctx context.Context, listID int64, subject, markdown, to string) (*mailer.Message, error)
	// PreviewSubscriber renders it as one subscriber of the list gets it
	// (name and fields filled in); not found when the subscriber is not
	// on the list.
	PreviewSubscriber(ctx context.Context, listID int64, subject, markdown string, subscriberID int64) (*mailer.Message, error)
	// PreviewJoint renders an issue of listIDs (the lead first) as a
	// reader of forList gets it (a joint issue's footer names every list;
	// a zero rc is the sample recipient).
	PreviewJoint(ctx context.Context, listIDs []int64, forList int64, subject, markdown string, rc templates.Recipient) (*mailer.Message, error)
	// Public renders an issue for the archive and its feed: no personal
	// data, the greeting's name as the list's fallback.
	Public(ctx context.Context, is issues.Issue) (Parts, error)
}

// partsOf is what a page shows of a rendered preview.
func partsOf(m *mailer.Message, err error) (Parts, error) {
	if err != nil {
		return Parts{}, err
	}
	return Parts{Subject: m.Subject, Text: m.Text, HTML: m.HTML}, nil
}

// Deliveries reports the progress of sending (mailer).
type Deliveries interface {
	Progress(ctx context.Context, issueID int64) (Progress, error)
}

// Bounces is package bounces as web uses it.
type Bounces interface {
	// List pages through bounces, filtered (by list too) in SQL.
	List(ctx context.Context, f bounces.Filter) ([]Bounce, error)
	// ByID is one bounce (bounces.ErrNotFound for none).
	ByID(ctx context.Context, id int64) (Bounce, error)
	// MarkNotABounce records staff's judgement and undoes a suppression.
	MarkNotABounce(ctx context.Context, id int64, login string) error
	// Alerts are refusals for policy or reputation the operator should
	// look at (a receiver refused us, RFC 3463 X.7.X), newest first.
	Alerts(ctx context.Context) ([]bounces.Alert, error)
}

// Schedules is package scheduler as web uses it.
type Schedules interface {
	List(ctx context.Context) ([]scheduler.Status, error)
	Pause(ctx context.Context, id int64) error
	Resume(ctx context.Context, id int64) error
	// AddRecurring stores a recurring issue schedule for a list: at each
	// instant of spec (five-field cron or a descriptor) in tz (IANA, ""
	// for the default) the list's oldest ready draft is sent. A bad spec
	// or timezone is scheduler.ErrInvalidSpec or ErrUnknownTimezone.
	AddRecurring(ctx context.Context, listSlug, spec, tz string) (scheduler.Status, error)
	// Remove deletes a schedule (ErrNotFound if none).
	Remove(ctx context.Context, id int64) error
}

// Plan is package progress as web uses it.
type Plan interface {
	Status(ctx context.Context) ([]progress.DeadlineStatus, error)
	// NextReminders is, per deadline with a bureau still to submit, the
	// next reminder the job will send as of now.
	NextReminders(ctx context.Context, now time.Time) ([]progress.NextReminder, error)
	// MarkSubmitted records a bureau's report as submitted; how is
	// "admin" from the progress page, actor the login.
	MarkSubmitted(ctx context.Context, deadlineID, bureau, how, actor string) error
	ExportCSV(ctx context.Context, w io.Writer) error
	// ICS is a bureau's calendar feed (the signed link of a reminder).
	ICS(ctx context.Context, tok string) ([]byte, error)
}
