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
// values. A nil interface in Options turns the pages that need it into a
// "not available" page.

// Errors the domain values return (or wrap) so that web can choose the HTTP
// status. Token errors from package token are recognised too.
var (
	ErrNotFound         = errors.New("not found")
	ErrInvalidToken     = errors.New("invalid or expired link")
	ErrConflict         = errors.New("not possible in the current state")
	ErrApprovalRequired = errors.New("approval required before sending")
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
	// PreferenceList is one list on the preferences page.
	PreferenceList = subscribers.PrefList
	// ImportOptions configures an import.
	ImportOptions = subscribers.ImportOptions
	// ImportReport summarises an import.
	ImportReport = subscribers.ImportReport
	// ImportReject is one refused CSV row.
	ImportReject = subscribers.RejectedRow
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
	// Subscribe answers nil for known and unknown addresses alike; an
	// *InputError for a bad address.
	Subscribe(ctx context.Context, req SubscribeRequest) error
	Confirm(ctx context.Context, tok string, ev Evidence) (ConfirmResult, error)
	UnsubscribeInfo(ctx context.Context, tok string) (UnsubscribeInfo, error)
	// UnsubscribeByToken takes source "web" or "one-click".
	UnsubscribeByToken(ctx context.Context, tok, source string, ev Evidence) error
	Preferences(ctx context.Context, tok string) (Preferences, error)
	SavePreferences(ctx context.Context, tok string, slugs []string, ev Evidence) error
}

// Subscriber is one row of an admin search.
type Subscriber struct {
	ID      int64
	Email   string
	Name    string
	Status  string // unconfirmed | confirmed | unsubscribed | suppressed
	Created time.Time
}

// SubscriberAdmin is the admin side of package subscribers.
type SubscriberAdmin interface {
	// Search pages through a list's subscribers; web keeps offset a
	// multiple of limit.
	Search(ctx context.Context, listSlug, query string, limit, offset int) ([]Subscriber, error)
	// SubscriberLists returns the slugs of the lists the subscriber is or
	// was on (ErrNotFound for no such subscriber); web shows a subscriber
	// only to users who may view one of them.
	SubscriberLists(ctx context.Context, subscriberID int64) ([]string, error)
	Stats(ctx context.Context, listSlug string) (ListStats, error)
	// Growth is the list's daily counts over the last days (Subscribed:
	// confirmed at the end of each day).
	Growth(ctx context.Context, listSlug string, days int) ([]subscribers.DayCount, error)
	Import(ctx context.Context, r io.Reader, opt ImportOptions) (ImportReport, error)
	ExportSubscribers(ctx context.Context, w io.Writer, listSlug string) error
	// AddMember puts an address on a list at once (internal lists; source
	// "admin" or "api", ev.Actor naming who), or an *InputError.
	AddMember(ctx context.Context, listSlug, email, name, source string, ev Evidence) error
}

// Draft is what an author writes.
type Draft struct {
	ListID       int64
	Subject      string
	BodyMarkdown string
	SendAt       time.Time // zero: not scheduled
	Author       string
	// RequireApproval is decided by web at creation (see needsApproval).
	RequireApproval bool
	// ListIDs are every list of a joint issue, the lead (ListID) first;
	// nil for one list (issue 17).
	ListIDs []int64
}

// Counts are an issue's delivery counts, read from Deliveries where a
// page shows them (a fake Issues may fill them for tests without
// Deliveries); the dashboard fills Unsubscribed from Stats (stats.go).
type Counts struct {
	Queued, Sending, Sent, Failed, Bounced, Skipped, Unsubscribed int
}

// Issue is one issue of a list.
type Issue struct {
	ID           int64
	ListID       int64
	Subject      string
	BodyMarkdown string
	Status       string // draft | scheduled | sending | sent | paused | cancelled | failed
	// Number is the issue's 第N号 on its list; 0 until it is first sent.
	Number        int
	Author        string
	SendAt        time.Time
	SentAt        time.Time
	Created       time.Time
	NeedsApproval bool
	Approved      bool
	Counts        Counts
	// Lists are every list of the issue with its 第N号 there, the lead
	// (ListID) first (issue 17: joint issues).
	Lists []issues.ListNumber
}

