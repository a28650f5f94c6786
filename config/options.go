package config

import (
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"time"

	"kawaraban/bounces"
	"kawaraban/dnscheck"
	"kawaraban/localmail"
	"kawaraban/mailer"
	"kawaraban/newsletter"
	"kawaraban/progress"
	"kawaraban/subscribers"
)

// This file maps the sections to the packages' Options. Only what the
// configuration says is filled in; cmd/kawaraban adds the running values
// (the signer, the logger, the other packages a package calls).

// Location returns the configured time zone (validated at load; UTC if it
// cannot be loaded after all).
func (c *Config) Location() *time.Location {
	loc, err := time.LoadLocation(c.Timezone)
	if err != nil {
		return time.UTC
	}
	return loc
}

// Mailer returns the mailer's Options from smtp, sending, dkim and bounce.
// A secret that cannot be read is logged and left empty (serve refuses to
// start without the required ones); an unreadable DKIM key sends unsigned,
// logged.
func (c *Config) Mailer(log *slog.Logger) mailer.Options {
	relays := []mailer.Relay{{
		Host: c.SMTP.Host, Port: c.SMTP.Port, TLS: c.SMTP.TLS, Username: c.SMTP.Username,
		Password: secretOrEmpty(log, c.SMTP.PasswordEnv, c.SMTP.PasswordFile), Priority: 0,
		MaxConns: c.SMTP.MaxConns, MaxMessagesPerConn: c.SMTP.MaxMessagesPerConn,
		InsecureSkipVerify: c.SMTP.InsecureSkipVerify,
	}}
	for _, r := range c.SMTP.Relays {
		if r.MaxMessagesPerConn == 0 { // as the first relay's
			r.MaxMessagesPerConn = c.SMTP.MaxMessagesPerConn
		}
		relays = append(relays, mailer.Relay{
			Host: r.Host, Port: r.Port, TLS: r.TLS, Username: r.Username,
			Password: secretOrEmpty(log, r.PasswordEnv, r.PasswordFile), Priority: r.Priority,
			MaxConns: r.MaxConns, MaxMessagesPerConn: r.MaxMessagesPerConn,
		})
	}
	limits := map[string]mailer.DomainLimit{}
	for d, l := range c.Sending.DomainLimits {
		limits[d] = mailer.DomainLimit{PerMinute: l.PerMinute, Concurrency: l.Concurrency, MaxRcptPerConn: l.MaxRcptPerConn}
	}
	o := mailer.Options{
		Relays: relays, HeloName: c.HeloName(), Timeout: c.SMTP.Timeout.D(),
		GlobalPerSecond: c.Sending.RatePerSecond, DomainLimits: limits, Window: c.window(),
		ReturnPathDomain: c.Bounce.ReturnPathDomain, CFBLAddress: c.Sending.CFBLAddress,
		Workers: c.Sending.Workers, BatchSize: c.Sending.BatchSize, MaxRetryAge: c.Sending.MaxRetryAge.D(),
		// The documented in-flight window (config.example.yaml): at most
		// this many recipients can get a second copy after a crash.
		InFlight: c.Sending.Workers * c.Sending.BatchSize,
		Location: c.Location(),
	}
	if c.IsLocal() {
		// The local relay answers at once; retry quickly so a restarted
		// relay is noticed within seconds, not the production minute.
		o.RetryBase, o.RetryMax = 2*time.Second, 30*time.Second
	}
	if c.DKIM.Domain != "" {
		if key, err := ReadCredential(c.DKIM.KeyFile); err == nil {
			o.DKIM = &mailer.DKIM{Domain: c.DKIM.Domain, Selector: c.DKIM.Selector, KeyPEM: key}
		} else {
			log.Error("dkim key unreadable; sending unsigned", "key_file", c.DKIM.KeyFile, "err", err)
		}
	}
	return o
}

