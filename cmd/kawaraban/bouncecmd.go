package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strconv"

	"kawaraban/bounces/classify"
	"kawaraban/cmd/internal/cli"
)

// bounceClassify prints one line per failed recipient of each FILE: JSON
// objects with --json, else tab-separated. The files that could not be
// read or parsed exit 2, after the others are printed.
func bounceClassify(fs *flag.FlagSet) cli.Action {
	asJSON := fs.Bool("json", false, "print JSON lines")
	return func(_ context.Context, c cli.Call) error {
		if len(c.Args) == 0 {
			return cli.Usagef("bounce classify needs at least one FILE")
		}
		err := classify.WriteFiles(c.Stdout, c.Args, *asJSON)
		var fe *classify.FileError
		if errors.As(err, &fe) {
			return cli.Usage(err)
		}
		return err
	}
}

// bounceNotABounce is `kawaraban bounce not-a-bounce ID`: staff judge a
// recorded bounce not a bounce; a suppression it caused is undone.
func bounceNotABounce(fs *flag.FlagSet) cli.Action {
	ef := dbFlags(fs)
	by := fs.String("by", "cli", "who judges (kept with the bounce)")
	return func(ctx context.Context, c cli.Call) error {
		if len(c.Args) != 1 {
			return cli.Usagef("bounce not-a-bounce: give one bounce id")
		}
		id, err := strconv.ParseInt(c.Args[0], 10, 64)
		if err != nil || id <= 0 {
			return cli.Usagef("bounce not-a-bounce: %q is not a bounce id", c.Args[0])
		}
		return withEnv(ctx, ef, c, func(e *env) error {
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
			fmt.Fprintf(c.Stdout, "bounce %d marked not a bounce\n", id)
			return nil
		})
	}
}
