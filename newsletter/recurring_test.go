package newsletter

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"kawaraban/issues"
	"kawaraban/scheduler"
	"kawaraban/subscribers"
)

func TestRecurringSendsOldestReadyDraft(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStack(t)
	s.readers(t, "shimin-katsudo", 1)
	l := s.lists["shimin-katsudo"]
	mk := func(subject string, approval bool) issues.Issue {
		is, err := s.issues.Create(ctx, issues.Draft{ListID: l.ID, Subject: subject, BodyMarkdown: "本文", Author: "editor", RequireApproval: approval})
		if err != nil {
			t.Fatal(err)
		}
		return is
	}
	unapproved := mk("承認待ち", true) // oldest, but not approved
	ready := mk("最初の号", false)
	later := mk("次の号", false)
	fire := scheduler.Fire{ID: 1, Kind: JobListRecurring, Target: l.Slug, At: s.clock.Now().Add(-time.Minute)}
	if err := s.send.SendOldestReady(ctx, fire); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		id   int64
		want string
	}{{unapproved.ID, issues.StatusDraft}, {ready.ID, issues.StatusScheduled}, {later.ID, issues.StatusDraft}} {
		is, err := s.issues.ByID(ctx, tc.id)
		if err != nil {
			t.Fatal(err)
		}
		if is.Status != tc.want {
			t.Errorf("issue %d: %s, want %s", tc.id, is.Status, tc.want)
		}
	}
	// A resumed run of the same fire sends nothing more.
	fire.Resumed = true
	if err := s.send.SendOldestReady(ctx, fire); err != nil {
		t.Fatal(err)
	}
	if is, _ := s.issues.ByID(ctx, later.ID); is.Status != issues.StatusDraft {
		t.Errorf("resumed fire sent a second issue: %s", is.Status)
	}
	// The next fire takes the next draft; then nothing is ready.
	s.clock.Add(time.Hour)
	fire.Resumed, fire.At = false, s.clock.Now()
	if err := s.send.SendOldestReady(ctx, fire); err != nil {
		t.Fatal(err)
	}
	if err := s.send.SendOldestReady(ctx, fire); !errors.Is(err, ErrNoReadyDraft) {
		t.Errorf("no draft ready: %v, want ErrNoReadyDraft", err)
	}
}

// A resumed fire whose first run never sent anything sends now, even when
// the due loop (also acting as "scheduler") started another issue since.
func TestRecurringResumedFireSendsWhenFirstRunDidNot(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStack(t)
	s.readers(t, "kankyo-hozen", 1)
	at := s.clock.Now().Add(-time.Minute)
	sched := s.draft(t, "kankyo-hozen", "予約の号", "本文")
	if _, err := s.issues.Schedule(ctx, sched.ID, s.clock.Now().Add(-time.Second), editor); err != nil {
		t.Fatal(err)
	}
	if err := s.send.StartDue(ctx); err != nil {
		t.Fatal(err)
	}
	draft := s.draft(t, "kankyo-hozen", "下書き", "本文")
	if err := s.send.SendOldestReady(ctx, scheduler.Fire{ID: 7, Kind: JobListRecurring, Target: "kankyo-hozen", At: at, Resumed: true}); err != nil {
		t.Fatal(err)
	}
	if is, _ := s.issues.ByID(ctx, draft.ID); is.Status == issues.StatusDraft {
		t.Errorf("resumed fire did not send the draft")
	}
}

func TestAddRecurring(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStack(t)
	st, err := AddRecurring(ctx, s.sched, "shimin-katsudo", "0 10 1-7 * 1", "", s.tokyo)
	if err != nil {
		t.Fatal(err)
	}
	if st.Target != "shimin-katsudo" || st.Next.IsZero() || st.TZ != "Asia/Tokyo" || st.Kind != JobListRecurring {
		t.Errorf("added %+v", st)
	}
	if st.Next.In(s.tokyo).Weekday() != time.Monday {
		t.Errorf("next run %v is not a Monday", st.Next)
	}
	for _, tc := range []struct {
		spec, tz string
		want     error
	}{
		{"0 10 *", "Asia/Tokyo", scheduler.ErrInvalidSpec},
		{"0 10 1-7 * 1", "Mars/Olympus", scheduler.ErrUnknownTimezone},
	} {
		if _, err := AddRecurring(ctx, s.sched, "shimin-katsudo", tc.spec, tc.tz, s.tokyo); !errors.Is(err, tc.want) {
			t.Errorf("AddRecurring(%q, %q) = %v, want %v", tc.spec, tc.tz, err, tc.want)
		}
	}
}

func TestPreviewSubscriberAndSample(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStack(t)
	if err := s.subs.AddMember(ctx, "chonai", "staff@city.example.jp", "京都 次郎", "admin", subscribers.Evidence{Actor: "admin"}); err != nil {
		t.Fatal(err)
	}
	rows, _, err := s.subs.Search(ctx, subscribers.SearchQuery{ListSlug: "chonai"})
	if err != nil || len(rows) != 1 {
		t.Fatalf("search: %v %v", rows, err)
	}
	id := rows[0].SubscriberID
	m, err := s.render.PreviewSubscriber(ctx, s.lists["chonai"].ID, "件名", "{{ .Name }} さん、こんにちは", id)
	if err != nil || !strings.Contains(m.Text, "京都 次郎 さん") || !strings.Contains(m.Text, "このメールは staff@city.example.jp 宛") {
		t.Errorf("PreviewSubscriber = %q, %v", m.Text, err)
	}
	if _, err := s.render.PreviewSubscriber(ctx, s.lists["shimin-katsudo"].ID, "件名", "本文", id); !errors.Is(err, subscribers.ErrNotFound) {
		t.Errorf("subscriber of another list: %v, want ErrNotFound", err)
	}
	// Issue 14: the preview footer said 「このメールは  宛に」.
	p, err := s.render.Preview(ctx, s.lists["chonai"].ID, "件名", "{{ .Name }}様", "")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(p.Text, "このメールは  宛") || !strings.Contains(p.Text, "このメールは reader@city.example.jp 宛") ||
		!strings.Contains(p.Text, SampleName+"様") {
		t.Errorf("sample preview:\n%s", p.Text)
	}
}

// Issue 14: the archive showed a lone 「様」.
func TestPublicHasNoPersonalDataNorLoneHonorific(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	is := s.draft(t, "kankyo-hozen", "{{ .Name }}様へ 12月号", "{{ .Name }}様\n\n{{ .Email }} 宛のお知らせ")
	p, err := s.render.Public(context.Background(), is)
	if err != nil {
		t.Fatal(err)
	}
	for _, part := range []string{p.Subject, p.Text, p.HTML} {
		if strings.Contains(part, "{{") || strings.Contains(part, "@") || !strings.Contains(part, "読者様") {
			t.Errorf("public part %q", part)
		}
	}
}
