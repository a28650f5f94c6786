package main

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"kawaraban/cmd/internal/cli"
	"kawaraban/config"
	"kawaraban/store"
	"kawaraban/token"
)

// envFlags are the --config/--data flags every database command shares.
type envFlags struct {
	config string
	data   string
}

// dbFlags registers --config and --data on fs, for a command that works
// on the database.
func dbFlags(fs *flag.FlagSet) *envFlags {
	e := &envFlags{}
	fs.StringVar(&e.config, "config", os.Getenv("KAWARABAN_CONFIG"), "config file (default $KAWARABAN_CONFIG; none = local mode)")
	fs.StringVar(&e.data, "data", "kawaraban-data", "local-mode data directory")
	return e
}

// with opens the env for a command and closes it after; the command
// builds the parts it uses from it (wire.go).
func (e envFlags) with(ctx context.Context, c cli.Call, fn func(*env) error) error {
	if err := e.requireData(); err != nil {
		return err
	}
	en, err := openEnv(ctx, e, "", c.Stderr)
	if err != nil {
		return err
	}
	defer en.Close()
	return fn(en)
}

// databasePath is where the database is, by --config or --data, without
// opening it; a config that does not load is a usage error.
func (e envFlags) databasePath() (string, error) {
	if e.config == "" {
		return filepath.Join(e.data, "kawaraban.db"), nil
	}
	cfg, err := config.Load(e.config)
	if err != nil {
		return "", configErr(e.config, err)
	}
	return cfg.Database.Path, nil
}

// configErr says which config file has which problems, one per line.
func configErr(path string, err error) error {
	return cli.Usage(fmt.Errorf("config %s:\n%s", path, cli.ProblemLines(err)))
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
		return cli.Usagef("--data %s: no kawaraban database there (%s); start `kawaraban serve --data %s` once, or check the path", e.data, path, e.data)
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

// openEnv loads the config (or builds the local-mode one) and opens the
// database. listen is only used by local mode's base_url.
func openEnv(ctx context.Context, f envFlags, listen string, stderr io.Writer) (*env, error) {
	e := &env{}
	if f.config != "" {
		cfg, err := config.Load(f.config)
		if err != nil {
			return nil, configErr(f.config, err)
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
	e.log = cli.NewLogger(e.cfg.Log.Level, e.cfg.Log.Format, stderr)
	key, err := e.tokenKey()
	if err != nil {
		return nil, err
	}
	if e.signer, err = token.NewSigner(key); err != nil {
		return nil, cli.Usage(fmt.Errorf("secrets: %w", err))
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
			return nil, cli.Usage(fmt.Errorf("secrets: %w", err))
		}
		return []byte(s), nil
	}
	key, err := token.KeyFile(filepath.Join(e.dataDir, "token.key"))
	if err != nil {
		return nil, fmt.Errorf("data directory %s: %w", e.dataDir, err)
	}
	return key, nil
}
