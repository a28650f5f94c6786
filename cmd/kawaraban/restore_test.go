package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"kawaraban/store"
)

// The restore rules are tested in package store; these tests hold the
// command to them.

// Restoring onto a new machine: no data directory yet, and local mode's
// token.key is missing.
func TestRestoreIntoEmptyDirectory(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "new")
	from := filepath.Join(t.TempDir(), "backup.db")
	db, err := store.Open(context.Background(), from, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	res := mustCLI(t, "restore", "--data", dir, from)
	if !strings.Contains(res.Stdout, "integrity ok") || strings.Contains(res.Stdout, "kept at") {
		t.Errorf("output %q: want the check reported and nothing kept", res.Stdout)
	}
	if !strings.Contains(res.Stdout, "no token.key") {
		t.Errorf("output %q does not warn that local mode's token.key is missing", res.Stdout)
	}
	if _, err := os.Stat(filepath.Join(dir, "kawaraban.db")); err != nil {
		t.Error(err)
	}
	if res := runCLI(t, "", "restore", "--data", dir, filepath.Join(dir, "nope.db")); res.Exit != 2 {
		t.Errorf("a missing source: exit %d, want 2", res.Exit)
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
