package main

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"kawaraban/bounces"
	"kawaraban/issues"
	"kawaraban/mailer"
	"kawaraban/newsletter"
	"kawaraban/progress"
	"kawaraban/scheduler"
	"kawaraban/store"
	"kawaraban/subscribers"
	"kawaraban/templates"
	"kawaraban/web"
)

// app is every component built from one env. Only cmd builds it; each part
// gets just the small interfaces it declared, through the adapters in
// adapt*.go.
type app struct {
	e        *env
	local    *localServers
	reg      *prometheus.Registry
	tmpl     *templates.Set
	subs     *subscribers.Store
	issues   *issues.Store
	mail     *mailer.Mailer
	bounces  *bounces.Service
	progress *progress.Store
	users    *web.Users
	render   *newsletter.Renderer
	system   *newsletter.SystemMail
	sending  *newsletter.Sending
	stats    *newsletter.Statistics
	attrib   *newsletter.Attribution
	intake   *subscribers.Intake // the daemon's /subscribe queue; nil elsewhere
	sched    *scheduler.Scheduler
	// health watches the database (quick_check, full disk); the mailer
	// waits and /healthz fails while it reports a problem.
	health *store.Health
}

// appOptions says which optional parts a command needs.
type appOptions struct {
	// localServers starts local mode's SMTP and IMAP servers (serve, and
	// commands that send mail).
	localServers bool
	// confirmQueue is the in-memory confirmation queue's size (serve);
	// 0 sends confirmations inline.
	confirmQueue int
}

func newApp(ctx context.Context, e *env, opt appOptions) (*app, error) {
	a := &app{e: e, reg: prometheus.NewRegistry()}
	if e.local && opt.localServers {
		ls, err := startLocalServers(e)
		if err != nil {
			return nil, err
		}
		a.local = ls
	}
	var err error
	if a.health, err = store.NewHealth(e.db, store.HealthOptions{Logger: e.log, Registerer: a.reg}); err != nil {
		a.Close()
		return nil, err
	}
	if a.tmpl, err = templates.New(templates.Options{Dir: e.cfg.Templates.Dir, Logger: e.log}); err != nil {
		a.Close()
		return nil, usageError{fmt.Errorf("templates: %w", err)}
	}
	a.subs = subscribers.New(e.db, subscribers.Options{
		Logger: e.log, Signer: e.signer, BaseURL: e.cfg.BaseURL,
		Confirmer:                        confirmer{&a.system},
		MaxConfirmationsPerAddressPerDay: e.cfg.Subscribe.MaxConfirmationsPerDay,
		ConsentRetention:                 time.Duration(e.cfg.Subscribe.ConsentRetentionDays) * 24 * time.Hour,
		Location:                         e.location(),
	})
	if err := a.subs.SyncLists(ctx, listDefs(e.cfg.Lists)); err != nil {
		a.Close()
		return nil, fmt.Errorf("syncing lists from config: %w", err)
	}
	a.issues = issues.New(e.db, issues.Options{Logger: e.log})
	a.render = newsletter.NewRenderer(a.issues, a.subs, a.tmpl, newsletter.RendererOptions{
		BaseURL: e.cfg.BaseURL, InboundDomain: e.cfg.Bounce.InboundDomain, Location: e.location(), Logger: e.log, Signer: e.signer})
	if a.mail, err = mailer.New(e.db, a.mailerOptions()); err != nil {
		a.Close()
		return nil, usageError{fmt.Errorf("smtp: %w", err)}
	}
	a.attrib = newsletter.NewAttribution(a.mail, a.issues, a.subs, e.log)
	a.stats = newsletter.NewStatistics(e.db, a.issues, a.subs, a.mail, a.tmpl, newsletter.StatisticsOptions{
		BaseURL: e.cfg.BaseURL, Signer: e.signer, Logger: e.log})
	a.system = newsletter.NewSystemMail(a.mail, a.tmpl, newsletter.SystemOptions{
		ReturnPathDomain: e.cfg.Bounce.ReturnPathDomain, Signer: e.signer, ProgressFrom: progressFrom(e.cfg), ProgressFromName: newsletter.ProgressFromName,
		Location: e.location(), Logger: e.log, QueueSize: opt.confirmQueue,
	})
	a.sending = newsletter.NewSending(a.issues, a.subs, a.mail, a.render, a.system, newsletter.SendingOptions{Logger: e.log})
	if a.bounces, err = a.newBounces(); err != nil {
		a.Close()
		return nil, err
	}
	a.attrib.Bounces = a.bounces
	a.progress = progress.New(e.db, progress.Options{
		Location: e.location(), Logger: e.log, Signer: e.signer, BaseURL: e.cfg.BaseURL,
		Sender: a.system, FromAddress: progressFrom(e.cfg), FromName: newsletter.ProgressFromName,
	})
	a.users = web.NewUsers(e.db, web.UsersOptions{})
	return a, nil
}

