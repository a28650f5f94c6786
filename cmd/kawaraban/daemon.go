package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"kawaraban/localmail"
	"kawaraban/web"
)

// runner is a long-running part of the daemon: it returns when ctx ends.
type runner struct {
	name string
	run  func(ctx context.Context) error
}

// daemon holds what serve started, in the order it must stop.
type daemon struct {
	e       *env
	a       *app
	out     io.Writer
	handler http.Handler
	runners []runner
	// password is the first admin's one-time password, "" when the user
	// existed already.
	password string
}

func newDaemon(ctx context.Context, e *env, out io.Writer) (*daemon, error) {
	a, err := newApp(ctx, e, appOptions{localServers: true, confirmQueue: 1024})
	if err != nil {
		return nil, err
	}
	a.intake = a.subs.NewIntake(a.health)
	if a.sched, err = a.newScheduler(ctx); err != nil {
		a.Close()
		return nil, err
	}
	d := &daemon{e: e, a: a, out: out}
	srv, err := web.New(a.webOptions())
	if err != nil {
		a.Close()
		return nil, err
	}
	d.handler = srv
	if e.local {
		// Commands run with --data later make links to this address.
		os.WriteFile(filepath.Join(e.dataDir, "listen"), []byte(e.cfg.HTTP.Listen+"\n"), 0o600)
		// `kawaraban local mail` reaches the in-memory mailbox here.
		if a.local != nil {
			if err := localmail.WriteIMAPAddr(e.dataDir, a.local.imap.Addr()); err != nil {
				e.log.Warn("recording the local mailbox address", "err", err)
			}
		}
		pw, created, err := a.users.EnsureAdmin(ctx)
		if err != nil {
			a.Close()
			return nil, fmt.Errorf("creating the first admin: %w", err)
		}
		if created {
			d.password = pw // printed once, in the banner
		}
	}
	// quick_check before anything sends: a corrupt database is reported
	// on /healthz and nothing is sent from it.
	if err := a.health.Check(ctx); err != nil {
		e.log.Warn("checking database", "err", err)
	}
	d.runners = []runner{
		{"db-health", a.health.Run},
		{"mailer", a.mail.Run},
		{"bounces", a.bounces.Run},
		{"scheduler", a.sched.Run},
		{"due-issues", a.sending.RunDueLoop},
		// Confirmation requests go from memory into the mailer's queue,
		// which sends them four at a time and keeps them across a crash.
		{"confirmations", a.system.RunConfirmations},
		// /subscribe answers first; the per-address work follows here.
		{"subscribe-intake", a.intake.Run},
		{"mail-queue", a.mail.RunQueue},
	}
	return d, nil
}

// webOptions connects the web server to the domain through the adapters.
func (a *app) webOptions() web.Options {
	c := a.e.cfg
	secure := len(c.BaseURL) > 8 && c.BaseURL[:8] == "https://"
	if c.HTTP.SecureCookies != nil {
		secure = *c.HTTP.SecureCookies
	}
	o := web.Options{
		DB: a.e.db, Logger: a.e.log, BaseURL: c.BaseURL, SecureCookies: secure, LocalMode: a.e.local,
		Registry: a.reg, Signer: a.e.signer, Users: a.users, Location: a.e.location(), Settings: a.settings,
		MaxBodyBytes: c.HTTP.MaxBodyBytes, SubscribePerMinute: c.Subscribe.RatePerIPPerMinute,
		TrustForwardedFor: c.HTTP.TrustForwardedFor, Health: a.health,
		MetricsToken:   a.secretOrEmpty(c.HTTP.MetricsTokenEnv, c.HTTP.MetricsTokenFile),
		TestRecipients: c.Sending.TestRecipients, TestSendsPerHour: c.Sending.TestSendsPerHour,
		LocalInbox: a.localInbox(),
		Privacy:    web.Privacy{TextJA: c.Privacy.TextJA, TextEN: c.Privacy.TextEN, Contact: c.Privacy.Contact},
	}
	// A dry run's CSV waits for "import these" beside the database.
	o.ImportStagingDir = filepath.Join(filepath.Dir(c.Database.Path), "import-staging")
	web.Domain{
		Subscribers: a.subs, Issues: a.issues, Mailer: a.mail, Bounces: a.bounces, Progress: a.progress,
		Scheduler: a.sched, Renderer: a.render, Sending: a.sending, System: a.system, Attribution: a.attrib,
		Intake: a.intake, Location: a.e.location(), Statistics: a.stats,
	}.Fill(&o)
	return o
}

// localInbox is the local-mode admin page's way into the mailbox; nil
// outside local mode.
func (a *app) localInbox() web.LocalInbox {
	if !a.e.local || a.local == nil {
		return nil
	}
	return localInbox{box: a.local.imap, domain: a.e.cfg.Bounce.InboundDomain}
}

// run serves HTTP and the runners until ctx ends, then stops them in order:
// intake first, then in-flight work within a grace period, then the
// mailboxes and the database.
func (d *daemon) run(ctx context.Context, ln net.Listener) error {
	log := d.e.log
	if d.e.local {
		// The notice goes to the log for the record and, once, in a box
		// on stdout for the person who started it.
		log.Warn("local mode: mail is captured in the data directory, not delivered", "dir", d.e.dataDir)
		fmt.Fprint(d.out, localBanner(d.e.cfg.BaseURL, d.e.dataDir, d.password))
		d.password = ""
	}
	log.Info("listening", "addr", ln.Addr().String(), "base_url", d.e.cfg.BaseURL)
	workCtx, stopWork := context.WithCancel(context.Background())
	defer stopWork()
	var wg sync.WaitGroup
	for _, r := range d.runners {
		wg.Add(1)
		go func() {
			defer wg.Done()
			superviseRunner(workCtx, log, r)
		}()
	}
	// Timeouts keep slow clients from tying the public endpoints up.
	srv := &http.Server{Handler: d.handler, ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout: 60 * time.Second, WriteTimeout: 120 * time.Second, IdleTimeout: 120 * time.Second}
	err := serveHTTP(ctx, srv, ln)
	log.Info("shutting down")
	stopWork()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(4 * time.Second):
		log.Warn("shutdown grace period over; exiting with work in flight (it resumes at next start)")
	}
	if d.e.local {
		removeIMAPAddr(d.e.dataDir)
	}
	d.a.Close()
	return err
}

// superviseRunner runs r until ctx ends. A part that stops with an error
// while the daemon runs (the outbox after its database writes kept
// failing, the IMAP reader after a bug) is started again after a pause
// that grows to a minute, so one bad spell does not leave the daemon up
// but no longer sending. Each part resumes from its tables on start.
func superviseRunner(ctx context.Context, log *slog.Logger, r runner) {
	wait := 5 * time.Second
	for {
		err := r.run(ctx)
		if ctx.Err() != nil {
			return
		}
		log.Error("runner stopped; restarting", "runner", r.name, "err", err, "in", wait)
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = min(2*wait, time.Minute)
	}
}
