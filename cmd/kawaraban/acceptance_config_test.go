package main

import (
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	_ "github.com/mattn/go-sqlite3"
)

// The operator's config checks: the shipped example passes, a broken copy
// fails naming the key.
func TestAcceptanceCheckConfig(t *testing.T) {
	t.Parallel()
	example, err := os.ReadFile(filepath.Join("..", "..", "config.example.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if res := runCLI(t, "", "check-config", filepath.Join("..", "..", "config.example.yaml")); res.Exit != 0 {
		t.Fatalf("check-config config.example.yaml: exit %d\n%s%s", res.Exit, res.Stdout, res.Stderr)
	}
	smtpPort := regexp.MustCompile(`(?m)^(smtp:\n(?:[ \t]*#.*\n|[ \t]+.*\n)*?[ \t]+port:)[ \t]*\d+`)
	if !smtpPort.Match(example) {
		t.Fatal("config.example.yaml has no smtp.port line to break")
	}
	bad := smtpPort.ReplaceAll(example, []byte("${1} 0"))
	file := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(file, bad, 0o600); err != nil {
		t.Fatal(err)
	}
	res := runCLI(t, "", "check-config", file)
	if res.Exit != 2 || !strings.Contains(res.Stdout+res.Stderr, "smtp.port") {
		t.Fatalf("check-config with smtp.port 0: exit %d, want 2 naming smtp.port\n%s%s", res.Exit, res.Stdout, res.Stderr)
	}
	if strings.Contains(res.Stdout+res.Stderr, "imap.port") {
		t.Errorf("only smtp.port was broken, but imap.port is blamed:\n%s%s", res.Stdout, res.Stderr)
	}

	// Several problems: one line each, naming its key; a misspelt key too.
	worse := regexp.MustCompile(`(?m)^timezone: .*$`).ReplaceAll(bad, []byte("timezone: Mars/Olympus"))
	worse = append(worse, []byte("\nhtpp:\n  listen: 127.0.0.1:1\n")...)
	if err := os.WriteFile(file, worse, 0o600); err != nil {
		t.Fatal(err)
	}
	res = runCLI(t, "", "check-config", file)
	if res.Exit != 2 {
		t.Fatalf("check-config with three problems: exit %d\n%s%s", res.Exit, res.Stdout, res.Stderr)
	}
	for _, key := range []string{"smtp.port", "timezone", "htpp"} {
		n := 0
		for _, line := range strings.Split(res.Stdout+res.Stderr, "\n") {
			if strings.Contains(line, key) {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%d lines name %s, want one:\n%s%s", n, key, res.Stdout, res.Stderr)
		}
	}
}

// `backup` beside a running daemon writes a database that opens and holds
// what the daemon wrote.
func TestAcceptanceBackupWhileRunning(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, t.TempDir())
	if code, body := postForm(t, d.BaseURL+"/subscribe", url.Values{"email": {"backup@example.jp"}, "list": {"kodomo-mirai"}}, ""); code != 200 {
		t.Fatalf("POST /subscribe: %d\n%s", code, body)
	}
	// The per-address work follows the answer (issue 15).
	waitUntil(t, "the subscription to be stored", func() bool {
		return exportSubscribers(t, d.Data, "kodomo-mirai")["backup@example.jp"] != nil
	})
	out := filepath.Join(t.TempDir(), "OUT.db")
	mustCLI(t, "backup", "--data", d.Data, out)
	if fi, err := os.Stat(out); err != nil {
		t.Fatal(err)
	} else if fi.Mode().Perm()&0o077 != 0 {
		t.Errorf("backup file mode %v: subscribers' addresses must not be readable by others", fi.Mode())
	}

	db, err := sql.Open("sqlite3", "file:"+out+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var check string
	if err := db.QueryRow("PRAGMA integrity_check").Scan(&check); err != nil || check != "ok" {
		t.Fatalf("backup integrity_check: %q %v", check, err)
	}
	var tables int
	if err := db.QueryRow("SELECT count(*) FROM sqlite_master WHERE type = 'table'").Scan(&tables); err != nil || tables < 5 {
		t.Fatalf("backup holds %d tables (%v)", tables, err)
	}
	// The copy is a database kawaraban itself reads: export from it.
	copyDir := t.TempDir()
	raw, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(copyDir, "kawaraban.db"), raw, 0o600); err != nil {
		t.Fatal(err)
	}
	rows := exportSubscribers(t, copyDir, "kodomo-mirai")
	if rows["backup@example.jp"]["status"] != "unconfirmed" {
		t.Errorf("export from the restored backup: %v, want backup@example.jp unconfirmed", rows)
	}
}

// The contract's exit codes: 2 for bad usage or bad input, with a message
// naming what is wrong, beside a running daemon.
func TestAcceptanceCLIBadUsage(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, t.TempDir())
	tmp := t.TempDir()
	missing := filepath.Join(tmp, "missing")
	typo := filepath.Join(tmp, "kawaraban-dta")
	existing := filepath.Join(tmp, "exists.db")
	if err := os.WriteFile(existing, []byte("precious"), 0o600); err != nil {
		t.Fatal(err)
	}
	goodCSV := filepath.Join(tmp, "good.csv")
	if err := os.WriteFile(goodCSV, []byte("email\nok@example.jp\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		stdin string
		args  []string
		want  string
		code  int
	}{
		{"", []string{"export", "subscribers", "--data", d.Data, "--list", "no-such-list"}, "no-such-list", 2},
		{"", []string{"export", "subscribers", "--data", d.Data}, "--list", 2},
		{"", []string{"import", "subscribers", "--data", d.Data, "--list", "shimin-katsudo", "--consent-source", "x", missing + ".csv"}, missing, 2},
		{"", []string{"import", "subscribers", "--data", d.Data, "--list", "shimin-katsudo", goodCSV}, "consent", 2},
		{"pw-long-enough-2026\n", []string{"user", "add", "--data", d.Data, "--login", "z", "--role", "god"}, "role", 2},
		{"", []string{"token", "create", "--data", d.Data, "--login", "nobody"}, "nobody", 2},
		{"", []string{"reminders", "run", "--data", d.Data, "--now", "tomorrow"}, "--now", 2},
		{"", []string{"progress", "import", "--data", d.Data, missing + ".yaml"}, missing, 2},
		{"", []string{"check-config", missing + ".yaml"}, missing, 2},
		{"", []string{"backup", "--data", d.Data}, "OUT", 2},
		{"", []string{"backup", "--data", typo, filepath.Join(tmp, "typo.db")}, typo, 2},
	}
	for _, tc := range cases {
		res := runCLI(t, tc.stdin, tc.args...)
		if res.Exit != tc.code || !strings.Contains(res.Stderr, tc.want) {
			t.Errorf("kawaraban %s: exit %d, want %d with a message naming %q\nstderr: %s", strings.Join(tc.args, " "), res.Exit, tc.code, tc.want, res.Stderr)
		}
	}
	if _, err := os.Stat(typo); err == nil {
		t.Errorf("backup with a mistyped --data created %s", typo)
	}
	// An existing file is never overwritten by a backup.
	if res := runCLI(t, "", "backup", "--data", d.Data, existing); res.Exit == 0 {
		t.Errorf("backup over an existing file: exit 0")
	}
	if b, _ := os.ReadFile(existing); string(b) != "precious" {
		t.Errorf("backup overwrote an existing file")
	}
}

// The database holds addresses, password hashes and sessions: like its
// backups (0600) it must not be readable by other users, even in a data
// directory the operator made with the usual 0755.
func TestAcceptanceDatabaseFileModes(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "data")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	d := startDaemon(t, dir)
	if code, body := postForm(t, d.BaseURL+"/subscribe", url.Values{"email": {"mode@example.jp"}, "list": {"kodomo-mirai"}}, ""); code != 200 {
		t.Fatalf("POST /subscribe: %d\n%s", code, body)
	}
	var loose []string
	for _, name := range []string{"kawaraban.db", "kawaraban.db-wal", "kawaraban.db-shm", "token.key"} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			continue // -wal/-shm come and go
		}
		if fi.Mode().Perm()&0o077 != 0 {
			loose = append(loose, fmt.Sprintf("%s %v", name, fi.Mode().Perm()))
		}
	}
	if len(loose) > 0 {
		t.Errorf("%s readable by other users in an operator-made 0755 data dir", strings.Join(loose, ", "))
	}
}
