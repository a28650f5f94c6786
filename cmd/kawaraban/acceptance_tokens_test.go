package main

import (
	"strings"
	"testing"
)

// Issue 15: API tokens are listed and revoked one by one, may expire, and
// all go when an admin resets the user's password with
// `user reset-password`, which prints a one-time password.
func TestAcceptanceTokensListRevokeReset(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, t.TempDir())
	if res := runCLI(t, "an editor password\n", "user", "add", "--data", d.Data, "--login", "ed", "--role", "editor", "--lists", "kodomo-mirai"); res.Exit != 0 {
		t.Fatalf("user add: %d %s", res.Exit, res.Stderr)
	}
	create := func(args ...string) string {
		t.Helper()
		tok := strings.TrimSpace(mustCLI(t, append([]string{"token", "create", "--data", d.Data, "--login", "ed"}, args...)...).Stdout)
		if !strings.HasPrefix(tok, "kwb_") {
			t.Fatalf("token create printed %q", tok)
		}
		return tok
	}
	first, second := create(), create("--expires", "30d")
	works := func(tok string) bool {
		code, _ := api(t, d, tok, "GET", "/api/v1/lists", nil)
		return code == 200
	}
	if !works(first) || !works(second) {
		t.Fatal("fresh tokens do not work")
	}
	lines := strings.Split(strings.TrimSpace(mustCLI(t, "token", "list", "--data", d.Data, "--login", "ed").Stdout), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "id\t") || !strings.Contains(lines[1], "\tnever\t") || strings.Contains(lines[2], "\tnever\t") {
		t.Fatalf("token list:\n%s", strings.Join(lines, "\n"))
	}
	firstID, _, _ := strings.Cut(lines[1], "\t")
	mustCLI(t, "token", "revoke", "--data", d.Data, "--login", "ed", firstID)
	if works(first) || !works(second) {
		t.Errorf("after revoking token %s: first works %v, second works %v; want only the second", firstID, works(first), works(second))
	}
	for _, bad := range [][]string{
		{"token", "revoke", "--data", d.Data, "--login", "ed", firstID},
		{"token", "revoke", "--data", d.Data, "--login", "ed", "x"},
		{"token", "create", "--data", d.Data, "--login", "ed", "--expires", "yesterday"},
		{"token", "list", "--data", d.Data},
		{"user", "reset-password", "--data", d.Data, "--login", "nobody"},
	} {
		if res := runCLI(t, "", bad...); res.Exit != 2 {
			t.Errorf("kawaraban %v: exit %d, want 2\n%s", bad, res.Exit, res.Stderr)
		}
	}

	out := mustCLI(t, "user", "reset-password", "--data", d.Data, "--login", "ed").Stdout
	_, pw, ok := strings.Cut(strings.TrimSpace(out), ": ")
	if !ok || len(pw) < 15 {
		t.Fatalf("reset-password printed %q", out)
	}
	if works(second) {
		t.Error("a token survived the password reset")
	}
	if n := len(strings.Split(strings.TrimSpace(mustCLI(t, "token", "list", "--data", d.Data, "--login", "ed").Stdout), "\n")); n != 1 {
		t.Errorf("token list after the reset has %d lines, want the header only", n)
	}
}
