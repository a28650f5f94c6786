package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
)

// cmdBounceNotABounce is `kawaraban bounce not-a-bounce ID`: staff judge a
// recorded bounce not a bounce; a suppression it caused is undone.
func cmdBounceNotABounce(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fs, ef := dbFlags("bounce not-a-bounce", stderr)
	by := fs.String("by", "cli", "who judges (kept with the bounce)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return badUsage("bounce not-a-bounce: give one bounce id")
	}
	id, err := strconv.ParseInt(fs.Arg(0), 10, 64)
	if err != nil || id <= 0 {
		return badUsage("bounce not-a-bounce: %q is not a bounce id", fs.Arg(0))
	}
	return withEnv(ctx, ef, stderr, func(e *env) error {
		// Undoing a suppression goes through the attribution to the
		// subscribers: the whole chain, with no mailbox read.
		m, err := newMailing(ctx, e, mailingOptions{})
		if err != nil {
			return err
		}
		defer m.Close()
		if err := m.bounces.MarkNotABounce(ctx, id, *by); err != nil {
			return inputErr(err)
		}
		fmt.Fprintf(stdout, "bounce %d marked not a bounce\n", id)
		return nil
	})
}