// Close stops local servers and releases what the app opened; the env
// closes the database.
func (a *app) Close() {
	if a.mail != nil {
		a.mail.Close()
	}
	if a.bounces != nil {
		a.bounces.Close()
	}
	if a.local != nil {
		a.local.Close()
	}
}

func (a *app) mailerOptions() mailer.Options {
	c := a.e.cfg
	relays := []mailer.Relay{{
		Host: c.SMTP.Host, Port: c.SMTP.Port, TLS: c.SMTP.TLS, Username: c.SMTP.Username,
		Password: a.secretOrEmpty(c.SMTP.PasswordEnv, c.SMTP.PasswordFile), Priority: 0,
		MaxConns: c.SMTP.MaxConns, MaxMessagesPerConn: c.SMTP.MaxMessagesPerConn,
		InsecureSkipVerify: c.SMTP.InsecureSkipVerify,
	}}
	for _, r := range c.SMTP.Relays {
		if r.MaxMessagesPerConn == 0 { // as the first relay's
			r.MaxMessagesPerConn = c.SMTP.MaxMessagesPerConn
		}
		relays = append(relays, mailer.Relay{
			Host: r.Host, Port: r.Port, TLS: r.TLS, Username: r.Username,
			Password: a.secretOrEmpty(r.PasswordEnv, r.PasswordFile), Priority: r.Priority,
			MaxConns: r.MaxConns, MaxMessagesPerConn: r.MaxMessagesPerConn,
		})
	}
	limits := map[string]mailer.DomainLimit{}
	for d, l := range c.Sending.DomainLimits {
		limits[d] = mailer.DomainLimit{PerMinute: l.PerMinute, Concurrency: l.Concurrency, MaxRcptPerConn: l.MaxRcptPerConn}
	}
	o := mailer.Options{
		Relays: relays, HeloName: heloName(c), Timeout: c.SMTP.Timeout.D(),
		GlobalPerSecond: c.Sending.RatePerSecond, DomainLimits: limits, Window: a.window(),
		ReturnPathDomain: c.Bounce.ReturnPathDomain, Signer: a.e.signer,
		CFBLAddress: c.Sending.CFBLAddress,
		Workers:     c.Sending.Workers, BatchSize: c.Sending.BatchSize, MaxRetryAge: c.Sending.MaxRetryAge.D(),
		// The documented in-flight window (config.example.yaml): at most
		// this many recipients can get a second copy after a crash.
		InFlight: c.Sending.Workers * c.Sending.BatchSize,
		Logger:   a.e.log, Registerer: a.reg,
		Location: a.e.location(), Renderer: a.render, Checker: a.render, Bounces: sendFailures{&a.attrib},
		OnDelivered: func(ctx context.Context, emails []string) { a.attrib.NoteDelivered(ctx, emails) },
		OnIssueDone: newsletter.IssueDone(a.issues, a.e.log),
		Health:      a.health,
	}
	if a.e.local {
		// The local relay answers at once; retry quickly so a restarted
		// relay is noticed within seconds, not the production minute.
		o.RetryBase, o.RetryMax = 2*time.Second, 30*time.Second
	}
	if c.DKIM.Domain != "" {
		if key, err := readCredential(c.DKIM.KeyFile); err == nil {
			o.DKIM = &mailer.DKIM{Domain: c.DKIM.Domain, Selector: c.DKIM.Selector, KeyPEM: key}
		} else {
			a.e.log.Error("dkim key unreadable; sending unsigned", "key_file", c.DKIM.KeyFile, "err", err)
		}
	}
	return o
}

