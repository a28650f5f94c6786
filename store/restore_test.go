package store

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// makeDB makes a migrated database at path holding meta row key=value,
// closed so the file alone holds it.
func makeDB(t *testing.T, path, value string) {
	t.Helper()
	db, err := Open(context.Background(), path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("INSERT INTO meta(key, value) VALUES ('which', ?)", value); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
}

// liveDB makes the database a daemon would leave after a crash: the main
// file plus a -wal holding a committed row the main file lacks, and a -shm.
func liveDB(t *testing.T, path, value string) {
	t.Helper()
	src := filepath.Join(t.TempDir(), "live.db")
	makeDB(t, src, "checkpointed")
	db, err := sql.Open("sqlite3", "file:"+src+"?_journal_mode=WAL")
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	if _, err := db.Exec("PRAGMA wal_autocheckpoint=0"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("UPDATE meta SET value = ? WHERE key = 'which'", value); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"", "-wal"} {
		b, err := os.ReadFile(src + s)
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(path+s, b, 0o600)
	}
	os.WriteFile(path+"-shm", bytes.Repeat([]byte{1}, 32768), 0o600)
	db.Close()
}

// metaValue reads meta 'which' from the database at path.
func metaValue(t *testing.T, path string) string {
	t.Helper()
	db, err := Open(context.Background(), path, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var v string
	if err := db.QueryRow("SELECT value FROM meta WHERE key = 'which'").Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestRestoreReplacesDatabaseAndItsWAL(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	target := filepath.Join(dir, "kawaraban.db")
	liveDB(t, target, "old, only in the wal")
	if got := metaValue(t, target); got != "old, only in the wal" {
		t.Fatalf("setup: old database reads %q", got)
	}
	liveDB(t, target, "old, only in the wal") // metaValue checkpointed it
	from := filepath.Join(t.TempDir(), "backup.db")
	makeDB(t, from, "restored")

	r, err := Restore(context.Background(), from, target, time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatalf("restore: %v", err)
	}
	if got := metaValue(t, target); got != "restored" {
		t.Errorf("after restore the database reads %q, want the backup's value (the old -wal must not be applied)", got)
	}
	kept := r.Kept
	if want := target + ".before-restore-20261204T120000Z"; kept != want {
		t.Errorf("old database kept at %q, want %q", kept, want)
	}
	if got := metaValue(t, kept); got != "old, only in the wal" {
		t.Errorf("the old database kept at %s reads %q, want its last committed value", kept, got)
	}
	for _, f := range []string{target + ".restoring", target + ".restoring-wal"} {
		if _, err := os.Stat(f); err == nil {
			t.Errorf("%s left behind", f)
		}
	}
	if st, _ := os.Stat(target); st.Mode().Perm() != 0o600 {
		t.Errorf("restored database mode %v, want 0600", st.Mode().Perm())
	}
	if r.SchemaVersion != LatestVersion() || r.Tables == 0 {
		t.Errorf("restored %+v, want schema version %d and the tables checked", r, LatestVersion())
	}
}

// Restoring onto a new machine: nothing to keep.
func TestRestoreWhereNoDatabaseWas(t *testing.T) {
	t.Parallel()
	target := filepath.Join(t.TempDir(), "kawaraban.db")
	os.WriteFile(target+"-wal", []byte("a -wal of nothing"), 0o600)
	from := filepath.Join(t.TempDir(), "backup.db")
	makeDB(t, from, "restored")
	r, err := Restore(context.Background(), from, target, time.Now())
	if err != nil || r.Kept != "" {
		t.Fatalf("restore: %+v, %v; want nothing kept", r, err)
	}
	if got := metaValue(t, target); got != "restored" {
		t.Errorf("restored database reads %q", got)
	}
}

func TestRestoreRefusesAndChangesNothing(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		from    func(t *testing.T) string
		daemon  bool // a daemon holds the lock
		wantErr error
		wantMsg string
	}{
		{"beside a running daemon", func(t *testing.T) string {
			p := filepath.Join(t.TempDir(), "b.db")
			makeDB(t, p, "restored")
			return p
		}, true, ErrLocked, "stop the daemon first"},
		{"corrupt backup", func(t *testing.T) string {
			p := filepath.Join(t.TempDir(), "b.db")
			makeDB(t, p, "restored")
			db, _ := Open(context.Background(), p, Options{})
			for range 300 {
				db.Exec("INSERT INTO meta(key, value) VALUES (hex(randomblob(8)), hex(randomblob(200)))")
			}
			db.Close()
			f, _ := os.OpenFile(p, os.O_RDWR, 0)
			st, _ := f.Stat()
			f.WriteAt(bytes.Repeat([]byte{0xA5}, 8192), st.Size()-8192)
			f.Close()
			return p
		}, false, ErrCorrupt, "integrity check"},
		{"not SQLite", func(t *testing.T) string {
			p := filepath.Join(t.TempDir(), "b.db")
			os.WriteFile(p, bytes.Repeat([]byte("not a database "), 500), 0o600)
			return p
		}, false, ErrCorrupt, "not a SQLite database"},
		{"someone else's database", func(t *testing.T) string {
			p := filepath.Join(t.TempDir(), "b.db")
			db, _ := sql.Open("sqlite3", "file:"+p)
			db.Exec("CREATE TABLE t (x)")
			db.Close()
			return p
		}, false, ErrNotKawaraban, "not a kawaraban database"},
		{"a live database with its -wal", func(t *testing.T) string {
			p := filepath.Join(t.TempDir(), "b.db")
			liveDB(t, p, "restored")
			return p
		}, false, ErrBadSource, "write-ahead log"},
		{"missing file", func(t *testing.T) string {
			return filepath.Join(t.TempDir(), "nope.db")
		}, false, ErrBadSource, "nope.db"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			target := filepath.Join(dir, "kawaraban.db")
			liveDB(t, target, "current")
			if c.daemon {
				unlock, err := Lock(target)
				if err != nil {
					t.Fatal(err)
				}
				defer unlock()
			}
			before := snapshotDir(t, dir)
			_, err := Restore(context.Background(), c.from(t), target, time.Now())
			if !errors.Is(err, c.wantErr) {
				t.Fatalf("err = %v, want %v", err, c.wantErr)
			}
			if !strings.Contains(err.Error(), c.wantMsg) {
				t.Errorf("error %q does not say %q", err, c.wantMsg)
			}
			after := snapshotDir(t, dir)
			delete(after, "kawaraban.db.lock")
			delete(before, "kawaraban.db.lock")
			if len(before) != len(after) {
				t.Errorf("files before %v, after %v", keys(before), keys(after))
			}
			for name, b := range before {
				if !bytes.Equal(b, after[name]) {
					t.Errorf("%s changed", name)
				}
			}
		})
	}
}

func snapshotDir(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string][]byte{}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			t.Fatal(err)
		}
		m[e.Name()] = b
	}
	return m
}

