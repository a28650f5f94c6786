// Package issues keeps the life of a mail-magazine issue: its draft
// (subject and Markdown body), its schedule, its status and the append-only
// record of who changed what, when and from where.
//
// The life of an issue:
//
//	draft ──Schedule/SendNow──▶ scheduled ──MarkSending──▶ sending ──MarkSent──▶ sent
//	  ▲  ◀──Update voids approval──┘  │                      │
//	  │                               ├──Pause──▶ paused ◀──Pause┘   (Resume returns)
//	  └──Reject (scheduled → draft)   └──MarkFailed──▶ failed ──Resume──▶ sending
//	Cancel: from draft, scheduled, sending, paused or failed → cancelled.
//
// Only drafts and scheduled issues can be edited; a sent issue is immutable
// (ErrImmutable). SendNow is Schedule with send_at = now: the issue becomes
// "scheduled" and the next Due/StartDue run picks it up, so there is one path
// into sending, not two.
//
// Approval: when an issue is created with RequireApproval (the caller decides,
// from the list's setting and the author's role), it must be approved by a
// user other than its author before Schedule or SendNow (ErrNeedsApproval).
// Any edit after approval voids it; a scheduled issue that loses its approval
// goes back to draft. Approve, Reject (with a comment) and the voiding are
// events.
//
// Joint issues (issue 17): an issue may go to several lists, fixed at
// Create (Draft.ListIDs, the lead first; issue_lists). The lead stays in
// ListID; each list gives the issue its own next 第N号 when it is first
// sent (Issue.Lists, NumberOn); it is listed and archived under each list.
// Who gets it once, and for which list, is the outbox's and the
// application layer's business (docs/JOINT-ISSUES.md).
//
// The package renders nothing and sends nothing: cmd wires the send through
// the consumer-side Outbox interface (see StartDue), so issues imports neither
// mailer nor subscribers. The rules of the state machine live in Go (rules.go);
// the SQL only stores.
package issues

import (
	"database/sql"
	"errors"
	"io"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"
)

// Limits on a draft.
const (
	// MaxSubjectRunes is the longest subject accepted, in characters.
	MaxSubjectRunes = 200
	// MaxBodyBytes is the largest Markdown body accepted.
	MaxBodyBytes = 256 << 10
)

// Options configures a Store. The zero value is the default.
type Options struct {
	// Now is the clock (nil = time.Now).
	Now func() time.Time
	// Logger receives state changes (nil = discard).
	Logger *slog.Logger
}

// Store keeps issues and their events in SQLite.
type Store struct {
	db  *sql.DB
	now func() time.Time
	log *slog.Logger
}

// New returns a Store on db, which store.Open has migrated.
func New(db *sql.DB, opt Options) *Store {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return &Store{db: db, now: opt.Now, log: opt.Logger}
}

// Actor says who does something and from where, for the events table.
type Actor struct {
	// Login is the user's login, or a system name such as "scheduler".
	Login string
	// Source says from where: "web 192.0.2.7", "api", "cli", "scheduler".
	Source string
}

// MaxLists is the most lists one (joint) issue may go to.
const MaxLists = 20

// Draft is what an editor writes.
type Draft struct {
	// ListID is the lead list: its sender identity signs the mail.
	ListID int64
	// ListIDs are every list of a joint issue, the lead (ListID) first;
	// nil or just ListID is an issue of one list. Fixed at Create.
	ListIDs      []int64
	Subject      string
	BodyMarkdown string
	SendAt       *time.Time
	// Author is the login of the writer; Create records it as the actor.
	Author string
	// Source says from where the draft was created (see Actor.Source).
	Source string
	// RequireApproval is fixed at Create: the caller sets it when the list
	// requires approval for this author. Update ignores it.
	RequireApproval bool
	// DuplicateOf names the issue this draft was copied from (0: none);
	// Create records it in the create event.
	DuplicateOf int64
}

// Lists returns every list of the draft, the lead first.
func (d Draft) Lists() []int64 {
	if len(d.ListIDs) == 0 {
		return []int64{d.ListID}
	}
	return d.ListIDs
}

// ListNumber is one list of an issue and the issue's 第N号 on it.
type ListNumber struct {
	ListID int64
	// Number is 0 until the issue is first sent.
	Number int
}

