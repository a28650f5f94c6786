//go:build unix

package store

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// Lock takes the exclusive lock beside the database at path (path.lock)
// that a running daemon holds, so that a second daemon, or a restore, on
// the same database refuses instead of working beside it: two outboxes
// would requeue each other's in-flight deliveries. It fails with ErrLocked
// when another process holds it. Commands other than serve and restore do
// not take it; they work beside a running daemon.
func Lock(path string) (unlock func(), err error) {
	lock := path + ".lock"
	f, err := os.OpenFile(lock, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock file %s: %w", lock, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("another kawaraban serve is already running on %s (lock %s is held): %w", path, lock, ErrLocked)
	}
	return func() { f.Close() }, nil
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
