package config

import (
	"fmt"
	"net"
	"strings"

	"kawaraban/subscribers"
)

// loopbackHost reports whether host names this machine: "localhost" or a
// loopback IP. Names are not resolved: a check-config verdict must not
// depend on DNS.
func loopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}

// validateTrust refuses what would send a secret in clear over the network
// (issue 15): SMTP AUTH or an IMAP login without TLS to a host that is not
// on loopback. IMAP is refused at dial time too (bounces.ErrInsecure).
func (c *Config) validateTrust(p *problems) {
	const why = "sends the password in clear to %s: use starttls or tls (plain text is allowed only on loopback)"
	if c.SMTP.Username != "" && c.SMTP.TLS == "none" && !loopbackHost(c.SMTP.Host) {
		p.add("smtp.tls", "none with smtp.username "+why, c.SMTP.Host)
	}
	for i, r := range c.SMTP.Relays {
		// An empty tls is STARTTLS (mailer), not the primary's setting.
		if r.Username != "" && r.TLS == "none" && !loopbackHost(r.Host) {
			p.add(fmt.Sprintf("smtp.relays[%d].tls", i), "none with a username "+why, r.Host)
		}
	}
	if c.IMAP.TLS == "none" && c.IMAP.Host != "" && !loopbackHost(c.IMAP.Host) {
		p.add("imap.tls", "none "+why, c.IMAP.Host)
	}
	// The same parser as a test send's "to": an address check-config
	// accepts is one web can send to.
	for i, a := range c.Sending.TestRecipients {
		if _, err := subscribers.ParseAddress(a); err != nil {
			p.add(fmt.Sprintf("sending.test_recipients[%d]", i), "must be one e-mail address, got %q", a)
		}
	}
	p.check(c.Sending.TestSendsPerHour >= 0, "sending.test_sends_per_hour", "must not be negative, got %d", c.Sending.TestSendsPerHour)
	p.check(c.HTTP.MetricsTokenEnv == "" || c.HTTP.MetricsTokenFile == "", "http.metrics_token_env",
		"set http.metrics_token_env or http.metrics_token_file, not both")
}
