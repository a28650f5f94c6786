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
	"kawaraban/progress"
	"kawaraban/scheduler"
	"kawaraban/subscribers"
	"kawaraban/web"
)

// runner is a long-running part of the daemon: it returns when ctx ends.
type runner struct {
	name string
	run  func(ctx context.Context) error
}

// daemon holds what serve started, in the order it must stop.
type daemon struct {
	e        *env
	m        *mailing
	users    *web.Users
	progress *progress.Store
	intake   *subscribers.Intake // /subscribe's queue of per-address work
	sched    *scheduler.Scheduler
	handler  http.Handler
	out      io.Writer
	runners  []runner
	// password is the first admin's one-time password, "" when the user
	// existed already.
	password string
}

// newDaemon builds everything serve runs and prepares local mode's files
// and first admin.
func newDaemon(ctx context.Context, e *env, out io.Writer) (*daemon, error) {
	d, err := buildDaemon(ctx, e, true)
	if err != nil {
		return nil, err
	}
	d.out = out
	if e.local {
		// Commands run with --data later make links to this address.
		os.WriteFile(filepath.Join(e.dataDir, "listen"), []byte(e.cfg.HTTP.Listen+"\n"), 0o600)
		// `kawaraban local mail` reaches the in-memory mailbox here.
		if d.m.local != nil {
			if err := localmail.WriteIMAPAddr(e.dataDir, d.m.local.IMAP.Addr()); err != nil {
				e.log.Warn("recording the local mailbox address", "err", err)
			}
		}
		pw, created, err := d.users.EnsureAdmin(ctx)
		if err != nil {
			d.m.Close()
			return nil, fmt.Errorf("creating the first admin: %w", err)
		}
		if created {
			d.password = pw // printed once, in the banner
		}
	}
	// quick_check before anything sends: a corrupt database is reported
	// on /healthz and nothing is sent from it.
	if err := d.m.health.Check(ctx); err != nil {
		e.log.Warn("checking database", "err", err)
	}
	return d, nil
}

// buildDaemon builds the daemon's parts and its web server without
// starting anything; localServers starts local mode's mail servers.
func buildDaemon(ctx context.Context, e *env, localServers bool) (*daemon, error) {
	m, err := newMailing(ctx, e, mailingOptions{localServers: localServers, confirmQueue: 1024})
	if err != nil {
		return nil, err
	}
	d := &daemon{e: e, m: m, users: e.users(), progress: e.progress(m.system), intake: m.subs.NewIntake(m.health)}
	if d.sched, err = d.newScheduler(ctx); err != nil {
		m.Close()
		return nil, err
	}
	if d.handler, err = web.New(d.webOptions()); err != nil {
		m.Close()
		return nil, err
	}
	d.runners = []runner{
		{"db-health", m.health.Run},
		{"mailer", m.mail.Run},
		{"bounces", m.bounces.Run},
		{"scheduler", d.sched.Run},
		{"due-issues", m.sending.RunDueLoop},
		// Confirmation requests go from memory into the mailer's queue,
		// which sends them four at a time and keeps them across a crash.
		{"confirmations", m.system.RunConfirmations},
		// /subscribe answers first; the per-address work follows here.
		{"subscribe-intake", d.intake.Run},
		{"mail-queue", m.mail.RunQueue},
	}
	return d, nil
}

// webOptions connects the web server to the domain.
func (d *daemon) webOptions() web.Options {
	c, m := d.e.cfg, d.m
	o := web.Options{
		DB: d.e.db, Logger: d.e.log, BaseURL: c.BaseURL, SecureCookies: c.SecureCookies(), LocalMode: d.e.local,
		Registry: m.reg, Signer: d.e.signer, Users: d.users, Location: c.Location(), Settings: d.settings,
		MaxBodyBytes: c.HTTP.MaxBodyBytes, SubscribePerMinute: c.Subscribe.RatePerIPPerMinute,
		TrustForwardedFor: c.HTTP.TrustForwardedFor, Health: m.health, MetricsToken: c.MetricsToken(d.e.log),
		TestRecipients: c.Sending.TestRecipients, TestSendsPerHour: c.Sending.TestSendsPerHour,
		LocalInbox: d.localInbox(),
		Privacy:    web.Privacy{TextJA: c.Privacy.TextJA, TextEN: c.Privacy.TextEN, Contact: c.Privacy.Contact},
	}
	// A dry run's CSV waits for "import these" beside the database.
	o.ImportStagingDir = filepath.Join(filepath.Dir(c.Database.Path), "import-staging")
	web.Domain{
		Subscribers: m.subs, Issues: m.issues, Mailer: m.mail, Bounces: m.bounces, Progress: d.progress,
		Scheduler: d.sched, Renderer: m.render, Sending: m.sending, System: m.system, Attribution: m.attrib,
		Intake: d.intake, Location: c.Location(), Statistics: m.stats,
	}.Fill(&o)
	return o
}

// settings is the running configuration for the settings page, secrets
// masked.
func (d *daemon) settings() map[string]any {
	s := d.e.cfg.Settings()
	s["local_mode"] = d.e.local
	return s
}

// localInbox is the local-mode admin page's way into the mailbox; nil
// outside local mode.
func (d *daemon) localInbox() web.LocalInbox {
	if !d.e.local || d.m.local == nil {
		return nil
	}
	return localmail.Inbox{IMAP: d.m.local.IMAP, Domain: d.e.cfg.Bounce.InboundDomain}
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
	d.m.Close()
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
