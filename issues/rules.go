package issues

import (
	"errors"
	"fmt"
)

// Statuses an issue can have. An issue starts as a draft; see the package
// documentation for the transitions between them.
const (
	StatusDraft     = "draft"
	StatusScheduled = "scheduled"
	StatusSending   = "sending"
	StatusSent      = "sent"
	StatusPaused    = "paused"
	StatusCancelled = "cancelled"
	StatusFailed    = "failed"
)

// Statuses returns every status, in life order.
func Statuses() []string {
	return []string{StatusDraft, StatusScheduled, StatusSending, StatusSent, StatusPaused, StatusCancelled, StatusFailed}
}

// Action names what an event did. They appear in Event.Action.
type Action string

// Actions recorded in the events table.
const (
	ActCreate      Action = "create"
	ActUpdate      Action = "update"
	ActSchedule    Action = "schedule"
	ActSendNow     Action = "send_now"
	ActMarkSending Action = "mark_sending"
	ActSnapshot    Action = "snapshot"
	ActMarkSent    Action = "mark_sent"
	ActMarkFailed  Action = "mark_failed"
	ActPause       Action = "pause"
	ActResume      Action = "resume"
	ActCancel      Action = "cancel"
	ActApprove     Action = "approve"
	ActReject      Action = "reject"
)

// Sentinel errors; callers branch on them with errors.Is.
var (
	// ErrNotFound reports an unknown issue id.
	ErrNotFound = errors.New("issue not found")
	// ErrInvalid reports a draft that fails validation (subject, body size).
	ErrInvalid = errors.New("invalid issue")
	// ErrInvalidTransition reports an action the issue's status does not allow.
	ErrInvalidTransition = errors.New("invalid status transition")
	// ErrNeedsApproval reports scheduling an issue that must first be approved.
	ErrNeedsApproval = errors.New("issue needs approval by another user")
	// ErrSelfApproval reports an author approving or rejecting their own issue.
	ErrSelfApproval = errors.New("the author cannot approve or reject their own issue")
	// ErrImmutable reports any change to a sent issue.
	ErrImmutable = errors.New("a sent issue cannot be changed")
)

// from lists, per action, the statuses it may start from and where it goes.
// An empty target means "decided by the action" (update keeps the status,
// resume returns to where pause left).
var transitions = map[Action]map[string]string{
	ActUpdate:      {StatusDraft: "", StatusScheduled: ""},
	ActSchedule:    {StatusDraft: StatusScheduled, StatusScheduled: StatusScheduled},
	ActSendNow:     {StatusDraft: StatusScheduled, StatusScheduled: StatusScheduled},
	ActMarkSending: {StatusScheduled: StatusSending},
	ActSnapshot:    {StatusSending: StatusSending},
	ActMarkSent:    {StatusSending: StatusSent},
	ActMarkFailed:  {StatusScheduled: StatusFailed, StatusSending: StatusFailed},
	ActPause:       {StatusScheduled: StatusPaused, StatusSending: StatusPaused},
	ActResume:      {StatusPaused: "", StatusFailed: StatusSending},
	ActCancel:      {StatusDraft: StatusCancelled, StatusScheduled: StatusCancelled, StatusSending: StatusCancelled, StatusPaused: StatusCancelled, StatusFailed: StatusCancelled},
	ActApprove:     {StatusDraft: StatusDraft},
	ActReject:      {StatusDraft: StatusDraft, StatusScheduled: StatusDraft},
}

// next decides the status after act by actor on is, or why act is refused.
// It holds every rule of the state machine; the Store only applies it.
func next(act Action, is Issue, actor string) (string, error) {
	if is.Status == StatusSent {
		return "", fmt.Errorf("%s on issue %d: %w", act, is.ID, ErrImmutable)
	}
	targets, ok := transitions[act]
	if !ok {
		return "", fmt.Errorf("%s: unknown action: %w", act, ErrInvalidTransition)
	}
	to, ok := targets[is.Status]
	if !ok {
		return "", fmt.Errorf("%s on a %s issue %d: %w", act, is.Status, is.ID, ErrInvalidTransition)
	}
	switch act {
	case ActUpdate:
		to = is.Status
		if is.Status == StatusScheduled && is.RequireApproval && is.ApprovedBy != "" {
			// The edit voids the approval, so the issue may no longer go out.
			to = StatusDraft
		}
	case ActResume:
		if is.Status == StatusPaused {
			to = is.PausedFrom
			if to == "" {
				to = StatusScheduled
			}
		}
	case ActSchedule, ActSendNow:
		if is.RequireApproval && is.ApprovedBy == "" {
			return "", fmt.Errorf("%s issue %d: %w", act, is.ID, ErrNeedsApproval)
		}
	case ActApprove, ActReject:
		if !is.RequireApproval && act == ActApprove {
			return "", fmt.Errorf("approving issue %d that needs no approval: %w", is.ID, ErrInvalidTransition)
		}
		if act == ActApprove && is.ApprovedBy != "" {
			return "", fmt.Errorf("approving issue %d: already approved by %s: %w", is.ID, is.ApprovedBy, ErrInvalidTransition)
		}
		if actor == is.Author {
			return "", fmt.Errorf("%s issue %d: %w", act, is.ID, ErrSelfApproval)
		}
	}
	return to, nil
}

// Allowed reports whether actor may do act on is now (the error change
// would return: ErrInvalidTransition, ErrNeedsApproval, ...), without
// doing it; the application layer checks it before its own conditions so
// that the state machine's answer comes first.
func Allowed(act Action, is Issue, actor string) error {
	_, err := next(act, is, actor)
	return err
}
