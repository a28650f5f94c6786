package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime/debug"
	"runtime/pprof"
	"time"

	"kawaraban/store"
)

// cmdServe runs the daemon until ctx ends (SIGINT/SIGTERM), then shuts down
// in order: stop intake, let in-flight work finish, close the database.
func cmdServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, ef := dbFlags("serve", stderr)
	listen := fs.String("listen", "", "address to listen on (default http.listen, or 127.0.0.1:8080 in local mode)")
	logFormat := fs.String("log-format", "", "text or json (default: log.format, or text on a terminal and JSON otherwise)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	addr := *listen
	if addr == "" && ef.config == "" {
		addr = "127.0.0.1:8080"
	}
	// Bind first so a port in use fails fast, before anything is written.
	var ln net.Listener
	if addr != "" {
		var err error
		if ln, err = net.Listen("tcp", addr); err != nil {
			return fmt.Errorf("listen %s: %w", addr, err)
		}
		addr = ln.Addr().String()
	}
	if *logFormat != "" && *logFormat != "text" && *logFormat != "json" {
		return badUsage("--log-format must be text or json, got %q", *logFormat)
	}
	e, err := openEnv(ctx, *ef, addr, stderr)
	if err == nil && *logFormat != "" {
		e.cfg.Log.Format = *logFormat
		e.log = newLogger(e.cfg.Log, stderr)
	}
	if err != nil {
		if ln != nil {
			ln.Close()
		}
		return err
	}
	defer e.Close()
	unlock, err := store.Lock(e.cfg.Database.Path)
	if err != nil {
		if ln != nil {
			ln.Close()
		}
		return err
	}
	defer unlock()
	if ln == nil {
		if ln, err = net.Listen("tcp", e.cfg.HTTP.Listen); err != nil {
			return fmt.Errorf("listen %s: %w", e.cfg.HTTP.Listen, err)
		}
	}
	d, err := newDaemon(ctx, e, stdout)
	if err != nil {
		ln.Close()
		return err
	}
	tuneGC()
	if path := os.Getenv("KAWARABAN_CPUPROFILE"); path != "" {
		stop, err := startCPUProfile(path)
		if err != nil {
			ln.Close()
			return err
		}
		defer stop()
	}
	return d.run(ctx, ln)
}

// startCPUProfile writes the daemon's CPU profile to path until the
// returned function is called (KAWARABAN_CPUPROFILE, for benchmarks:
// docs/BENCHMARKS.md).
func startCPUProfile(path string) (func(), error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("KAWARABAN_CPUPROFILE: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("KAWARABAN_CPUPROFILE: %w", err)
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

// Garbage collector defaults for the daemon, used unless GOGC or
// GOMEMLIMIT is set in the environment. Sending allocates a few KB per
// message that die at once, so with Go's default GOGC=100 the collector
// ran every few hundred messages and took about a quarter of the sender's
// CPU; GOGC=400 cut it from 86 to 62 µs per message (docs/BENCHMARKS.md)
// while the heap stays in tens of MB. The soft memory limit makes the
// collector work harder before the process grows past it.
const (
	daemonGCPercent   = 400
	daemonMemoryLimit = 64 << 20
)

func tuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(daemonGCPercent)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(daemonMemoryLimit)
	}
}

// serveHTTP serves until ctx ends, then shuts the server down gracefully.
func serveHTTP(ctx context.Context, srv *http.Server, ln net.Listener) error {
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("http server: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("http shutdown: %w", err)
	}
	return nil
}
