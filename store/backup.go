package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"

	sqlite3 "github.com/mattn/go-sqlite3"
)

// Backup copies the live database db into a new file at out using SQLite's
// online backup API, so it is safe while the daemon writes. It refuses to
// overwrite an existing file.
func Backup(ctx context.Context, db *sql.DB, out string) error {
	if _, err := os.Stat(out); err == nil {
		return fmt.Errorf("backup %s: file exists (refusing to overwrite)", out)
	}
	// The copy holds personal data and password hashes: owner only.
	f, err := os.OpenFile(out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("backup %s: %w", out, err)
	}
	f.Close()
	dst, err := sql.Open("sqlite3", "file:"+out+"?_busy_timeout=10000")
	if err != nil {
		return fmt.Errorf("backup %s: %w", out, err)
	}
	defer dst.Close()
	dconn, err := dst.Conn(ctx)
	if err != nil {
		return fmt.Errorf("backup %s: %w", out, err)
	}
	defer dconn.Close()
	sconn, err := db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("backup: source: %w", err)
	}
	defer sconn.Close()
	err = dconn.Raw(func(dc any) error {
		return sconn.Raw(func(sc any) error {
			d, ok1 := dc.(*sqlite3.SQLiteConn)
			s, ok2 := sc.(*sqlite3.SQLiteConn)
			if !ok1 || !ok2 {
				return errors.New("not a sqlite3 connection")
			}
			b, err := d.Backup("main", s, "main")
			if err != nil {
				return err
			}
			for {
				// 256 pages a step lets writers in between steps.
				done, err := b.Step(256)
				if err != nil {
					b.Finish()
					return err
				}
				if done {
					return b.Finish()
				}
				if ctx.Err() != nil {
					b.Finish()
					return ctx.Err()
				}
			}
		})
	})
	if err != nil {
		os.Remove(out)
		return fmt.Errorf("backup %s: %w", out, err)
	}
	return nil
}
