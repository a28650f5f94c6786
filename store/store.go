// Package store is the one place that opens kawaraban's SQLite database.
//
// It sets the connection pragmas (WAL, foreign keys, busy timeout, immediate
// write transactions), applies the numbered migrations embedded in the
// binary, each in its own transaction, refuses a database whose schema is
// newer than this binary knows, and takes online backups. It owns no domain
// tables: each domain package owns its tables and its SQL, and its DDL lives
// here in migrations/NNNN_<owner>.sql so that the order of all schema changes
// is one list. Health watches the database at run time (quick_check,
// corrupt pages, a full disk).
//
// Concurrency: one *sql.DB with a small pool. Readers run in parallel under
// WAL; writers are serialised by SQLite itself. Every transaction begins
// IMMEDIATE (the _txlock=immediate DSN option), so a writer takes the write
// lock at BEGIN and waits up to the busy timeout for it instead of failing
// with SQLITE_BUSY when a read transaction tries to upgrade. This is the
// documented alternative to a single writer connection: it keeps reads
// concurrent and never deadlocks.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"time"

	sqlite3 "github.com/mattn/go-sqlite3"
)

// ErrSchemaTooNew reports a database written by a newer kawaraban.
var ErrSchemaTooNew = errors.New("database schema is newer than this kawaraban")

// Options tunes Open. The zero value is the production default.
type Options struct {
	// BusyTimeout is how long a statement waits for a lock (default 10s).
	BusyTimeout time.Duration
	// MaxOpenConns caps the pool (default 8).
	MaxOpenConns int
	// ReadOnly opens without migrating and without write access; used by
	// commands that only read beside a running daemon.
	ReadOnly bool
}

// Open opens (creating if needed) the database at path and migrates it to
// the newest schema. A file that is not a SQLite database, or one whose
// schema is newer than this binary knows, is refused and left untouched.
func Open(ctx context.Context, path string, opt Options) (*sql.DB, error) {
	if opt.BusyTimeout == 0 {
		opt.BusyTimeout = 10 * time.Second
	}
	if opt.MaxOpenConns == 0 {
		opt.MaxOpenConns = 8
	}
	if err := checkPath(path, opt.ReadOnly); err != nil {
		return nil, err
	}
	db, err := sql.Open("sqlite3", dsn(path, opt))
	if err != nil {
		return nil, fmt.Errorf("opening database %s: %w", path, err)
	}
	db.SetMaxOpenConns(opt.MaxOpenConns)
	db.SetMaxIdleConns(opt.MaxOpenConns)
	db.SetConnMaxIdleTime(0)
	if err := probe(ctx, db, path); err != nil {
		db.Close()
		return nil, err
	}
	if opt.ReadOnly {
		if err := checkVersion(ctx, db, path); err != nil {
			db.Close()
			return nil, err
		}
		return db, nil
	}
	if err := Migrate(ctx, db); err != nil {
		db.Close()
		return nil, fmt.Errorf("migrating database %s: %w", path, err)
	}
	return db, nil
}

func dsn(path string, opt Options) string {
	q := url.Values{}
	q.Set("_busy_timeout", fmt.Sprint(opt.BusyTimeout.Milliseconds()))
	q.Set("_foreign_keys", "on")
	q.Set("_synchronous", "NORMAL")
	q.Set("_txlock", "immediate")
	// Reuse compiled statements per connection: the subscribe path runs
	// the same ten statements per request (docs/BENCHMARKS.md: ~20 % CPU).
	q.Set("_stmt_cache_size", "64")
	// Deleted rows are overwritten with zeros, so an erased subscriber's
	// address does not linger in free pages of the file (issue 17;
	// docs/subscribers.md).
	q.Set("_secure_delete", "on")
	if opt.ReadOnly {
		q.Set("mode", "ro")
	} else {
		q.Set("_journal_mode", "WAL")
	}
	return "file:" + filepath.ToSlash(path) + "?" + q.Encode()
}

// checkPath gives a one-line error naming the path when the database cannot
// be created or opened, before SQLite reports something vaguer.
func checkPath(path string, readOnly bool) error {
	st, err := os.Stat(path)
	switch {
	case err == nil && st.IsDir():
		return fmt.Errorf("database %s: is a directory", path)
	case err == nil:
		return checkWritable(path, readOnly)
	case !errors.Is(err, os.ErrNotExist):
		return fmt.Errorf("database %s: %w", path, err)
	case readOnly:
		return fmt.Errorf("database %s: does not exist", path)
	}
	// Create the file here, 0600: SQLite would create it with the umask
	// (often 0644), and it holds addresses, password hashes and sessions.
	// The -wal and -shm files take the main file's mode.
	dir := filepath.Dir(path)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return nil // another process made it first
	}
	if err != nil {
		return fmt.Errorf("database directory %s is not writable: %w", dir, err)
	}
	return f.Close()
}

// checkWritable says plainly when an existing database cannot be written:
// SQLite would report "unable to open database file: no such file or
// directory" when it cannot create the -wal and -shm files beside it.
// A read-only open needs the directory only when no -shm file exists.
func checkWritable(path string, readOnly bool) error {
	dir := filepath.Dir(path)
	if !readOnly {
		if err := writable(path); err != nil {
			return fmt.Errorf("database %s is read-only (%w): kawaraban needs to write it", path, err)
		}
	}
	if _, err := os.Stat(path + "-shm"); readOnly && err == nil {
		return nil
	}
	if err := writable(dir); err != nil {
		return fmt.Errorf("database directory %s is read-only (%w): SQLite needs to create %s-wal and -shm there",
			dir, err, filepath.Base(path))
	}
	return nil
}

// probe reads the schema once so that a corrupt or foreign file fails here
// with its path, not later in some query.
func probe(ctx context.Context, db *sql.DB, path string) error {
	var n int
	err := db.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_master").Scan(&n)
	if err != nil {
		var se sqlite3.Error
		if errors.As(err, &se) && (se.Code == sqlite3.ErrNotADB || se.Code == sqlite3.ErrCorrupt) {
			return fmt.Errorf("database %s is not a SQLite database or is corrupt (left untouched): %w", path, err)
		}
		return fmt.Errorf("opening database %s: %w", path, err)
	}
	return nil
}

// Ping checks that the database answers a query; /healthz uses it.
func Ping(ctx context.Context, db *sql.DB) error {
	var one int
	return db.QueryRowContext(ctx, "SELECT 1").Scan(&one)
}

// Optimize lets SQLite refresh its query planner statistics (PRAGMA
// optimize); the daemon's hourly housekeeping runs it.
func Optimize(ctx context.Context, db *sql.DB) error {
	_, err := db.ExecContext(ctx, "PRAGMA optimize")
	return err
}
