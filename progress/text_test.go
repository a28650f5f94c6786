package progress

import (
	"strings"
	"testing"
	"time"
)

func TestRunReportText(t *testing.T) {
	t.Parallel()
	today := DateOf(time.Date(2027, 4, 23, 9, 0, 0, 0, time.UTC), time.UTC)
	sent := Reminder{Deadline: "fy2026-status", Bureau: "somu", Label: "before-7", To: "somu@city.example.jp",
		Subject: "【提出依頼】令和8年度", Text: "総務局 ご担当者様\n\n提出をお願いします。\n", Status: "sent"}
	failed := Reminder{Deadline: "fy2026-status", Bureau: "kikaku", Label: "before-7", To: "kikaku@city.example.jp",
		Status: "failed", Err: "smtp: 451 try later"}
	cases := []struct {
		name string
		rep  RunReport
		show bool
		want string
	}{
		{"sent", RunReport{Today: today, Reminders: []Reminder{sent, failed}, Sent: 1, Failed: 1}, false,
			"reminders for 2027-04-23: 1 sent, 1 failed\n" +
				"sent\tfy2026-status\tsomu\tbefore-7\tsomu@city.example.jp\t\n" +
				"failed\tfy2026-status\tkikaku\tbefore-7\tkikaku@city.example.jp\tsmtp: 451 try later\n"},
		{"dry run", RunReport{Today: today, DryRun: true, Reminders: []Reminder{sent}}, false,
			"reminders for 2027-04-23 (dry run: nothing sent or recorded): would send 1\n" +
				"sent\tfy2026-status\tsomu\tbefore-7\tsomu@city.example.jp\t\n"},
		{"nothing due", RunReport{Today: today}, false, "reminders for 2027-04-23: 0 sent, 0 failed\n"},
		{"show", RunReport{Today: today, Reminders: []Reminder{sent}, Sent: 1}, true,
			"reminders for 2027-04-23: 1 sent, 0 failed\n" +
				"sent\tfy2026-status\tsomu\tbefore-7\tsomu@city.example.jp\t\n" +
				"\n  To: somu@city.example.jp\n  Subject: 【提出依頼】令和8年度\n\n  総務局 ご担当者様\n\n  提出をお願いします。\n\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			var b strings.Builder
			c.rep.WriteText(&b, c.show)
			if b.String() != c.want {
				t.Errorf("got:\n%q\nwant:\n%q", b.String(), c.want)
			}
		})
	}
}

func TestNextReminderLine(t *testing.T) {
	t.Parallel()
	d := func(s string) Date {
		v, err := ParseDate(s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	cases := []struct {
		name string
		n    NextReminder
		want string
	}{
		{"nothing by the rules", NextReminder{Deadline: "fy2026-status"}, "next\tfy2026-status"},
		{"bureaus", NextReminder{Deadline: "fy2026-status", Date: d("2027-04-23"), Label: "before-7", Bureaus: []string{"somu", "kikaku"}},
			"next\tfy2026-status\t2027-04-23\tbefore-7\tsomu,kikaku"},
		{"and the coordinator", NextReminder{Deadline: "fy2026-status", Date: d("2027-05-03"), Label: "overdue-3", Bureaus: []string{"somu"},
			EscalateDate: d("2027-05-07"), EscalateLabel: "escalate-7"},
			"next\tfy2026-status\t2027-05-03\toverdue-3\tsomu\tcoordinator 2027-05-07 escalate-7"},
	}
	var all []NextReminder
	var lines strings.Builder
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			if got := c.n.Line(); got != c.want {
				t.Errorf("Line = %q, want %q", got, c.want)
			}
		})
		all = append(all, c.n)
		lines.WriteString(c.want + "\n")
	}
	var b strings.Builder
	WriteNext(&b, all)
	if b.String() != lines.String() {
		t.Errorf("WriteNext:\n%s\nwant:\n%s", b.String(), lines.String())
	}
}

// A run with failed reminders is an error that counts them; one without
// is none.
func TestRunReportErr(t *testing.T) {
	t.Parallel()
	if err := (RunReport{Sent: 2}).Err(); err != nil {
		t.Errorf("all sent: %v", err)
	}
	want := "2 reminders could not be sent (they are retried at the next run)"
	if err := (RunReport{Sent: 1, Failed: 2}).Err(); err == nil || err.Error() != want {
		t.Errorf("two failed: %v, want %q", err, want)
	}
}

func TestImportReportText(t *testing.T) {
	t.Parallel()
	r := ImportReport{Name: "progress.yaml", Contacts: 2, Measures: 1, Projects: 3, DeadlinesCreated: 1, DeadlinesUnchanged: 2,
		Warnings: []string{"line 12: deadlines[0].bureaus: somu has no project; reminded anyway"}}
	var b strings.Builder
	r.WriteText(&b)
	want := "progress.yaml: 2 contacts, 1 measures, 3 projects; deadlines: 1 created, 0 updated, 2 unchanged\n" +
		"warning: line 12: deadlines[0].bureaus: somu has no project; reminded anyway\n"
	if b.String() != want {
		t.Errorf("got:\n%q\nwant:\n%q", b.String(), want)
	}
}

func TestFileErrorProblemLines(t *testing.T) {
	t.Parallel()
	e := &FileError{Name: "p.yaml", Problems: []*ImportError{
		{Line: 3, Key: "contacts[0].email", Msg: "not an address"},
		{Line: 9, Key: "deadlines[0].due", Msg: "not a date"},
	}}
	want := "  line 3: contacts[0].email: not an address\n  line 9: deadlines[0].due: not a date"
	if got := e.ProblemLines(); got != want {
		t.Errorf("ProblemLines = %q, want %q", got, want)
	}
}
