package bounces

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"

	"kawaraban/bounces/classify"
)

// TestPollRecordsOnceAndLeavesRepliesAlone is issue 6's acceptance: DSNs
// appended to the mailbox are recorded once, addresses suppressed per
// policy, the messages flagged; a citizen's reply is left alone.
func TestPollRecordsOnceAndLeavesRepliesAlone(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{TLSNone, TLSStart, TLSImplicit} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			ms := startIMAP(t, mode)
			rec := newRecorder()
			s := newService(t, ms, rec, Options{IMAP: IMAPOptions{TLS: mode}})
			ctx := context.Background()
			ms.put(t, "INBOX", dsnMail("b1@mx", 1, "5.1.1", "failed", "550 5.1.1 user unknown"))
			ms.put(t, "INBOX", dsnMail("b2@mx", 2, "4.2.2", "failed", "452 4.2.2 mailbox full"))
			ms.put(t, "INBOX", dsnMail("b3@mx", 3, "5.7.1", "failed", "550 5.7.1 blocked by policy"))
			ms.put(t, "INBOX", plainMail("reply@citizen", "citizen@home.test", "news@"+testDomain, "Re: news", ""))

			st, err := s.PollOnce(ctx)
			if err != nil {
				t.Fatal(err)
			}
			want := Stats{Fetched: 4, Bounces: 3, NotOurs: 1, Suppressed: 1, Alerts: 1}
			if st != want {
				t.Errorf("stats = %+v, want %+v", st, want)
			}
			if got := rec.suppressed["user1@dest.test"]; got != ReasonHardBounce {
				t.Errorf("user1 suppression = %q, want hard-bounce", got)
			}
			if rec.nSuppressed() != 1 {
				t.Errorf("suppressed %v, want only user1 (soft below threshold, 5.7.1 alerts only)", rec.suppressed)
			}
			flags := ms.flags(t, "INBOX")
			for uid := imap.UID(1); uid <= 3; uid++ {
				if !hasFlag(flags[uid], ProcessedFlag) || !hasFlag(flags[uid], imap.FlagSeen) {
					t.Errorf("uid %d flags %v, want processed and seen", uid, flags[uid])
				}
			}
			if len(flags[4]) != 0 {
				t.Errorf("citizen reply flags %v, want none", flags[4])
			}
			alerts, err := s.Alerts(ctx)
			if err != nil || len(alerts) != 1 || alerts[0].Domain != "dest.test" || alerts[0].Status != "5.7.1" {
				t.Errorf("alerts = %+v, %v", alerts, err)
			}

			st, err = s.PollOnce(ctx)
			if err != nil || st != (Stats{}) {
				t.Errorf("second poll = %+v, %v; want nothing new", st, err)
			}
			list, err := s.List(ctx, Filter{IssueID: 7})
			if err != nil || len(list) != 3 {
				t.Fatalf("List = %d bounces, %v", len(list), err)
			}
		})
	}
}

func TestMoveToFolders(t *testing.T) {
	t.Parallel()
	ms := startIMAP(t, TLSNone)
	rec := newRecorder()
	s := newService(t, ms, rec, Options{IMAP: IMAPOptions{ProcessedFolder: "Processed", StaffFolder: "Staff"}})
	ms.put(t, "INBOX", dsnMail("b1@mx", 1, "5.1.1", "failed", "550 user unknown"))
	ms.put(t, "INBOX", plainMail("reply@citizen", "citizen@home.test", "news@"+testDomain, "Re: news", ""))
	if _, err := s.PollOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	for box, want := range map[string]int{"INBOX": 0, "Processed": 1, "Staff": 1} {
		if got := len(ms.flags(t, box)); got != want {
			t.Errorf("%s holds %d messages, want %d", box, got, want)
		}
	}
}