// Issues is package issues as web uses it. actor is the login doing it.
type Issues interface {
	Create(ctx context.Context, d Draft) (Issue, error)
	Update(ctx context.Context, id int64, d Draft) (Issue, error)
	ByID(ctx context.Context, id int64) (Issue, error)
	ListByList(ctx context.Context, listID int64, limit, offset int) ([]Issue, error)
	// ListByLists is the all-lists view: the issues of any of the lists,
	// newest first, each once.
	ListByLists(ctx context.Context, listIDs []int64, limit, offset int) ([]Issue, error)
	// Archive returns sent issues, newest first.
	Archive(ctx context.Context, listID int64, limit, offset int) ([]Issue, error)
	Schedule(ctx context.Context, id int64, at time.Time, actor string) error
	SendNow(ctx context.Context, id int64, actor string) error
	Pause(ctx context.Context, id int64, actor string) error
	Resume(ctx context.Context, id int64, actor string) error
	Cancel(ctx context.Context, id int64, actor string) error
	// RetryFailed queues again the deliveries that failed ("resend to
	// those that failed") and returns how many.
	RetryFailed(ctx context.Context, id int64, actor string) (int, error)
	Approve(ctx context.Context, id int64, actor string) error
	Reject(ctx context.Context, id int64, actor, comment string) error
	TestSend(ctx context.Context, id int64, to string) error
	// Recipients is how many subscribers an issue of the list would go
	// to now (the confirmation before 今すぐ配信 and 中止 shows it).
	Recipients(ctx context.Context, listID int64) (int, error)
	// Events is the issue's history (who changed what, approvals,
	// rejections with their comments), oldest first.
	Events(ctx context.Context, id int64) ([]IssueEvent, error)
	// Duplicate copies an issue into a new draft by actor (same lists,
	// subject and body; no number, schedule or approval).
	Duplicate(ctx context.Context, id int64, actor string, requireApproval bool) (Issue, error)
	// IssueRecipients is how many readers the issue would reach now (a
	// joint issue's readers counted once).
	IssueRecipients(ctx context.Context, id int64) (int, error)
}

// Renderer renders Markdown for previews and the archive (templates).
type Renderer interface {
	// Preview renders an issue for list as a sample recipient would get it.
	Preview(ctx context.Context, listID int64, subject, markdown string) (Parts, error)
	// PreviewFor renders it as one subscriber of the list gets it (name
	// and fields filled in); ErrNotFound when the subscriber is not on
	// the list.
	PreviewFor(ctx context.Context, listID int64, subject, markdown string, subscriberID int64) (Parts, error)
	// Public renders an issue for the archive and its feed: no personal
	// data, the greeting's name as the list's fallback.
	Public(ctx context.Context, is Issue) (Parts, error)
	// PreviewIssue renders a saved issue as a sample reader of its lead
	// list gets it (a joint issue's footer names every list).
	PreviewIssue(ctx context.Context, is Issue) (Parts, error)
}

// Deliveries reports the progress of sending (mailer).
type Deliveries interface {
	Progress(ctx context.Context, issueID int64) (Progress, error)
}

// Bounces is package bounces as web uses it.
type Bounces interface {
	// List pages through bounces, filtered (by list too) in SQL.
	List(ctx context.Context, f bounces.Filter) ([]Bounce, error)
	// ListOf is the slug of the list a bounce belongs to ("" if none).
	ListOf(ctx context.Context, id int64) (string, error)
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
	// or timezone is an *InputError naming it and the reason.
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
	MarkSubmitted(ctx context.Context, deadlineID, bureau, actor string) error
	ExportCSV(ctx context.Context, w io.Writer) error
	// ICS is a bureau's calendar feed (the signed link of a reminder).
	ICS(ctx context.Context, tok string) ([]byte, error)
}
