//go:build e2e

package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// reminders is scenario 4: a progress file imported, `reminders run --now`
// at chosen instants, each reminder in the bureau's Maildir exactly once.
// It needs no daemon: the commands work on the database and relay alone.
func reminders(t *testing.T) {
	d := newDaemon(t, daemonOptions{})
	n := nonce()
	title := "令和8年度 実施状況の報告 e2e " + n
	plan := fmt.Sprintf(`contacts:
  - {bureau: sogo-kikaku, name_ja: 総合企画局, email: kikaku@example.test}
  - {bureau: somu, name_ja: 総務局, email: somu@example.test}
  - {bureau: bunka-shimin, name_ja: 文化市民局, email: centers@example.test}
measures:
  - number: 35
    title_ja: 計画の進捗管理
    projects:
      - {title_ja: 「市民参加推進レポート」の発行, bureau: sogo-kikaku}
      - {title_ja: 審議会等の会議の公開, bureau: somu}
      - {title_ja: 分野別センターの運営, bureau: bunka-shimin}
deadlines:
  - id: e2e-%s
    title_ja: %s
    due: 2027-04-30
    bureaus: [sogo-kikaku, somu, bunka-shimin]
reminders:
  before_days: [7, 1, 0]
  overdue_every_days: 3
  escalate_after_days: 7
  coordinator: coordinator@example.test
`, n, title)
	path := filepath.Join(d.dir, "plan-progress.yaml")
	if err := os.WriteFile(path, []byte(plan), 0o644); err != nil {
		t.Fatal(err)
	}
	d.cli("", []string{"progress", "import"}, path)
	d.cli("", []string{"progress", "import"}, path) // importing again changes nothing

	bureaus := []string{"kikaku", "somu", "centers"}
	count := func(user string) int {
		ms := matching(maildir(t, user), n)
		for _, m := range ms {
			if as := m.Header.Get("Auto-Submitted"); !strings.HasPrefix(as, "auto-") {
				d.errorf("%s@example.test: reminder %q has Auto-Submitted %q, want auto-generated (RFC 3834 §5)", user, m.Subject, as)
			}
		}
		return len(ms)
	}
	// expect runs the job at now (twice: a reminder is sent once) and
	// checks each mailbox's count of this deadline's mail.
	expect := func(now string, want map[string]int) {
		t.Helper()
		for i := 0; i < 2; i++ {
			d.cli("", []string{"reminders", "run"}, "--now", now)
		}
		for user, w := range want {
			// Postfix delivers within moments; wait for the wanted count,
			// then make sure there is no more.
			var got int
			waitFor(15e9, 2e8, func() bool { got = count(user); return got >= w })
			waitFor(15e9, 2e8, postfixQueueEmpty)
			if got = count(user); got != w {
				d.errorf("after reminders run --now %s (twice): %s@example.test holds %d mail(s) about %q, want %d", now, user, got, title, w)
			}
		}
	}

	// Seven days before the due date: one reminder per bureau.
	expect("2027-04-23T09:00:00+09:00", map[string]int{"kikaku": 1, "somu": 1, "centers": 1, "coordinator": 0})
	// Four days before: no offset, nothing new.
	expect("2027-04-26T09:00:00+09:00", map[string]int{"kikaku": 1, "somu": 1, "centers": 1, "coordinator": 0})
	// Eight days late: an overdue reminder per bureau (day 6's occurrence)
	// and, past escalate_after_days, one escalation per bureau to the coordinator.
	expect("2027-05-08T09:00:00+09:00", map[string]int{"kikaku": 2, "somu": 2, "centers": 2, "coordinator": len(bureaus)})
}
