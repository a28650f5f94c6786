package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// countEML counts the captured messages without parsing them.
func countEML(t *testing.T, dir string) int {
	t.Helper()
	ents, err := os.ReadDir(filepath.Join(dir, "captured"))
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	n := 0
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".eml") && !strings.HasPrefix(e.Name(), ".") {
			n++
		}
	}
	return n
}

// bulkSend imports n readers PREFIXnnnn@example.jp (0000 on) into list,
// then creates an issue of list with subject and body and sends it. It
// returns the admin's API token and the issue.
func bulkSend(t *testing.T, d *daemonProc, dir, list, prefix string, n int, subject, body string) (string, apiIssue) {
	t.Helper()
	var csv strings.Builder
	csv.WriteString("email,name\n")
	for i := range n {
		fmt.Fprintf(&csv, "%s@example.jp,読者%d\n", bulkAddr(prefix, i), i)
	}
	importCSV(t, dir, list, csv.String())
	token := adminToken(t, dir)
	is := createIssue(t, d, token, map[string]any{"list": list, "subject": subject, "body_markdown": body})
	sendIssue(t, d, token, is.ID)
	return token, is
}

// bulkAddr is the local part of bulkSend's i-th reader.
func bulkAddr(prefix string, i int) string { return fmt.Sprintf("%s%04d", prefix, i) }

// lostAndDuplicated counts the captured copies of subject to each of
// bulkSend's n readers: the readers without one, and the copies beyond
// the first.
func lostAndDuplicated(t *testing.T, dir, subject, prefix string, n int) (lost []string, dups, distinct int) {
	t.Helper()
	copies := map[string]int{}
	for _, m := range readCaptured(t, dir) {
		if m.Subject == subject {
			copies[strings.ToLower(m.DeliveredTo)]++
		}
	}
	for i := range n {
		addr := bulkAddr(prefix, i) + "@example.jp"
		switch c := copies[addr]; {
		case c == 0:
			lost = append(lost, addr)
		case c > 1:
			dups += c - 1
		}
	}
	return lost, dups, len(copies)
}

// DESIGN "Quality targets" and issue 7: kill -9 in the middle of a send
// loses no recipient, and duplicates stay within the in-flight window
// (sending.workers × sending.batch_size, 4 × 100 by default).
func TestAcceptanceKillMidSend(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	d := startDaemon(t, dir)
	const (
		n        = 3000
		inFlight = 4 * 100
		subject  = "市民活動ニュース 大量配信"
	)
	token, is := bulkSend(t, d, dir, "shimin-katsudo", "r", n, subject, "{{ .Name }} さん")
	waitUntil(t, "the send to start", func() bool { return countEML(t, dir) >= 50 })
	d.cmd.Process.Kill()
	d.cmd.Wait()
	atKill := countEML(t, dir)
	t.Logf("killed with %d of %d captured", atKill, n)
	if atKill >= n {
		t.Logf("the send finished before the kill: this run checks no loss only")
	}

	d = startDaemon(t, dir)
	waitIssueSent(t, d, token, is.ID)
	lost, dups, distinct := lostAndDuplicated(t, dir, subject, "r", n)
	for _, addr := range lost {
		t.Errorf("%s lost: no copy after the restart", addr)
	}
	if distinct != n {
		t.Errorf("%d distinct recipients, want %d", distinct, n)
	}
	if dups > inFlight {
		t.Errorf("%d duplicates, more than the in-flight window %d", dups, inFlight)
	}
	t.Logf("%d duplicates after kill -9 (window %d)", dups, inFlight)
	if is := getIssue(t, d, token, is.ID); is.Counts["sent"] != n {
		t.Errorf("counts %v, want sent=%d", is.Counts, n)
	}
}

// A graceful stop (SIGTERM) in the middle of a send: the daemon finishes or
// hands back what it holds, so after a restart nobody is lost and nobody
// gets two copies.
func TestAcceptanceSigtermMidSend(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	d := startDaemon(t, dir)
	const (
		n       = 2000
		subject = "環境保全ニュース 停止をはさむ配信"
	)
	token, is := bulkSend(t, d, dir, "kankyo-hozen", "g", n, subject, "本文")
	waitUntil(t, "the send to start", func() bool { return countEML(t, dir) >= 50 })
	if code, took := d.stop(t); code != 0 {
		t.Errorf("exit %d after SIGTERM (took %s)", code, took)
	}
	t.Logf("stopped with %d of %d captured", countEML(t, dir), n)

	d = startDaemon(t, dir)
	waitIssueSent(t, d, token, is.ID)
	lost, dups, _ := lostAndDuplicated(t, dir, subject, "g", n)
	if len(lost) != 0 || dups != 0 {
		t.Errorf("after SIGTERM and a restart: %d recipients lost, %d duplicates; want none of either", len(lost), dups)
	}
}

// "Every command that reads the database works beside a running daemon" —
// also while it is busy sending: no "database is locked".
func TestAcceptanceCLIDuringSend(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	d := startDaemon(t, dir)
	token, is := bulkSend(t, d, dir, "choju-sukoyaka", "b", 2000, "同時実行の号", "本文")
	out := filepath.Join(t.TempDir(), "during.db")
	runs := 0
	for i := 0; getIssue(t, d, token, is.ID).Status != "sent" || i < 3; i++ {
		mustCLI(t, "export", "subscribers", "--data", dir, "--list", "choju-sukoyaka")
		importCSV(t, dir, "kokusai-koryu", fmt.Sprintf("email,name\nside%d@example.jp,横\n", i))
		mustCLI(t, "export", "consent", "--data", dir)
		if i == 0 {
			mustCLI(t, "backup", "--data", dir, out)
		}
		runs++
		if runs > 200 {
			t.Fatal("the send did not finish")
		}
	}
	t.Logf("%d rounds of CLI commands during the send", runs)
	if got := len(exportSubscribers(t, dir, "kokusai-koryu")); got != runs {
		t.Errorf("%d rows imported beside the send, want %d", got, runs)
	}
}
