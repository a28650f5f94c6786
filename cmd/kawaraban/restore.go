package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"kawaraban/config"
	"kawaraban/store"
)

// cmdRestore puts a backup (or a database restored from a replica) in the
// database's place: `kawaraban restore [--config FILE | --data DIR] FROM.db`.
// Unlike every other command it refuses to run beside a daemon, and it
// replaces nothing until the copy of FROM.db has passed store.Verify.
func cmdRestore(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, ef := dbFlags("restore", stderr)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return badUsage("restore takes one FROM.db")
	}
	path := filepath.Join(ef.data, "kawaraban.db")
	if ef.config != "" {
		cfg, err := config.Load(ef.config)
		if err != nil {
			return usageError{fmt.Errorf("config %s:\n%s", ef.config, problemLines(err))}
		}
		path = cfg.Database.Path
	} else if err := os.MkdirAll(ef.data, 0o750); err != nil {
		// Restoring onto a new machine: the data directory may not exist.
		return fmt.Errorf("data directory %s: %w", ef.data, err)
	}
	if err := restoreDatabase(ctx, fs.Arg(0), path, time.Now(), stdout); err != nil {
		return err
	}
	if ef.config == "" {
		if _, err := os.Stat(filepath.Join(ef.data, "token.key")); err != nil {
			fmt.Fprintf(stdout, "note: %s has no token.key: the next start makes a new one, and links in mail sent before stop working; copy token.key from the old data directory first\n", ef.data)
		}
	}
	return nil
}

// restoreDatabase runs store.Restore and reports what it did; a source
// that is no whole, sound kawaraban database exits 2.
func restoreDatabase(ctx context.Context, from, path string, now time.Time, stdout io.Writer) error {
	r, err := store.Restore(ctx, from, path, now)
	switch {
	case errors.Is(err, store.ErrBadSource), errors.Is(err, store.ErrCorrupt),
		errors.Is(err, store.ErrNotKawaraban), errors.Is(err, store.ErrSchemaTooNew):
		return usageError{fmt.Errorf("restore: %w", err)}
	case err != nil:
		return fmt.Errorf("restore: %w", err)
	}
	fmt.Fprintf(stdout, "restored %s to %s (schema version %d, integrity ok, %d tables checked)\n", from, path, r.SchemaVersion, r.Tables)
	if latest := store.LatestVersion(); r.SchemaVersion < latest {
		fmt.Fprintf(stdout, "the next start migrates it from schema version %d to %d\n", r.SchemaVersion, latest)
	}
	if r.Kept != "" {
		fmt.Fprintf(stdout, "the database it replaced is kept at %s (delete it when the restore is confirmed)\n", r.Kept)
	}
	return nil
}