// Issue is one stored issue.
type Issue struct {
	ID, ListID      int64
	Subject         string
	BodyMarkdown    string
	Status          string
	SendAt          *time.Time
	Author          string
	CreatedAt       time.Time
	UpdatedAt       time.Time
	SentAt          *time.Time
	RequireApproval bool
	// ApprovedBy is the approver's login; empty while not approved.
	ApprovedBy string
	ApprovedAt *time.Time
	// PausedFrom is the status Resume returns a paused issue to.
	PausedFrom string
	// Recipients is the number of deliveries snapshotted; nil until then.
	Recipients *int
	// Number is the issue's 第N号 on its list: 1, 2, … in the order the
	// list's issues were first sent; 0 while it has never been sent.
	// For a joint issue it is the number on the lead list (ListID).
	Number int
	// Lists are every list of the issue, the lead (ListID) first, each
	// with the issue's number in that list's own sequence.
	Lists []ListNumber
}

// ListIDs returns the ids of the issue's lists, the lead first.
func (is Issue) ListIDs() []int64 {
	if len(is.Lists) == 0 {
		return []int64{is.ListID}
	}
	out := make([]int64, len(is.Lists))
	for i, l := range is.Lists {
		out[i] = l.ListID
	}
	return out
}

// Joint reports whether the issue goes to more than one list.
func (is Issue) Joint() bool { return len(is.Lists) > 1 }

// NumberOn is the issue's 第N号 on listID (0 if unsent or not its list).
func (is Issue) NumberOn(listID int64) int {
	for _, l := range is.Lists {
		if l.ListID == listID {
			return l.Number
		}
	}
	if listID == is.ListID {
		return is.Number
	}
	return 0
}

// HasList reports whether listID is one of the issue's lists.
func (is Issue) HasList(listID int64) bool {
	for _, id := range is.ListIDs() {
		if id == listID {
			return true
		}
	}
	return false
}

// Editable reports whether the issue's content may still change.
func (is Issue) Editable() bool {
	return is.Status == StatusDraft || is.Status == StatusScheduled
}

// Event is one entry of an issue's history.
type Event struct {
	ID, IssueID int64
	At          time.Time
	Actor       string
	Source      string
	Action      Action
	From, To    string
	Comment     string
}

// Page selects a slice of a listing; Limit 0 means 50.
type Page struct {
	Limit, Offset int
}

// Validate checks a draft's subject and body without storing it.
func (d Draft) Validate() error {
	var problems []Problem
	switch {
	case strings.TrimSpace(d.Subject) == "":
		problems = append(problems, Problem{Field: "subject", Code: CodeEmpty})
	case strings.ContainsAny(d.Subject, "\r\n"):
		problems = append(problems, Problem{Field: "subject", Code: CodeLineBreak})
	case !utf8.ValidString(d.Subject):
		problems = append(problems, Problem{Field: "subject", Code: CodeNotUTF8})
	case utf8.RuneCountInString(d.Subject) > MaxSubjectRunes:
		problems = append(problems, Problem{Field: "subject", Code: CodeTooLong, Limit: MaxSubjectRunes})
	}
	if len(d.BodyMarkdown) > MaxBodyBytes {
		problems = append(problems, Problem{Field: "body_markdown", Code: CodeTooLarge, Limit: MaxBodyBytes})
	} else if !utf8.ValidString(d.BodyMarkdown) {
		problems = append(problems, Problem{Field: "body_markdown", Code: CodeNotUTF8})
	}
	if d.ListID <= 0 {
		problems = append(problems, Problem{Field: "list", Code: CodeMissing})
	}
	problems = append(problems, d.checkLists()...)
	if len(problems) > 0 {
		return &InvalidError{Problems: problems}
	}
	return nil
}

// checkLists checks a joint issue's lists: the lead first, each once.
func (d Draft) checkLists() []Problem {
	if len(d.ListIDs) == 0 {
		return nil
	}
	var problems []Problem
	if d.ListIDs[0] != d.ListID {
		problems = append(problems, Problem{Field: "lists", Code: CodeLeadNotFirst})
	}
	if len(d.ListIDs) > MaxLists {
		problems = append(problems, Problem{Field: "lists", Code: CodeTooMany, Limit: MaxLists})
	}
	seen := map[int64]bool{}
	for _, id := range d.ListIDs {
		if id <= 0 {
			problems = append(problems, Problem{Field: "lists", Code: CodeMissing})
		} else if seen[id] {
			problems = append(problems, Problem{Field: "lists", Code: CodeTwice})
		}
		seen[id] = true
	}
	return problems
}

func ms(t time.Time) int64 { return t.UTC().UnixMilli() }

func msPtr(t *time.Time) any {
	if t == nil {
		return nil
	}
	return ms(*t)
}

func fromMS(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := time.UnixMilli(v.Int64).UTC()
	return &t
}

var errNoRows = sql.ErrNoRows

func isNoRows(err error) bool { return errors.Is(err, errNoRows) }
