package main

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

	"kawaraban/store"
)

// makeDB makes a migrated database at path holding meta row key=value,
// closed so the file alone holds it.
func makeDB(t *testing.T, path, value string) {
	t.Helper()
	db, err := store.Open(context.Background(), path, store.Options{})
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
	db, err := store.Open(context.Background(), path, store.Options{ReadOnly: true})
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

	var out, errb bytes.Buffer
	if err := run(context.Background(), []string{"restore", "--data", dir, from}, nil, &out, &errb); err != nil {
		t.Fatalf("restore: %v\n%s", err, errb.String())
	}
	if got := metaValue(t, target); got != "restored" {
		t.Errorf("after restore the database reads %q, want the backup's value (the old -wal must not be applied)", got)
	}
	kept := strings.TrimSpace(strings.TrimPrefix(out.String()[strings.Index(out.String(), "kept at "):], "kept at "))
	kept, _, _ = strings.Cut(kept, " ")
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
	if !strings.Contains(out.String(), "integrity ok") {
		t.Errorf("output %q does not say the check passed", out.String())
	}
}

// Restoring onto a new machine: no data directory yet.
func TestRestoreIntoEmptyDirectory(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "new")
	from := filepath.Join(t.TempDir(), "backup.db")
	makeDB(t, from, "restored")
	var out bytes.Buffer
	if err := run(context.Background(), []string{"restore", "--data", dir, from}, nil, &out, &out); err != nil {
		t.Fatalf("restore: %v\n%s", err, out.String())
	}
	if got := metaValue(t, filepath.Join(dir, "kawaraban.db")); got != "restored" {
		t.Errorf("restored database reads %q", got)
	}
	if strings.Contains(out.String(), "kept at") {
		t.Errorf("output %q mentions a replaced database where there was none", out.String())
	}
	if !strings.Contains(out.String(), "no token.key") {
		t.Errorf("output %q does not warn that local mode's token.key is missing", out.String())
	}
}

func TestRestoreRefusesAndChangesNothing(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		from     func(t *testing.T) string
		daemon   bool // a daemon holds the lock
		wantExit int
		wantMsg  string
	}{
		{"beside a running daemon", func(t *testing.T) string {
			p := filepath.Join(t.TempDir(), "b.db")
			makeDB(t, p, "restored")
			return p
		}, true, 1, "stop the daemon first"},
		{"corrupt backup", func(t *testing.T) string {
			p := filepath.Join(t.TempDir(), "b.db")
			makeDB(t, p, "restored")
			db, _ := store.Open(context.Background(), p, store.Options{})
			for range 300 {
				db.Exec("INSERT INTO meta(key, value) VALUES (hex(randomblob(8)), hex(randomblob(200)))")
			}
			db.Close()
			f, _ := os.OpenFile(p, os.O_RDWR, 0)
			st, _ := f.Stat()
			f.WriteAt(bytes.Repeat([]byte{0xA5}, 8192), st.Size()-8192)
			f.Close()
			return p
		}, false, 2, "integrity check"},
		{"not SQLite", func(t *testing.T) string {
			p := filepath.Join(t.TempDir(), "b.db")
			os.WriteFile(p, bytes.Repeat([]byte("not a database "), 500), 0o600)
			return p
		}, false, 2, "not a SQLite database"},
		{"someone else's database", func(t *testing.T) string {
			p := filepath.Join(t.TempDir(), "b.db")
			db, _ := sql.Open("sqlite3", "file:"+p)
			db.Exec("CREATE TABLE t (x)")
			db.Close()
			return p
		}, false, 2, "not a kawaraban database"},
		{"a live database with its -wal", func(t *testing.T) string {
			p := filepath.Join(t.TempDir(), "b.db")
			liveDB(t, p, "restored")
			return p
		}, false, 2, "write-ahead log"},
		{"missing file", func(t *testing.T) string {
			return filepath.Join(t.TempDir(), "nope.db")
		}, false, 2, "nope.db"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			target := filepath.Join(dir, "kawaraban.db")
			liveDB(t, target, "current")
			if c.daemon {
				unlock, err := lockDaemon(target)
				if err != nil {
					t.Fatal(err)
				}
				defer unlock()
			}
			before := snapshotDir(t, dir)
			var out, errb bytes.Buffer
			err := run(context.Background(), []string{"restore", "--data", dir, c.from(t)}, nil, &out, &errb)
			if code := exitCode(err, &errb); code != c.wantExit {
				t.Fatalf("exit %d (%v), want %d", code, err, c.wantExit)
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

// A real daemon holds the lock that restore checks.
func TestRestoreRefusesBesideServe(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	d := startDaemon(t, dir)
	from := filepath.Join(t.TempDir(), "backup.db")
	mustCLI(t, "backup", "--data", dir, from)
	res := runCLI(t, "", "restore", "--data", dir, from)
	if res.Exit != 1 || !strings.Contains(res.Stderr, "already running") {
		t.Fatalf("restore beside serve: exit %d, stderr %q; want 1 and a refusal", res.Exit, res.Stderr)
	}
	if code, _ := d.stop(t); code != 0 {
		t.Fatalf("daemon exit %d", code)
	}
	res = mustCLI(t, "restore", "--data", dir, from)
	if !strings.Contains(res.Stdout, "restored") {
		t.Errorf("restore printed %q", res.Stdout)
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
	needRoot(t, "to give files away")
	dir := t.TempDir()
	const uid, gid = 65534, 65534 // nobody, nogroup
	if err := os.Chown(dir, uid, gid); err != nil {
		t.Fatal(err)
	}
	from := filepath.Join(t.TempDir(), "backup.db")
	makeDB(t, from, "restored")
	var out bytes.Buffer
	if err := run(context.Background(), []string{"restore", "--data", dir, from}, nil, &out, &out); err != nil {
		t.Fatalf("restore: %v\n%s", err, out.String())
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

// needRoot skips a test that needs root, or fails it under
// KAWARABAN_REQUIRE_ALL=1 (CI), so that a missing privilege is not
// mistaken for a pass.
func needRoot(t *testing.T, why string) {
	t.Helper()
	if os.Geteuid() == 0 {
		return
	}
	if os.Getenv("KAWARABAN_REQUIRE_ALL") == "1" {
		t.Fatal("needs root " + why + "; KAWARABAN_REQUIRE_ALL=1 forbids skipping")
	}
	t.Skip("needs root " + why)
}