func (a *app) window() *mailer.Window {
	w := a.e.cfg.Sending.Window
	if len(w.Days) == 0 && w.From == "" && len(w.AvoidFirstMinutes) == 0 {
		return nil
	}
	days := map[string]time.Weekday{"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday,
		"wed": time.Wednesday, "thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday}
	mw := &mailer.Window{Location: a.e.location(), AvoidFirstMinutes: w.AvoidFirstMinutes}
	for _, d := range w.Days {
		mw.Weekdays = append(mw.Weekdays, days[strings.ToLower(d)])
	}
	mw.From, mw.To = clock(w.From), clock(w.To)
	return mw
}

// clock turns "08:30" into 8h30m (validated by Config.Validate).
func clock(s string) time.Duration {
	h, m, ok := strings.Cut(s, ":")
	if !ok {
		return 0
	}
	hh, _ := strconv.Atoi(h)
	mm, _ := strconv.Atoi(m)
	return time.Duration(hh)*time.Hour + time.Duration(mm)*time.Minute
}

func (a *app) newBounces() (*bounces.Service, error) {
	c := a.e.cfg
	pw := a.secretOrEmpty(c.IMAP.PasswordEnv, c.IMAP.PasswordFile)
	if a.e.local {
		pw = localIMAPPassword
	}
	addr := net.JoinHostPort(c.IMAP.Host, strconv.Itoa(c.IMAP.Port))
	if a.e.local && a.local == nil {
		addr = "" // a command without the local servers reads no mailbox
	}
	return bounces.New(a.e.db, bounces.Deps{
		VERP: a.mail, Deliveries: a.attrib, Marker: a.mail,
		Suppressor: a.attrib, Joiner: a.attrib, Unsubscriber: a.attrib,
	}, bounces.Options{
		IMAP: bounces.IMAPOptions{
			Addr: addr, TLS: c.IMAP.TLS, Username: c.IMAP.Username, Password: pw,
			Mailbox: c.IMAP.Mailbox, ProcessedFolder: c.IMAP.ProcessedFolder, StaffFolder: c.IMAP.StaffFolder,
			PollInterval: c.IMAP.PollInterval.D(),
		},
		Domain:        c.Bounce.InboundDomain,
		HardThreshold: c.Bounce.HardThreshold, SoftThreshold: c.Bounce.SoftThreshold, SoftWindow: c.Bounce.SoftWindow.D(),
		Signer:     a.e.signer,
		Registerer: a.reg, Logger: a.e.log,
	})
}

// secretOrEmpty reads a secret, logging (not failing) when it is missing:
// serve checks the required ones before it starts.
func (a *app) secretOrEmpty(env, file string) string {
	if env == "" && file == "" {
		return ""
	}
	s, err := secret(env, file)
	if err != nil {
		a.e.log.Warn("secret unavailable", "env", env, "err", err)
	}
	return s
}

func heloName(c *Config) string {
	if c.SMTP.HeloName != "" {
		return c.SMTP.HeloName
	}
	host := c.BaseURL
	if i := strings.Index(host, "://"); i >= 0 {
		host = host[i+3:]
	}
	host, _, _ = strings.Cut(host, "/")
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	if net.ParseIP(host) != nil {
		return "localhost"
	}
	return host
}

func progressFrom(c *Config) string {
	for _, l := range c.Lists {
		if l.Kind == "internal" {
			return l.FromAddress
		}
	}
	if len(c.Lists) > 0 {
		return c.Lists[0].FromAddress
	}
	return "kawaraban@" + c.Bounce.ReturnPathDomain
}

// confirmer hands confirmations to the system mail, which is built after
// the subscribers store that needs it.
type confirmer struct{ s **newsletter.SystemMail }

func (c confirmer) SendConfirmation(ctx context.Context, cf subscribers.Confirmation) error {
	return (*c.s).SendConfirmation(ctx, cf)
}

// sendFailures hands 5xx answers at send time to the attribution, which is
// built after the mailer that needs it.
type sendFailures struct{ a **newsletter.Attribution }

func (s sendFailures) RecordSendFailure(ctx context.Context, d mailer.Delivery, e *mailer.Error) error {
	return (*s.a).RecordSendFailure(ctx, d, e)
}

// listDefs maps configured lists to the subscribers package's definition.
func listDefs(ls []ListConfig) []subscribers.List {
	out := make([]subscribers.List, 0, len(ls))
	for _, l := range ls {
		out = append(out, subscribers.List{
			Slug: l.Slug, NameJA: l.NameJA, NameEN: l.NameEN, Kind: l.Kind,
			FromAddress: l.FromAddress, FromName: l.FromName, PostalAddress: l.PostalAddress, Contact: l.Contact,
			DoubleOptIn: l.DoubleOptIn == nil || *l.DoubleOptIn, AllowedDomains: l.AllowedDomains,
			Encoding: l.Encoding, NameFallback: l.NameFallback, RequireApproval: l.RequireApproval,
			DescriptionJA: l.DescriptionJA, DescriptionEN: l.DescriptionEN, CountClicks: l.CountClicks,
		})
	}
	return out
}