func (c *Config) window() *mailer.Window {
	w := c.Sending.Window
	if len(w.Days) == 0 && w.From == "" && len(w.AvoidFirstMinutes) == 0 {
		return nil
	}
	days := map[string]time.Weekday{"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday,
		"wed": time.Wednesday, "thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday}
	mw := &mailer.Window{Location: c.Location(), AvoidFirstMinutes: w.AvoidFirstMinutes}
	for _, d := range w.Days {
		mw.Weekdays = append(mw.Weekdays, days[strings.ToLower(d)])
	}
	mw.From, mw.To = clock(w.From), clock(w.To)
	return mw
}

// clock turns "08:30" into 8h30m (validated by Validate).
func clock(s string) time.Duration {
	h, m, ok := strings.Cut(s, ":")
	if !ok {
		return 0
	}
	hh, _ := strconv.Atoi(h)
	mm, _ := strconv.Atoi(m)
	return time.Duration(hh)*time.Hour + time.Duration(mm)*time.Minute
}

// Bounces returns the bounce reader's Options from imap and bounce; the
// IMAP password is read as Mailer reads the relays' (local mode's mailbox
// has its own, localmail.MailboxPassword).
func (c *Config) Bounces(log *slog.Logger) bounces.Options {
	o := bounces.Options{
		IMAP: bounces.IMAPOptions{
			Addr: net.JoinHostPort(c.IMAP.Host, strconv.Itoa(c.IMAP.Port)), TLS: c.IMAP.TLS,
			Username: c.IMAP.Username, Password: secretOrEmpty(log, c.IMAP.PasswordEnv, c.IMAP.PasswordFile),
			Mailbox: c.IMAP.Mailbox, ProcessedFolder: c.IMAP.ProcessedFolder, StaffFolder: c.IMAP.StaffFolder,
			PollInterval: c.IMAP.PollInterval.D(),
		},
		Domain:        c.Bounce.InboundDomain,
		HardThreshold: c.Bounce.HardThreshold, SoftThreshold: c.Bounce.SoftThreshold, SoftWindow: c.Bounce.SoftWindow.D(),
	}
	if c.IsLocal() {
		o.IMAP.Password = localmail.MailboxPassword
	}
	return o
}

// Subscribers returns the subscribers store's Options from base_url,
// subscribe and timezone.
func (c *Config) Subscribers() subscribers.Options {
	return subscribers.Options{
		BaseURL:                          c.BaseURL,
		MaxConfirmationsPerAddressPerDay: c.Subscribe.MaxConfirmationsPerDay,
		ConsentRetention:                 time.Duration(c.Subscribe.ConsentRetentionDays) * 24 * time.Hour,
		Location:                         c.Location(),
	}
}

// SubscriberLists maps the configured lists to the subscribers package's
// definition.
func (c *Config) SubscriberLists() []subscribers.List {
	out := make([]subscribers.List, 0, len(c.Lists))
	for _, l := range c.Lists {
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

// HeloName is smtp.helo_name, or else base_url's host ("localhost" for an
// IP address, which is no name to greet with).
func (c *Config) HeloName() string {
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

// ProgressFrom is the sender of the plan's reminders and digests: the
// internal list's address, else the first list's, else one at the bounce
// domain.
func (c *Config) ProgressFrom() string {
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

// Progress returns the plan's store's Options from timezone, base_url and
// the lists: its reminders and digests come from ProgressFrom, signed
// newsletter.ProgressFromName.
func (c *Config) Progress() progress.Options {
	return progress.Options{Location: c.Location(), BaseURL: c.BaseURL,
		FromAddress: c.ProgressFrom(), FromName: newsletter.ProgressFromName}
}

// Renderer returns the issue renderer's Options from base_url,
// bounce.inbound_domain (the List-Unsubscribe mailto) and timezone.
func (c *Config) Renderer() newsletter.RendererOptions {
	return newsletter.RendererOptions{BaseURL: c.BaseURL, InboundDomain: c.Bounce.InboundDomain, Location: c.Location()}
}

// SystemMail returns the system mail's Options from bounce.return_path_domain,
// timezone and the lists (the plan's mail is sent as Progress says).
func (c *Config) SystemMail() newsletter.SystemOptions {
	return newsletter.SystemOptions{ReturnPathDomain: c.Bounce.ReturnPathDomain, Location: c.Location(),
		ProgressFrom: c.ProgressFrom(), ProgressFromName: newsletter.ProgressFromName}
}

// Statistics returns the statistics' Options from base_url (the click
// redirect's links).
func (c *Config) Statistics() newsletter.StatisticsOptions {
	return newsletter.StatisticsOptions{BaseURL: c.BaseURL}
}

// SecureCookies is http.secure_cookies, by default true when base_url is
// https.
func (c *Config) SecureCookies() bool {
	if c.HTTP.SecureCookies != nil {
		return *c.HTTP.SecureCookies
	}
	return strings.HasPrefix(c.BaseURL, "https://")
}

// MetricsToken is the bearer token /metrics asks for ("" when none is
// configured or it cannot be read, logged).
func (c *Config) MetricsToken(log *slog.Logger) string {
	return secretOrEmpty(log, c.HTTP.MetricsTokenEnv, c.HTTP.MetricsTokenFile)
}

// DNSSender describes the configured sender for dnscheck (check-config
// --dns): the bounce and inbound domains, DKIM, and each list's From
// domain.
func (c *Config) DNSSender() dnscheck.Sender {
	s := dnscheck.Sender{
		ReturnPathDomain: c.Bounce.ReturnPathDomain,
		InboundDomain:    c.Bounce.InboundDomain,
		DKIMDomain:       c.DKIM.Domain,
		DKIMSelector:     c.DKIM.Selector,
	}
	for _, l := range c.Lists {
		if at := strings.LastIndexByte(l.FromAddress, '@'); at >= 0 {
			s.FromDomains = append(s.FromDomains, l.FromAddress[at+1:])
		}
	}
	if c.DKIM.Domain != "" && c.DKIM.KeyFile != "" {
		// Under systemd the key is a credential the operator's shell cannot
		// read: then the record is checked for presence only.
		if key, err := ReadCredential(c.DKIM.KeyFile); err == nil {
			s.DKIMPublicKey, _ = dnscheck.PublicKeyRecord(key)
		}
	}
	return s
}

// secretOrEmpty reads a secret, logging (not failing) when it is missing:
// serve checks the required ones before it starts.
func secretOrEmpty(log *slog.Logger, env, file string) string {
	if env == "" && file == "" {
		return ""
	}
	s, err := Secret(env, file)
	if err != nil {
		log.Warn("secret unavailable", "env", env, "err", err)
	}
	return s
}

// ListKey names the list slug in the configuration, as a problem or a
// note names its key: "lists[2]"; "lists" when no list has that slug.
func (c *Config) ListKey(slug string) string {
	for i, l := range c.Lists {
		if l.Slug == slug {
			return fmt.Sprintf("lists[%d]", i)
		}
	}
	return "lists"
}
