package issues

import (
	"errors"
	"testing"
)

// TestTransitions checks every action from every status: the target status
// when allowed, the sentinel when refused.
func TestTransitions(t *testing.T) {
	t.Parallel()
	const (
		inv  = "ErrInvalidTransition"
		imm  = "ErrImmutable"
		need = "ErrNeedsApproval"
		self = "ErrSelfApproval"
	)
	sentinels := map[string]error{inv: ErrInvalidTransition, imm: ErrImmutable, need: ErrNeedsApproval, self: ErrSelfApproval}
	// want[action][status] for a plain issue (no approval needed); "" = same status.
	want := map[Action]map[string]string{
		ActUpdate:      {StatusDraft: StatusDraft, StatusScheduled: StatusScheduled, StatusSending: inv, StatusSent: imm, StatusPaused: inv, StatusCancelled: inv, StatusFailed: inv},
		ActSchedule:    {StatusDraft: StatusScheduled, StatusScheduled: StatusScheduled, StatusSending: inv, StatusSent: imm, StatusPaused: inv, StatusCancelled: inv, StatusFailed: inv},
		ActSendNow:     {StatusDraft: StatusScheduled, StatusScheduled: StatusScheduled, StatusSending: inv, StatusSent: imm, StatusPaused: inv, StatusCancelled: inv, StatusFailed: inv},
		ActMarkSending: {StatusDraft: inv, StatusScheduled: StatusSending, StatusSending: inv, StatusSent: imm, StatusPaused: inv, StatusCancelled: inv, StatusFailed: inv},
		ActSnapshot:    {StatusDraft: inv, StatusScheduled: inv, StatusSending: StatusSending, StatusSent: imm, StatusPaused: inv, StatusCancelled: inv, StatusFailed: inv},
		ActMarkSent:    {StatusDraft: inv, StatusScheduled: inv, StatusSending: StatusSent, StatusSent: imm, StatusPaused: inv, StatusCancelled: inv, StatusFailed: inv},
		ActMarkFailed:  {StatusDraft: inv, StatusScheduled: StatusFailed, StatusSending: StatusFailed, StatusSent: imm, StatusPaused: inv, StatusCancelled: inv, StatusFailed: inv},
		ActPause:       {StatusDraft: inv, StatusScheduled: StatusPaused, StatusSending: StatusPaused, StatusSent: imm, StatusPaused: inv, StatusCancelled: inv, StatusFailed: inv},
		ActResume:      {StatusDraft: inv, StatusScheduled: inv, StatusSending: inv, StatusSent: imm, StatusPaused: StatusSending, StatusCancelled: inv, StatusFailed: StatusSending},
		ActCancel:      {StatusDraft: StatusCancelled, StatusScheduled: StatusCancelled, StatusSending: StatusCancelled, StatusSent: imm, StatusPaused: StatusCancelled, StatusCancelled: inv, StatusFailed: StatusCancelled},
		ActApprove:     {StatusDraft: inv, StatusScheduled: inv, StatusSending: inv, StatusSent: imm, StatusPaused: inv, StatusCancelled: inv, StatusFailed: inv},
		ActReject:      {StatusDraft: StatusDraft, StatusScheduled: StatusDraft, StatusSending: inv, StatusSent: imm, StatusPaused: inv, StatusCancelled: inv, StatusFailed: inv},
	}
	for act, row := range want {
		for _, st := range Statuses() {
			exp, ok := row[st]
			if !ok {
				t.Fatalf("table misses %s from %s", act, st)
			}
			t.Run(string(act)+"/"+st, func(t *testing.T) {
				t.Parallel()
				is := Issue{ID: 1, Status: st, Author: "a", PausedFrom: StatusSending}
				got, err := next(act, is, "b")
				if s, isErr := sentinels[exp]; isErr {
					if !errors.Is(err, s) {
						t.Fatalf("got (%q, %v), want %s", got, err, exp)
					}
					return
				}
				if err != nil || got != exp {
					t.Fatalf("got (%q, %v), want %s", got, err, exp)
				}
			})
		}
	}
}

func TestApprovalRules(t *testing.T) {
	t.Parallel()
	needs := Issue{ID: 1, Status: StatusDraft, Author: "ed", RequireApproval: true}
	approved := needs
	approved.ApprovedBy = "boss"
	approvedSched := approved
	approvedSched.Status = StatusScheduled
	cases := []struct {
		name  string
		act   Action
		is    Issue
		actor string
		want  string
		err   error
	}{
		{"schedule unapproved", ActSchedule, needs, "ed", "", ErrNeedsApproval},
		{"send now unapproved", ActSendNow, needs, "boss", "", ErrNeedsApproval},
		{"author approves own", ActApprove, needs, "ed", "", ErrSelfApproval},
		{"author rejects own", ActReject, needs, "ed", "", ErrSelfApproval},
		{"other approves", ActApprove, needs, "boss", StatusDraft, nil},
		{"approve twice", ActApprove, approved, "boss2", "", ErrInvalidTransition},
		{"schedule approved", ActSchedule, approved, "ed", StatusScheduled, nil},
		{"edit approved draft", ActUpdate, approved, "ed", StatusDraft, nil},
		{"edit approved scheduled voids", ActUpdate, approvedSched, "ed", StatusDraft, nil},
		{"reject scheduled", ActReject, approvedSched, "boss", StatusDraft, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			got, err := next(c.act, c.is, c.actor)
			if c.err != nil {
				if !errors.Is(err, c.err) {
					t.Fatalf("err = %v, want %v", err, c.err)
				}
				return
			}
			if err != nil || got != c.want {
				t.Fatalf("got (%q, %v), want %q", got, err, c.want)
			}
		})
	}
}