func keys(m map[string][]byte) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// Run as root (an operator's shell), the restored database and the lock
// file belong to the data directory's owner, so that the daemon's user
// can open them.
func TestRestoreAsRootKeepsTheServiceOwner(t *testing.T) {
	t.Parallel()
	if os.Geteuid() != 0 {
		if os.Getenv("KAWARABAN_REQUIRE_ALL") == "1" {
			t.Fatal("needs root to give files away; KAWARABAN_REQUIRE_ALL=1 forbids skipping")
		}
		t.Skip("needs root to give files away")
	}
	dir := t.TempDir()
	const uid, gid = 65534, 65534 // nobody, nogroup
	if err := os.Chown(dir, uid, gid); err != nil {
		t.Fatal(err)
	}
	from := filepath.Join(t.TempDir(), "backup.db")
	makeDB(t, from, "restored")
	if _, err := Restore(context.Background(), from, filepath.Join(dir, "kawaraban.db"), time.Now()); err != nil {
		t.Fatalf("restore: %v", err)
	}
	for _, name := range []string{"kawaraban.db", "kawaraban.db.lock"} {
		st, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if s := st.Sys().(*syscall.Stat_t); s.Uid != uid || s.Gid != gid {
			t.Errorf("%s owned by %d:%d, want the directory's %d:%d", name, s.Uid, s.Gid, uid, gid)
		}
	}
}
