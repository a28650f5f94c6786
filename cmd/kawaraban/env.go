package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"kawaraban/config"
	"kawaraban/store"
	"kawaraban/token"
)

// envFlags are the --config/--data flags every database command shares.
type envFlags struct {
	config string
	data   string
}

func (e *envFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&e.config, "config", os.Getenv("KAWARABAN_CONFIG"), "config file (default $KAWARABAN_CONFIG; none = local mode)")
	fs.StringVar(&e.data, "data", "kawaraban-data", "local-mode data directory")
}

// requireData refuses a local-mode data directory that holds no database:
// a mistyped --data must not import into a new database nobody reads.
// Only serve creates one.
func (e envFlags) requireData() error {
	if e.config != "" {
		return nil
	}
	path := filepath.Join(e.data, "kawaraban.db")
	if _, err := os.Stat(path); err != nil {
		return badUsage("--data %s: no kawaraban database there (%s); start `kawaraban serve --data %s` once, or check the path", e.data, path, e.data)
	}
	return nil
}

// env is what a command needs: the config (real or local-mode), the
// database, the logger and the link signer.
type env struct {
	cfg     *config.Config
	local   bool
	dataDir string
	db      *sql.DB
	log     *slog.Logger
	signer  *token.Signer
}

func (e *env) Close() error {
	if e.db != nil {
		return e.db.Close()
	}
	return nil
}

// newFlagSet returns a flag set that reports errors instead of exiting.
func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// parseFlags parses args and turns flag errors into usage errors.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return usageError{err}
		}
		return badUsage("%s: %v", fs.Name(), err)
	}
	return nil
}

// openEnv loads the config (or builds the local-mode one) and opens the
// database. listen is only used by local mode's base_url.
func openEnv(ctx context.Context, f envFlags, listen string, stderr io.Writer) (*env, error) {
	e := &env{}
	if f.config != "" {
		cfg, err := config.Load(f.config)
		if err != nil {
			return nil, usageError{fmt.Errorf("config %s:\n%s", f.config, problemLines(err))}
		}
		e.cfg = cfg
	} else {
		if err := os.MkdirAll(f.data, 0o750); err != nil {
			return nil, fmt.Errorf("data directory %s: %w", f.data, err)
		}
		e.local, e.dataDir = true, f.data
		if listen == "" {
			// A command beside (or after) a local daemon makes links to
			// the address that daemon serves on.
			if b, err := os.ReadFile(filepath.Join(f.data, "listen")); err == nil {
				listen = strings.TrimSpace(string(b))
			}
		}
		e.cfg = config.Local(f.data, listen)
	}
	e.log = newLogger(e.cfg.Log, stderr)
	key, err := e.tokenKey()
	if err != nil {
		return nil, err
	}
	if e.signer, err = token.NewSigner(key); err != nil {
		return nil, usageError{fmt.Errorf("secrets: %w", err)}
	}
	db, err := store.Open(ctx, e.cfg.Database.Path, store.Options{})
	if err != nil {
		return nil, err
	}
	e.db = db
	return e, nil
}

// tokenKey reads the HMAC key from config, or in local mode from
// DIR/token.key, creating it on first start.
func (e *env) tokenKey() ([]byte, error) {
	if !e.local {
		s, err := config.Secret(e.cfg.Secrets.TokenKeyEnv, e.cfg.Secrets.TokenKeyFile)
		if err != nil {
			return nil, usageError{fmt.Errorf("secrets: %w", err)}
		}
		return []byte(s), nil
	}
	key, err := token.KeyFile(filepath.Join(e.dataDir, "token.key"))
	if err != nil {
		return nil, fmt.Errorf("data directory %s: %w", e.dataDir, err)
	}
	return key, nil
}

// newLogger chooses the handler: text on a terminal, JSON otherwise.
func newLogger(c config.LogConfig, w io.Writer) *slog.Logger {
	level := slog.LevelInfo
	level.UnmarshalText([]byte(c.Level))
	opts := &slog.HandlerOptions{Level: level}
	format := c.Format
	if format == "auto" || format == "" {
		format = "json"
		if f, ok := w.(*os.File); ok {
			if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
				format = "text"
			}
		}
	}
	if format == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}
