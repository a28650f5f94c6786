package main

import (
	"context"
	"fmt"
	"io"

	"kawaraban/store"
)

// cmdBackup copies the live database with SQLite's online backup.
func cmdBackup(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlagSet("backup", io.Discard)
	var ef envFlags
	ef.register(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return badUsage("backup takes one OUT.db")
	}
	e, err := openEnv(ctx, ef, "", io.Discard)
	if err != nil {
		return err
	}
	defer e.Close()
	if err := store.Backup(ctx, e.db, fs.Arg(0)); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "backup written to %s\n", fs.Arg(0))
	return nil
}
