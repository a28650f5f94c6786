package progress

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestIssue8Acceptance follows issue 8's acceptance list with rules
// 14/7/1 days before, every 3 days overdue, escalation after 7.
func TestIssue8Acceptance(t *testing.T) {
	t.Parallel()
	f := newPlanFixture(t)

	if ms := f.run(t, at(-18)); len(ms) != 0 {
		t.Fatalf("18 days before: %d mails, want none", len(ms))
	}
	ms := f.run(t, at(-7))
	if got := recipients(ms); !slices.Equal(got, []string{"kikaku@city.example.jp", "somu@city.example.jp"}) {
		t.Fatalf("7 days before: to %v", got)
	}
	for _, m := range ms {
		if !m.AutoSubmitted {
			t.Errorf("mail to %s lacks Auto-Submitted", m.To)
		}
		for _, want := range []string{"令和8年度 実施状況の報告", "2027年4月30日(金)", "あと7日", "/progress/submitted/", "/progress/ics/"} {
			if !strings.Contains(m.Subject+m.Text, want) {
				t.Errorf("mail to %s lacks %q:\n%s\n%s", m.To, want, m.Subject, m.Text)
			}
		}
	}
	if !strings.Contains(ms[1].Text, "市民参加を促進する職員研修の充実") || strings.Contains(ms[1].Text, "市民参加推進レポート") {
		t.Errorf("somu's mail should list somu's projects only:\n%s", ms[1].Text)
	}
	if ms := f.run(t, at(-7)); len(ms) != 0 {
		t.Fatalf("same instant again: %d mails, want none", len(ms))
	}

	ms = f.run(t, at(8))
	var toBureaus, toCoordinator int
	for _, m := range ms {
		if !m.AutoSubmitted {
			t.Errorf("mail to %s lacks Auto-Submitted", m.To)
		}
		if m.To == "coordinator@city.example.jp" {
			toCoordinator++
			if !strings.Contains(m.Subject, "8日超過") {
				t.Errorf("escalation subject %q", m.Subject)
			}
			continue
		}
		toBureaus++
		if !strings.Contains(m.Subject, "8日超過") || !strings.Contains(m.Text, "計画の進捗管理の担当（総合企画局）にもお知らせ") {
			t.Errorf("overdue reminder:\n%s\n%s", m.Subject, m.Text)
		}
	}
	if toBureaus != 2 || toCoordinator != 2 {
		t.Fatalf("8 days overdue: %d to bureaus, %d to coordinator (want 2, 2): %v", toBureaus, toCoordinator, recipients(ms))
	}
	if ms := f.run(t, at(8)); len(ms) != 0 {
		t.Fatalf("8 days overdue again: %d mails", len(ms))
	}
	// Reminders go on every 3 days, and so does the escalation after it began.
	if ms := f.run(t, at(9)); len(ms) != 2 {
		t.Fatalf("9 days overdue: %v, want the overdue-9 reminders", recipients(ms))
	}
	if ms := f.run(t, at(10)); len(ms) != 2 || ms[0].To != "coordinator@city.example.jp" {
		t.Fatalf("10 days overdue: %v, want the escalate-10 mails", recipients(ms))
	}
}

// TestCatchUpAfterDowntime: days the job missed give one reminder, the
// latest applicable occurrence, never several.
func TestCatchUpAfterDowntime(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		runs   []int // days relative to due
		labels []string
	}{
		{"daily", []int{-15, -14, -13, -8, -7, -6, -2, -1, 0}, []string{"before-14", "before-7", "before-1", "due"}},
		{"missed 14 to 7: only the 7-day one", []int{-15, -7}, []string{"before-7"}},
		{"down since 8 days before, back at 5", []int{-8, -5}, []string{"before-14", "before-7"}},
		{"first run after the due date", []int{7}, []string{"overdue-6"}},
		{"clock run backwards sends nothing older", []int{-1, -7, -14}, []string{"before-1"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			f := newPlanFixture(t)
			var labels []string
			for _, d := range c.runs {
				f.clk.Set(at(d))
				rep, err := f.s.RunReminders(context.Background(), at(d), false)
				if err != nil {
					t.Fatal(err)
				}
				for _, r := range rep.Reminders {
					if r.Bureau == "somu" && r.Kind == "remind" {
						labels = append(labels, r.Label)
					}
				}
				f.rec.take()
			}
			if !slices.Equal(labels, c.labels) {
				t.Fatalf("labels %v, want %v", labels, c.labels)
			}
		})
	}
}