// TestDisconnectMidFetch: the server vanishes in the middle of a FETCH
// response; the next poll resumes and nothing is counted twice.
func TestDisconnectMidFetch(t *testing.T) {
	t.Parallel()
	ms := startIMAP(t, TLSNone)
	rec := newRecorder()
	s := newService(t, ms, rec, Options{IMAP: IMAPOptions{FetchBatch: 5}})
	const n = 23
	for i := 1; i <= n; i++ {
		ms.put(t, "INBOX", dsnMail(fmt.Sprintf("b%d@mx", i), int64(i), "5.1.1", "failed", "550 user unknown"))
	}
	ms.cut.Store(9000) // a few batches in, mid-message
	ctx := context.Background()
	st1, err := s.PollOnce(ctx)
	if err == nil {
		t.Fatal("first poll succeeded; want the cut connection to fail it")
	}
	if st1.Bounces == 0 || st1.Bounces >= n {
		t.Fatalf("first poll recorded %d, want some but not all", st1.Bounces)
	}
	st2, err := s.PollOnce(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st1.Bounces+st2.Bounces != n {
		t.Errorf("recorded %d + %d, want %d in all", st1.Bounces, st2.Bounces, n)
	}
	if rec.nSuppressed() != n {
		t.Errorf("suppressed %d, want %d", rec.nSuppressed(), n)
	}
	var rows int
	s.db.QueryRow(`SELECT COUNT(*) FROM bounces`).Scan(&rows)
	if rows != n {
		t.Errorf("%d bounce rows, want %d", rows, n)
	}
}

// TestEffectsRetried: a Suppressor failure stops the poll; the bounce is
// kept, and the next poll applies it without recording it again.
func TestEffectsRetried(t *testing.T) {
	t.Parallel()
	ms := startIMAP(t, TLSNone)
	rec := newRecorder()
	rec.failSuppress = 1
	s := newService(t, ms, rec, Options{})
	ms.put(t, "INBOX", dsnMail("b1@mx", 1, "5.1.1", "failed", "550 user unknown"))
	ms.put(t, "INBOX", dsnMail("b2@mx", 2, "5.1.1", "failed", "550 user unknown"))
	ctx := context.Background()
	if _, err := s.PollOnce(ctx); err == nil {
		t.Fatal("poll succeeded with a failing Suppressor")
	}
	st, err := s.PollOnce(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Bounces != 1 || st.Retried != 1 || rec.nSuppressed() != 2 {
		t.Errorf("stats %+v, suppressed %v; want one new bounce, one retried and both suppressed", st, rec.suppressed)
	}
	if flags := ms.flags(t, "INBOX"); !hasFlag(flags[1], ProcessedFlag) || !hasFlag(flags[2], ProcessedFlag) {
		t.Errorf("flags %v, want both processed", flags)
	}
}

// TestEffectsGivenUp: a Suppressor that always fails stops the mailbox for
// MaxApplyAttempts polls only; then the failure stays with the bounce.
func TestEffectsGivenUp(t *testing.T) {
	t.Parallel()
	ms := startIMAP(t, TLSNone)
	rec := newRecorder()
	rec.failSuppress = 1000
	s := newService(t, ms, rec, Options{})
	ms.put(t, "INBOX", dsnMail("b1@mx", 1, "5.1.1", "failed", "550 user unknown"))
	ctx := context.Background()
	for i := 1; i < MaxApplyAttempts; i++ {
		if _, err := s.PollOnce(ctx); err == nil {
			t.Fatalf("poll %d succeeded with a failing Suppressor", i)
		}
	}
	if _, err := s.PollOnce(ctx); err != nil {
		t.Fatalf("poll %d: %v; want the failure given up", MaxApplyAttempts, err)
	}
	list, err := s.List(ctx, Filter{})
	if err != nil || len(list) != 1 || !strings.Contains(list[0].ApplyError, "subscribers down") {
		t.Fatalf("List = %+v, %v", list, err)
	}
	if flags := ms.flags(t, "INBOX"); !hasFlag(flags[1], ProcessedFlag) {
		t.Errorf("flags %v, want processed", flags)
	}
}

// TestUIDValidityChange: the mailbox is recreated (new UIDVALIDITY) with
// the same messages and one more; only the new one counts.
func TestUIDValidityChange(t *testing.T) {
	t.Parallel()
	ms := startIMAP(t, TLSNone)
	rec := newRecorder()
	s := newService(t, ms, rec, Options{})
	ctx := context.Background()
	a := dsnMail("b1@mx", 1, "5.1.1", "failed", "550 user unknown")
	b := dsnMail("b2@mx", 2, "5.1.1", "failed", "550 user unknown")
	ms.put(t, "INBOX", a)
	ms.put(t, "INBOX", b)
	if _, err := s.PollOnce(ctx); err != nil {
		t.Fatal(err)
	}
	if err := ms.user.Delete("INBOX"); err != nil {
		t.Fatal(err)
	}
	if err := ms.user.Create("INBOX", nil); err != nil {
		t.Fatal(err)
	}
	ms.put(t, "INBOX", a)
	ms.put(t, "INBOX", b)
	ms.put(t, "INBOX", dsnMail("b3@mx", 3, "5.1.1", "failed", "550 user unknown"))
	st, err := s.PollOnce(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := Stats{Fetched: 3, Bounces: 1, Duplicates: 2, Suppressed: 1, Rescans: 1}
	if st != want {
		t.Errorf("stats = %+v, want %+v", st, want)
	}
}

// TestRunUsesIdle: Run notices new mail through IDLE long before the poll
// interval, and returns nil when its context ends.
func TestRunUsesIdle(t *testing.T) {
	t.Parallel()
	ms := startIMAP(t, TLSNone)
	rec := newRecorder()
	s := newService(t, ms, rec, Options{IMAP: IMAPOptions{PollInterval: time.Hour}})
	idling := make(chan struct{}, 10)
	s.idling = func() { idling <- struct{}{} }
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel) // a failed test must not leave Run idling while Close waits
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	deadline := time.After(20 * time.Second)
	select { // the first poll found nothing; mail appended now must wake IDLE
	case <-idling:
	case <-deadline:
		t.Fatal("Run never entered IDLE")
	}
	ms.put(t, "INBOX", dsnMail("b1@mx", 1, "5.1.1", "failed", "550 user unknown"))
	ms.put(t, "INBOX", dsnMail("b2@mx", 2, "5.1.1", "failed", "550 user unknown"))
	// imapserver acknowledges IDLE ("+ idling") before the session starts
	// listening for updates, and an update queued in between is only
	// delivered by the next one. If nothing came, one more mail is that
	// next update; with a poll interval of an hour, only IDLE can deliver.
	nudge := time.NewTimer(3 * time.Second)
	defer nudge.Stop()
	for seen := 0; seen < 2; {
		select {
		case <-rec.notify:
			seen++
		case <-nudge.C:
			ms.put(t, "INBOX", dsnMail("b3@mx", 3, "5.1.1", "failed", "550 user unknown"))
		case <-deadline:
			t.Fatal("Run did not pick up new mail")
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run = %v, want nil", err)
	}
}

// TestRunReconnects: the server drops the connection mid-fetch; Run
// reconnects and records every bounce once.
func TestRunReconnects(t *testing.T) {
	t.Parallel()
	ms := startIMAP(t, TLSNone)
	const n = 12
	for i := 1; i <= n; i++ {
		ms.put(t, "INBOX", dsnMail(fmt.Sprintf("b%d@mx", i), int64(i), "5.1.1", "failed", "550 user unknown"))
	}
	ms.cut.Store(6000)
	rec := newRecorder()
	s := newService(t, ms, rec, Options{IMAP: IMAPOptions{FetchBatch: 4, RetryMin: time.Millisecond, PollInterval: time.Hour}})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	deadline := time.After(20 * time.Second)
	for seen := 0; seen < n; {
		select {
		case <-rec.notify:
			seen++
		case <-deadline:
			t.Fatalf("Run recorded %d of %d", seen, n)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run = %v", err)
	}
	var rows int
	s.db.QueryRow(`SELECT COUNT(*) FROM bounces`).Scan(&rows)
	if rows != n || ms.cut.Load() != 0 {
		t.Errorf("%d rows (want %d); cut pending %d", rows, n, ms.cut.Load())
	}
}

func TestPlainOnlyOnLoopback(t *testing.T) {
	t.Parallel()
	s := newService(t, nil, newRecorder(), Options{IMAP: IMAPOptions{Addr: "192.0.2.1:143", TLS: TLSNone}})
	if _, err := s.PollOnce(context.Background()); !errors.Is(err, ErrInsecure) {
		t.Errorf("PollOnce = %v, want ErrInsecure", err)
	}
	s = newService(t, nil, newRecorder(), Options{})
	if err := s.Run(context.Background()); !errors.Is(err, ErrNoIMAP) {
		t.Errorf("Run = %v, want ErrNoIMAP", err)
	}
}

func TestCommands(t *testing.T) {
	t.Parallel()
	ms := startIMAP(t, TLSNone)
	rec := newRecorder()
	s := newService(t, ms, rec, Options{IMAP: IMAPOptions{CommandMailbox: "Commands"}})
	join := plainMail("j1@alice", "Alice <alice@home.test>", "kyoiku-join@"+testDomain, "", "")
	ms.put(t, "Commands", join)
	ms.put(t, "Commands", join) // the same mail twice: acted on once
	ms.put(t, "INBOX", plainMail("j2@bob", "bob@home.test", "join+chonai@"+testDomain, "参加", ""))
	ms.put(t, "INBOX", plainMail("u1@carol", "carol@home.test", UnsubscribeMailto(testDomain, "AbC-_9"), "unsubscribe", ""))
	ms.put(t, "INBOX", plainMail("j3@robot", "robot@home.test", "kyoiku-join@"+testDomain, "Out of office",
		"Auto-Submitted: auto-replied\r\n"))
	// A DSN returned to a join address is a bounce, never a join.
	ms.put(t, "INBOX", strings.Replace(dsnMail("b9@mx", 9, "5.1.1", "failed", "550 user unknown"),
		"To: bounces+9@", "To: kyoiku-join@", 1))
	st, err := s.PollOnce(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if st.Commands != 4 || st.Duplicates != 1 || st.Bounces != 1 {
		t.Errorf("stats = %+v, want 4 commands, 1 duplicate, 1 bounce", st)
	}
	wantJoins := []string{"alice@home.test|kyoiku|j1@alice", "bob@home.test|chonai|j2@bob"}
	if fmt.Sprint(rec.joins) != fmt.Sprint(wantJoins) {
		t.Errorf("joins = %v, want %v", rec.joins, wantJoins)
	}
	if want := []string{"AbC-_9|mailto|u1@carol"}; fmt.Sprint(rec.unsubs) != fmt.Sprint(want) {
		t.Errorf("unsubscribes = %v, want %v", rec.unsubs, want)
	}
	if flags := ms.flags(t, "Commands"); !hasFlag(flags[1], ProcessedFlag) || !hasFlag(flags[2], ProcessedFlag) {
		t.Errorf("command mails not flagged: %v", flags)
	}
}

func TestComplaintAndAutoReply(t *testing.T) {
	t.Parallel()
	ms := startIMAP(t, TLSNone)
	rec := newRecorder()
	s := newService(t, ms, rec, Options{})
	arf := "From: feedback@isp.test\r\nTo: bounces+5@" + testDomain + "\r\nMessage-ID: <arf1@isp>\r\n" +
		"MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=feedback-report; boundary=\"A\"\r\n\r\n" +
		"--A\r\nContent-Type: text/plain\r\n\r\nabuse report\r\n" +
		"--A\r\nContent-Type: message/feedback-report\r\n\r\nFeedback-Type: abuse\r\nVersion: 1\r\n" +
		"Original-Rcpt-To: <user5@dest.test>\r\n" +
		"--A\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: <d5@example.test>\r\n--A--\r\n"
	ms.put(t, "INBOX", arf)
	ms.put(t, "INBOX", plainMail("ooo@x", "user6@dest.test", "bounces+6@"+testDomain, "Out of office",
		"Auto-Submitted: auto-replied\r\n"))
	ctx := context.Background()
	if _, err := s.PollOnce(ctx); err != nil {
		t.Fatal(err)
	}
	if rec.suppressed["user5@dest.test"] != ReasonComplaint || fmt.Sprint(rec.unsubscribed) != "[user5@dest.test]" {
		t.Errorf("complaint: suppressed %v unsubscribed %v", rec.suppressed, rec.unsubscribed)
	}
	if _, ok := rec.suppressed["user6@dest.test"]; ok {
		t.Error("an auto-reply suppressed its sender")
	}
	list, err := s.List(ctx, Filter{Class: classify.AutoReply})
	if err != nil || len(list) != 1 || list[0].SubscriberID != 106 {
		t.Fatalf("autoreplies = %+v, %v", list, err)
	}
}
