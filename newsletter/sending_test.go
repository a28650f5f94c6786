package newsletter

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"kawaraban/issues"
	"kawaraban/mailer"
)

var editor = issues.Actor{Login: "editor", Source: "test"}

// Issue 14: 第N号 printed the database id. It is a per-list sequence
// given when an issue is first sent.
func TestIssue14NumberPerList(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	s.readers(t, "kankyo-hozen", 2)
	s.readers(t, "shimin-katsudo", 1)
	ctx := context.Background()
	draftB := s.draft(t, "shimin-katsudo", "B の下書き", "本文") // created first, sent last
	a1 := s.draft(t, "kankyo-hozen", "A 1", "本文")
	a2 := s.draft(t, "kankyo-hozen", "A 2", "本文")
	if d, _ := s.issues.ByID(ctx, a2.ID); d.Number != 0 {
		t.Fatalf("a draft has number %d, want none", d.Number)
	}
	// a2 goes first: numbers follow the order of sending, not creation.
	if got := s.sendNow(t, a2.ID).Number; got != 1 {
		t.Errorf("first issue sent on list A: 第%d号, want 第1号", got)
	}
	if got := s.sendNow(t, a1.ID).Number; got != 2 {
		t.Errorf("second issue sent on list A: 第%d号, want 第2号", got)
	}
	if got := s.sendNow(t, draftB.ID).Number; got != 1 {
		t.Errorf("first issue sent on list B: 第%d号, want 第1号", got)
	}
	// The rendered mail says so; a preview says it has no number yet.
	m, err := s.render.Render(ctx, mailer.Delivery{IssueID: a1.ID, SubscriberID: 1, Email: "r@example.jp", Name: "読者"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(m.Text, "第2号") || !strings.Contains(m.HTML, "第2号") {
		t.Errorf("mail of the second issue does not say 第2号:\n%s", m.Text)
	}
	p, err := s.render.Preview(ctx, s.lists["kankyo-hozen"].ID, "件名", "本文", "")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(p.Text, "第—号(未配信)") || strings.Contains(p.Text, "第0号") {
		t.Errorf("preview heading: %q", strings.SplitN(p.Text, "\n", 2)[0])
	}
}

// Issue 14: the heading showed the creation time in UTC and the Date
// header was +0000. An issue sent 2026-12-05 01:57 JST reads 12月5日.
func TestIssue14SendDateInTimezone(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	s.readers(t, "kankyo-hozen", 1)
	ctx := context.Background()
	is := s.draft(t, "kankyo-hozen", "12月号", "本文")
	s.clock.Add(-24 * time.Hour) // created a day earlier does not matter
	is = s.sendNow(t, is.ID)
	s.clock.Add(24 * time.Hour)
	is = s.sendNow(t, s.draft(t, "kankyo-hozen", "次の号", "本文").ID) // sent 2026-12-04T16:57Z
	m, err := s.render.Render(ctx, mailer.Delivery{IssueID: is.ID, SubscriberID: 1, Email: "r@example.jp"})
	if err != nil {
		t.Fatal(err)
	}
	if head := strings.SplitN(m.Text, "\n", 2)[0]; !strings.Contains(head, "2026年12月5日") {
		t.Errorf("heading %q, want the send date in Asia/Tokyo (2026年12月5日)", head)
	}
	raw, err := s.mail.Build(m)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(raw), "Date: Sat, 05 Dec 2026 01:57:00 +0900") {
		t.Errorf("Date header not in the configured zone:\n%s", headerOf(raw))
	}
}

func headerOf(raw []byte) string {
	h, _, _ := strings.Cut(string(raw), "\r\n\r\n")
	return h
}

// Issue 14: a send_at in the past sent at once; a send to an empty list
// ended 配信済み 0/0 without a word.
func TestIssue14RefusedSends(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	ctx := context.Background()
	is := s.draft(t, "kankyo-hozen", "件名", "本文")
	err := s.send.SendNow(ctx, is.ID, editor)
	var re *RecipientsError
	if !errors.As(err, &re) || !errors.Is(err, ErrNoRecipients) || re.Recipients != 0 || re.List != "kankyo-hozen" {
		t.Fatalf("send to an empty list: %v, want a RecipientsError", err)
	}
	if got, _ := s.issues.ByID(ctx, is.ID); got.Status != issues.StatusDraft {
		t.Errorf("refused send left the issue %s", got.Status)
	}
	if err := s.send.Schedule(ctx, is.ID, s.clock.Now().Add(-2*time.Hour), editor); !errors.Is(err, ErrPastSendAt) {
		t.Errorf("schedule in the past: %v, want ErrPastSendAt", err)
	}
	if err := s.send.Schedule(ctx, is.ID, s.clock.Now().Add(time.Hour), editor); err != nil {
		t.Errorf("schedule in an hour: %v", err)
	}
	if ss, _ := s.sched.List(ctx); len(ss) != 1 || ss[0].Kind != JobIssueSend {
		t.Errorf("schedule left no one-off fire: %+v", ss)
	}
}

// A pause or cancel that comes while the snapshot is being made finds no
// outbox run to stop; Snapshot applies it once the run exists.
func TestSnapshotAppliesPauseThatCameMeanwhile(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	s.readers(t, "kankyo-hozen", 3)
	ctx := context.Background()
	for _, tc := range []struct {
		act  func(id int64) error
		want string
	}{
		{func(id int64) error { _, err := s.issues.Pause(ctx, id, editor); return err }, "paused"},
		{func(id int64) error { _, err := s.issues.Cancel(ctx, id, editor); return err }, "cancelled"},
	} {
		is := s.draft(t, "kankyo-hozen", "件名", "本文")
		if _, err := s.issues.SendNow(ctx, is.ID, editor); err != nil {
			t.Fatal(err)
		}
		if _, err := s.issues.MarkSending(ctx, is.ID, issues.SchedulerActor()); err != nil {
			t.Fatal(err)
		}
		if err := tc.act(is.ID); err != nil {
			t.Fatal(err)
		}
		if n, err := s.send.Snapshot(ctx, is.ID, is.ListID); err != nil || n != 3 {
			t.Fatalf("snapshot: %d, %v", n, err)
		}
		if err := s.send.Resume(ctx, is.ID, editor); tc.want == "paused" && err != nil {
			t.Errorf("resume after the snapshot: %v", err)
		}
		if tc.want == "cancelled" {
			if _, err := s.send.RetryFailed(ctx, is.ID, editor); !errors.Is(err, issues.ErrInvalidTransition) {
				t.Errorf("retry of a cancelled issue: %v, want ErrInvalidTransition", err)
			}
		}
	}
}

func TestRetryFailedNeedsASentIssue(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	is := s.draft(t, "kankyo-hozen", "件名", "本文")
	if _, err := s.send.RetryFailed(context.Background(), is.ID, editor); !errors.Is(err, issues.ErrInvalidTransition) {
		t.Errorf("retry of a draft: %v, want ErrInvalidTransition", err)
	}
}

// A draft is checked when saved: a past send time and a body that does not
// render for its list are refused; a test send goes out marked, numberless.
func TestDraftChecksAndTestSend(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	ctx := context.Background()
	l := s.lists["kankyo-hozen"]
	past := s.clock.Now().Add(-time.Hour)
	if _, err := s.send.Create(ctx, issues.Draft{ListID: l.ID, Subject: "s", BodyMarkdown: "b", Author: "e", SendAt: &past}); !errors.Is(err, ErrPastSendAt) {
		t.Errorf("past send_at: %v, want ErrPastSendAt", err)
	}
	if _, err := s.send.Create(ctx, issues.Draft{ListID: l.ID, Subject: "s", BodyMarkdown: "{{ .Nope }}", Author: "e"}); err == nil {
		t.Error("a body that does not render was saved")
	}
	is, err := s.send.Create(ctx, issues.Draft{ListID: l.ID, Subject: "12月号", BodyMarkdown: "本文", Author: "e"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.send.Update(ctx, is.ID, issues.Draft{Subject: "12月号", BodyMarkdown: "{{ .Nope }}"}, editor); err == nil {
		t.Error("an edit that does not render was saved")
	}
	if err := s.send.TestSend(ctx, is.ID, "editor@city.example.jp"); err != nil {
		t.Fatal(err)
	}
	msgs := s.relay.Messages()
	if len(msgs) != 1 || msgs[0].To[0] != "editor@city.example.jp" {
		t.Fatalf("test send at the relay: %+v", msgs)
	}
	m, err := s.render.Preview(ctx, l.ID, "12月号", "本文", "editor@city.example.jp")
	if err != nil || !strings.Contains(m.Text, "第—号(未配信)") || !strings.Contains(m.Text, "このメールは editor@city.example.jp 宛") {
		t.Errorf("test send text: %v\n%s", err, m.Text)
	}
}

// The state machine answers first: an unapproved draft is refused for
// approval even when its list is also empty.
func TestSendNowApprovalBeforeRecipients(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	ctx := context.Background()
	is, err := s.issues.Create(ctx, issues.Draft{ListID: s.lists["chonai"].ID, Subject: "s", BodyMarkdown: "b", Author: "editor", RequireApproval: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.send.SendNow(ctx, is.ID, editor); !errors.Is(err, issues.ErrNeedsApproval) {
		t.Errorf("unapproved draft to an empty list: %v, want ErrNeedsApproval", err)
	}
}
