package main

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"kawaraban/issues"
	"kawaraban/scheduler"
	"kawaraban/subscribers"
	"kawaraban/web"
)

// testApp is a local-mode app with its scheduler, without servers.
func testApp(t *testing.T) *app {
	t.Helper()
	ctx := context.Background()
	e, err := openEnv(ctx, envFlags{data: t.TempDir()}, "127.0.0.1:0", io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	a, err := newApp(ctx, e, appOptions{})
	if err != nil {
		e.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close(); e.Close() })
	if a.sched, err = a.newScheduler(ctx); err != nil {
		t.Fatal(err)
	}
	return a
}

func TestRecurringSendsOldestReadyDraft(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a := testApp(t)
	l, err := a.subs.ListBySlug(ctx, "shimin-katsudo")
	if err != nil {
		t.Fatal(err)
	}
	mk := func(subject string, approval bool) issues.Issue {
		is, err := a.issues.Create(ctx, issues.Draft{ListID: l.ID, Subject: subject, BodyMarkdown: "本文", Author: "editor", RequireApproval: approval})
		if err != nil {
			t.Fatal(err)
		}
		return is
	}
	unapproved := mk("承認待ち", true) // oldest, but not approved
	ready := mk("最初の号", false)
	later := mk("次の号", false)
	fire := scheduler.Fire{ID: 1, Kind: jobListRecurring, Target: l.Slug, At: time.Now().Add(-time.Minute)}
	if err := a.sendOldestReady(ctx, fire); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		id   int64
		want string
	}{{unapproved.ID, issues.StatusDraft}, {ready.ID, issues.StatusScheduled}, {later.ID, issues.StatusDraft}} {
		is, err := a.issues.ByID(ctx, tc.id)
		if err != nil {
			t.Fatal(err)
		}
		if is.Status != tc.want && !(tc.want == issues.StatusScheduled && is.Status == issues.StatusSending) {
			t.Errorf("issue %d: %s, want %s", tc.id, is.Status, tc.want)
		}
	}
	// A resumed run of the same fire sends nothing more.
	fire.Resumed = true
	if err := a.sendOldestReady(ctx, fire); err != nil {
		t.Fatal(err)
	}
	if is, _ := a.issues.ByID(ctx, later.ID); is.Status != issues.StatusDraft {
		t.Errorf("resumed fire sent a second issue: %s", is.Status)
	}
	// The next fire takes the next draft; then nothing is ready.
	fire.Resumed, fire.At = false, time.Now().Add(time.Hour)
	if err := a.sendOldestReady(ctx, fire); err != nil {
		t.Fatal(err)
	}
	if err := a.sendOldestReady(ctx, fire); !errors.Is(err, errNoReadyDraft) {
		t.Errorf("no draft ready: %v, want errNoReadyDraft", err)
	}
}

func TestWebSchedulesAddRecurring(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a := testApp(t)
	ws := webSchedules{a}
	st, err := ws.AddRecurring(ctx, "shimin-katsudo", "0 10 1-7 * 1", "Asia/Tokyo")
	if err != nil {
		t.Fatal(err)
	}
	if st.List != "shimin-katsudo" || st.NextRun.IsZero() || st.TZ != "Asia/Tokyo" {
		t.Errorf("added %+v", st)
	}
	if st.NextRun.In(time.FixedZone("JST", 9*3600)).Weekday() != time.Monday {
		t.Errorf("next run %v is not a Monday", st.NextRun)
	}
	for _, tc := range []struct{ spec, tz, field string }{
		{"0 10 *", "Asia/Tokyo", "spec"},
		{"0 10 1-7 * 1", "Mars/Olympus", "tz"},
	} {
		_, err := ws.AddRecurring(ctx, "shimin-katsudo", tc.spec, tc.tz)
		var ie *web.InputError
		if !errors.As(err, &ie) || ie.Field != tc.field {
			t.Errorf("AddRecurring(%q, %q) = %v, want an input error on %s", tc.spec, tc.tz, err, tc.field)
		}
	}
	if err := ws.Remove(ctx, st.ID); err != nil {
		t.Fatal(err)
	}
	if err := ws.Remove(ctx, st.ID); !errors.Is(err, web.ErrNotFound) {
		t.Errorf("second remove: %v, want ErrNotFound", err)
	}
}

func TestWebPreviewForSubscriber(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a := testApp(t)
	if err := a.subs.AddMember(ctx, "chonai", "staff@city.example.jp", "京都 次郎", "admin", subscribers.Evidence{Actor: "admin"}); err != nil {
		t.Fatal(err)
	}
	l, err := a.subs.ListBySlug(ctx, "chonai")
	if err != nil {
		t.Fatal(err)
	}
	var id int64
	if err := a.e.db.QueryRowContext(ctx, `SELECT id FROM subscribers WHERE email = ?`, "staff@city.example.jp").Scan(&id); err != nil {
		t.Fatal(err)
	}
	p, err := webRenderer{a}.PreviewFor(ctx, l.ID, "件名", "{{ .Name }} さん、こんにちは", id)
	if err != nil || !strings.Contains(p.Text, "京都 次郎 さん") {
		t.Errorf("PreviewFor = %q, %v", p.Text, err)
	}
	other, _ := a.subs.ListBySlug(ctx, "shimin-katsudo")
	if _, err := (webRenderer{a}).PreviewFor(ctx, other.ID, "件名", "本文", id); !errors.Is(err, web.ErrNotFound) {
		t.Errorf("subscriber of another list: %v, want web.ErrNotFound", err)
	}
	if slugs, err := (webSubscriberAdmin{a}).SubscriberLists(ctx, id); err != nil || len(slugs) != 1 || slugs[0] != "chonai" {
		t.Errorf("SubscriberLists = %v, %v", slugs, err)
	}
}

// A resumed fire whose first run never sent anything sends now, even when
// the due loop (also acting as "scheduler") started another issue since.
func TestRecurringResumedFireSendsWhenFirstRunDidNot(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a := testApp(t)
	l, err := a.subs.ListBySlug(ctx, "kankyo-hozen")
	if err != nil {
		t.Fatal(err)
	}
	at := time.Now().Add(-time.Minute)
	sched, err := a.issues.Create(ctx, issues.Draft{ListID: l.ID, Subject: "予約の号", BodyMarkdown: "本文", Author: "editor"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.issues.Schedule(ctx, sched.ID, time.Now().Add(-time.Second), issues.Actor{Login: "editor"}); err != nil {
		t.Fatal(err)
	}
	if err := a.startDue(ctx); err != nil {
		t.Fatal(err)
	}
	draft, err := a.issues.Create(ctx, issues.Draft{ListID: l.ID, Subject: "下書き", BodyMarkdown: "本文", Author: "editor"})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.sendOldestReady(ctx, scheduler.Fire{ID: 7, Kind: jobListRecurring, Target: l.Slug, At: at, Resumed: true}); err != nil {
		t.Fatal(err)
	}
	if is, _ := a.issues.ByID(ctx, draft.ID); is.Status == issues.StatusDraft {
		t.Errorf("resumed fire did not send the draft")
	}
}
