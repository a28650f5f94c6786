package config

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"kawaraban/token"
)

// Source says which configuration a command runs with: the config file at
// Path or, when Path is empty, local mode in the data directory DataDir.
// Local mode keeps its files there: the database (kawaraban.db), the link
// key (token.key), the address a local daemon serves on (listen) and the
// captured mail (captured/).
type Source struct {
	// Path is the config file; "" is local mode.
	Path string
	// DataDir is local mode's data directory; unused with a config file.
	DataDir string
}

// Local mode's files in the data directory.
const (
	databaseFile = "kawaraban.db"
	tokenKeyFile = "token.key"
	// listenFile holds the address a local-mode daemon serves on, so
	// that a command run beside it (or after it) makes links to it.
	listenFile  = "listen"
	capturedDir = "captured"
)

// LoadError reports a config file that does not load; Err joins its
// problems (errors.Join), one per key.
type LoadError struct {
	Path string
	Err  error
}

func (e *LoadError) Error() string { return "config " + e.Path + ": " + e.Err.Error() }
func (e *LoadError) Unwrap() error { return e.Err }

// SecretError reports a link key that cannot be read from the secret the
// config names.
type SecretError struct{ Err error }

func (e *SecretError) Error() string { return "secrets: " + e.Err.Error() }
func (e *SecretError) Unwrap() error { return e.Err }

// NoDatabaseError reports a local-mode data directory that holds no
// database (Path): a mistyped data directory must not be filled with a
// new database nobody reads. Only the daemon creates one.
type NoDatabaseError struct {
	DataDir, Path string
}

func (e *NoDatabaseError) Error() string {
	return fmt.Sprintf("no kawaraban database in %s (%s)", e.DataDir, e.Path)
}

// Local reports whether s is local mode.
func (s Source) Local() bool { return s.Path == "" }

// DatabasePath is where the database is, without opening or creating
// anything: database.path of the config file, or DIR/kawaraban.db. A
// config file that does not load is a *LoadError.
func (s Source) DatabasePath() (string, error) {
	if s.Local() {
		return filepath.Join(s.DataDir, databaseFile), nil
	}
	cfg, err := s.load()
	if err != nil {
		return "", err
	}
	return cfg.Database.Path, nil
}

// RequireDatabase returns a *NoDatabaseError when s is local mode and its
// data directory holds no database; a config file's database is the
// operator's to create.
func (s Source) RequireDatabase() error {
	if !s.Local() {
		return nil
	}
	path := filepath.Join(s.DataDir, databaseFile)
	if _, err := os.Stat(path); err != nil {
		return &NoDatabaseError{DataDir: s.DataDir, Path: path}
	}
	return nil
}

// MakeDataDir creates local mode's data directory (mode 0750) when it does
// not exist; with a config file it does nothing.
func (s Source) MakeDataDir() error {
	if !s.Local() {
		return nil
	}
	if err := os.MkdirAll(s.DataDir, 0o750); err != nil {
		return fmt.Errorf("data directory %s: %w", s.DataDir, err)
	}
	return nil
}

// MissingTokenKey reports whether local mode's data directory has no link
// key: the next start makes a new one, and links in mail sent before stop
// working. With a config file it is false.
func (s Source) MissingTokenKey() bool {
	if !s.Local() {
		return false
	}
	_, err := os.Stat(filepath.Join(s.DataDir, tokenKeyFile))
	return err != nil
}

// Open returns the configuration and the key that signs links. With a
// config file it loads the file (a *LoadError when it does not) and reads
// the key from secrets.token_key_env or _file (a *SecretError). In local
// mode it creates the data directory and builds Local's configuration,
// served on listen or else on the address a local daemon recorded
// (RecordListen); the key is DIR/token.key, made on first use. Opening the
// database is the caller's.
func (s Source) Open(listen string) (*Config, []byte, error) {
	if !s.Local() {
		cfg, err := s.load()
		if err != nil {
			return nil, nil, err
		}
		key, err := Secret(cfg.Secrets.TokenKeyEnv, cfg.Secrets.TokenKeyFile)
		if err != nil {
			return nil, nil, &SecretError{err}
		}
		return cfg, []byte(key), nil
	}
	if err := s.MakeDataDir(); err != nil {
		return nil, nil, err
	}
	if listen == "" {
		if b, err := os.ReadFile(filepath.Join(s.DataDir, listenFile)); err == nil {
			listen = strings.TrimSpace(string(b))
		}
	}
	cfg := Local(s.DataDir, listen)
	key, err := token.KeyFile(filepath.Join(s.DataDir, tokenKeyFile))
	if err != nil {
		return nil, nil, fmt.Errorf("data directory %s: %w", s.DataDir, err)
	}
	return cfg, key, nil
}

func (s Source) load() (*Config, error) {
	cfg, err := Load(s.Path)
	if err != nil {
		return nil, &LoadError{Path: s.Path, Err: err}
	}
	return cfg, nil
}

// IsLocal reports whether c is local mode's configuration (Local).
func (c *Config) IsLocal() bool { return c.DataDir != "" }

// RecordListen writes the address local mode serves on (http.listen) into
// the data directory, where commands run later find it (Source.Open). A
// config file's daemon records nothing.
func (c *Config) RecordListen() error {
	if !c.IsLocal() {
		return nil
	}
	return os.WriteFile(filepath.Join(c.DataDir, listenFile), []byte(c.HTTP.Listen+"\n"), 0o600)
}

// CapturedDir is where local mode's relay keeps the mail it captured; ""
// for a config file.
func (c *Config) CapturedDir() string {
	if !c.IsLocal() {
		return ""
	}
	return filepath.Join(c.DataDir, capturedDir)
}

// ImportStagingDir is where a subscriber import's dry run keeps its CSV
// until "import these": beside the database.
func (c *Config) ImportStagingDir() string {
	return filepath.Join(filepath.Dir(c.Database.Path), "import-staging")
}
