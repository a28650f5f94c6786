package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"kawaraban/cmd/internal/cli"
	"kawaraban/config"
	"kawaraban/localmail"
)

// localMail delivers one mail into the bounce mailbox of the local-mode
// daemon running on --data, as a citizen's mail would arrive there: an
// empty mail to <slug>-join@…, a mail to the List-Unsubscribe mailto
// address, a hand-written bounce (FILE with its own header). The mailbox
// lives in the daemon's memory, so the command appends over its IMAP port,
// recorded in DIR/local-imap.
func localMail(fs *flag.FlagSet) cli.Action {
	data := fs.String("data", "kawaraban-data", "local-mode data directory")
	from := fs.String("from", "", "envelope sender and From (required)")
	to := fs.String("to", "", "envelope recipient, e.g. shimin-katsudo-join@bounces.localhost (required)")
	subject := fs.String("subject", "", "subject, when FILE has no header of its own")
	return func(ctx context.Context, c cli.Call) error {
		if os.Getenv("KAWARABAN_CONFIG") != "" {
			return cli.Usagef("local mail works in local mode only; unset KAWARABAN_CONFIG")
		}
		if *from == "" || *to == "" || len(c.Args) > 1 {
			return cli.Usagef("local mail needs --from ADDR --to ADDR [--subject S] [FILE]")
		}
		var body []byte
		if len(c.Args) == 1 {
			var err error
			if body, err = cli.ReadInput(c.Args[0], c.Stdin, 10<<20); err != nil {
				return cli.Usage(err)
			}
		}
		raw, err := localmail.Inbound{From: *from, To: *to, Subject: *subject, Body: body}.Message()
		if err != nil {
			return cli.Usage(err)
		}
		ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		if err := localmail.AppendInbound(ctx, *data, localmail.Mailbox, localmail.MailboxPassword, raw); err != nil {
			return err
		}
		fmt.Fprintf(c.Stdout, "delivered to the local mailbox: %s → %s (%d bytes); the daemon reads it within %s\n",
			*from, *to, len(raw), config.Local(*data, "").IMAP.PollInterval.D())
		return nil
	}
}
