package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"

	"kawaraban/cmd/internal/cli"
	"kawaraban/cmd/internal/lifecycle"
	"kawaraban/localmail"
	"kawaraban/newsletter"
	"kawaraban/progress"
	"kawaraban/scheduler"
	"kawaraban/subscribers"
	"kawaraban/web"
)

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
	runners  []lifecycle.Runner
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
	if e.cfg.IsLocal() {
		// Commands run with --data later make links to this address and
		// reach the in-memory mailbox.
		if err := e.cfg.RecordListen(); err != nil {
			e.log.Warn("recording the listen address", "err", err)
		}
		if d.m.local != nil {
			if err := d.m.local.Announce(e.cfg.DataDir); err != nil {
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
	d.runners = []lifecycle.Runner{
		{Name: "db-health", Run: m.health.Run},
		{Name: "mailer", Run: m.mail.Run},
		{Name: "bounces", Run: m.bounces.Run},
		{Name: "scheduler", Run: d.sched.Run},
		{Name: "due-issues", Run: m.sending.RunDueLoop},
		// Confirmation requests go from memory into the mailer's queue,
		// which sends them four at a time and keeps them across a crash.
		{Name: "confirmations", Run: m.system.RunConfirmations},
		// /subscribe answers first; the per-address work follows here.
		{Name: "subscribe-intake", Run: d.intake.Run},
		{Name: "mail-queue", Run: m.mail.RunQueue},
	}
	return d, nil
}

// newScheduler makes the scheduler and lets each package register its job
// kinds and declare its system schedules (idempotently: a schedule an
// operator paused stays paused).
func (d *daemon) newScheduler(ctx context.Context) (*scheduler.Scheduler, error) {
	s, err := scheduler.New(d.e.db, scheduler.Options{Logger: d.e.log, Location: d.e.cfg.Location(), Registerer: d.m.reg})
	if err != nil {
		return nil, err
	}
	d.m.sending.Register(s)
	if err := newsletter.RegisterProgress(ctx, s, d.progress.Jobs()); err != nil {
		return nil, err
	}
	if err := (newsletter.Housekeeping{Subscribers: d.m.subs, DB: d.e.db, Logger: d.e.log}).Register(ctx, s); err != nil {
		return nil, err
	}
	return s, nil
}

// webOptions connects the web server to the domain.
func (d *daemon) webOptions() web.Options {
	c, m := d.e.cfg, d.m
	o := web.Options{
		DB: d.e.db, Logger: d.e.log, BaseURL: c.BaseURL, SecureCookies: c.SecureCookies(), LocalMode: c.IsLocal(),
		Registry: m.reg, Signer: d.e.signer, Users: d.users, Location: c.Location(), Settings: c.Settings,
		MaxBodyBytes: c.HTTP.MaxBodyBytes, SubscribePerMinute: c.Subscribe.RatePerIPPerMinute,
		TrustForwardedFor: c.HTTP.TrustForwardedFor, Health: m.health, MetricsToken: c.MetricsToken(d.e.log),
		TestRecipients: c.Sending.TestRecipients, TestSendsPerHour: c.Sending.TestSendsPerHour,
		LocalInbox: d.localInbox(), ImportStagingDir: c.ImportStagingDir(),
		Privacy: web.Privacy{TextJA: c.Privacy.TextJA, TextEN: c.Privacy.TextEN, Contact: c.Privacy.Contact},
	}
	web.Domain{
		Subscribers: m.subs, Issues: m.issues, Mailer: m.mail, Bounces: m.bounces, Progress: d.progress,
		Scheduler: d.sched, Renderer: m.render, Sending: m.sending, Attribution: m.attrib,
		Intake: d.intake, Location: c.Location(), Statistics: m.stats,
	}.Fill(&o)
	return o
}

// localInbox is the local-mode admin page's way into the mailbox; nil
// outside local mode.
func (d *daemon) localInbox() web.LocalInbox {
	if d.m.local == nil {
		return nil
	}
	return localmail.Inbox{IMAP: d.m.local.IMAP, Domain: d.e.cfg.Bounce.InboundDomain}
}

// run serves HTTP and the runners until ctx ends, then stops them in order
// (lifecycle.Run): intake first, then in-flight work within a grace
// period; then the mailboxes close, and serve closes the database.
func (d *daemon) run(ctx context.Context, ln net.Listener) error {
	log := d.e.log
	if c := d.e.cfg; c.IsLocal() {
		// The notice goes to the log for the record and, once, in a box
		// on stdout for the person who started it.
		log.Warn("local mode: mail is captured in the data directory, not delivered", "dir", c.DataDir)
		fmt.Fprint(d.out, cli.Box(localmail.Notice(c.BaseURL, c.CapturedDir(), d.password)))
		d.password = ""
	}
	log.Info("listening", "addr", ln.Addr().String(), "base_url", d.e.cfg.BaseURL)
	err := lifecycle.Run(ctx, lifecycle.Options{Logger: log, Handler: d.handler, Listener: ln, Runners: d.runners})
	d.m.Close() // the local servers forget their address
	return err
}
