package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"os"

	"kawaraban/cmd/internal/cli"
	"kawaraban/cmd/internal/lifecycle"
	"kawaraban/config"
	"kawaraban/store"
)

// serve runs the daemon until ctx ends (SIGINT/SIGTERM), then shuts down
// in order: stop intake, let in-flight work finish, close the database.
func serve(fs *flag.FlagSet) cli.Action {
	ef := dbFlags(fs)
	listen := fs.String("listen", "", "address to listen on (default http.listen, or 127.0.0.1:8080 in local mode)")
	logFormat := fs.String("log-format", "", "text or json (default: log.format, or text on a terminal and JSON otherwise)")
	return func(ctx context.Context, c cli.Call) error {
		addr := *listen
		if addr == "" && ef.Local() {
			addr = config.LocalListen
		}
		// Bind first so a port in use fails fast, before anything is
		// written. Whatever fails later closes it (a second Close after
		// the server's shutdown is harmless).
		var ln net.Listener
		if addr != "" {
			var err error
			if ln, err = net.Listen("tcp", addr); err != nil {
				return fmt.Errorf("listen %s: %w", addr, err)
			}
			defer ln.Close()
			addr = ln.Addr().String()
		}
		if *logFormat != "" && *logFormat != "text" && *logFormat != "json" {
			return cli.Usagef("--log-format must be text or json, got %q", *logFormat)
		}
		e, err := openEnv(ctx, *ef, addr, c.Stderr)
		if err != nil {
			return err
		}
		defer e.Close()
		if *logFormat != "" {
			e.cfg.Log.Format = *logFormat
			e.log = cli.NewLogger(e.cfg.Log.Level, e.cfg.Log.Format, c.Stderr)
		}
		unlock, err := store.Lock(e.cfg.Database.Path)
		if err != nil {
			return err
		}
		defer unlock()
		if ln == nil {
			if ln, err = net.Listen("tcp", e.cfg.HTTP.Listen); err != nil {
				return fmt.Errorf("listen %s: %w", e.cfg.HTTP.Listen, err)
			}
			defer ln.Close()
		}
		d, err := newDaemon(ctx, e, c.Stdout)
		if err != nil {
			return err
		}
		lifecycle.TuneGC()
		if path := os.Getenv("KAWARABAN_CPUPROFILE"); path != "" {
			stop, err := lifecycle.StartCPUProfile(path)
			if err != nil {
				return err
			}
			defer stop()
		}
		return d.run(ctx, ln)
	}
}
