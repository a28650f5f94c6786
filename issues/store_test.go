package issues

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"kawaraban/internal/testclock"
	"kawaraban/store"
)

func newStore(t *testing.T) (*Store, *testclock.Clock) {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "k.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	c := testclock.New(time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC))
	return New(db, Options{Now: c.Now}), c
}

var editor = Actor{Login: "ed", Source: "web 192.0.2.7"}

func TestCreateValidates(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t)
	ctx := context.Background()
	cases := []struct {
		name string
		d    Draft
		ok   bool
	}{
		{"ok", Draft{ListID: 1, Subject: "環境だより 11月号", BodyMarkdown: "# こんにちは", Author: "ed"}, true},
		{"empty subject", Draft{ListID: 1, Subject: "  ", Author: "ed"}, false},
		{"CR in subject", Draft{ListID: 1, Subject: "a\rBcc: x@example.jp", Author: "ed"}, false},
		{"LF in subject", Draft{ListID: 1, Subject: "a\nb", Author: "ed"}, false},
		{"long subject", Draft{ListID: 1, Subject: strings.Repeat("あ", MaxSubjectRunes+1), Author: "ed"}, false},
		{"max subject", Draft{ListID: 1, Subject: strings.Repeat("あ", MaxSubjectRunes), Author: "ed"}, true},
		{"big body", Draft{ListID: 1, Subject: "s", BodyMarkdown: strings.Repeat("x", MaxBodyBytes+1), Author: "ed"}, false},
		{"no list", Draft{Subject: "s", Author: "ed"}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			is, err := s.Create(ctx, c.d)
			if c.ok {
				if err != nil || is.Status != StatusDraft || is.ID == 0 {
					t.Fatalf("Create = %+v, %v", is, err)
				}
				return
			}
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("err = %v, want ErrInvalid", err)
			}
		})
	}
}

func TestLifeAndEvents(t *testing.T) {
	t.Parallel()
	s, c := newStore(t)
	ctx := context.Background()
	is, err := s.Create(ctx, Draft{ListID: 3, Subject: "件名", BodyMarkdown: "本文", Author: "ed", Source: "api"})
	if err != nil {
		t.Fatal(err)
	}
	c.Add(time.Minute)
	at := c.Now().Add(time.Hour)
	steps := []struct {
		do   func() (Issue, error)
		want string
	}{
		{func() (Issue, error) {
			return s.Update(ctx, is.ID, Draft{Subject: "件名2", BodyMarkdown: "本文2"}, editor)
		}, StatusDraft},
		{func() (Issue, error) { return s.Schedule(ctx, is.ID, at, editor) }, StatusScheduled},
		{func() (Issue, error) { return s.Pause(ctx, is.ID, editor) }, StatusPaused},
		{func() (Issue, error) { return s.Resume(ctx, is.ID, editor) }, StatusScheduled},
		{func() (Issue, error) { return s.MarkSending(ctx, is.ID, SchedulerActor()) }, StatusSending},
		{func() (Issue, error) { return s.Pause(ctx, is.ID, editor) }, StatusPaused},
		{func() (Issue, error) { return s.Resume(ctx, is.ID, editor) }, StatusSending},
		{func() (Issue, error) { return s.MarkSent(ctx, is.ID, SchedulerActor()) }, StatusSent},
	}
	for i, st := range steps {
		c.Add(time.Second)
		got, err := st.do()
		if err != nil || got.Status != st.want {
			t.Fatalf("step %d: %+v, %v; want %s", i, got, err, st.want)
		}
	}
	got, _ := s.ByID(ctx, is.ID)
	if got.Subject != "件名2" || got.SentAt == nil || !got.SentAt.Equal(c.Now()) || got.SendAt == nil || !got.SendAt.Equal(at) {
		t.Fatalf("stored %+v", got)
	}
	if _, err := s.Update(ctx, is.ID, Draft{Subject: "x"}, editor); !errors.Is(err, ErrImmutable) {
		t.Fatalf("update sent: %v", err)
	}
	if _, err := s.Cancel(ctx, is.ID, editor); !errors.Is(err, ErrImmutable) {
		t.Fatalf("cancel sent: %v", err)
	}
	evs, err := s.Events(ctx, is.ID)
	if err != nil {
		t.Fatal(err)
	}
	var trail []string
	for _, e := range evs {
		trail = append(trail, fmt.Sprintf("%s:%s>%s", e.Action, e.From, e.To))
	}
	wantTrail := "create:>draft update:draft>draft schedule:draft>scheduled pause:scheduled>paused resume:paused>scheduled " +
		"mark_sending:scheduled>sending pause:sending>paused resume:paused>sending mark_sent:sending>sent"
	if strings.Join(trail, " ") != wantTrail {
		t.Fatalf("events\n got %s\nwant %s", strings.Join(trail, " "), wantTrail)
	}
	if evs[0].Actor != "ed" || evs[0].Source != "api" || evs[1].Source != "web 192.0.2.7" {
		t.Fatalf("actors: %+v %+v", evs[0], evs[1])
	}
	if _, err := s.ByID(ctx, 999); !errors.Is(err, ErrNotFound) {
		t.Fatalf("ByID(999) = %v", err)
	}
}

