package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"kawaraban/config"
	"kawaraban/localmail"
)

// cmdLocalMail delivers one mail into the bounce mailbox of the local-mode
// daemon running on --data, as a citizen's mail would arrive there: an
// empty mail to <slug>-join@…, a mail to the List-Unsubscribe mailto
// address, a hand-written bounce (FILE with its own header). The mailbox
// lives in the daemon's memory, so the command appends over its IMAP port,
// recorded in DIR/local-imap.
func cmdLocalMail(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlagSet("local mail", stderr)
	data := fs.String("data", "kawaraban-data", "local-mode data directory")
	from := fs.String("from", "", "envelope sender and From (required)")
	to := fs.String("to", "", "envelope recipient, e.g. shimin-katsudo-join@bounces.localhost (required)")
	subject := fs.String("subject", "", "subject, when FILE has no header of its own")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if os.Getenv("KAWARABAN_CONFIG") != "" {
		return badUsage("local mail works in local mode only; unset KAWARABAN_CONFIG")
	}
	if *from == "" || *to == "" || fs.NArg() > 1 {
		return badUsage("local mail needs --from ADDR --to ADDR [--subject S] [FILE]")
	}
	var body []byte
	if fs.NArg() == 1 {
		var err error
		if fs.Arg(0) == "-" {
			body, err = io.ReadAll(io.LimitReader(stdin, 10<<20))
		} else {
			body, err = os.ReadFile(fs.Arg(0))
		}
		if err != nil {
			return usageError{err}
		}
	}
	raw, err := localmail.Inbound{From: *from, To: *to, Subject: *subject, Body: body}.Message()
	if err != nil {
		return usageError{err}
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := localmail.AppendInbound(ctx, *data, localmail.Mailbox, localmail.MailboxPassword, raw); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "delivered to the local mailbox: %s → %s (%d bytes); the daemon reads it within %s\n",
		*from, *to, len(raw), config.Local(*data, "").IMAP.PollInterval.D())
	return nil
}

// removeIMAPAddr forgets the mailbox address when the daemon stops.
func removeIMAPAddr(dir string) {
	_ = os.Remove(filepath.Join(dir, localmail.IMAPAddrFile))
}

// localBanner is the block local mode prints once on stdout at start: where
// it listens, that mail is captured, and the first admin's one-time
// password when it was just created.
func localBanner(baseURL, dataDir, password string) string {
	lines := []string{"LOCAL MODE: mail is captured in " + filepath.Join(dataDir, "captured") + ", NOT delivered"}
	if password != "" {
		lines = append(lines, "first start: created user admin with one-time password "+password,
			"log in at "+baseURL+"/admin/login and choose a new password;",
			"this password is shown only once (lost it? kawaraban user reset-password --login admin)")
	}
	// Last, so that whoever waits for it has read the lines above.
	lines = append(lines, "kawaraban listening on "+baseURL)
	w := 0
	for _, l := range lines {
		w = max(w, len(l))
	}
	var b strings.Builder
	b.WriteString("+" + strings.Repeat("-", w+2) + "+\n")
	for _, l := range lines {
		b.WriteString("| " + l + strings.Repeat(" ", w-len(l)) + " |\n")
	}
	b.WriteString("+" + strings.Repeat("-", w+2) + "+\n")
	return b.String()
}
