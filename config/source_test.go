package config

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSourceLocalMode: local mode makes its data directory and link key
// on first use and keeps the key; a command finds the address a local
// daemon recorded unless it is given one; a data directory without a
// database is refused before anything is created in it.
func TestSourceLocalMode(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "data")
	src := Source{DataDir: dir}
	if !src.Local() {
		t.Fatal("no config file is local mode")
	}
	var ne *NoDatabaseError
	if err := src.RequireDatabase(); !errors.As(err, &ne) || ne.DataDir != dir || ne.Path != filepath.Join(dir, "kawaraban.db") {
		t.Fatalf("RequireDatabase before any start: %v", err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("RequireDatabase created the directory: %v", err)
	}
	if !src.MissingTokenKey() {
		t.Error("MissingTokenKey before the first start")
	}
	cfg, key, err := src.Open("")
	if err != nil {
		t.Fatal(err)
	}
	if len(key) != 32 || src.MissingTokenKey() {
		t.Errorf("key of %d bytes; missing %v", len(key), src.MissingTokenKey())
	}
	if !cfg.IsLocal() || cfg.DataDir != dir || cfg.HTTP.Listen != LocalListen || cfg.BaseURL != "http://"+LocalListen {
		t.Errorf("local config: local %v, dir %q, listen %q, base_url %q", cfg.IsLocal(), cfg.DataDir, cfg.HTTP.Listen, cfg.BaseURL)
	}
	if p, err := src.DatabasePath(); err != nil || p != cfg.Database.Path || p != filepath.Join(dir, "kawaraban.db") {
		t.Errorf("DatabasePath = %q, %v; config says %q", p, err, cfg.Database.Path)
	}
	if got := cfg.CapturedDir(); got != filepath.Join(dir, "captured") {
		t.Errorf("CapturedDir = %q", got)
	}

	// The daemon serves on another address and records it.
	served, _, err := src.Open("127.0.0.1:18080")
	if err != nil {
		t.Fatal(err)
	}
	if err := served.RecordListen(); err != nil {
		t.Fatal(err)
	}
	later, again, err := src.Open("")
	if err != nil {
		t.Fatal(err)
	}
	if later.BaseURL != "http://127.0.0.1:18080" {
		t.Errorf("a command beside the daemon links to %q", later.BaseURL)
	}
	if !bytes.Equal(again, key) {
		t.Error("the link key changed between opens")
	}
	if own, _, _ := src.Open("127.0.0.1:9"); own.BaseURL != "http://127.0.0.1:9" {
		t.Errorf("an address given wins over the recorded one: %q", own.BaseURL)
	}

	if err := os.WriteFile(filepath.Join(dir, "kawaraban.db"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := src.RequireDatabase(); err != nil {
		t.Errorf("RequireDatabase with a database: %v", err)
	}
}

// TestSourceConfigFile: a config file's problems and its unreadable key
// come back typed, for cmd to word; its database need not exist yet.
func TestSourceConfigFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "token.key")
	if err := os.WriteFile(keyFile, []byte(strings.Repeat("k", 40)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	write := func(name, yaml string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(yaml), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("good.yaml", strings.Replace(exampleWith(t, "token_key_env: KAWARABAN_TOKEN_KEY", "token_key_file: "+keyFile),
		"path: /var/lib/kawaraban/kawaraban.db", "path: "+filepath.Join(dir, "db", "k.db"), 1))
	noKey := write("nokey.yaml", exampleWith(t, "token_key_env: KAWARABAN_TOKEN_KEY", "token_key_file: "+filepath.Join(dir, "none.key")))
	bad := write("bad.yaml", exampleWith(t, "port: 587", "port: 0"))

	src := Source{Path: good, DataDir: filepath.Join(dir, "unused")}
	cfg, key, err := src.Open("127.0.0.1:1")
	if err != nil {
		t.Fatal(err)
	}
	if string(key) != strings.Repeat("k", 40) || cfg.IsLocal() || cfg.HTTP.Listen == "127.0.0.1:1" {
		t.Errorf("config file: key %q, local %v, listen %q", key, cfg.IsLocal(), cfg.HTTP.Listen)
	}
	if p, err := src.DatabasePath(); err != nil || p != filepath.Join(dir, "db", "k.db") {
		t.Errorf("DatabasePath = %q, %v", p, err)
	}
	if err := src.RequireDatabase(); err != nil {
		t.Errorf("RequireDatabase with a config file: %v", err)
	}
	if err := src.MakeDataDir(); err != nil || src.MissingTokenKey() {
		t.Errorf("MakeDataDir %v, MissingTokenKey %v with a config file", err, src.MissingTokenKey())
	}
	if _, err := os.Stat(src.DataDir); !os.IsNotExist(err) {
		t.Errorf("a config file's command made local mode's directory: %v", err)
	}
	if err := cfg.RecordListen(); err != nil || cfg.CapturedDir() != "" {
		t.Errorf("RecordListen %v, CapturedDir %q with a config file", err, cfg.CapturedDir())
	}

	var le *LoadError
	if _, _, err := (Source{Path: bad}).Open(""); !errors.As(err, &le) || le.Path != bad || !strings.Contains(le.Err.Error(), "smtp.port") {
		t.Errorf("bad config: %v", err)
	}
	if _, err := (Source{Path: bad}).DatabasePath(); !errors.As(err, &le) {
		t.Errorf("bad config's DatabasePath: %v", err)
	}
	var se *SecretError
	if _, _, err := (Source{Path: noKey}).Open(""); !errors.As(err, &se) || !strings.HasPrefix(err.Error(), "secrets: ") {
		t.Errorf("unreadable key: %v", err)
	}
}
