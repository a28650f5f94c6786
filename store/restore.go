package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"
)

// ErrLocked reports a database whose lock a running daemon holds.
var ErrLocked = errors.New("database in use")

// ErrBadSource reports a restore source that is not a whole database file:
// missing, not a regular file, the database itself, or with a write-ahead
// log beside it. Restore also returns Verify's ErrCorrupt, ErrNotKawaraban
// and ErrSchemaTooNew for a file that fails its check.
var ErrBadSource = errors.New("cannot restore from this file")

// Restored is what Restore did.
type Restored struct {
	// SchemaVersion and Tables are what Verify found in the copy.
	SchemaVersion, Tables int
	// Kept is where the database it replaced now is ("" when there was
	// none).
	Kept string
}

// Restore puts a checked copy of the database file from (a backup, or a
// database restored from a replica) in the place of the database at path.
// It takes the daemon's lock (ErrLocked beside a running daemon) and
// replaces nothing until the copy has passed Verify. The old database,
// with its -wal, is kept beside it under a name with now's time; its -shm
// is removed (SQLite rebuilds it). Run as root, the new files take the
// owner of the database's directory, so that the daemon's user can open
// them.
func Restore(ctx context.Context, from, path string, now time.Time) (Restored, error) {
	if err := checkSource(from, path); err != nil {
		return Restored{}, err
	}
	if _, err := os.Stat(filepath.Dir(path)); err != nil {
		return Restored{}, fmt.Errorf("database directory: %w", err)
	}
	unlock, err := Lock(path)
	if err != nil {
		return Restored{}, fmt.Errorf("refusing to replace a database in use: %w; stop the daemon first (systemctl stop kawaraban)", err)
	}
	defer unlock()

	tmp := path + ".restoring"
	removeDB(tmp) // a restore that failed half-way
	if err := copyFile(from, tmp); err != nil {
		removeDB(tmp)
		return Restored{}, fmt.Errorf("copying %s: %w", from, err)
	}
	for _, p := range []string{tmp, path + ".lock"} {
		if err := ownLikeDir(p); err != nil {
			removeDB(tmp)
			return Restored{}, err
		}
	}
	v, err := Verify(ctx, tmp)
	if err != nil {
		removeDB(tmp)
		return Restored{}, fmt.Errorf("%s failed its check (as copied to %s); nothing was replaced: %w", from, tmp, err)
	}
	// Verify opened the copy read-only; what it left beside it is empty.
	os.Remove(tmp + "-wal")
	os.Remove(tmp + "-shm")

	kept, err := moveAside(path, now)
	if err != nil {
		removeDB(tmp)
		return Restored{}, err
	}
	if err := os.Rename(tmp, path); err != nil {
		return Restored{}, fmt.Errorf("putting the copy in place (the old database is at %s): %w", kept, err)
	}
	if err := syncDir(filepath.Dir(path)); err != nil {
		return Restored{}, err
	}
	return Restored{SchemaVersion: v.SchemaVersion, Tables: v.Tables, Kept: kept}, nil
}

// checkSource refuses a source that is not one whole database file.
func checkSource(from, path string) error {
	st, err := os.Stat(from)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrBadSource, err)
	}
	if !st.Mode().IsRegular() {
		return fmt.Errorf("%w: %s is not a file", ErrBadSource, from)
	}
	if cur, err := os.Stat(path); err == nil && os.SameFile(st, cur) {
		return fmt.Errorf("%w: %s is the database itself", ErrBadSource, from)
	}
	// Committed transactions may still sit in FROM.db-wal: a copy of the
	// main file alone would silently lose them.
	if w, err := os.Stat(from + "-wal"); err == nil && w.Size() > 0 {
		return fmt.Errorf("%w: %s has a write-ahead log beside it (%s-wal), so the file alone is not the whole database; "+
			"restore from `kawaraban backup` output or a `litestream restore`, or open and close it with sqlite3 first", ErrBadSource, from, from)
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
