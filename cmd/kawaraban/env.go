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

	"kawaraban/cmd/internal/cli"
	"kawaraban/config"
	"kawaraban/store"
	"kawaraban/token"
)

// dbFlags registers --config and --data on fs, for a command that works
// on the database; which configuration they select is config.Source's.
func dbFlags(fs *flag.FlagSet) *config.Source {
	s := &config.Source{}
	fs.StringVar(&s.Path, "config", os.Getenv("KAWARABAN_CONFIG"), "config file (default $KAWARABAN_CONFIG; none = local mode)")
	fs.StringVar(&s.DataDir, "data", "kawaraban-data", "local-mode data directory")
	return s
}

// withEnv opens the env of src for a command and closes it after; the
// command builds the parts it uses from it (wire.go). Only serve creates
// a local-mode database.
func withEnv(ctx context.Context, src *config.Source, c cli.Call, fn func(*env) error) error {
	if err := src.RequireDatabase(); err != nil {
		return sourceErr(err)
	}
	en, err := openEnv(ctx, *src, "", c.Stderr)
	if err != nil {
		return err
	}
	defer en.Close()
	return fn(en)
}

// sourceErr words config's typed errors for the terminal, as usage errors
// (exit 2); any other error is returned as it is.
func sourceErr(err error) error {
	var (
		le *config.LoadError
		se *config.SecretError
		ne *config.NoDatabaseError
	)
	switch {
	case errors.As(err, &le):
		return cli.Usage(fmt.Errorf("config %s:\n%s", le.Path, cli.ProblemLines(le.Err)))
	case errors.As(err, &se):
		return cli.Usage(err)
	case errors.As(err, &ne):
		return cli.Usagef("--data %s: no kawaraban database there (%s); start `kawaraban serve --data %s` once, or check the path", ne.DataDir, ne.Path, ne.DataDir)
	}
	return err
}

// env is what a command needs: the config (real or local-mode), the
// database, the logger and the link signer.
type env struct {
	cfg    *config.Config
	db     *sql.DB
	log    *slog.Logger
	signer *token.Signer
}

func (e *env) Close() error {
	if e.db != nil {
		return e.db.Close()
	}
	return nil
}

// openEnv opens the configuration of src and then the database. listen is
// only used by local mode's base_url.
func openEnv(ctx context.Context, src config.Source, listen string, stderr io.Writer) (*env, error) {
	cfg, key, err := src.Open(listen)
	if err != nil {
		return nil, sourceErr(err)
	}
	e := &env{cfg: cfg, log: cli.NewLogger(cfg.Log.Level, cfg.Log.Format, stderr)}
	if e.signer, err = token.NewSigner(key); err != nil {
		return nil, cli.Usage(fmt.Errorf("secrets: %w", err))
	}
	if e.db, err = store.Open(ctx, cfg.Database.Path, store.Options{}); err != nil {
		return nil, err
	}
	return e, nil
}
