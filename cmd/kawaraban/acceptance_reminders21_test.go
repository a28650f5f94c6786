package main

import (
	"strings"
	"testing"
	"time"
)

// Issue 21: a dry run says "would send N" and, with --show, prints each
// mail; every run names the next reminder per deadline; importing the same
// file again reports its deadline unchanged.
func TestAcceptanceRemindersDryRunShow(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, t.TempDir())
	plan := writePlan(t, planYAML)
	first := mustCLI(t, "progress", "import", "--data", d.Data, plan)
	if !strings.Contains(first.Stdout, "deadlines: 1 created, 0 updated, 0 unchanged") {
		t.Errorf("first import: %q", first.Stdout)
	}
	again := mustCLI(t, "progress", "import", "--data", d.Data, plan)
	if !strings.Contains(again.Stdout, "deadlines: 0 created, 0 updated, 1 unchanged") {
		t.Errorf("the same file again: %q, want 1 unchanged", again.Stdout)
	}

	at7 := planDue.AddDate(0, 0, -7).Add(9 * time.Hour).Format(time.RFC3339)
	dry := mustCLI(t, "reminders", "run", "--data", d.Data, "--now", at7, "--dry-run", "--show")
	for _, want := range []string{"would send 2", "Subject: ", "令和8年度 実施状況の報告", "2027年4月30日", "next\tfy2026-status\t2027-04-23\tbefore-7\tsogo-kikaku,somu"} {
		if !strings.Contains(dry.Stdout, want) {
			t.Errorf("dry run --show lacks %q:\n%s", want, dry.Stdout)
		}
	}
	if strings.Contains(dry.Stdout, "0 sent") {
		t.Errorf("dry run says it sent nothing as if it ran:\n%s", dry.Stdout)
	}
	if n := countEML(t, d.Data); n != 0 {
		t.Fatalf("--dry-run sent %d mails", n)
	}
	real := mustCLI(t, "reminders", "run", "--data", d.Data, "--now", at7)
	if !strings.Contains(real.Stdout, "2 sent, 0 failed") || !strings.Contains(real.Stdout, "next\tfy2026-status\t2027-04-29\tbefore-1") {
		t.Errorf("real run:\n%s", real.Stdout)
	}
}
