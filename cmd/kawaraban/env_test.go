package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSourceErrors: config.Source's typed errors reach the terminal
// worded as before the move, with exit code 2; a good config file and a
// local-mode data directory with a database run the command.
func TestSourceErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	example, err := os.ReadFile(filepath.Join("..", "..", "config.example.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(dir, "token.key")
	if err := os.WriteFile(keyFile, []byte(strings.Repeat("k", 40)), 0o600); err != nil {
		t.Fatal(err)
	}
	// config writes example with the replacements (old, new, ...) as name.
	config := func(name string, oldnew ...string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(strings.NewReplacer(oldnew...).Replace(string(example))), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	dbPath := "path: /var/lib/kawaraban/kawaraban.db"
	good := config("good.yaml", "token_key_env: KAWARABAN_TOKEN_KEY", "token_key_file: "+keyFile, dbPath, "path: "+filepath.Join(dir, "k.db"))
	noKey := config("nokey.yaml", "token_key_env: KAWARABAN_TOKEN_KEY", "token_key_file: "+filepath.Join(dir, "none.key"))
	bad := config("bad.yaml", "port: 587", "port: 0")
	empty := filepath.Join(dir, "empty")
	cases := []struct {
		name   string
		args   []string
		exit   int
		output string
	}{
		{"config file", []string{"export", "consent", "--config", good}, 0, "at,list,email,event,"},
		{"config that does not load", []string{"export", "consent", "--config", bad}, 2,
			"kawaraban: config " + bad + ":\n  smtp.port: must be 1-65535, got 0\n"},
		{"unreadable key", []string{"export", "consent", "--config", noKey}, 2,
			"kawaraban: secrets: reading secret file: open " + filepath.Join(dir, "none.key") + ": no such file or directory\n"},
		{"local mode without a database", []string{"export", "consent", "--data", empty}, 2,
			"kawaraban: --data " + empty + ": no kawaraban database there (" + filepath.Join(empty, "kawaraban.db") +
				"); start `kawaraban serve --data " + empty + "` once, or check the path\n"},
		{"restore with a config that does not load", []string{"restore", "--config", bad, "x.db"}, 2,
			"kawaraban: config " + bad + ":\n  smtp.port: must be 1-65535, got 0\n"},
	}
	for _, c := range cases {
		var out strings.Builder
		err := run(t.Context(), c.args, nil, &out, &out)
		if code := exitCode(err, &out); code != c.exit || !strings.HasPrefix(out.String(), c.output) {
			t.Errorf("%s: exit %d\n%s\nwant exit %d and\n%s", c.name, code, out.String(), c.exit, c.output)
		}
	}
	if _, err := os.Stat(empty); !os.IsNotExist(err) {
		t.Errorf("a command made the missing data directory: %v", err)
	}
}