func TestApprovalFlow(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t)
	ctx := context.Background()
	boss := Actor{Login: "boss", Source: "web"}
	is, err := s.Create(ctx, Draft{ListID: 1, Subject: "s", BodyMarkdown: "b", Author: "ed", RequireApproval: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.SendNow(ctx, is.ID, editor); !errors.Is(err, ErrNeedsApproval) {
		t.Fatalf("send unapproved: %v", err)
	}
	if _, err := s.Approve(ctx, is.ID, editor, ""); !errors.Is(err, ErrSelfApproval) {
		t.Fatalf("self approve: %v", err)
	}
	if _, err := s.Reject(ctx, is.ID, boss, ""); !errors.Is(err, ErrInvalid) {
		t.Fatalf("reject without comment: %v", err)
	}
	if _, err := s.Reject(ctx, is.ID, boss, "誤字があります"); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Approve(ctx, is.ID, boss, "OK"); err != nil || got.ApprovedBy != "boss" || got.ApprovedAt == nil {
		t.Fatalf("approve: %+v %v", got, err)
	}
	if _, err := s.Schedule(ctx, is.ID, time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), editor); err != nil {
		t.Fatal(err)
	}
	got, err := s.Update(ctx, is.ID, Draft{Subject: "s2", BodyMarkdown: "b"}, editor)
	if err != nil || got.Status != StatusDraft || got.ApprovedBy != "" {
		t.Fatalf("edit after approval: %+v %v", got, err)
	}
	if _, err := s.Schedule(ctx, is.ID, time.Now(), editor); !errors.Is(err, ErrNeedsApproval) {
		t.Fatalf("schedule after voiding: %v", err)
	}
	evs, _ := s.Events(ctx, is.ID)
	last := evs[len(evs)-1]
	if last.Action != ActUpdate || last.Comment != "approval voided by the edit" || last.To != StatusDraft {
		t.Fatalf("last event %+v", last)
	}
	if evs[1].Action != ActReject || evs[1].Comment != "誤字があります" || evs[1].Actor != "boss" {
		t.Fatalf("reject event %+v", evs[1])
	}
}

type fakeOutbox struct {
	mu    sync.Mutex
	calls map[int64]int
	fail  bool
}

func (o *fakeOutbox) Snapshot(_ context.Context, issueID, _ int64) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.fail {
		return 0, errors.New("disk full")
	}
	o.calls[issueID]++
	return 42, nil
}

