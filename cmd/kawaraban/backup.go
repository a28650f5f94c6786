package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"kawaraban/config"
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
	// Opening a database creates it: a mistyped --data (or database.path)
	// would otherwise "back up" a new, empty database and exit 0.
	path := filepath.Join(ef.data, "kawaraban.db")
	if ef.config != "" {
		if cfg, err := config.Load(ef.config); err == nil {
			path = cfg.Database.Path
		} else {
			path = "" // openEnv reports the config's problems
		}
	}
	if path != "" {
		if _, err := os.Stat(path); err != nil {
			return badUsage("no database to back up at %s (check --data or database.path)", path)
		}
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
