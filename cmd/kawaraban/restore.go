package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"time"

	"kawaraban/cmd/internal/cli"
	"kawaraban/store"
)

// restore puts a backup (or a database restored from a replica) in the
// database's place: `kawaraban restore [--config FILE | --data DIR] FROM.db`.
// Unlike every other command it refuses to run beside a daemon, and it
// replaces nothing until the copy of FROM.db has passed store.Verify.
func restore(fs *flag.FlagSet) cli.Action {
	ef := dbFlags(fs)
	return func(ctx context.Context, c cli.Call) error {
		if len(c.Args) != 1 {
			return cli.Usagef("restore takes one FROM.db")
		}
		path, err := ef.DatabasePath()
		if err != nil {
			return sourceErr(err)
		}
		// Restoring onto a new machine: the data directory may not exist.
		if err := ef.MakeDataDir(); err != nil {
			return err
		}
		from := c.Args[0]
		r, err := store.Restore(ctx, from, path, time.Now())
		switch {
		case errors.Is(err, store.ErrBadSource), errors.Is(err, store.ErrCorrupt),
			errors.Is(err, store.ErrNotKawaraban), errors.Is(err, store.ErrSchemaTooNew):
			// No whole, sound kawaraban database: bad input.
			return cli.Usage(fmt.Errorf("restore: %w", err))
		case err != nil:
			return fmt.Errorf("restore: %w", err)
		}
		r.WriteText(c.Stdout, from, path)
		if ef.MissingTokenKey() {
			fmt.Fprintf(c.Stdout, "note: %s has no token.key: the next start makes a new one, and links in mail sent before stop working; copy token.key from the old data directory first\n", ef.DataDir)
		}
		return nil
	}
}
