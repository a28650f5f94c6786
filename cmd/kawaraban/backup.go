package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"kawaraban/cmd/internal/cli"
	"kawaraban/store"
)

// backup copies the live database with SQLite's online backup.
func backup(ctx context.Context, c cli.Call) error {
	fs := cli.NewFlagSet("backup", io.Discard)
	ef := dbFlags(fs)
	if err := cli.Parse(fs, c.Args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return cli.Usagef("backup takes one OUT.db")
	}
	// Opening a database creates it: a mistyped --data (or database.path)
	// would otherwise "back up" a new, empty database and exit 0. A config
	// that does not load is reported by openEnv.
	if path, err := ef.DatabasePath(); err == nil {
		if _, err := os.Stat(path); err != nil {
			return cli.Usagef("no database to back up at %s (check --data or database.path)", path)
		}
	}
	e, err := openEnv(ctx, *ef, "", io.Discard)
	if err != nil {
		return err
	}
	defer e.Close()
	if err := store.Backup(ctx, e.db, fs.Arg(0)); err != nil {
		return err
	}
	fmt.Fprintf(c.Stdout, "backup written to %s\n", fs.Arg(0))
	return nil
}
