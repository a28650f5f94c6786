package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"kawaraban/progress"
)

// printReminderRun reports one run of the reminder job: a dry run says what
// it would send, a real one what it sent; with show, each mail follows in
// full.
func printReminderRun(w io.Writer, rep progress.RunReport, show bool) {
	if rep.DryRun {
		fmt.Fprintf(w, "reminders for %s (dry run: nothing sent or recorded): would send %d\n", rep.Today, len(rep.Reminders))
	} else {
		fmt.Fprintf(w, "reminders for %s: %d sent, %d failed\n", rep.Today, rep.Sent, rep.Failed)
	}
	for _, r := range rep.Reminders {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", r.Status, r.Deadline, r.Bureau, r.Label, r.To, r.Err)
		if show {
			fmt.Fprintf(w, "\n  To: %s\n  Subject: %s\n\n%s\n\n", r.To, r.Subject, indent(r.Text, "  "))
		}
	}
}

// printNextReminders says, per deadline, when the job will next send and
// to whom.
func printNextReminders(ctx context.Context, w io.Writer, ps *progress.Store, now time.Time) error {
	next, err := ps.NextReminders(ctx, now)
	if err != nil {
		return err
	}
	for _, n := range next {
		line := "next\t" + n.Deadline
		if !n.Date.IsZero() {
			line += "\t" + n.Date.String() + "\t" + n.Label + "\t" + strings.Join(n.Bureaus, ",")
		}
		if !n.EscalateDate.IsZero() {
			line += "\tcoordinator " + n.EscalateDate.String() + " " + n.EscalateLabel
		}
		fmt.Fprintln(w, line)
	}
	return nil
}

func indent(s, prefix string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		if l != "" {
			lines[i] = prefix + l
		}
	}
	return strings.Join(lines, "\n")
}
