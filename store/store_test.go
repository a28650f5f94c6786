package store

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestOpenFreshMigratesToLatest(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "k.db")
	db, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	v, err := SchemaVersion(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	if v != LatestVersion() || v == 0 {
		t.Fatalf("version %d, want %d", v, LatestVersion())
	}
	var mode string
	if err := db.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Fatalf("journal_mode %q %v, want wal", mode, err)
	}
	var fk int
	if err := db.QueryRow("PRAGMA foreign_keys").Scan(&fk); err != nil || fk != 1 {
		t.Fatalf("foreign_keys %d %v", fk, err)
	}
}

func TestUpgradeFromOlderVersion(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "k.db")
	// A database made by an older kawaraban: only migration 1 applied.
	old, err := sql.Open("sqlite3", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	ms, err := Migrations()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := old.Exec(ms[0].SQL + "; PRAGMA user_version = 1"); err != nil {
		t.Fatal(err)
	}
	old.Exec("INSERT INTO meta(key, value) VALUES ('kept', 'yes')")
	old.Close()
	db, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatalf("upgrade: %v", err)
	}
	defer db.Close()
	if v, _ := SchemaVersion(ctx, db); v != LatestVersion() || v < 2 {
		t.Fatalf("version %d after upgrade, want %d", v, LatestVersion())
	}
	var kept string
	if err := db.QueryRow("SELECT value FROM meta WHERE key = 'kept'").Scan(&kept); err != nil || kept != "yes" {
		t.Fatalf("data from before the upgrade: %q %v", kept, err)
	}
	var n int
	if err := db.QueryRow("SELECT count(*) FROM sqlite_master WHERE name = 'deliveries'").Scan(&n); err != nil || n != 1 {
		t.Fatalf("later migrations not applied: %d %v", n, err)
	}
}

func TestMigrationsNumberedWithoutGaps(t *testing.T) {
	t.Parallel()
	ms, err := Migrations()
	if err != nil {
		t.Fatal(err)
	}
	for i, m := range ms {
		if m.Version != i+1 {
			t.Errorf("%s has version %d, want %d", m.Name, m.Version, i+1)
		}
	}
}

func TestNewerSchemaRefusedAndUntouched(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "k.db")
	db, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("PRAGMA user_version = 9999"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	before, _ := os.ReadFile(path)
	_, err = Open(ctx, path, Options{})
	if !errors.Is(err, ErrSchemaTooNew) {
		t.Fatalf("err = %v, want ErrSchemaTooNew", err)
	}
	if !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "9999") {
		t.Errorf("error should name the path and version: %v", err)
	}
	after, _ := os.ReadFile(path)
	if !bytes.Equal(before, after) {
		t.Error("database file changed")
	}
}

func TestCorruptFileRefusedAndUntouched(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "k.db")
	junk := bytes.Repeat([]byte("this is not sqlite "), 400)
	os.WriteFile(path, junk, 0o600)
	_, err := Open(context.Background(), path, Options{})
	if err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("err = %v, want one naming %s", err, path)
	}
	after, _ := os.ReadFile(path)
	if !bytes.Equal(junk, after) {
		t.Error("corrupt file was changed")
	}
}

func TestUnwritableDirectory(t *testing.T) {
	t.Parallel()
	if os.Geteuid() == 0 {
		t.Skip("root can write anywhere; covered by the missing-directory case")
	}
	dir := t.TempDir()
	os.Chmod(dir, 0o500)
	defer os.Chmod(dir, 0o700)
	_, err := Open(context.Background(), filepath.Join(dir, "k.db"), Options{})
	if err == nil || !strings.Contains(err.Error(), dir) {
		t.Fatalf("err = %v", err)
	}
}

func TestMissingDirectory(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "nope")
	_, err := Open(context.Background(), filepath.Join(dir, "k.db"), Options{})
	if err == nil || !strings.Contains(err.Error(), dir) {
		t.Fatalf("err = %v", err)
	}
}

func TestBackupWhileOpen(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	db, err := Open(ctx, filepath.Join(dir, "k.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec("INSERT INTO meta(key, value) VALUES ('x', 'y')"); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out.db")
	if err := Backup(ctx, db, out); err != nil {
		t.Fatal(err)
	}
	b, err := Open(ctx, out, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	var v string
	if err := b.QueryRow("SELECT value FROM meta WHERE key='x'").Scan(&v); err != nil || v != "y" {
		t.Fatalf("backup content %q %v", v, err)
	}
	if err := Backup(ctx, db, out); err == nil {
		t.Fatal("backup overwrote an existing file")
	}
}
