package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Issue 21: in local mode `kawaraban local mail` plays a citizen's mail.
// An empty mail to a join address produces the confirmation mail in
// captured/; the start-up banner says LOCAL MODE once and boxes the
// one-time password; without a daemon the command says so.
func TestAcceptanceLocalMail(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if res := runCLI(t, "", "local", "mail", "--data", dir, "--from", "a@example.jp", "--to", "shimin-katsudo-join@bounces.localhost"); res.Exit != 1 ||
		!strings.Contains(res.Stderr, "no local-mode daemon is running") {
		t.Errorf("without a daemon: exit %d, stderr %q", res.Exit, res.Stderr)
	}
	if res := runCLI(t, "", "local", "mail", "--data", dir, "--to", "x@bounces.localhost"); res.Exit != 2 {
		t.Errorf("without --from: exit %d, want 2", res.Exit)
	}

	d := startDaemon(t, dir)
	waitUntil(t, "the banner's closing line", func() bool { return strings.Count(d.out.String(), "+-") >= 2 })
	out := d.out.String()
	if n := strings.Count(out, "LOCAL MODE"); n != 1 {
		t.Errorf("LOCAL MODE printed %d times, want once:\n%s", n, out)
	}
	box := out[strings.Index(out, "+-"):]
	for _, want := range []string{"| LOCAL MODE: mail is captured in", "| first start: created user admin with one-time password ", "kawaraban user reset-password --login admin"} {
		if !strings.Contains(box, want) {
			t.Errorf("banner lacks %q:\n%s", want, box)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "local-imap")); err != nil {
		t.Fatalf("the daemon did not record its mailbox address: %v", err)
	}

	res := mustCLI(t, "local", "mail", "--data", dir, "--from", "a@example.jp", "--to", "shimin-katsudo-join@bounces.localhost")
	if !strings.Contains(res.Stdout, "delivered to the local mailbox") {
		t.Errorf("stdout %q", res.Stdout)
	}
	waitUntil(t, "a confirmation mail to a@example.jp in captured/", func() bool {
		for _, m := range mailsTo(readCaptured(t, dir), "a@example.jp", "") {
			if confirmLinkRe.MatchString(m.Parts["text/plain"]) {
				return true
			}
		}
		return false
	})
	if st := exportSubscribers(t, dir, "shimin-katsudo")["a@example.jp"]["status"]; st != "unconfirmed" {
		t.Errorf("a@example.jp after the empty mail: %q, want unconfirmed", st)
	}

	// A hand-written body with its own header is delivered as it is: a
	// reply with a Japanese subject to the join address joins too.
	body := filepath.Join(dir, "mail.txt")
	os.WriteFile(body, []byte("From: b@example.jp\nTo: kankyo-hozen-join@bounces.localhost\nSubject: =?UTF-8?B?55m76Yyy?=\n\n登録します\n"), 0o600)
	mustCLI(t, "local", "mail", "--data", dir, "--from", "b@example.jp", "--to", "kankyo-hozen-join@bounces.localhost", body)
	waitUntil(t, "a confirmation mail to b@example.jp", func() bool {
		return len(mailsTo(readCaptured(t, dir), "b@example.jp", "")) > 0
	})
}
