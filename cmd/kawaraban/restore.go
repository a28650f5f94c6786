package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"kawaraban/config"
	"kawaraban/store"
)

// cmdRestore puts a backup (or a database restored from a replica) in the
// database's place: `kawaraban restore [--config FILE | --data DIR] FROM.db`.
// Unlike every other command it refuses to run beside a daemon, and it
// replaces nothing until the copy of FROM.db has passed store.Verify.
func cmdRestore(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("restore", stderr)
	var ef envFlags
	ef.register(fs)
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

// restoreDatabase replaces the database at path with a checked copy of
// from. The old database, with its -wal, is kept beside it under a
// timestamped name; its -shm is removed (SQLite rebuilds it).
func restoreDatabase(ctx context.Context, from, path string, now time.Time, stdout io.Writer) error {
	st, err := os.Stat(from)
	if err != nil {
		return usageError{fmt.Errorf("restore: %w", err)}
	}
	if !st.Mode().IsRegular() {
		return badUsage("restore: %s is not a file", from)
	}
	if cur, err := os.Stat(path); err == nil && os.SameFile(st, cur) {
		return badUsage("restore: %s is the database itself", from)
	}
	// Committed transactions may still sit in FROM.db-wal: a copy of the
	// main file alone would silently lose them.
	if w, err := os.Stat(from + "-wal"); err == nil && w.Size() > 0 {
		return badUsage("restore: %s has a write-ahead log beside it (%s-wal), so the file alone is not the whole database; "+
			"restore from `kawaraban backup` output or a `litestream restore`, or open and close it with sqlite3 first", from, from)
	}
	if _, err := os.Stat(filepath.Dir(path)); err != nil {
		return fmt.Errorf("restore: database directory: %w", err)
	}
	// The daemon holds this lock while it runs; holding it here also keeps
	// a daemon from starting in the middle of the restore.
	unlock, err := lockDaemon(path)
	if err != nil {
		return fmt.Errorf("restore: refusing to replace a database in use: %w; stop the daemon first (systemctl stop kawaraban)", err)
	}
	defer unlock()

	tmp := path + ".restoring"
	removeDB(tmp) // a restore that failed half-way
	if err := copyFile(from, tmp); err != nil {
		removeDB(tmp)
		return fmt.Errorf("restore: copying %s: %w", from, err)
	}
	// Run as root, the files would be root's and the daemon's user could
	// not open them: they take the owner of the database's directory.
	for _, p := range []string{tmp, path + ".lock"} {
		if err := ownLikeDir(p); err != nil {
			removeDB(tmp)
			return fmt.Errorf("restore: %w", err)
		}
	}
	v, err := store.Verify(ctx, tmp)
	if err != nil {
		removeDB(tmp)
		if errors.Is(err, store.ErrCorrupt) || errors.Is(err, store.ErrNotKawaraban) || errors.Is(err, store.ErrSchemaTooNew) {
			return usageError{fmt.Errorf("restore: %s failed its check (as copied to %s); nothing was replaced: %w", from, tmp, err)}
		}
		return fmt.Errorf("restore: checking %s: %w", from, err)
	}
	// Verify opened the copy read-only; what it left beside it is empty.
	os.Remove(tmp + "-wal")
	os.Remove(tmp + "-shm")

	kept, err := moveAside(path, now)
	if err != nil {
		removeDB(tmp)
		return fmt.Errorf("restore: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("restore: putting the copy in place (the old database is at %s): %w", kept, err)
	}
	if err := syncDir(filepath.Dir(path)); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	fmt.Fprintf(stdout, "restored %s to %s (schema version %d, integrity ok, %d tables checked)\n", from, path, v.SchemaVersion, v.Tables)
	if latest := store.LatestVersion(); v.SchemaVersion < latest {
		fmt.Fprintf(stdout, "the next start migrates it from schema version %d to %d\n", v.SchemaVersion, latest)
	}
	if kept != "" {
		fmt.Fprintf(stdout, "the database it replaced is kept at %s (delete it when the restore is confirmed)\n", kept)
	}
	return nil
}

// moveAside renames the database at path and its -wal to a timestamped
// name and removes its -shm, so that neither file is read as part of the
// restored one. It returns the new name, or "" when there was no database.
func moveAside(path string, now time.Time) (string, error) {
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		// A -wal without its database belongs to nothing; SQLite would
		// apply it to the restored file.
		for _, suffix := range []string{"-wal", "-shm"} {
			if err := os.Remove(path + suffix); err != nil && !errors.Is(err, os.ErrNotExist) {
				return "", err
			}
		}
		return "", nil
	}
	kept := path + ".before-restore-" + now.UTC().Format("20060102T150405Z")
	if err := os.Rename(path, kept); err != nil {
		return "", fmt.Errorf("moving the old database aside: %w", err)
	}
	if err := os.Rename(path+"-wal", kept+"-wal"); err != nil && !errors.Is(err, os.ErrNotExist) {
		return kept, fmt.Errorf("moving the old database's -wal aside: %w", err)
	}
	if err := os.Remove(path + "-shm"); err != nil && !errors.Is(err, os.ErrNotExist) {
		return kept, fmt.Errorf("removing the old database's -shm: %w", err)
	}
	return kept, nil
}

// copyFile copies from to a new file to (mode 0600: it holds personal
// data) and syncs it.
func copyFile(from, to string) error {
	src, err := os.Open(from)
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(dst, src); err != nil {
		dst.Close()
		return err
	}
	if err := dst.Sync(); err != nil {
		dst.Close()
		return err
	}
	return dst.Close()
}

// ownLikeDir gives path the owner and group of its directory when this
// process runs as root (a no-op otherwise, and when they already match).
func ownLikeDir(path string) error {
	if os.Geteuid() != 0 {
		return nil
	}
	st, err := os.Stat(filepath.Dir(path))
	if err != nil {
		return err
	}
	sys, ok := st.Sys().(*syscall.Stat_t)
	if !ok {
		return nil
	}
	if err := os.Chown(path, int(sys.Uid), int(sys.Gid)); err != nil {
		return fmt.Errorf("giving %s to the owner of its directory: %w", path, err)
	}
	return nil
}

// removeDB removes a database file with its -wal and -shm.
func removeDB(path string) {
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		os.Remove(p)
	}
}

// syncDir makes the renames in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("syncing %s: %w", dir, err)
	}
	return nil
}