func TestStartDueAndCrashBetween(t *testing.T) {
	t.Parallel()
	s, c := newStore(t)
	ctx := context.Background()
	mk := func(at time.Time) Issue {
		is, err := s.Create(ctx, Draft{ListID: 1, Subject: "s", BodyMarkdown: "b", Author: "ed"})
		if err != nil {
			t.Fatal(err)
		}
		is, err = s.Schedule(ctx, is.ID, at, editor)
		if err != nil {
			t.Fatal(err)
		}
		return is
	}
	now := c.Now()
	early, late := mk(now.Add(-time.Minute)), mk(now.Add(time.Hour))
	due, err := s.Due(ctx, now)
	if err != nil || len(due) != 1 || due[0].ID != early.ID {
		t.Fatalf("Due = %+v %v", due, err)
	}
	// The snapshot fails (a crash would look the same): the issue is
	// sending but not snapshotted, and the next run completes it.
	ob := &fakeOutbox{calls: map[int64]int{}, fail: true}
	if err := s.StartDue(ctx, now, ob); err == nil {
		t.Fatal("StartDue hid the snapshot error")
	}
	if got, _ := s.ByID(ctx, early.ID); got.Status != StatusSending || got.Recipients != nil {
		t.Fatalf("after failed snapshot: %+v", got)
	}
	ob.fail = false
	if err := s.StartDue(ctx, now, ob); err != nil {
		t.Fatal(err)
	}
	if err := s.StartDue(ctx, now, ob); err != nil {
		t.Fatal(err)
	}
	got, _ := s.ByID(ctx, early.ID)
	if got.Recipients == nil || *got.Recipients != 42 || ob.calls[early.ID] != 1 {
		t.Fatalf("after StartDue: %+v calls=%v", got, ob.calls)
	}
	if got, _ := s.ByID(ctx, late.ID); got.Status != StatusScheduled {
		t.Fatalf("late issue started: %+v", got)
	}
	// SendNow makes the late one due at once.
	if _, err := s.SendNow(ctx, late.ID, editor); err != nil {
		t.Fatal(err)
	}
	if due, _ := s.Due(ctx, c.Now()); len(due) != 1 || due[0].ID != late.ID {
		t.Fatalf("Due after SendNow = %+v", due)
	}
}

func TestListingAndArchive(t *testing.T) {
	t.Parallel()
	s, c := newStore(t)
	ctx := context.Background()
	var ids []int64
	for i := range 4 {
		is, err := s.Create(ctx, Draft{ListID: 7, Subject: fmt.Sprintf("第%d号", i+1), BodyMarkdown: "b", Author: "ed"})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, is.ID)
		if i == 3 {
			break // the last stays a draft
		}
		for _, f := range []func() (Issue, error){
			func() (Issue, error) { return s.SendNow(ctx, is.ID, editor) },
			func() (Issue, error) { return s.MarkSending(ctx, is.ID, editor) },
			func() (Issue, error) { return s.MarkSent(ctx, is.ID, editor) },
		} {
			c.Add(time.Second)
			if _, err := f(); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := s.Create(ctx, Draft{ListID: 8, Subject: "other", Author: "ed"}); err != nil {
		t.Fatal(err)
	}
	all, err := s.ListByList(ctx, 7, Page{})
	if err != nil || len(all) != 4 || all[0].ID != ids[3] {
		t.Fatalf("ListByList = %d %v", len(all), err)
	}
	arch, err := s.Archive(ctx, 7, 2, 0)
	if err != nil || len(arch) != 2 || arch[0].ID != ids[2] || arch[1].ID != ids[1] {
		t.Fatalf("Archive page 1 = %+v %v", arch, err)
	}
	arch, _ = s.Archive(ctx, 7, 2, 2)
	if len(arch) != 1 || arch[0].ID != ids[0] {
		t.Fatalf("Archive page 2 = %+v", arch)
	}
}

func TestUpdateScheduledKeepsSendAt(t *testing.T) {
	t.Parallel()
	s, c := newStore(t)
	ctx := context.Background()
	is, err := s.Create(ctx, Draft{ListID: 1, Subject: "s", BodyMarkdown: "b", Author: "ed"})
	if err != nil {
		t.Fatal(err)
	}
	at := c.Now().Add(time.Hour)
	if _, err := s.Schedule(ctx, is.ID, at, editor); err != nil {
		t.Fatal(err)
	}
	got, err := s.Update(ctx, is.ID, Draft{Subject: "s2", BodyMarkdown: "b2"}, editor)
	if err != nil || got.Status != StatusScheduled || got.SendAt == nil || !got.SendAt.Equal(at) {
		t.Fatalf("Update = %+v, %v", got, err)
	}
	later := at.Add(time.Hour)
	got, _ = s.Update(ctx, is.ID, Draft{Subject: "s3", BodyMarkdown: "b3", SendAt: &later}, editor)
	if !got.SendAt.Equal(later) {
		t.Fatalf("SendAt = %v, want %v", got.SendAt, later)
	}
	if due, _ := s.Due(ctx, at); len(due) != 0 {
		t.Fatalf("moved issue still due at the old time: %+v", due)
	}
}
