package main

import (
	"context"
	"io"
	"path/filepath"
	"testing"

	"kawaraban/config"
	"kawaraban/store"
	"kawaraban/subscribers"
)

// TestReadingCommandsWriteNoLists (issue 14): a command that only reads
// (an export) builds the subscribers store without syncing the configured
// lists; a command that changes users or subscribers syncs them first.
func TestReadingCommandsWriteNoLists(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "kawaraban.db")
	db, err := store.Open(ctx, path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	lists := func() int {
		t.Helper()
		db, err := store.Open(ctx, path, store.Options{ReadOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		ls, err := subscribers.New(db, subscribers.Options{}).Lists(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return len(ls)
	}
	mustCLI(t, "export", "consent", "--data", dir)
	if n := lists(); n != 0 {
		t.Fatalf("after an export the database has %d lists, want none (an export writes nothing)", n)
	}
	if res := runCLI(t, "a-long-enough-password-1\n", "user", "add", "--data", dir, "--login", "kikaku", "--role", "editor", "--lists", "chonai"); res.Exit != 0 {
		t.Fatalf("user add: exit %d\n%s", res.Exit, res.Stderr)
	}
	if n := lists(); n == 0 {
		t.Fatal("user add did not sync the configured lists before checking --lists")
	}
}

// TestMailingFailsCleanly: a chain that fails half-way (here its template
// directory is missing) returns the error and closes what it had started.
func TestMailingFailsCleanly(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e, err := openEnv(ctx, config.Source{DataDir: t.TempDir()}, "127.0.0.1:1", io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	e.cfg.Templates.Dir = filepath.Join(t.TempDir(), "missing")
	m, err := newMailing(ctx, e, mailingOptions{localServers: true})
	if err == nil || m != nil {
		t.Fatalf("newMailing = %v, %v; want an error", m, err)
	}
}
