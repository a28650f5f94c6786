package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// corruptDB makes a database of a few hundred pages, closes it and
// overwrites 2,000 bytes in the middle of the file, as in issue 16.
func corruptDB(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "k.db")
	db, err := Open(context.Background(), path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`CREATE TABLE filler (id INTEGER PRIMARY KEY, v TEXT NOT NULL) STRICT`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`CREATE INDEX filler_v ON filler (v)`); err != nil {
		t.Fatal(err)
	}
	for i := range 2000 {
		if _, err := db.Exec(`INSERT INTO filler (v) VALUES (?)`, fmt.Sprintf("%0500d", i)); err != nil {
			t.Fatal(err)
		}
	}
	db.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`)
	db.Close()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	st, _ := f.Stat()
	junk := []byte(strings.Repeat("\xa5\x5a", 1000))
	if _, err := f.WriteAt(junk, st.Size()/2); err != nil {
		t.Fatal(err)
	}
	f.Close()
	return path
}

// Issue 16: a corrupt page mid-file opens (only the schema is read at
// open) but fails quick_check, and Health says so.
func TestIssue16CorruptPageFailsHealth(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, err := Open(ctx, corruptDB(t), Options{})
	if err != nil {
		t.Fatalf("open: %v (a corrupt page mid-file is found by quick_check, not at open)", err)
	}
	defer db.Close()
	h, err := NewHealth(db, HealthOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if h.Err() != nil {
		t.Fatal("unhealthy before any check")
	}
	if err := h.Check(ctx); err != nil {
		t.Fatal(err)
	}
	st := h.Status()
	if st.OK || st.Problem != ProblemCorrupt || st.Reason == "" {
		t.Fatalf("status %+v, want corrupt with a reason", st)
	}
	if err := h.Err(); !errors.Is(err, ErrUnhealthy) {
		t.Fatalf("Err = %v, want ErrUnhealthy", err)
	}
	h.Observe(nil) // a write that works does not make a corrupt file healthy
	if h.Err() == nil {
		t.Fatal("a successful write cleared corruption")
	}
}

func TestHealthyDatabasePassesCheck(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "k.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	h, _ := NewHealth(db, HealthOptions{})
	if err := h.Check(ctx); err != nil || h.Err() != nil {
		t.Fatalf("Check = %v, Err = %v on a fresh database", err, h.Err())
	}
	if err := h.probe(ctx); err != nil {
		t.Fatalf("probe write: %v", err)
	}
}

// A full disk marks writes failing until a write works again; the
// malformed words mark it corrupt.
func TestHealthObserve(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name, err, problem string
	}{
		{"full", "recording results: database or disk is full", ProblemDiskFull},
		{"malformed", "claiming deliveries: database disk image is malformed", ProblemCorrupt},
		{"readonly", "attempt to write a readonly database", ProblemReadOnly},
		{"io", "disk I/O error", ProblemIO},
		{"busy", "database is locked", ""},
		{"constraint", "UNIQUE constraint failed: lists.slug", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			h, _ := NewHealth(nil, HealthOptions{})
			h.Observe(errors.New(c.err))
			st := h.Status()
			if st.Problem != c.problem || st.OK != (c.problem == "") {
				t.Fatalf("status %+v, want problem %q", st, c.problem)
			}
			h.Observe(nil)
			if got := h.Status().OK; got != (c.problem != ProblemCorrupt) {
				t.Errorf("after a working write OK = %v", got)
			}
		})
	}
}

// Issue 16: an existing database in a read-only directory gets an error
// that says so (it said "no such file or directory"). As root the
// directory is a tmpfs mounted read-only; otherwise chmod does it.
func TestIssue16ReadOnlyDirectorySaysSo(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if os.Geteuid() == 0 {
		if err := exec.Command("mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", dir).Run(); err != nil {
			if os.Getenv("KAWARABAN_REQUIRE_ALL") == "1" {
				t.Fatalf("mount tmpfs: %v", err)
			}
			t.Skipf("cannot mount a tmpfs: %v", err)
		}
		t.Cleanup(func() { exec.Command("umount", dir).Run() })
	}
	path := filepath.Join(dir, "k.db")
	db, err := Open(context.Background(), path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	if os.Geteuid() == 0 {
		if out, err := exec.Command("mount", "-o", "remount,ro", dir).CombinedOutput(); err != nil {
			t.Fatalf("remount ro: %v %s", err, out)
		}
	} else {
		os.Chmod(dir, 0o500)
		t.Cleanup(func() { os.Chmod(dir, 0o700) })
	}
	_, err = Open(context.Background(), path, Options{})
	if err == nil || !strings.Contains(err.Error(), "read-only") || strings.Contains(err.Error(), "no such file") {
		t.Fatalf("err = %v, want one that says read-only", err)
	}
}
