package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"sort"
	"strings"
)

// ErrNotKawaraban reports a file that is a sound SQLite database but not one
// of ours: no schema version, or tables and columns our migrations did not
// make.
var ErrNotKawaraban = errors.New("not a kawaraban database")

// ErrCorrupt reports a database that fails SQLite's integrity check.
var ErrCorrupt = errors.New("database fails its integrity check")

// Verified is what Verify found in a sound database.
type Verified struct {
	// SchemaVersion is the database's PRAGMA user_version.
	SchemaVersion int
	// Tables is the number of tables our migrations made and the file has.
	Tables int
}

// Verify checks, without changing it, that the file at path is a kawaraban
// database this binary can open: SQLite's PRAGMA integrity_check answers
// "ok", its foreign keys hold, its schema version is one our migrations
// know, and it has every table and column those migrations make at that
// version. Restores use it before they replace anything.
func Verify(ctx context.Context, path string) (Verified, error) {
	var v Verified
	if err := checkPath(path, true); err != nil {
		return v, err
	}
	// mode=ro: the file is only read; a -wal beside it is read too.
	q := url.Values{}
	q.Set("mode", "ro")
	q.Set("_busy_timeout", "10000")
	db, err := sql.Open("sqlite3", "file:"+filepath.ToSlash(path)+"?"+q.Encode())
	if err != nil {
		return v, fmt.Errorf("opening %s: %w", path, err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	if err := probe(ctx, db, path); err != nil {
		return v, fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	if err := integrity(ctx, db, path); err != nil {
		return v, err
	}
	if v.SchemaVersion, err = SchemaVersion(ctx, db); err != nil {
		return v, fmt.Errorf("reading schema version of %s: %w", path, err)
	}
	switch latest := LatestVersion(); {
	case v.SchemaVersion == 0:
		return v, fmt.Errorf("%s: schema version 0: %w", path, ErrNotKawaraban)
	case v.SchemaVersion > latest:
		return v, fmt.Errorf("%s has schema version %d but this kawaraban knows only up to %d: %w",
			path, v.SchemaVersion, latest, ErrSchemaTooNew)
	}
	want, err := migratedSchema(ctx, v.SchemaVersion)
	if err != nil {
		return v, err
	}
	got, err := tableColumns(ctx, db)
	if err != nil {
		return v, fmt.Errorf("reading the schema of %s: %w", path, err)
	}
	if problems := compareSchema(want, got); len(problems) > 0 {
		return v, fmt.Errorf("%s: %s: %w", path, strings.Join(problems, "; "), ErrNotKawaraban)
	}
	v.Tables = len(want)
	return v, nil
}

// integrity runs PRAGMA integrity_check and PRAGMA foreign_key_check.
func integrity(ctx context.Context, db *sql.DB, path string) error {
	msgs, err := pragmaLines(ctx, db, "PRAGMA integrity_check(20)")
	if err != nil {
		return fmt.Errorf("%s: %w: %w", path, ErrCorrupt, err)
	}
	if len(msgs) != 1 || msgs[0] != "ok" {
		return fmt.Errorf("%s: %w: %s", path, ErrCorrupt, strings.Join(msgs, "; "))
	}
	var table string
	var rowid sql.NullInt64
	var parent string
	var fkid int
	err = db.QueryRowContext(ctx, "PRAGMA foreign_key_check").Scan(&table, &rowid, &parent, &fkid)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil
	case err != nil:
		return fmt.Errorf("%s: foreign key check: %w", path, err)
	}
	return fmt.Errorf("%s: %w: row %d of %s refers to a missing row of %s", path, ErrCorrupt, rowid.Int64, table, parent)
}

// migratedSchema builds the schema our migrations make at version in a
// private in-memory database and returns its tables and columns.
func migratedSchema(ctx context.Context, version int) (map[string][]string, error) {
	ms, err := Migrations()
	if err != nil {
		return nil, err
	}
	ref, err := sql.Open("sqlite3", "file::memory:?_foreign_keys=on")
	if err != nil {
		return nil, err
	}
	defer ref.Close()
	ref.SetMaxOpenConns(1) // one connection: one in-memory database
	for _, m := range ms[:version] {
		if _, err := ref.ExecContext(ctx, m.SQL); err != nil {
			return nil, fmt.Errorf("reference schema: migration %s: %w", m.Name, err)
		}
	}
	return tableColumns(ctx, ref)
}

// tableColumns lists each ordinary table with its column names.
func tableColumns(ctx context.Context, db *sql.DB) (map[string][]string, error) {
	rows, err := db.QueryContext(ctx,
		`SELECT m.name, p.name FROM sqlite_master AS m, pragma_table_info(m.name) AS p
		 WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' ORDER BY m.name, p.cid`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string][]string{}
	for rows.Next() {
		var table, col string
		if err := rows.Scan(&table, &col); err != nil {
			return nil, err
		}
		out[table] = append(out[table], col)
	}
	return out, rows.Err()
}

// compareSchema names each table or column of want that got lacks. Extra
// tables in got are allowed (an operator's own views or tables).
func compareSchema(want, got map[string][]string) []string {
	var problems []string
	for table, cols := range want {
		have, ok := got[table]
		if !ok {
			problems = append(problems, "no table "+table)
			continue
		}
		set := map[string]bool{}
		for _, c := range have {
			set[c] = true
		}
		for _, c := range cols {
			if !set[c] {
				problems = append(problems, "no column "+table+"."+c)
			}
		}
	}
	sort.Strings(problems)
	if len(problems) > 5 {
		problems = append(problems[:5], fmt.Sprintf("and %d more", len(problems)-5))
	}
	return problems
}