// TestSubmitBetweenReminders: a bureau that reports through its
// reminder's link (the report form's path) gets no more reminders and is
// not escalated.
func TestSubmitBetweenReminders(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newPlanFixture(t)
	ms := f.run(t, at(-14))
	if len(ms) != 2 {
		t.Fatalf("14 days before: %v", recipients(ms))
	}
	tok := submittedToken(t, ms[1])
	f.clk.Set(at(-10))
	rep, err := f.s.ReportByToken(ctx, tok)
	if err != nil || rep.Bureau != "somu" || rep.Submitted || len(rep.Projects) != 2 {
		t.Fatalf("report %+v %v", rep, err)
	}
	if _, err := f.s.SaveReportByToken(ctx, tok, somuReport, linkEv); err != nil {
		t.Fatal(err)
	}
	if n, err := f.s.SaveReportByToken(ctx, tok, somuReport, Evidence{IP: "198.51.100.7"}); err != nil || n != 0 {
		t.Fatalf("second press: %d %v", n, err)
	}
	st, err := f.s.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if somu := st[0].Bureaus[1]; !somu.Submitted || somu.How != "link" || somu.Actor != "203.0.113.5 test-agent" {
		t.Fatalf("after submit: %+v", somu)
	}
	for _, d := range []int{-7, -1, 0, 8} {
		for _, m := range f.run(t, at(d)) {
			if m.To == "somu@city.example.jp" || strings.Contains(m.Subject, "総務局") {
				t.Fatalf("day %d: mail about somu after it submitted: %s", d, m.Subject)
			}
		}
	}
	if n := f.count(t, `SELECT count(*) FROM submissions`); n != 1 {
		t.Fatalf("%d submissions", n)
	}
}

func TestFailedSendIsRetriedOnce(t *testing.T) {
	t.Parallel()
	f := newPlanFixture(t)
	f.rec.fail = errors.New("451 4.3.0 try later")
	f.clk.Set(at(-7))
	rep, err := f.s.RunReminders(context.Background(), at(-7), false)
	if err != nil || rep.Failed != 2 || rep.Sent != 0 {
		t.Fatalf("failing run: %+v %v", rep, err)
	}
	if n := f.count(t, `SELECT count(*) FROM reminders_sent WHERE status = 'pending' AND attempts = 1`); n != 2 {
		t.Fatalf("%d pending rows after failure", n)
	}
	f.rec.fail = nil
	if ms := f.run(t, at(-7)); len(ms) != 2 {
		t.Fatalf("retry: %v", recipients(ms))
	}
	if ms := f.run(t, at(-6)); len(ms) != 0 {
		t.Fatalf("after retry: %v", recipients(ms))
	}
}

// TestPendingSupersededByNewerOccurrence: a reminder still failing when the
// next occurrence comes is replaced by it, not sent as well.
func TestPendingSupersededByNewerOccurrence(t *testing.T) {
	t.Parallel()
	f := newPlanFixture(t)
	f.rec.fail = errors.New("down")
	f.clk.Set(at(-14))
	if _, err := f.s.RunReminders(context.Background(), at(-14), false); err != nil {
		t.Fatal(err)
	}
	f.rec.fail = nil
	ms := f.run(t, at(-7))
	if len(ms) != 2 || !strings.Contains(ms[0].Subject, "あと7日") {
		t.Fatalf("want one 7-day mail per bureau, got %v", recipients(ms))
	}
	if n := f.count(t, `SELECT count(*) FROM reminders_sent WHERE status = 'superseded'`); n != 2 {
		t.Fatalf("%d superseded", n)
	}
}

func TestGivesUpAfterMaxAttempts(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.s.opt.MaxAttempts = 2
	f.importFile(t, plan1471)
	f.rec.fail = errors.New("550 5.1.1 no such user")
	for i, want := range []string{"failed", "gave-up"} {
		rep, err := f.s.RunReminders(context.Background(), at(-7), false)
		if err != nil || len(rep.Reminders) != 2 || rep.Reminders[0].Status != want {
			t.Fatalf("attempt %d: %+v %v", i+1, rep, err)
		}
	}
	rep, _ := f.s.RunReminders(context.Background(), at(-7), false)
	if len(rep.Reminders) != 0 {
		t.Fatalf("after giving up: %+v", rep.Reminders)
	}
}

