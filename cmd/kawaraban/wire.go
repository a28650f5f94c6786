package main

import (
	"context"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"kawaraban/bounces"
	"kawaraban/cmd/internal/cli"
	"kawaraban/issues"
	"kawaraban/localmail"
	"kawaraban/mailer"
	"kawaraban/newsletter"
	"kawaraban/progress"
	"kawaraban/store"
	"kawaraban/subscribers"
	"kawaraban/templates"
	"kawaraban/web"
)

// Each command builds only what it uses from these functions: an export
// opens the subscribers store and writes nothing; the commands that send
// mail build the mailing chain.

// subscribers opens the subscribers store; c sends confirmations (nil for
// a command that sends none).
func (e *env) subscribers(c subscribers.Confirmer) *subscribers.Store {
	o := e.cfg.Subscribers()
	o.Logger, o.Signer, o.Confirmer = e.log, e.signer, c
	return subscribers.New(e.db, o)
}

// syncLists writes the configured lists into the database: a write, done
// by serve and the commands that change subscribers or users.
func (e *env) syncLists(ctx context.Context, s *subscribers.Store) error {
	if err := s.SyncLists(ctx, e.cfg.SubscriberLists()); err != nil {
		return fmt.Errorf("syncing lists from config: %w", err)
	}
	return nil
}

func (e *env) users() *web.Users { return web.NewUsers(e.db, web.UsersOptions{}) }

func (e *env) issues() *issues.Store { return issues.New(e.db, issues.Options{Logger: e.log}) }

// progress opens the plan's store; s sends its reminders and digests (nil
// for a command that sends none).
func (e *env) progress(s progress.Sender) *progress.Store {
	o := e.cfg.Progress()
	o.Logger, o.Signer, o.Sender = e.log, e.signer, s
	return progress.New(e.db, o)
}

// mailing is the chain that sends mail and reads bounces. Its parts call
// each other (the mailer reports to the attribution, which marks through
// the mailer; subscribers confirm through the system mail, which sends
// through the mailer), so they are built together.
type mailing struct {
	local   *localmail.Servers // local mode's relay and mailbox; nil elsewhere
	reg     *prometheus.Registry
	health  *store.Health
	tmpl    *templates.Set
	subs    *subscribers.Store
	issues  *issues.Store
	render  *newsletter.Renderer
	mail    *mailer.Mailer
	attrib  *newsletter.Attribution
	stats   *newsletter.Statistics
	system  *newsletter.SystemMail
	sending *newsletter.Sending
	bounces *bounces.Service
}

// mailingOptions says how a command sends.
type mailingOptions struct {
	// localServers starts local mode's SMTP and IMAP servers (serve, and
	// commands that send mail); without them a local command reads no
	// mailbox.
	localServers bool
	// confirmQueue is the in-memory confirmation queue's size (serve);
	// 0 sends confirmations inline.
	confirmQueue int
}

func newMailing(ctx context.Context, e *env, opt mailingOptions) (*mailing, error) {
	m := &mailing{reg: prometheus.NewRegistry()}
	if err := m.build(ctx, e, opt); err != nil {
		m.Close() // what was built so far
		return nil, err
	}
	return m, nil
}

func (m *mailing) build(ctx context.Context, e *env, opt mailingOptions) (err error) {
	if e.cfg.IsLocal() && opt.localServers {
		if m.local, err = localmail.Start(e.cfg.CapturedDir(), e.log); err != nil {
			return err
		}
		e.cfg.SMTP.Port, e.cfg.IMAP.Port = m.local.SMTPPort, m.local.IMAPPort
	}
	if m.health, err = store.NewHealth(e.db, store.HealthOptions{Logger: e.log, Registerer: m.reg}); err != nil {
		return err
	}
	if m.tmpl, err = templates.New(templates.Options{Dir: e.cfg.Templates.Dir, Logger: e.log}); err != nil {
		return cli.Usage(fmt.Errorf("templates: %w", err))
	}
	m.subs = e.subscribers(confirmer{&m.system})
	if err := e.syncLists(ctx, m.subs); err != nil {
		return err
	}
	m.issues = e.issues()
	ro := e.cfg.Renderer()
	ro.Logger, ro.Signer = e.log, e.signer
	m.render = newsletter.NewRenderer(m.issues, m.subs, m.tmpl, ro)
	if m.mail, err = mailer.New(e.db, m.mailerOptions(e)); err != nil {
		return cli.Usage(fmt.Errorf("smtp: %w", err))
	}
	m.attrib = newsletter.NewAttribution(m.mail, m.issues, m.subs, e.log)
	so := e.cfg.Statistics()
	so.Signer, so.Logger = e.signer, e.log
	m.stats = newsletter.NewStatistics(e.db, m.issues, m.subs, m.mail, m.tmpl, so)
	sm := e.cfg.SystemMail()
	sm.Signer, sm.Logger, sm.QueueSize = e.signer, e.log, opt.confirmQueue
	m.system = newsletter.NewSystemMail(m.mail, m.tmpl, sm)
	m.sending = newsletter.NewSending(m.issues, m.subs, m.mail, m.render, m.system, newsletter.SendingOptions{Logger: e.log})
	bo := e.cfg.Bounces(e.log)
	bo.Signer, bo.Registerer, bo.Logger = e.signer, m.reg, e.log
	if e.cfg.IsLocal() && m.local == nil {
		bo.IMAP.Addr = "" // a command without the local servers reads no mailbox
	}
	if m.bounces, err = bounces.New(e.db, bounces.Deps{
		VERP: m.mail, Deliveries: m.attrib, Marker: m.mail,
		Suppressor: m.attrib, Joiner: m.attrib, Unsubscriber: m.attrib, Erasures: m.attrib,
	}, bo); err != nil {
		return err
	}
	m.attrib.Bounces = m.bounces
	return nil
}

// Close stops the local servers and releases what the chain opened; the
// env closes the database.
func (m *mailing) Close() {
	if m.mail != nil {
		m.mail.Close()
	}
	if m.bounces != nil {
		m.bounces.Close()
	}
	if m.local != nil {
		m.local.Close()
	}
}

func (m *mailing) mailerOptions(e *env) mailer.Options {
	o := e.cfg.Mailer(e.log)
	o.Signer, o.Logger, o.Registerer, o.Health = e.signer, e.log, m.reg, m.health
	o.Renderer, o.Checker, o.Bounces = m.render, m.render, sendFailures{&m.attrib}
	o.OnDelivered = func(ctx context.Context, emails []string) { m.attrib.NoteDelivered(ctx, emails) }
	o.OnIssueDone = newsletter.IssueDone(m.issues, e.log)
	return o
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
