// Package lifecycle runs the daemon's long-running parts and stops them in
// order: it serves HTTP and supervises the runners (a part that fails is
// started again after a growing pause) until the context ends, then stops
// intake, lets in-flight work finish within a grace period, and returns.
// It also holds the process-wide settings of a daemon (garbage collector,
// CPU profile). What the parts are is cmd/kawaraban's business.
package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"
)

// Runner is a long-running part of the daemon: Run returns when ctx ends.
type Runner struct {
	Name string
	Run  func(ctx context.Context) error
}

// Options say what Run serves and runs. Durations left zero take the
// defaults in brackets.
type Options struct {
	Logger   *slog.Logger // nil: discard
	Handler  http.Handler
	Listener net.Listener
	Runners  []Runner
	// ShutdownTimeout bounds HTTP Shutdown: requests in flight get that
	// long to finish [3 s].
	ShutdownTimeout time.Duration
	// Grace is how long the runners get to finish their in-flight work
	// once intake has stopped [4 s]; what is left resumes at the next
	// start.
	Grace time.Duration
	// Backoff is the first pause before a failed runner starts again; it
	// doubles up to MaxBackoff [5 s, 1 min].
	Backoff, MaxBackoff time.Duration
}

func (o *Options) defaults() {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.ShutdownTimeout, 3*time.Second)
	def(&o.Grace, 4*time.Second)
	def(&o.Backoff, 5*time.Second)
	def(&o.MaxBackoff, time.Minute)
}

// Run serves HTTP on o.Listener and runs the runners until ctx ends, then
// stops them in order: HTTP intake first, then the runners, which get
// o.Grace to finish. It returns the HTTP server's error, if any; the
// runners' own errors are logged as they restart.
func Run(ctx context.Context, o Options) error {
	o.defaults()
	// The runners outlive ctx by the grace period: their context is
	// cancelled only once HTTP intake has stopped.
	workCtx, stopWork := context.WithCancel(context.WithoutCancel(ctx))
	defer stopWork()
	var wg sync.WaitGroup
	for _, r := range o.Runners {
		wg.Go(func() { supervise(workCtx, o, r) })
	}
	// Timeouts keep slow clients from tying the public endpoints up.
	srv := &http.Server{Handler: o.Handler, ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout: 60 * time.Second, WriteTimeout: 120 * time.Second, IdleTimeout: 120 * time.Second}
	err := serve(ctx, srv, o.Listener, o.ShutdownTimeout)
	o.Logger.Info("shutting down")
	stopWork()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(o.Grace):
		o.Logger.Warn("shutdown grace period over; exiting with work in flight (it resumes at next start)")
	}
	return err
}

// supervise runs r until ctx ends. A part that stops with an error while
// the daemon runs (the outbox after its database writes kept failing, the
// IMAP reader after a bug) is started again after a pause that grows from
// o.Backoff to o.MaxBackoff, so one bad spell does not leave the daemon up
// but no longer sending. Each part resumes from its tables on start.
func supervise(ctx context.Context, o Options, r Runner) {
	wait := o.Backoff
	for {
		err := r.Run(ctx)
		if ctx.Err() != nil {
			return
		}
		o.Logger.Error("runner stopped; restarting", "runner", r.Name, "err", err, "in", wait)
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = min(2*wait, o.MaxBackoff)
	}
}

// serve serves srv on ln until ctx ends, then shuts it down gracefully,
// giving requests in flight up to timeout.
func serve(ctx context.Context, srv *http.Server, ln net.Listener, timeout time.Duration) error {
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("http server: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("http shutdown: %w", err)
	}
	return nil
}