func TestDryRunRecordsNothing(t *testing.T) {
	t.Parallel()
	f := newPlanFixture(t)
	rep, err := f.s.RunReminders(context.Background(), at(8), true)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Reminders) != 4 || rep.Reminders[0].Status != "dry-run" || rep.Reminders[0].Subject == "" {
		t.Fatalf("dry run: %+v", rep.Reminders)
	}
	if len(f.rec.take()) != 0 || f.count(t, `SELECT count(*) FROM reminders_sent`) != 0 {
		t.Fatal("dry run sent or recorded something")
	}
	if ms := f.run(t, at(8)); len(ms) != 4 {
		t.Fatalf("real run after dry run: %v", recipients(ms))
	}
}

// TestDaysCountCalendarDates: "7 days before" is a date in Tokyo, not 7×24 h.
func TestDaysCountCalendarDates(t *testing.T) {
	t.Parallel()
	const plan = `
contacts: [{bureau: somu, name_ja: 総務局, email: somu@city.example.jp}]
deadlines: [{id: d, title_ja: 報告, due: 2027-04-30, bureaus: [somu]}]
reminders: {before_days: [7], overdue_every_days: 0, escalate_after_days: 0}
`
	cases := []struct {
		now  string
		want int
	}{
		{"2027-04-22T14:59:00Z", 0}, // 23:59 on the 22nd in Tokyo: 8 days before
		{"2027-04-22T15:00:00Z", 1}, // 00:00 on the 23rd in Tokyo: 7 days before
	}
	for _, c := range cases {
		t.Run(c.now, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			f.importString(t, plan)
			now, _ := time.Parse(time.RFC3339, c.now)
			if ms := f.run(t, now); len(ms) != c.want {
				t.Fatalf("%d mails, want %d", len(ms), c.want)
			}
		})
	}
}

func TestRulesLatest(t *testing.T) {
	t.Parallel()
	r := Rules{BeforeDays: []int{30, 14, 7, 1, 0}, OverdueEveryDays: 3, EscalateAfterDays: 7, Coordinator: "c@x.jp"}
	d, _ := ParseDate("2027-04-30")
	cases := []struct {
		day              int
		remind, escalate string
	}{
		{-31, "", ""}, {-30, "before-30", ""}, {-20, "before-30", ""}, {-14, "before-14", ""},
		{-1, "before-1", ""}, {0, "due", ""}, {2, "due", ""}, {3, "overdue-3", ""},
		{7, "overdue-6", "escalate-7"}, {9, "overdue-9", "escalate-7"}, {10, "overdue-9", "escalate-10"},
	}
	for _, c := range cases {
		o, ok := r.latestReminder(d, d.AddDays(c.day))
		if (ok && o.label != c.remind) || (!ok && c.remind != "") {
			t.Errorf("day %d: remind %q %v, want %q", c.day, o.label, ok, c.remind)
		}
		e, ok := r.latestEscalation(d, d.AddDays(c.day))
		if (ok && e.label != c.escalate) || (!ok && c.escalate != "") {
			t.Errorf("day %d: escalate %q %v, want %q", c.day, e.label, ok, c.escalate)
		}
	}
	if got := d.Japanese(); got != "2027年4月30日(金)" {
		t.Errorf("Japanese date %q", got)
	}
}

// TestConcurrentRunsSendOnce: the daemon's job and `reminders run` at the
// same moment send each reminder once between them.
func TestConcurrentRunsSendOnce(t *testing.T) {
	t.Parallel()
	f := newPlanFixture(t)
	f.clk.Set(at(8))
	errs := make(chan error, 4)
	for range 4 {
		go func() {
			_, err := f.s.RunReminders(context.Background(), at(8), false)
			errs <- err
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if ms := f.rec.take(); len(ms) != 4 {
		t.Fatalf("%d mails from 4 concurrent runs, want 4: %v", len(ms), recipients(ms))
	}
}
